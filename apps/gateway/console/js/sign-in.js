/* Signing in and out. The API key lives in sessionStorage (this tab) only. */
import { markConnected } from './connection.js';
import { $, clear, setMessage, show } from './dom.js';
import { closeDetail } from './message-detail.js';
import { forgetSearch } from './message-search.js';
import { renderOverview } from './overview.js';
import { schedule } from './polling.js';
import { forgetQuarantineAction } from './quarantine-action.js';
import { forgetQuarantine } from './quarantine-list.js';
import { session } from './session.js';
import { selectTab } from './tabs.js';

var KEY_STORAGE = 'comity.console.apiKey';

/** A reload keeps the tab signed in; otherwise the page waits for a key. */
export function resumeSession() {
  var stored = sessionStorage.getItem(KEY_STORAGE);
  if (stored) {
    session.key = stored;
    session.generation += 1;
    enterApp();
  } else {
    $('api-key').focus();
  }
}

export function signIn(key) {
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

export function signOut(message) {
  session.generation += 1;
  session.key = null;
  sessionStorage.removeItem(KEY_STORAGE);
  if (session.timer) clearTimeout(session.timer);
  session.timer = null;
  session.lastOk = null;
  session.lostSince = null;
  forgetSearch();
  forgetQuarantine();
  forgetQuarantineAction();
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
