/* The quarantine tab's list: entries by status, newest first, refreshed while the tab is open. */
import { api, errorText } from './api.js';
import { statusBadge } from './cells.js';
import { $, clear, el, reconcileRows, setMessage, show } from './dom.js';
import { bytes, dateTime, shortId } from './format.js';
import { openQuarantineAction } from './quarantine-action.js';

var quarantine = {
  status: 'held',
  items: [],
  nextCursor: null,
  pages: 0,
  seq: 0,
  busy: false,
};

export function forgetQuarantine() {
  quarantine.items = [];
}

function quarantinePath(cursor) {
  var query = new URLSearchParams({ status: quarantine.status, limit: '100' });
  if (cursor) query.set('before', cursor);
  return '/v1/operations/quarantine?' + query.toString();
}

export function loadQuarantine(status) {
  quarantine.status = status;
  quarantine.seq += 1;
  quarantine.items = [];
  quarantine.nextCursor = null;
  quarantine.pages = 0;
  clear($('quarantine').tBodies[0]);
  return refreshQuarantine();
}

export function refreshQuarantine() {
  if (quarantine.busy) return Promise.resolve();
  var seq = quarantine.seq;
  quarantine.busy = true;
  return api('GET', quarantinePath(null))
    .then(function (answer) {
      if (seq !== quarantine.seq) return;
      if (!answer.ok) {
        setMessage($('quarantine-error'), errorText(answer.status, answer.body));
        return;
      }
      setMessage($('quarantine-error'), '');
      var first = answer.body.items || [];
      var ids = new Set(
        first.map(function (item) {
          return String(item.id);
        }),
      );
      var oldest = first.length ? Number(first[first.length - 1].id) : null;
      var rest = quarantine.items.filter(function (item) {
        return (
          !ids.has(String(item.id)) &&
          quarantine.pages > 1 &&
          oldest !== null &&
          Number(item.id) < oldest
        );
      });
      quarantine.items = first.concat(rest);
      if (quarantine.pages <= 1) {
        quarantine.nextCursor = answer.body.nextCursor || null;
        quarantine.pages = 1;
      }
      renderQuarantine();
    })
    .catch(function () {})
    .then(function () {
      quarantine.busy = false;
    });
}

export function loadMoreQuarantine() {
  if (!quarantine.nextCursor) return;
  var seq = quarantine.seq;
  api('GET', quarantinePath(quarantine.nextCursor))
    .then(function (answer) {
      if (seq !== quarantine.seq || !answer.ok) return;
      quarantine.items = quarantine.items.concat(answer.body.items || []);
      quarantine.nextCursor = answer.body.nextCursor || null;
      quarantine.pages += 1;
      renderQuarantine();
    })
    .catch(function () {});
}

function claimedSender(item) {
  if (!item.claimedFrom) return el('span', { className: 'muted', text: 'none given' });
  return el(
    'div',
    {
      className: 'claimed',
      'data-testid': 'quarantine-sender',
      title: 'unverified: taken from the message header',
    },
    [
      el('span', { className: 'claimed-tag', text: 'claimed' }),
      el('span', { className: 'state-cell', text: ' ' + (item.claimedFrom.state || '?') }),
      el('div', { text: item.claimedFrom.authority || '?' }),
      item.brokerUser
        ? el('div', { className: 'small muted', text: 'broker user ' + item.brokerUser })
        : null,
    ],
  );
}

function resolutionOf(item) {
  if (item.status === 'held' || !item.resolvedAt) return null;
  return el('div', { className: 'resolution small' }, [
    item.outcome ? el('div', {}, [el('strong', { text: 'outcome: ' + item.outcome })]) : null,
    el('div', {
      className: 'muted',
      text: dateTime(item.resolvedAt) + (item.resolvedBy ? ' by ' + item.resolvedBy : ''),
    }),
    item.resolutionReason
      ? el('div', { className: 'resolution-reason', text: '“' + item.resolutionReason + '”' })
      : null,
  ]);
}

function renderQuarantine() {
  reconcileRows(
    $('quarantine').tBodies[0],
    quarantine.items,
    function (item) {
      return String(item.id);
    },
    function (item) {
      var actions = el('td', { className: 'actions nowrap' });
      if (item.status === 'held') {
        var release = el('button', {
          type: 'button',
          className: 'button-small',
          'data-testid': 'release',
          text: 'Release',
        });
        release.addEventListener('click', function () {
          openQuarantineAction(item, 'release');
        });
        var discard = el('button', {
          type: 'button',
          className: 'button-small button-danger',
          'data-testid': 'discard',
          text: 'Discard',
        });
        discard.addEventListener('click', function () {
          openQuarantineAction(item, 'discard');
        });
        actions.appendChild(release);
        actions.appendChild(discard);
      }
      return el(
        'tr',
        {
          'data-testid': 'quarantine-row',
          'data-id': item.id,
          'data-envelope-id': item.envelopeId || '',
          'data-status': item.status,
          'data-reason': item.reason,
        },
        [
          el('td', { className: 'nowrap' }, [
            el('div', { title: item.quarantinedAt, text: dateTime(item.quarantinedAt) }),
            el('div', { className: 'small muted', text: '#' + item.id }),
          ]),
          el('td', { className: 'reason-cell' }, [
            el('span', {
              className: 'reason-code',
              'data-testid': 'quarantine-reason',
              text: item.reason,
            }),
            item.detail
              ? el('div', {
                  className: 'reason-detail',
                  'data-testid': 'quarantine-detail',
                  title: item.detail,
                  text: item.detail,
                })
              : null,
          ]),
          el('td', { className: 'nowrap' }, [
            el('div', { text: item.messageType || 'unknown' }),
            el('div', {
              className: 'small muted',
              'data-testid': 'quarantine-kind',
              text: item.kind ? item.kind : 'no kind given',
            }),
          ]),
          el('td', {}, [claimedSender(item)]),
          el('td', {
            className: 'mono nowrap',
            'data-testid': 'quarantine-envelope-id',
            title: item.envelopeId || 'no envelope id in the header',
            text: shortId(item.envelopeId),
          }),
          el('td', {
            className: 'num nowrap',
            title: item.bytes + ' bytes',
            text: bytes(item.bytes),
          }),
          el('td', { className: 'status-cell' }, [
            statusBadge(item.status, item.resolutionReason),
            resolutionOf(item),
          ]),
          actions,
        ],
      );
    },
  );
  show($('quarantine-empty'), quarantine.items.length === 0);
  $('quarantine-empty').textContent =
    quarantine.status === 'held'
      ? 'Nothing is held in quarantine.'
      : 'No ' + (quarantine.status === 'all' ? '' : quarantine.status + ' ') + 'entries.';
  show($('quarantine-load-more'), Boolean(quarantine.nextCursor));
}
