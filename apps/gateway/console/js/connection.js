/* The top bar's live / connection-lost state and the banner that says since when figures are old. */
import { $, show } from './dom.js';
import { clock } from './format.js';
import { session } from './session.js';

export function markConnected() {
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

export function markLost(reason) {
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
