/* Comity operator console: plain browser JavaScript, no framework, no build step.
 * Everything received from the gateway is put into the page with textContent / createElement,
 * never as HTML. The API key lives in sessionStorage (this tab) only. */
/* global document, window, sessionStorage, fetch, URLSearchParams, setTimeout, clearTimeout */
(function () {
  'use strict';

  var KEY_STORAGE = 'comity.console.apiKey';
  var POLL_MS = 2000;

  var session = {
    key: null,
    timer: null,
    generation: 0,
    tab: 'overview',
    lastOk: null,
    lostSince: null,
  };
  var search = {
    params: null,
    items: [],
    nextCursor: null,
    pages: 0,
    seq: 0,
    started: false,
    busy: false,
  };
  var detail = { direction: null, id: null, item: null, seq: 0 };
  var quarantine = {
    status: 'held',
    items: [],
    nextCursor: null,
    pages: 0,
    seq: 0,
    action: null,
    busy: false,
  };

  // ---------------------------------------------------------------- DOM helpers

  function $(testId, root) {
    return (root || document).querySelector('[data-testid="' + testId + '"]');
  }

  function el(tag, attributes, children) {
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

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function setMessage(node, text, kind) {
    node.textContent = text || '';
    if (kind) node.setAttribute('data-kind', kind);
    show(node, Boolean(text));
  }

  /** Updates table rows in place: a row is rebuilt only when its data changed (no flicker, no lost clicks). */
  function reconcileRows(tbody, items, keyOf, build) {
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

  // ---------------------------------------------------------------- formatting

  function pad(value) {
    return String(value).padStart(2, '0');
  }

  function clock(date) {
    return pad(date.getHours()) + ':' + pad(date.getMinutes()) + ':' + pad(date.getSeconds());
  }

  function dateTime(iso) {
    if (!iso) return '–';
    var date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    return (
      date.getFullYear() +
      '-' +
      pad(date.getMonth() + 1) +
      '-' +
      pad(date.getDate()) +
      ' ' +
      clock(date)
    );
  }

  /** Date and time with milliseconds: a timeline's events are often within one second. */
  function preciseTime(iso) {
    var date = new Date(iso);
    if (!iso || isNaN(date.getTime())) return dateTime(iso);
    return dateTime(iso) + '.' + String(date.getMilliseconds()).padStart(3, '0');
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    var s = Math.max(0, Math.round(Number(seconds)));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  function bytes(count) {
    if (count === null || count === undefined) return '–';
    var n = Number(count);
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1024 / 1024).toFixed(1) + ' MiB';
  }

  function count(value) {
    return value === null || value === undefined ? '–' : String(value);
  }

  function shortId(id) {
    if (!id) return '–';
    var text = String(id);
    // UUIDv7 starts with the time: the end tells messages of the same minute apart.
    return text.length > 16 ? text.slice(0, 8) + '…' + text.slice(-6) : text;
  }

  function badge(kind, text, title) {
    return el('span', { className: 'badge badge-' + kind, title: title || null, text: text });
  }

  function statusBadge(status, reason) {
    var node = badge(String(status || 'unknown'), String(status || 'unknown'), reason || null);
    node.setAttribute('data-testid', 'status');
    return node;
  }

  function num(value) {
    return el('td', { className: 'num', text: count(value) });
  }

  // ---------------------------------------------------------------- API

  function AuthError(message) {
    this.message = message;
  }

  function NetworkError(message) {
    this.message = message;
  }

  function errorText(status, body) {
    var message = body && typeof body === 'object' ? body.message : null;
    if (Array.isArray(message)) message = message.join('; ');
    if (!message && typeof body === 'string' && body) message = body;
    return message ? String(message) : 'the gateway answered ' + status;
  }

  /** The answer's JSON, or its text when it is not JSON (a proxy's error page). */
  function parseJson(text) {
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  /**
   * Calls the gateway with the operator's key. 401 (and 403 on a read) ends the session with a
   * message; other answers come back as {ok, status, body}.
   */
  function api(method, path, body) {
    var generation = session.generation;
    var headers = { Authorization: 'Bearer ' + session.key, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    })
      .catch(function () {
        throw new NetworkError('the gateway cannot be reached');
      })
      .then(function (response) {
        return response.text().then(function (text) {
          var parsed = parseJson(text);
          if (generation !== session.generation) throw new AuthError('signed out');
          if (response.status === 401) {
            signOut(
              'The gateway refused this API key (401 Unauthorized). Sign in again with a valid operator key.',
            );
            throw new AuthError('unauthorized');
          }
          if (response.status === 403 && method === 'GET') {
            signOut(
              'This API key may not use the console (403 Forbidden): it needs the operator or auditor role.',
            );
            throw new AuthError('forbidden');
          }
          return { ok: response.ok, status: response.status, body: parsed };
        });
      });
  }

  // ---------------------------------------------------------------- session

  function signIn(key) {
    var error = $('sign-in-error');
    setMessage(error, '');
    var button = $('sign-in');
    button.disabled = true;
    button.textContent = 'Checking…';
    session.key = key;
    session.generation += 1;
    var generation = session.generation;
    fetch('/v1/operations/overview', {
      headers: { Authorization: 'Bearer ' + key, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    })
      .then(function (response) {
        if (generation !== session.generation) return;
        if (response.status === 401) {
          session.key = null;
          setMessage(
            error,
            'The gateway refused this API key (401 Unauthorized). Check that you pasted the whole operator key of this gateway.',
          );
          return;
        }
        if (response.status === 403) {
          session.key = null;
          setMessage(
            error,
            'This API key is valid but may not use the console (403 Forbidden): it needs the operator or auditor role.',
          );
          return;
        }
        if (!response.ok) {
          session.key = null;
          setMessage(error, 'The gateway answered ' + response.status + '. Try again shortly.');
          return;
        }
        return response.json().then(function (overview) {
          sessionStorage.setItem(KEY_STORAGE, key);
          enterApp();
          renderOverview(overview);
          markConnected();
        });
      })
      .catch(function () {
        session.key = null;
        setMessage(error, 'The gateway cannot be reached. Check the connection and try again.');
      })
      .then(function () {
        button.disabled = false;
        button.textContent = 'Sign in';
      });
  }

  function enterApp() {
    show($('sign-in-panel'), false);
    show($('app'), true);
    show($('node'), true);
    show($('session'), true);
    $('api-key').value = '';
    selectTab(session.tab);
    schedule(0);
  }

  function signOut(message) {
    session.generation += 1;
    session.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    if (session.timer) clearTimeout(session.timer);
    session.timer = null;
    session.lastOk = null;
    session.lostSince = null;
    search.started = false;
    search.items = [];
    search.params = null;
    quarantine.items = [];
    quarantine.action = null;
    closeDetail();
    resetApp();
    show($('app'), false);
    show($('node'), false);
    show($('session'), false);
    show($('sign-in-panel'), true);
    setMessage($('sign-in-error'), message || '');
    document.title = 'Comity operator console';
    $('api-key').focus();
  }

  function resetApp() {
    var alerts = $('alerts');
    alerts.removeAttribute('data-signature');
    Array.prototype.slice
      .call(alerts.querySelectorAll('[data-testid="alert"]'))
      .forEach(function (node) {
        node.remove();
      });
    show($('connection-lost'), false);
    clear($('queues').tBodies[0]);
    clear($('peers').tBodies[0]);
    clear($('results').tBodies[0]);
    clear($('quarantine').tBodies[0]);
    $('state').textContent = '··';
    $('last-updated').textContent = 'not updated yet';
    show($('quarantine-action'), false);
    setMessage($('action-result'), '');
    setMessage($('quarantine-error'), '');
    setMessage($('search-error'), '');
    $('results-summary').textContent = '';
  }

  // ---------------------------------------------------------------- polling

  function schedule(delay) {
    if (session.timer) clearTimeout(session.timer);
    session.timer = setTimeout(tick, delay);
  }

  function tick() {
    session.timer = null;
    var generation = session.generation;
    var jobs = [pollOverview()];
    if (session.tab === 'messages') {
      jobs.push(search.started ? refreshSearch() : runSearch());
      if (detail.id) jobs.push(loadDetail(false));
    }
    if (session.tab === 'quarantine') jobs.push(refreshQuarantine());
    Promise.all(
      jobs.map(function (job) {
        return job.catch(function () {});
      }),
    ).then(function () {
      if (generation === session.generation && session.key) schedule(POLL_MS);
    });
  }

  function pollOverview() {
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

  function markConnected() {
    session.lastOk = new Date();
    session.lostSince = null;
    var connection = $('connection');
    connection.setAttribute('data-state', 'ok');
    connection.textContent = 'live';
    connection.title = 'polling the gateway every 2 s';
    $('last-updated').textContent = 'last updated ' + clock(session.lastOk);
    show($('connection-lost'), false);
    $('app').classList.remove('stale');
  }

  function markLost(reason) {
    if (!session.lostSince) session.lostSince = new Date();
    $('app').classList.add('stale');
    var connection = $('connection');
    connection.setAttribute('data-state', 'lost');
    connection.textContent = 'connection lost';
    connection.title = reason || '';
    var banner = $('connection-lost');
    banner.textContent =
      'Connection to the gateway lost at ' +
      clock(session.lostSince) +
      ' (' +
      (reason || 'no answer') +
      '). ' +
      (session.lastOk
        ? 'The figures below are from ' + clock(session.lastOk) + '. '
        : 'No figures received yet. ') +
      'Retrying every 2 s.';
    show(banner, true);
  }

  // ---------------------------------------------------------------- overview

  function renderOverview(overview) {
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

  // ---------------------------------------------------------------- tabs

  function selectTab(tab) {
    session.tab = tab;
    Array.prototype.forEach.call(document.querySelectorAll('[data-tab]'), function (button) {
      var active = button.getAttribute('data-tab') === tab;
      button.classList.toggle('active', active);
      button.setAttribute('aria-selected', active ? 'true' : 'false');
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-panel]'), function (panel) {
      show(panel, panel.getAttribute('data-panel') === tab);
    });
    if (window.location.hash !== '#' + tab) {
      window.history.replaceState(null, '', '#' + tab);
    }
    if (session.key) schedule(0);
  }

  // ---------------------------------------------------------------- messages

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

  function runSearch() {
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

  function loadMore() {
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

  function authorities(item) {
    var local = item.localAuthority || '?';
    var peer = item.peerAuthority || '?';
    return item.direction === 'inbound' ? [peer, local] : [local, peer];
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
      row.classList.toggle(
        'selected',
        detail.id === item.id && detail.direction === item.direction,
      );
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

  function markSelectedRow() {
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

  // ---------------------------------------------------------------- message detail

  function openDetail(direction, id) {
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

  function closeDetail() {
    detail.seq += 1;
    detail.direction = null;
    detail.id = null;
    detail.item = null;
    show($('detail'), false);
    $('split').classList.remove('with-detail');
    markSelectedRow();
  }

  function loadDetail(reportErrors) {
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
      item.statusReason
        ? el('span', { className: 'status-reason', text: item.statusReason })
        : null,
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

  function submitRetry() {
    var item = detail.item;
    if (!item) return;
    var reason = $('retry-reason').value.trim();
    var result = $('retry-result');
    if (reason.length < 3) {
      setMessage(result, 'Give a reason of at least 3 characters.', 'error');
      return;
    }
    var button = $('retry-submit');
    button.disabled = true;
    api('POST', '/v1/operations/messages/' + encodeURIComponent(item.id) + '/retry', {
      reason: reason,
    })
      .then(function (answer) {
        if (answer.ok) {
          var newId = answer.body && answer.body.retriedAs;
          clear(result);
          result.setAttribute('data-kind', 'success');
          result.setAttribute('data-retried-as', newId || '');
          result.appendChild(
            el('span', { text: 'Sent again as a new message: ' }, [
              el('span', { className: 'mono', text: newId || '?' }),
              '. ',
            ]),
          );
          if (newId) {
            var open = el('button', {
              type: 'button',
              className: 'button-quiet',
              'data-testid': 'open-retried',
              text: 'Open it',
            });
            open.addEventListener('click', function () {
              openDetail('outbound', newId);
            });
            result.appendChild(open);
          }
          show(result, true);
          $('retry-reason').value = '';
          schedule(0);
        } else {
          setMessage(
            result,
            'Retry refused (' + answer.status + '): ' + errorText(answer.status, answer.body),
            'error',
          );
        }
      })
      .catch(function (error) {
        if (!(error instanceof AuthError)) {
          setMessage(result, 'Retry failed: ' + error.message, 'error');
        }
      })
      .then(function () {
        button.disabled = false;
      });
  }

  // ---------------------------------------------------------------- quarantine

  function quarantinePath(cursor) {
    var query = new URLSearchParams({ status: quarantine.status, limit: '100' });
    if (cursor) query.set('before', cursor);
    return '/v1/operations/quarantine?' + query.toString();
  }

  function loadQuarantine() {
    quarantine.seq += 1;
    quarantine.items = [];
    quarantine.nextCursor = null;
    quarantine.pages = 0;
    clear($('quarantine').tBodies[0]);
    return refreshQuarantine();
  }

  function refreshQuarantine() {
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

  function loadMoreQuarantine() {
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

  function openQuarantineAction(item, action) {
    quarantine.action = { id: String(item.id), action: action, item: item };
    var form = $('quarantine-action');
    form.setAttribute('data-action', action);
    form.setAttribute('data-id', item.id);
    form.classList.toggle('danger', action === 'discard');
    var title = $('quarantine-action-title');
    clear(title);
    title.appendChild(
      el('strong', {
        text: (action === 'release' ? 'Release' : 'Discard') + ' quarantined message #' + item.id,
      }),
    );
    title.appendChild(
      el('span', {
        className: 'muted',
        text:
          ' — ' +
          item.reason +
          (item.envelopeId ? ', claimed envelope ' + item.envelopeId : '') +
          (action === 'release'
            ? '. It is processed again with every check in force now.'
            : '. It is kept for the record but never processed.'),
      }),
    );
    var input = form.querySelector('input');
    input.setAttribute('data-testid', action + '-reason');
    input.value = '';
    var submit = $('quarantine-action-submit') || form.querySelector('button[type="submit"]');
    submit.setAttribute('data-testid', action + '-submit');
    submit.textContent = action === 'release' ? 'Release' : 'Discard';
    submit.classList.toggle('button-danger', action === 'discard');
    submit.classList.toggle('button-primary', action !== 'discard');
    setMessage($('action-result'), '');
    show(form, true);
    input.focus();
  }

  function closeQuarantineAction() {
    quarantine.action = null;
    var form = $('quarantine-action');
    show(form, false);
    var submit = form.querySelector('button[type="submit"]');
    submit.setAttribute('data-testid', 'quarantine-action-submit');
    form.querySelector('input').removeAttribute('data-testid');
  }

  function submitQuarantineAction() {
    var pending = quarantine.action;
    if (!pending) return;
    var form = $('quarantine-action');
    var input = form.querySelector('input');
    var submit = form.querySelector('button[type="submit"]');
    var result = $('action-result');
    var reason = input.value.trim();
    if (reason.length < 3) {
      setMessage(result, 'Give a reason of at least 3 characters.', 'error');
      return;
    }
    submit.disabled = true;
    var verb = pending.action === 'release' ? 'Release' : 'Discard';
    api(
      'POST',
      '/v1/operations/quarantine/' + encodeURIComponent(pending.id) + '/' + pending.action,
      { reason: reason },
    )
      .then(function (answer) {
        result.setAttribute('data-id', pending.id);
        if (answer.ok) {
          var item = answer.body || {};
          result.setAttribute('data-outcome', item.outcome || item.status || '');
          setMessage(
            result,
            (pending.action === 'release' ? 'Released' : 'Discarded') +
              ' #' +
              pending.id +
              (item.outcome ? ': ' + item.outcome : '') +
              '.',
            'success',
          );
          closeQuarantineAction();
        } else {
          result.setAttribute('data-outcome', 'refused');
          setMessage(
            result,
            verb +
              ' of #' +
              pending.id +
              ' refused (' +
              answer.status +
              '): ' +
              errorText(answer.status, answer.body),
            'error',
          );
        }
        schedule(0);
      })
      .catch(function (error) {
        if (!(error instanceof AuthError)) {
          setMessage(result, verb + ' failed: ' + error.message, 'error');
        }
      })
      .then(function () {
        submit.disabled = false;
      });
  }

  // ---------------------------------------------------------------- wiring

  function start() {
    // The connection-lost banner lives inside the alert area, above the alerts.
    var banner = el('div', {
      className: 'alert alert-critical connection-lost',
      role: 'alert',
      'data-testid': 'connection-lost',
      hidden: 'hidden',
    });
    $('alerts').appendChild(banner);

    $('sign-in-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var key = $('api-key').value.trim();
      if (!key) {
        setMessage($('sign-in-error'), 'Paste an API key first.');
        return;
      }
      signIn(key);
    });
    $('sign-out').addEventListener('click', function () {
      signOut('Signed out. The key was removed from this tab.');
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-tab]'), function (button) {
      button.addEventListener('click', function () {
        selectTab(button.getAttribute('data-tab'));
      });
    });

    $('search-form').addEventListener('submit', function (event) {
      event.preventDefault();
      runSearch();
    });
    $('search-clear').addEventListener('click', function () {
      $('search-form').reset();
      runSearch();
    });
    $('load-more').addEventListener('click', loadMore);
    $('detail-close').addEventListener('click', closeDetail);
    $('retry-form').addEventListener('submit', function (event) {
      event.preventDefault();
      submitRetry();
    });

    $('quarantine-status').addEventListener('change', function () {
      quarantine.status = $('quarantine-status').value;
      loadQuarantine();
    });
    $('quarantine-load-more').addEventListener('click', loadMoreQuarantine);
    $('quarantine-action').addEventListener('submit', function (event) {
      event.preventDefault();
      submitQuarantineAction();
    });
    $('quarantine-action-cancel').addEventListener('click', closeQuarantineAction);

    var hash = window.location.hash.replace('#', '');
    if (hash === 'overview' || hash === 'messages' || hash === 'quarantine') session.tab = hash;

    var stored = sessionStorage.getItem(KEY_STORAGE);
    if (stored) {
      session.key = stored;
      session.generation += 1;
      enterApp();
    } else {
      $('api-key').focus();
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
