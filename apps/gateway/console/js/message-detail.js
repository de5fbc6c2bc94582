/* The messages tab's detail panel: one message's fields and timeline, beside the results. */
import { api, AuthError, errorText } from './api.js';
import { authorities, statusBadge } from './cells.js';
import { $, clear, el, setMessage, show } from './dom.js';
import { count, dateTime, preciseTime } from './format.js';

export var detail = { direction: null, id: null, item: null, seq: 0 };

/** Kept with the detail rather than the search: opening and closing a message moves the mark. */
export function markSelectedRow() {
  Array.prototype.forEach.call(
    $('results').querySelectorAll('[data-testid="result-row"]'),
    function (row) {
      row.classList.toggle(
        'selected',
        row.getAttribute('data-id') === detail.id &&
          row.getAttribute('data-direction') === detail.direction,
      );
    },
  );
}

export function openDetail(direction, id) {
  var changed = detail.id !== id || detail.direction !== direction;
  detail.direction = direction;
  detail.id = id;
  if (changed) {
    detail.item = null;
    clear($('detail-fields'));
    clear($('timeline'));
    $('retry-reason').value = '';
    setMessage($('retry-result'), '');
    show($('retry-form'), false);
  }
  show($('detail'), true);
  $('split').classList.add('with-detail');
  markSelectedRow();
  return loadDetail(true);
}

export function closeDetail() {
  detail.seq += 1;
  detail.direction = null;
  detail.id = null;
  detail.item = null;
  show($('detail'), false);
  $('split').classList.remove('with-detail');
  markSelectedRow();
}

export function loadDetail(reportErrors) {
  if (!detail.id) return Promise.resolve();
  detail.seq += 1;
  var seq = detail.seq;
  var path =
    '/v1/operations/messages/' +
    encodeURIComponent(detail.direction) +
    '/' +
    encodeURIComponent(detail.id);
  return api('GET', path)
    .then(function (answer) {
      if (seq !== detail.seq) return;
      if (!answer.ok) {
        setMessage($('detail-error'), errorText(answer.status, answer.body));
        return;
      }
      setMessage($('detail-error'), '');
      renderDetail(answer.body);
    })
    .catch(function (error) {
      if (reportErrors && !(error instanceof AuthError) && seq === detail.seq) {
        setMessage($('detail-error'), 'Could not load the message: ' + error.message);
      }
    });
}

function field(label, value, options) {
  var opts = options || {};
  var dd = el('dd', { className: opts.mono ? 'mono' : null, 'data-field': opts.name || null });
  if (value && typeof value === 'object' && value.nodeType) dd.appendChild(value);
  else dd.textContent = value === null || value === undefined || value === '' ? '–' : value;
  return [el('dt', { text: label }), dd];
}

function renderDetail(item) {
  var signature = JSON.stringify(item);
  var panel = $('detail');
  if (panel.getAttribute('data-signature') === signature) return;
  panel.setAttribute('data-signature', signature);
  detail.item = item;
  panel.setAttribute('data-id', item.id);
  panel.setAttribute('data-direction', item.direction);
  panel.setAttribute('data-status', item.status);

  var fields = $('detail-fields');
  clear(fields);
  var pair = authorities(item);
  var statusNode = el('span', {}, [
    statusBadge(item.status, item.statusReason),
    item.statusReason ? el('span', { className: 'status-reason', text: item.statusReason }) : null,
  ]);
  []
    .concat(
      field('Id', item.id, { mono: true, name: 'id' }),
      field('Direction', item.direction, { name: 'direction' }),
      field('Kind', item.kind, { name: 'kind' }),
      field('Peer State', item.peerState, { name: 'peerState' }),
      field('From', pair[0], { name: 'from' }),
      field('To', pair[1], { name: 'to' }),
      field('Status', statusNode, { name: 'status' }),
      field('Transmissions', count(item.transmissions), { name: 'transmissions' }),
      field('Created', dateTime(item.createdAt), { name: 'createdAt' }),
      field('Updated', dateTime(item.updatedAt), { name: 'updatedAt' }),
      field('Expires', dateTime(item.expiresAt), { name: 'expiresAt' }),
      field('Envelope digest', item.envelopeDigest, { mono: true, name: 'envelopeDigest' }),
    )
    .forEach(function (node) {
      fields.appendChild(node);
    });

  var timeline = $('timeline');
  clear(timeline);
  (item.timeline || []).forEach(function (entry) {
    timeline.appendChild(
      el('li', { 'data-testid': 'timeline-entry', 'data-type': entry.type }, [
        el('span', { className: 'timeline-time', title: entry.at, text: preciseTime(entry.at) }),
        el('span', { className: 'timeline-type type-' + entry.type, text: entry.type }),
        entry.reason ? el('span', { className: 'timeline-reason', text: entry.reason }) : null,
        entry.detail ? el('div', { className: 'timeline-detail', text: entry.detail }) : null,
      ]),
    );
  });
  if (!item.timeline || item.timeline.length === 0) {
    timeline.appendChild(el('li', { className: 'muted', text: 'No events recorded.' }));
  }

  var retryable =
    item.direction === 'outbound' && (item.status === 'failed' || item.status === 'rejected');
  show($('retry-form'), retryable);
}
