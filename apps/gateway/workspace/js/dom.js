/* Small DOM helpers: elements are built with textContent only, never from HTML strings. */
export function $(testId) {
  return document.querySelector('[data-testid="' + testId + '"]');
}

export function el(tag, properties, children) {
  var node = document.createElement(tag);
  Object.entries(properties || {}).forEach(function ([key, value]) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  });
  (children || []).forEach(function (child) {
    node.append(child instanceof Node ? child : String(child));
  });
  return node;
}

export function words(code) {
  return code ? String(code).replaceAll('_', ' ') : '—';
}

export function day(iso) {
  return iso ? iso.slice(0, 10) : '—';
}
