/* The webhooks tab: the node's subscriptions with their delivery state, and the events given
 * up after the retry period (dead letters), each redelivered with one click. */
import { api, errorText } from './api.js';
import { $, el, reconcileRows, setMessage, show } from './dom.js';
import { dateTime, shortId } from './format.js';

var webhooks = { busy: false, redelivering: new Set() };

function stateOf(item) {
  if (!item.active) {
    return el('span', {
      className: 'badge badge-failed',
      'data-testid': 'webhook-state',
      'data-state': 'disabled',
      text: 'disabled' + (item.disabledReason ? ': ' + item.disabledReason : ''),
    });
  }
  if (item.failing) {
    return el('div', {}, [
      el('span', {
        className: 'badge badge-held',
        'data-testid': 'webhook-state',
        'data-state': 'failing',
        text: 'failing since ' + dateTime(item.failing.since),
      }),
      el('div', {
        className: 'small muted',
        text:
          item.failing.attempts +
          ' attempts' +
          (item.failing.lastError ? ', last: ' + item.failing.lastError : '') +
          (item.failing.nextAttemptAt ? '; next ' + dateTime(item.failing.nextAttemptAt) : ''),
      }),
    ]);
  }
  return el('span', {
    className: 'badge badge-delivered',
    'data-testid': 'webhook-state',
    'data-state': 'ok',
    text: 'delivering',
  });
}

function renderSubscriptions(items) {
  reconcileRows(
    $('webhook-subscriptions').tBodies[0],
    items,
    function (item) {
      return item.id;
    },
    function (item) {
      return el('tr', { 'data-testid': 'webhook-row', 'data-id': item.id }, [
        el('td', { className: 'mono small', title: item.id, text: shortId(item.id) }),
        el('td', { className: 'mono small wrap', text: item.url }),
        el('td', { className: 'small', text: item.eventTypes.join(', ') }),
        el('td', { text: item.authority || 'all' }),
        el('td', { className: 'num', text: String(item.deliveredUpTo) }),
        el('td', {}, [stateOf(item)]),
      ]);
    },
  );
  show($('webhooks-empty'), items.length === 0);
}

function redeliver(letter) {
  webhooks.redelivering.add(letter.id);
  setMessage($('webhook-result'), 'Sending event ' + letter.eventSeq + ' again …');
  api('POST', '/v1/webhooks/dead-letters/' + encodeURIComponent(letter.id) + '/redeliver')
    .then(function (answer) {
      if (answer.ok) {
        setMessage(
          $('webhook-result'),
          'Event ' + letter.eventSeq + ' delivered at ' + dateTime(answer.body.redeliveredAt) + '.',
          'success',
        );
      } else {
        setMessage($('webhook-result'), errorText(answer.status, answer.body), 'error');
      }
    })
    .catch(function () {
      setMessage($('webhook-result'), 'The gateway did not answer.', 'error');
    })
    .then(function () {
      webhooks.redelivering.delete(letter.id);
      return refreshWebhooks();
    });
}

function renderDeadLetters(items) {
  reconcileRows(
    $('webhook-dead-letters').tBodies[0],
    items,
    function (item) {
      return item.id;
    },
    function (item) {
      var action = null;
      if (!item.redeliveredAt) {
        action = el('button', {
          type: 'button',
          className: 'button-small',
          'data-testid': 'redeliver',
          text: 'Redeliver',
          disabled: webhooks.redelivering.has(item.id) ? 'disabled' : null,
        });
        action.addEventListener('click', function () {
          redeliver(item);
        });
      }
      return el(
        'tr',
        {
          'data-testid': 'dead-letter-row',
          'data-id': item.id,
          'data-status': item.redeliveredAt ? 'redelivered' : 'waiting',
        },
        [
          el('td', { className: 'nowrap', text: dateTime(item.failedAt) }),
          el('td', { className: 'num', text: String(item.eventSeq) }),
          el('td', {
            className: 'mono small',
            title: item.subscriptionId,
            text: shortId(item.subscriptionId),
          }),
          el('td', { className: 'num', text: String(item.attempts) }),
          el('td', { className: 'small', text: item.lastError || '' }),
          el('td', {
            className: 'nowrap',
            text: item.redeliveredAt ? dateTime(item.redeliveredAt) : '',
          }),
          el('td', { className: 'actions' }, [action]),
        ],
      );
    },
  );
  show($('dead-letters-empty'), items.length === 0);
}

export function refreshWebhooks() {
  if (webhooks.busy) return Promise.resolve();
  webhooks.busy = true;
  return Promise.all([api('GET', '/v1/webhooks'), api('GET', '/v1/webhooks/dead-letters')])
    .then(function (answers) {
      var failed = answers.filter(function (answer) {
        return !answer.ok;
      })[0];
      if (failed) {
        setMessage($('webhooks-error'), errorText(failed.status, failed.body));
        return;
      }
      setMessage($('webhooks-error'), '');
      renderSubscriptions(answers[0].body || []);
      renderDeadLetters(answers[1].body || []);
    })
    .catch(function () {})
    .then(function () {
      webhooks.busy = false;
    });
}
