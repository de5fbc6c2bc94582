/* The workspace: sign-in, then the cases this clerk's authority sent and received. */
import { api, errorText, setCsrfToken, whenSignedOut } from './api.js';
import { showCaseList } from './case-list.js';
import { showCase } from './case-view.js';
import { $ } from './dom.js';
import { showStatistics } from './statistics.js';
import { showWriter } from './writer.js';

var session = null;

function signedIn(current) {
  session = current;
  setCsrfToken(session.csrfToken);
  $('who-name').textContent =
    session.username + ' · ' + session.role + (session.authority ? ' · ' + session.authority : '');
  $('who').hidden = false;
  // Only clerks write requests; operators never see content.
  $('tab-writer').hidden = session.role !== 'clerk';
  $('sign-in-panel').hidden = true;
  $('app').hidden = false;
  select('inbound');
}

function signedOut(message) {
  setCsrfToken(null);
  $('who').hidden = true;
  $('app').hidden = true;
  $('sign-in-panel').hidden = false;
  var error = $('sign-in-error');
  error.textContent = message || '';
  error.hidden = !message;
  $('username').focus();
}

function select(view) {
  document.querySelectorAll('.tab').forEach(function (tab) {
    tab.setAttribute('aria-pressed', String(tab.dataset.view === view));
  });
  $('case').hidden = true;
  $('cases').hidden = view === 'statistics' || view === 'writer';
  $('statistics').hidden = view !== 'statistics';
  $('writer').hidden = view !== 'writer';
  if (view === 'statistics') showStatistics();
  else if (view === 'writer')
    showWriter(session, function (caseId) {
      select('outbound');
      showCase(caseId, function () {
        showCaseList();
      });
    });
  else showCaseList(view);
}

document.addEventListener('DOMContentLoaded', async function () {
  whenSignedOut(function (message) {
    signedOut(message);
  });
  document.querySelectorAll('.tab').forEach(function (tab) {
    tab.addEventListener('click', function () {
      select(tab.dataset.view);
    });
  });
  $('sign-in-form').addEventListener('submit', async function (event) {
    event.preventDefault();
    var answer = await api('POST', '/v1/session', {
      username: $('username').value.trim(),
      password: $('password').value,
    });
    $('password').value = '';
    if (answer.ok) signedIn(answer.body);
    else signedOut(errorText(answer.status, answer.body));
  });
  $('sign-out').addEventListener('click', async function () {
    await api('DELETE', '/v1/session');
    signedOut('Signed out.');
  });
  // A page reloaded within a session goes on where it was.
  var current = await api('GET', '/v1/session');
  if (current.ok) signedIn(current.body);
  else signedOut('');
});
