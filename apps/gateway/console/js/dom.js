/* Everything received from the gateway is put into the page with textContent / createElement,
 * never as HTML: these helpers are the only way the console builds markup. */

export function $(testId, root) {
  return (root || document).querySelector('[data-testid="' + testId + '"]');
}

export function el(tag, attributes, children) {
  var node = document.createElement(tag);
  if (attributes) {
    Object.keys(attributes).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) return;
      if (name === 'text') node.textContent = String(value);
      else if (name === 'className') node.className = value;
      else node.setAttribute(name, String(value));
    });
  }
  (children || []).forEach(function (child) {
    if (child === null || child === undefined) return;
    node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  });
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function show(node, visible) {
  node.hidden = !visible;
}

export function setMessage(node, text, kind) {
  node.textContent = text || '';
  if (kind) node.setAttribute('data-kind', kind);
  show(node, Boolean(text));
}

/** Updates table rows in place: a row is rebuilt only when its data changed (no flicker, no lost clicks). */
export function reconcileRows(tbody, items, keyOf, build) {
  var existing = new Map();
  Array.prototype.forEach.call(tbody.children, function (row) {
    existing.set(row.getAttribute('data-key'), row);
  });
  items.forEach(function (item, index) {
    var key = keyOf(item);
    var signature = JSON.stringify(item);
    var row = existing.get(key);
    if (!row || row.getAttribute('data-signature') !== signature) {
      var fresh = build(item);
      fresh.setAttribute('data-key', key);
      fresh.setAttribute('data-signature', signature);
      if (row) row.replaceWith(fresh);
      row = fresh;
    }
    existing.delete(key);
    var current = tbody.children[index];
    if (current !== row) tbody.insertBefore(row, current || null);
  });
  existing.forEach(function (row) {
    row.remove();
  });
}
