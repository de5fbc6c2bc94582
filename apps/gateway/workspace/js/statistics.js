/* The figures of this authority's cases (a clerk) or the node's (an operator): filters, charts,
 * the figures table (the charts' accessible alternative) and CSV. The charts are inline SVG built
 * node by node and coloured by class: the page's CSP (style-src 'self') allows no inline style. */
import { api, errorText } from './api.js';
import { barChart, chartFigure, columnChart, legend } from './charts.js';
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
// The request kinds of the protocol (libs/protocol REQUEST_KINDS): the API's `kind` filter.
var KINDS = [
  'mla_request',
  'extradition_request',
  'provisional_arrest_request',
  'asset_recovery_request',
];
var DIRECTIONS = [
  { key: 'outbound', label: 'sent' },
  { key: 'inbound', label: 'received' },
];
var FILTERS = ['from', 'to', 'direction', 'state', 'kind'];
// The months chart shows at least the last this many months.
var MONTHS_DEFAULT = 12;

/** The clerk's filter, kept while they switch tabs; empty strings are "any". */
var filter = { from: '', to: '', direction: '', state: '', kind: '' };
var loads = 0;
var statesSeen = new Set();

export async function showStatistics() {
  var section = $('statistics');
  var figures = el('div', {
    className: 'statistics-figures',
    dataset: { testid: 'statistics-figures' },
  });
  var states = el('datalist', { id: 'statistics-states' });
  section.replaceChildren(filterForm(figures, states), states, figures);
  await load(figures, states);
}

function statisticsPath(values, extra) {
  var params = new URLSearchParams();
  FILTERS.forEach(function (name) {
    if (values[name]) params.set(name, values[name]);
  });
  Object.entries(extra || {}).forEach(function ([name, value]) {
    params.set(name, value);
  });
  var text = params.toString();
  return '/v1/statistics' + (text ? '?' + text : '');
}

function filterForm(figures, states) {
  var from = el('input', {
    type: 'date',
    name: 'from',
    value: filter.from,
    dataset: { testid: 'statistics-from' },
  });
  var to = el('input', {
    type: 'date',
    name: 'to',
    value: filter.to,
    dataset: { testid: 'statistics-to' },
  });
  var direction = el('select', { name: 'direction', dataset: { testid: 'statistics-direction' } }, [
    el('option', { value: '' }, ['sent and received']),
    el('option', { value: 'outbound' }, ['sent']),
    el('option', { value: 'inbound' }, ['received']),
  ]);
  direction.value = filter.direction;
  var state = el('input', {
    name: 'state',
    value: filter.state,
    size: 3,
    maxLength: 2,
    pattern: '[A-Za-z]{2}',
    autocomplete: 'off',
    title: 'a two-letter code, such as FR',
    dataset: { testid: 'statistics-state' },
  });
  state.setAttribute('list', states.id);
  var kind = el(
    'select',
    { name: 'kind', dataset: { testid: 'statistics-kind' } },
    [el('option', { value: '' }, ['any'])].concat(
      KINDS.map(function (code) {
        return el('option', { value: code }, [words(code)]);
      }),
    ),
  );
  kind.value = filter.kind;
  var clear = el(
    'button',
    { type: 'button', className: 'quiet', dataset: { testid: 'statistics-clear' } },
    ['Clear'],
  );
  var form = el(
    'form',
    {
      className: 'filters',
      dataset: { testid: 'statistics-filters' },
      'aria-label': 'Filter the figures',
    },
    [
      el('label', {}, ['Opened from ', from]),
      el('label', {}, ['before ', to]),
      el('label', {}, ['Direction ', direction]),
      el('label', {}, ['Other State ', state]),
      el('label', {}, ['Kind ', kind]),
      el(
        'button',
        { type: 'submit', className: 'quiet', dataset: { testid: 'statistics-apply' } },
        ['Apply'],
      ),
      clear,
    ],
  );
  to.addEventListener('input', function () {
    to.setCustomValidity('');
  });
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    state.value = state.value.trim().toUpperCase();
    to.setCustomValidity(
      from.value && to.value && to.value <= from.value ? 'choose a date after the first one' : '',
    );
    if (!form.reportValidity()) return;
    filter = {
      from: from.value,
      to: to.value,
      direction: direction.value,
      state: state.value,
      kind: kind.value,
    };
    load(figures, states);
  });
  clear.addEventListener('click', function () {
    filter = { from: '', to: '', direction: '', state: '', kind: '' };
    [from, to, direction, state, kind].forEach(function (control) {
      control.value = '';
    });
    to.setCustomValidity('');
    load(figures, states);
  });
  return form;
}

async function load(figures, states) {
  var mine = ++loads;
  figures.setAttribute('aria-busy', 'true');
  var answer = await api('GET', statisticsPath(filter));
  if (mine !== loads) return;
  figures.removeAttribute('aria-busy');
  if (!answer.ok) {
    figures.replaceChildren(
      el('p', { className: 'error', role: 'alert' }, [errorText(answer.status, answer.body)]),
    );
    return;
  }
  var report = answer.body;
  var lines = report.lines;
  var series = filter.direction
    ? DIRECTIONS.filter(function (direction) {
        return direction.key === filter.direction;
      })
    : DIRECTIONS;
  lines.forEach(function (line) {
    if (line.counterpartState !== null) statesSeen.add(line.counterpartState);
  });
  states.replaceChildren(
    ...Array.from(statesSeen)
      .sort()
      .map(function (code) {
        return el('option', { value: code });
      }),
  );
  figures.replaceChildren(
    el('p', { className: 'muted', dataset: { testid: 'statistics-scope' } }, [scopeText(report)]),
    el('div', { className: 'charts' }, [
      monthsChart(report, series),
      counterpartsChart(lines, series),
      kindsChart(lines, series),
      durationsChart(lines, series),
      overdueChart(lines, series),
    ]),
    figuresTable(lines),
    el('p', {}, [
      el(
        'a',
        {
          href: statisticsPath(filter, { format: 'csv' }),
          download: 'statistics.csv',
          dataset: { testid: 'statistics-csv' },
        },
        ['Download CSV'],
      ),
    ]),
  );
}

function scopeText(report) {
  var echo = report.filter || {};
  var parts = [];
  if (echo.from) parts.push('opened from ' + echo.from);
  if (echo.to) parts.push('opened before ' + echo.to);
  if (echo.direction) parts.push(echo.direction === 'outbound' ? 'sent only' : 'received only');
  if (echo.state) parts.push('with ' + echo.state);
  if (echo.kind) parts.push(words(echo.kind) + ' only');
  return (
    'Figures as of ' +
    String(report.generatedAt).slice(0, 16).replace('T', ' ') +
    ' UTC: ' +
    (parts.length ? 'cases ' + parts.join(', ') : 'all cases') +
    '.'
  );
}

/* ---- The breakdowns, from the lines the API returns ---- */

function totals(lines) {
  var byDirection = {};
  lines.forEach(function (line) {
    if (line.counterpartState === null) byDirection[line.direction] = line;
  });
  return byDirection;
}

/** A figure summed over the detail lines, per value of `key` (counterpart or kind) and direction. */
function tally(lines, key, column, label) {
  var groups = new Map();
  lines.forEach(function (line) {
    if (line.counterpartState === null) return;
    var group = groups.get(line[key]) || {
      label: label(line[key]),
      values: { outbound: 0, inbound: 0 },
    };
    group.values[line.direction] += line[column];
    groups.set(line[key], group);
  });
  return Array.from(groups.values()).sort(function (a, b) {
    var more = sum(b.values) - sum(a.values);
    return more !== 0 ? more : a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
  });
}

function sum(values) {
  return (values.outbound || 0) + (values.inbound || 0);
}

function counterpartsChart(lines, series) {
  var data = {
    categories: tally(lines, 'counterpartState', 'requests', String),
    series: series,
    unit: 'cases',
  };
  return chartFigure('chart-counterparts', 'Cases by other State', [
    barChart('Cases by other State', data),
    legend(series),
  ]);
}

function kindsChart(lines, series) {
  var data = { categories: tally(lines, 'kind', 'requests', words), series: series, unit: 'cases' };
  return chartFigure('chart-kinds', 'Cases by kind of request', [
    barChart('Cases by kind of request', data),
    legend(series),
  ]);
}

/** Medians and percentiles do not add up: the chart shows the direction totals' own figures. */
function durationsChart(lines, series) {
  var byDirection = totals(lines);
  var measures = [
    ['acknowledgeDaysMedian', 'to acknowledge, median'],
    ['acknowledgeDaysP90', 'to acknowledge, 90th pct'],
    ['executeDaysMedian', 'to execute, median'],
    ['executeDaysP90', 'to execute, 90th pct'],
  ];
  var data = {
    categories: measures.map(function ([column, label]) {
      var values = {};
      DIRECTIONS.forEach(function (direction) {
        var total = byDirection[direction.key];
        values[direction.key] = total ? total[column] : null;
      });
      return { label: label, values: values };
    }),
    series: series,
    unit: 'days',
  };
  var title = 'Days to acknowledge and to execute (median and 90th percentile)';
  return chartFigure('chart-durations', title, [
    barChart(title, data),
    legend(series),
    el('p', { className: 'muted' }, [
      'From the request; over the acknowledged, and the executed, cases. — : none to measure.',
    ]),
  ]);
}

function overdueChart(lines, series) {
  var byDirection = totals(lines);
  var now = { outbound: 0, inbound: 0 };
  DIRECTIONS.forEach(function (direction) {
    if (byDirection[direction.key]) now[direction.key] = byDirection[direction.key].overdue;
  });
  var data = {
    categories: [{ label: 'all States', values: now }].concat(
      tally(lines, 'counterpartState', 'overdue', String).filter(function (group) {
        return sum(group.values) > 0;
      }),
    ),
    series: series,
    unit: 'cases',
  };
  var count = series.reduce(function (total, direction) {
    return total + now[direction.key];
  }, 0);
  var title = 'Overdue now: ' + count + (count === 1 ? ' case' : ' cases') + ', by other State';
  return chartFigure('chart-overdue', title, [barChart(title, data), legend(series)]);
}

/* ---- Cases per month, from the report's month breakdown ---- */

function shiftMonth(month, by) {
  var date = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 + by, 1));
  return date.toISOString().slice(0, 7);
}

/** Every month from the first to the last with a case (at least the last MONTHS_DEFAULT). */
function monthsChart(report, series) {
  var byMonth = {};
  (report.months || []).forEach(function (row) {
    byMonth[row.month] = byMonth[row.month] || { outbound: 0, inbound: 0 };
    byMonth[row.month][row.direction] = row.requests;
  });
  var known = Object.keys(byMonth).sort();
  var now = String(report.generatedAt).slice(0, 7);
  var last = known.length && known[known.length - 1] > now ? known[known.length - 1] : now;
  var first = shiftMonth(last, 1 - MONTHS_DEFAULT);
  if (known.length && known[0] < first) first = known[0];
  var labels = [];
  for (var month = first; month <= last; month = shiftMonth(month, 1)) labels.push(month);
  var title = 'Cases opened per month';
  var data = {
    categories: labels.map(function (label) {
      var values = {};
      DIRECTIONS.forEach(function (direction) {
        values[direction.key] = byMonth[label] ? byMonth[label][direction.key] : 0;
      });
      return { label: label, values: values };
    }),
    series: series,
    unit: 'cases',
  };
  return chartFigure('chart-months', title, [columnChart(title, data), legend(series)]);
}

/* ---- The figures table: every line, the charts' accessible alternative ---- */

function figuresTable(lines) {
  return el('table', { className: 'list', dataset: { testid: 'statistics-table' } }, [
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
      lines.map(function (line) {
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
}
