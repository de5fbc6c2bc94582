/* Releasing or discarding a quarantined entry: a form under the list that asks for the reason the
 * audit log keeps. */
import { api, AuthError, errorText } from './api.js';
import { $, clear, el, setMessage, show } from './dom.js';
import { schedule } from './polling.js';

/** The entry and action the open form is for: {id, action, item}, or null. */
var openAction = null;

export function forgetQuarantineAction() {
  openAction = null;
}

export function openQuarantineAction(item, action) {
  openAction = { id: String(item.id), action: action, item: item };
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

export function closeQuarantineAction() {
  openAction = null;
  var form = $('quarantine-action');
  show(form, false);
  var submit = form.querySelector('button[type="submit"]');
  submit.setAttribute('data-testid', 'quarantine-action-submit');
  form.querySelector('input').removeAttribute('data-testid');
}

export function submitQuarantineAction() {
  var pending = openAction;
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
