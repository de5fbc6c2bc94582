/* The figures of this authority's cases (a clerk) or the node's (an operator), with CSV. */
import { api, errorText } from './api.js';
import { $, el, words } from './dom.js';

var COLUMNS = [
  'requests',
  'pending',
  'overdue',
  'executed',
  'partiallyExecuted',
  'refused',
  'withdrawn',
  'acknowledgeDaysMedian',
  'acknowledgeDaysP90',
  'executeDaysMedian',
  'executeDaysP90',
];
var HEADINGS = [
  'requests',
  'pending',
  'overdue',
  'executed',
  'partly executed',
  'refused',
  'withdrawn',
  'days to acknowledge (median)',
  '(90th pct)',
  'days to execute (median)',
  '(90th pct)',
];

export async function showStatistics() {
  var section = $('statistics');
  var answer = await api('GET', '/v1/statistics');
  section.replaceChildren();
  if (!answer.ok) {
    section.append(
      el('p', { className: 'error', role: 'alert' }, [errorText(answer.status, answer.body)]),
    );
    return;
  }
  var table = el('table', { className: 'list', dataset: { testid: 'statistics-table' } }, [
    el('caption', {}, ['Requests by direction, State and kind (totals first)']),
    el('thead', {}, [
      el(
        'tr',
        {},
        [
          el('th', { scope: 'col' }, ['direction']),
          el('th', { scope: 'col' }, ['State']),
          el('th', { scope: 'col' }, ['kind']),
        ].concat(
          HEADINGS.map(function (heading) {
            return el('th', { scope: 'col' }, [heading]);
          }),
        ),
      ),
    ]),
    el(
      'tbody',
      {},
      answer.body.lines.map(function (line) {
        return el(
          'tr',
          {
            className: line.counterpartState === null ? 'total' : '',
            dataset: {
              testid: 'statistics-line',
              direction: line.direction,
              total: String(line.counterpartState === null),
            },
          },
          [
            el('td', {}, [line.direction === 'outbound' ? 'sent' : 'received']),
            el('td', {}, [line.counterpartState || 'all']),
            el('td', {}, [line.kind ? words(line.kind) : 'all']),
          ].concat(
            COLUMNS.map(function (column) {
              return el('td', { dataset: { column: column } }, [
                line[column] === null ? '—' : String(line[column]),
              ]);
            }),
          ),
        );
      }),
    ),
  ]);
  section.append(
    table,
    el('p', {}, [
      el(
        'a',
        {
          href: '/v1/statistics?format=csv',
          download: 'statistics.csv',
          dataset: { testid: 'statistics-csv' },
        },
        ['Download CSV'],
      ),
    ]),
  );
}
