/* The list of cases: most urgent and soonest due first; overdue steps highlighted. */
import { api, errorText } from './api.js';
import { showCase } from './case-view.js';
import { $, day, el, words } from './dom.js';

var direction = 'inbound';

export async function showCaseList(which) {
  direction = which || direction;
  var form = $('filters');
  var query = new URLSearchParams({ direction: direction, limit: '100' });
  if (form.caseState.value) query.set('caseState', form.caseState.value);
  if (form.overdue.checked) query.set('overdue', 'true');
  if (form.q.value.trim()) query.set('q', form.q.value.trim());
  var answer = await api('GET', '/v1/cases?' + query.toString());
  var rows = $('case-rows');
  rows.replaceChildren();
  if (!answer.ok) {
    rows.append(
      el('tr', {}, [
        el('td', { colSpan: 6, className: 'error' }, [errorText(answer.status, answer.body)]),
      ]),
    );
    return;
  }
  answer.body.items.forEach(function (item) {
    var counterpart = direction === 'inbound' ? item.requesting : item.requested;
    var open = el(
      'button',
      { type: 'button', className: 'link', dataset: { testid: 'open-case' } },
      [item.subject || item.id],
    );
    open.addEventListener('click', function () {
      showCase(item.id, function () {
        showCaseList();
      });
    });
    rows.append(
      el(
        'tr',
        {
          className: item.overdue ? 'overdue' : '',
          dataset: { testid: 'case-row', state: item.state },
        },
        [
          el('td', {}, [
            open,
            item.urgency !== 'routine' ? el('span', { className: 'badge' }, [item.urgency]) : '',
          ]),
          el('td', {}, [counterpart.state + ' · ' + counterpart.authority]),
          el('td', {}, [words(item.kind)]),
          el('td', { dataset: { testid: 'case-state' } }, [words(item.state)]),
          el('td', {}, [
            words(item.nextStep) + (item.nextStepBy ? ' (' + item.nextStepBy + ')' : ''),
          ]),
          el('td', {}, [
            item.overdue ? 'overdue since ' + day(item.overdueSince) : day(item.dueAt),
          ]),
        ],
      ),
    );
  });
  $('case-empty').hidden = answer.body.items.length > 0;
}

document.addEventListener('DOMContentLoaded', function () {
  $('filters').addEventListener('submit', function (event) {
    event.preventDefault();
    showCaseList();
  });
});
