/* The messages tab's search: the form, the result pages and their refresh while the tab is open. */
import { api, AuthError, errorText } from './api.js';
import { authorities, statusBadge } from './cells.js';
import { $, el, reconcileRows, setMessage, show } from './dom.js';
import { clock, count, dateTime, shortId } from './format.js';
import { detail, markSelectedRow, openDetail } from './message-detail.js';

var search = {
  params: null,
  items: [],
  nextCursor: null,
  pages: 0,
  seq: 0,
  started: false,
  busy: false,
};

/** What sign-out leaves: no search run, so the next sign-in starts one from the form. */
export function forgetSearch() {
  search.started = false;
  search.items = [];
  search.params = null;
}

/** The first refresh of the tab runs the form's search; later ones refresh its first page. */
export function pollSearch() {
  return search.started ? refreshSearch() : runSearch();
}

function readSearchForm() {
  var params = new URLSearchParams();
  var value = function (testId) {
    return $(testId).value.trim();
  };
  if (value('search-id')) params.set('id', value('search-id'));
  if (value('search-direction')) params.set('direction', value('search-direction'));
  if (value('search-state')) params.set('state', value('search-state').toUpperCase());
  if (value('search-authority')) params.set('authority', value('search-authority'));
  if (value('search-kind')) params.set('kind', value('search-kind'));
  if (value('search-status')) params.set('status', value('search-status'));
  [
    ['search-since', 'since'],
    ['search-until', 'until'],
  ].forEach(function (pair) {
    var raw = value(pair[0]);
    if (!raw) return;
    var date = new Date(raw);
    if (isNaN(date.getTime())) throw new Error('"' + pair[1] + '" is not a valid date and time');
    params.set(pair[1], date.toISOString());
  });
  return params;
}

function searchPath(params, cursor) {
  var query = new URLSearchParams(params);
  query.set('limit', '50');
  if (cursor) query.set('before', cursor);
  return '/v1/operations/messages?' + query.toString();
}

export function runSearch() {
  var params;
  try {
    params = readSearchForm();
  } catch (error) {
    setMessage($('search-error'), error.message);
    return Promise.resolve();
  }
  setMessage($('search-error'), '');
  search.params = params;
  search.started = true;
  search.seq += 1;
  var seq = search.seq;
  $('search-submit').disabled = true;
  return api('GET', searchPath(params, null))
    .then(function (answer) {
      if (seq !== search.seq) return;
      if (!answer.ok) {
        setMessage($('search-error'), errorText(answer.status, answer.body));
        return;
      }
      search.items = answer.body.items || [];
      search.nextCursor = answer.body.nextCursor || null;
      search.pages = 1;
      renderResults();
    })
    .catch(function (error) {
      if (!(error instanceof AuthError) && seq === search.seq) {
        setMessage($('search-error'), 'Search failed: ' + error.message);
      }
    })
    .then(function () {
      $('search-submit').disabled = false;
    });
}

/**
 * A search row's own key: one envelope id can have several rows (stored, and refused copies),
 * so the server gives each its key (its cursor).
 */
function rowKey(item) {
  return item.key || item.direction + '/' + item.id;
}

/** Re-runs the first page of the current search and merges it into what is shown. */
function refreshSearch() {
  if (!search.params || search.busy) return Promise.resolve();
  var seq = search.seq;
  search.busy = true;
  return api('GET', searchPath(search.params, null))
    .then(function (answer) {
      if (seq !== search.seq || !answer.ok) return;
      var first = answer.body.items || [];
      var firstKeys = new Set(first.map(rowKey));
      var oldest = first.length ? first[first.length - 1] : null;
      var rest = search.items.filter(function (item) {
        if (firstKeys.has(rowKey(item))) return false;
        // Rows below the first page's last one (pages are in id order) belong to pages
        // already loaded.
        return search.pages > 1 && oldest && item.id <= oldest.id;
      });
      search.items = first.concat(rest);
      if (search.pages <= 1) search.nextCursor = answer.body.nextCursor || null;
      renderResults();
    })
    .catch(function () {})
    .then(function () {
      search.busy = false;
    });
}

export function loadMore() {
  if (!search.nextCursor) return;
  var seq = search.seq;
  var button = $('load-more');
  button.disabled = true;
  api('GET', searchPath(search.params, search.nextCursor))
    .then(function (answer) {
      if (seq !== search.seq) return;
      if (!answer.ok) {
        setMessage($('search-error'), errorText(answer.status, answer.body));
        return;
      }
      var seen = new Set(search.items.map(rowKey));
      (answer.body.items || []).forEach(function (item) {
        if (!seen.has(rowKey(item))) search.items.push(item);
      });
      search.nextCursor = answer.body.nextCursor || null;
      search.pages += 1;
      renderResults();
    })
    .catch(function () {})
    .then(function () {
      button.disabled = false;
    });
}

function renderResults() {
  var tbody = $('results').tBodies[0];
  reconcileRows(tbody, search.items, rowKey, function (item) {
    var pair = authorities(item);
    var row = el(
      'tr',
      {
        'data-testid': 'result-row',
        'data-id': item.id,
        'data-direction': item.direction,
        'data-status': item.status,
        tabindex: '0',
        title: 'Open the timeline of ' + item.id,
      },
      [
        el('td', {
          className: 'nowrap',
          title: item.createdAt,
          text: dateTime(item.createdAt),
        }),
        el('td', { className: 'nowrap' }, [
          el('span', {
            className: 'direction direction-' + item.direction,
            text: item.direction === 'inbound' ? '← in' : '→ out',
            title: item.direction,
          }),
        ]),
        el('td', {
          className: 'mono nowrap',
          'data-testid': 'result-id',
          title: item.id,
          text: shortId(item.id),
        }),
        el('td', { className: 'nowrap', text: item.kind || '' }),
        el('td', { className: 'state-cell', text: item.peerState || '' }),
        el('td', { className: 'small authorities col-authorities' }, [
          el('span', { text: pair[0] }),
          el('span', { className: 'arrow', text: ' → ' }),
          el('span', { text: pair[1] }),
        ]),
        el('td', { className: 'nowrap' }, [
          statusBadge(item.status, item.statusReason),
          item.statusReason
            ? el('span', { className: 'status-reason', text: item.statusReason })
            : null,
        ]),
        el('td', { className: 'num', text: count(item.transmissions) }),
      ],
    );
    row.classList.toggle('selected', detail.id === item.id && detail.direction === item.direction);
    row.addEventListener('click', function () {
      openDetail(item.direction, item.id);
    });
    row.addEventListener('keydown', function (event) {
      if (event.key === 'Enter') openDetail(item.direction, item.id);
    });
    return row;
  });
  markSelectedRow();
  show($('results-empty'), search.items.length === 0);
  show($('load-more'), Boolean(search.nextCursor));
  $('results-summary').textContent =
    search.items.length +
    ' shown' +
    (search.nextCursor ? ', more available' : '') +
    ' · refreshed ' +
    clock(new Date());
}
