/* The overview tab: components, alerts, queues, outbox, quarantine count and per-peer traffic.
 * It is polled whatever tab is open, since the alerts and the quarantine count show on all. */
import { api, AuthError, errorText, NetworkError } from './api.js';
import { num } from './cells.js';
import { markConnected, markLost } from './connection.js';
import { $, clear, el, reconcileRows, show } from './dom.js';
import { age, count, dateTime } from './format.js';

export function pollOverview() {
  return api('GET', '/v1/operations/overview')
    .then(function (answer) {
      if (!answer.ok) throw new NetworkError(errorText(answer.status, answer.body));
      renderOverview(answer.body);
      markConnected();
    })
    .catch(function (error) {
      if (error instanceof AuthError) throw error;
      markLost(error.message);
    });
}

export function renderOverview(overview) {
  if (!overview || typeof overview !== 'object') return;
  var state = overview.state || '??';
  $('state').textContent = state;
  document.title = 'Comity · ' + state + ' · operator console';

  var components = overview.components || {};
  pill('component-database', 'database', components.database, components.database === 'up');
  pill('component-broker', 'broker', components.broker, components.broker === 'up');
  pill('component-inbox', 'inbox', components.inbox, components.inbox === 'consuming');
  var directory = components.directory || {};
  var directoryText =
    'v' +
    count(directory.version) +
    (directory.expires
      ? (directory.status === 'expired' ? ' · expired ' : ' · until ') +
        dateTime(directory.expires).slice(0, 16)
      : directory.status
        ? ' · ' + directory.status
        : '');
  pill('component-directory', 'directory', directoryText, directory.status === 'valid');
  renderAlerts(Array.isArray(overview.alerts) ? overview.alerts : []);

  var queues = Array.isArray(overview.queues) ? overview.queues : [];
  reconcileRows(
    $('queues').tBodies[0],
    queues,
    function (queue) {
      return queue.name;
    },
    function (queue) {
      var unknown = 'unknown: the broker did not answer';
      return el('tr', { 'data-testid': 'queue-row', 'data-name': queue.name }, [
        el('td', { className: 'mono', 'data-testid': 'queue-name', text: queue.name }),
        el('td', { text: queue.role || '' }),
        el('td', {
          className: 'num',
          'data-testid': 'queue-messages',
          title: queue.messages === null ? unknown : null,
          text: count(queue.messages),
        }),
        el('td', {
          className: 'num' + (queue.role === 'inbox' && queue.consumers === 0 ? ' bad' : ''),
          'data-testid': 'queue-consumers',
          title: queue.consumers === null ? unknown : null,
          text: count(queue.consumers),
        }),
      ]);
    },
  );

  var outbox = overview.outbox || {};
  $('outbox-backlog').textContent = count(outbox.backlog);
  $('outbox-oldest').textContent =
    outbox.oldestAgeSeconds === null || outbox.oldestAgeSeconds === undefined
      ? 'nothing waiting to be published'
      : 'oldest waiting ' + age(outbox.oldestAgeSeconds);

  var held = overview.quarantine ? overview.quarantine.held : null;
  var heldNode = $('quarantine-held');
  heldNode.textContent = count(held);
  heldNode.classList.toggle('warn', Number(held) > 0);
  var tabCount = $('tab-quarantine-count');
  tabCount.textContent = count(held);
  show(tabCount, Number(held) > 0);

  var peers = Array.isArray(overview.peers) ? overview.peers : [];
  show($('peers-empty'), peers.length === 0);
  reconcileRows(
    $('peers').tBodies[0],
    peers,
    function (peer) {
      return peer.state;
    },
    function (peer) {
      var sent = peer.sent || {};
      var received = peer.received || {};
      var awaiting = peer.awaitingReceipt || {};
      var perMinute = peer.perMinute || {};
      return el('tr', { 'data-testid': 'peer-row', 'data-state': peer.state }, [
        el('td', { className: 'state-cell', text: peer.state }),
        el('td', { className: 'num group-start', text: count(sent.submitted) }),
        num(sent.sent),
        el('td', {
          className: 'num' + (sent.delivered ? ' good-text' : ''),
          text: count(sent.delivered),
        }),
        el('td', {
          className: 'num' + (sent.rejected ? ' bad' : ''),
          text: count(sent.rejected),
        }),
        el('td', { className: 'num' + (sent.failed ? ' bad' : ''), text: count(sent.failed) }),
        el('td', {
          className: 'num group-start' + (received.delivered ? ' good-text' : ''),
          text: count(received.delivered),
        }),
        el('td', {
          className: 'num' + (received.rejected ? ' bad' : ''),
          text: count(received.rejected),
        }),
        el('td', {
          className: 'num group-start' + (awaiting.count ? ' warn' : ''),
          'data-testid': 'peer-awaiting',
          text: count(awaiting.count),
        }),
        el('td', { className: 'num', text: age(awaiting.oldestAgeSeconds) }),
        el('td', {
          className: 'num group-start' + (peer.retransmissions ? ' warn' : ''),
          text: count(peer.retransmissions),
        }),
        el('td', { className: 'num group-start', text: count(perMinute.published) }),
        num(perMinute.delivered),
        num(perMinute.received),
      ]);
    },
  );
}

function pill(testId, label, value, healthy) {
  var node = $(testId);
  clear(node);
  var status = value === undefined || value === null ? 'unknown' : healthy ? 'ok' : 'bad';
  node.setAttribute('data-status', status);
  node.appendChild(el('span', { className: 'pill-dot', 'aria-hidden': 'true' }));
  node.appendChild(el('span', { className: 'pill-label', text: label }));
  node.appendChild(el('span', { className: 'pill-value', text: count(value) }));
}

function renderAlerts(alerts) {
  var container = $('alerts');
  var banner = $('connection-lost');
  var items = alerts.map(function (alert) {
    var severity = alert.severity === 'critical' ? 'critical' : 'warning';
    return el(
      'div',
      {
        className: 'alert alert-' + severity,
        role: severity === 'critical' ? 'alert' : 'status',
        'data-testid': 'alert',
        'data-severity': severity,
        'data-code': alert.code || '',
      },
      [
        el('span', { className: 'alert-severity', text: severity }),
        el('span', { className: 'alert-message', text: alert.message || alert.code || '' }),
        el('span', { className: 'alert-code', text: alert.code || '' }),
      ],
    );
  });
  var signature = JSON.stringify(alerts);
  if (container.getAttribute('data-signature') === signature) return;
  container.setAttribute('data-signature', signature);
  clear(container);
  container.appendChild(banner);
  items.forEach(function (item) {
    container.appendChild(item);
  });
}
