/* Comity operator console: plain browser JavaScript in native modules, no framework, no build
 * step. This module wires the page's controls to the sections and decides what each refresh
 * fetches; the sections do not know one another beyond what they import. */
import { whenKeyRefused } from './api.js';
import { $, el, setMessage } from './dom.js';
import { closeDetail, loadDetail } from './message-detail.js';
import { loadMore, pollSearch, runSearch } from './message-search.js';
import { pollOverview } from './overview.js';
import { pollWith } from './polling.js';
import { closeQuarantineAction, submitQuarantineAction } from './quarantine-action.js';
import { loadMoreQuarantine, loadQuarantine, refreshQuarantine } from './quarantine-list.js';
import { submitRetry } from './retry.js';
import { session } from './session.js';
import { resumeSession, signIn, signOut } from './sign-in.js';
import { selectTab } from './tabs.js';
import { refreshWebhooks } from './webhooks.js';

function refreshJobs() {
  var jobs = [pollOverview()];
  if (session.tab === 'messages') {
    jobs.push(pollSearch());
    jobs.push(loadDetail(false));
  }
  if (session.tab === 'quarantine') jobs.push(refreshQuarantine());
  if (session.tab === 'webhooks') jobs.push(refreshWebhooks());
  return jobs;
}

function start() {
  // The connection-lost banner lives inside the alert area, above the alerts.
  var banner = el('div', {
    className: 'alert alert-critical connection-lost',
    role: 'alert',
    'data-testid': 'connection-lost',
    hidden: 'hidden',
  });
  $('alerts').appendChild(banner);

  whenKeyRefused(signOut);
  pollWith(refreshJobs);

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
    loadQuarantine($('quarantine-status').value);
  });
  $('quarantine-load-more').addEventListener('click', loadMoreQuarantine);
  $('quarantine-action').addEventListener('submit', function (event) {
    event.preventDefault();
    submitQuarantineAction();
  });
  $('quarantine-action-cancel').addEventListener('click', closeQuarantineAction);

  var hash = window.location.hash.replace('#', '');
  if (['overview', 'messages', 'quarantine', 'webhooks'].indexOf(hash) >= 0) session.tab = hash;

  resumeSession();
}

// A module script runs once the whole document is parsed, so every element is there already.
start();
