/* Sending a failed or rejected outbound message again, from its detail panel: the gateway makes
 * a new message, which the operator can open from the answer. */
import { api, AuthError, errorText } from './api.js';
import { $, clear, el, setMessage, show } from './dom.js';
import { detail, openDetail } from './message-detail.js';
import { schedule } from './polling.js';

export function submitRetry() {
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
