/* Pieces of markup that more than one section shows the same way. */
import { el } from './dom.js';
import { count } from './format.js';

function badge(kind, text, title) {
  return el('span', { className: 'badge badge-' + kind, title: title || null, text: text });
}

export function statusBadge(status, reason) {
  var node = badge(String(status || 'unknown'), String(status || 'unknown'), reason || null);
  node.setAttribute('data-testid', 'status');
  return node;
}

export function num(value) {
  return el('td', { className: 'num', text: count(value) });
}

/** [sender, receiver] of a message, whichever way it travelled. */
export function authorities(item) {
  var local = item.localAuthority || '?';
  var peer = item.peerAuthority || '?';
  return item.direction === 'inbound' ? [peer, local] : [local, peer];
}
