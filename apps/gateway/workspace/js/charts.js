/* Charts as inline SVG, built node by node and coloured by class (the page's CSP allows no
 * inline style). Each is a <figure> with a caption; the svg has role="img" and an aria-label
 * that reads its values; every bar carries data-testid="bar" and its value. */
import { el } from './dom.js';

var SVG = 'http://www.w3.org/2000/svg';
var WIDTH = 760;
// An aria-label names this many categories at most; the figures table has them all.
var SPOKEN = 15;

function svgNode(tag, attributes, children) {
  var node = document.createElementNS(SVG, tag);
  Object.entries(attributes || {}).forEach(function ([name, value]) {
    node.setAttribute(name, String(value));
  });
  (children || []).forEach(function (child) {
    node.append(child instanceof Node ? child : String(child));
  });
  return node;
}

export function chartFigure(testid, caption, content) {
  return el(
    'figure',
    { className: 'chart', dataset: { testid: testid } },
    [el('figcaption', {}, [caption])].concat(content),
  );
}

export function legend(series) {
  return el(
    'ul',
    { className: 'chart-legend' },
    series.map(function (direction) {
      return el('li', {}, [
        el('span', { className: 'swatch swatch-' + direction.key, 'aria-hidden': 'true' }),
        direction.label,
      ]);
    }),
  );
}

function shown(value) {
  return value === null || value === undefined ? '—' : String(Math.round(value * 100) / 100);
}

/** The aria-label: every value of the first SPOKEN categories. */
function summary(title, data) {
  if (!data.categories.length) return title + ': no cases.';
  var spoken = data.categories.slice(0, SPOKEN).map(function (category) {
    return (
      category.label +
      ': ' +
      data.series
        .map(function (direction) {
          var value = category.values[direction.key];
          return direction.label + ' ' + (value === null ? 'none measured' : shown(value));
        })
        .join(', ')
    );
  });
  var more = data.categories.length - spoken.length;
  return (
    title +
    ', in ' +
    data.unit +
    '. ' +
    spoken.join('; ') +
    (more > 0 ? '; and ' + more + ' more in the table of figures' : '') +
    '.'
  );
}

/** A round axis: its top and step, whole numbers for counts. */
function axis(values, whole) {
  var max = Math.max.apply(null, [0].concat(values));
  if (max <= 0) return { top: 1, step: whole ? 1 : 0.5 };
  var rough = max / 4;
  var power = Math.pow(10, Math.floor(Math.log10(rough)));
  var step =
    [1, 2, 5, 10]
      .map(function (factor) {
        return factor * power;
      })
      .find(function (candidate) {
        return candidate >= rough;
      }) || rough;
  if (whole) step = Math.max(1, Math.round(step));
  return { top: Math.ceil(max / step - 1e-9) * step, step: step };
}

function values(data) {
  var all = [];
  data.categories.forEach(function (category) {
    data.series.forEach(function (direction) {
      var value = category.values[direction.key];
      if (value !== null && value !== undefined) all.push(value);
    });
  });
  return all;
}

function bar(category, direction, value, unit, box) {
  return svgNode(
    'rect',
    {
      class: 'bar bar-' + direction.key,
      x: box.x,
      y: box.y,
      width: Math.max(0, box.width),
      height: Math.max(0, box.height),
      'data-testid': 'bar',
      'data-value': String(value),
      'data-series': direction.key,
      'data-category': category.label,
    },
    [
      svgNode('title', {}, [
        category.label +
          ', ' +
          direction.label +
          ': ' +
          shown(value) +
          ' ' +
          (value === 1 ? unit.slice(0, -1) : unit),
      ]),
    ],
  );
}

function emptyChart(title, data) {
  return svgNode(
    'svg',
    {
      class: 'chart-svg',
      viewBox: '0 0 ' + WIDTH + ' 40',
      width: WIDTH,
      height: 40,
      role: 'img',
      'aria-label': summary(title, data),
    },
    [svgNode('text', { class: 'none', x: 8, y: 24 }, ['No cases to show.'])],
  );
}

/** Vertical bars, grouped by category (the months). */
export function columnChart(title, data) {
  if (!data.categories.length) return emptyChart(title, data);
  var left = 44;
  var right = 8;
  var top = 18;
  var plot = 200;
  var slanted = data.categories.length > 12;
  var height = top + plot + (slanted ? 58 : 28);
  var scale = axis(values(data), data.unit === 'cases');
  var band = (WIDTH - left - right) / data.categories.length;
  var width = (band * 0.8) / data.series.length;
  var base = top + plot;
  var nodes = [];
  for (var tick = 0; tick <= scale.top + 1e-9; tick += scale.step) {
    var y = base - (tick / scale.top) * plot;
    nodes.push(svgNode('line', { class: 'grid', x1: left, x2: WIDTH - right, y1: y, y2: y }));
    nodes.push(
      svgNode('text', { class: 'tick', x: left - 6, y: y + 4, 'text-anchor': 'end' }, [
        shown(tick),
      ]),
    );
  }
  data.categories.forEach(function (category, index) {
    var start = left + index * band + band * 0.1;
    data.series.forEach(function (direction, place) {
      var value = category.values[direction.key];
      if (value === null || value === undefined) return;
      var length = (value / scale.top) * plot;
      var x = start + place * width;
      nodes.push(
        bar(category, direction, value, data.unit, {
          x: x,
          y: base - length,
          width: width - 1,
          height: length,
        }),
      );
      if (width >= 16 && value > 0)
        nodes.push(
          svgNode(
            'text',
            { class: 'value', x: x + width / 2, y: base - length - 4, 'text-anchor': 'middle' },
            [shown(value)],
          ),
        );
    });
    var middle = left + index * band + band / 2;
    nodes.push(
      slanted
        ? svgNode(
            'text',
            {
              class: 'label',
              x: middle,
              y: base + 14,
              'text-anchor': 'end',
              transform: 'rotate(-45 ' + middle + ' ' + (base + 14) + ')',
            },
            [category.label],
          )
        : svgNode('text', { class: 'label', x: middle, y: base + 18, 'text-anchor': 'middle' }, [
            category.label,
          ]),
    );
  });
  nodes.push(svgNode('line', { class: 'axis', x1: left, x2: WIDTH - right, y1: base, y2: base }));
  return svgNode(
    'svg',
    {
      class: 'chart-svg',
      viewBox: '0 0 ' + WIDTH + ' ' + height,
      width: WIDTH,
      height: height,
      role: 'img',
      'aria-label': summary(title, data),
    },
    nodes,
  );
}

/** Horizontal bars, grouped by category (States, kinds, measures). */
export function barChart(title, data) {
  if (!data.categories.length) return emptyChart(title, data);
  var longest = Math.max.apply(
    null,
    data.categories.map(function (category) {
      return category.label.length;
    }),
  );
  var left = Math.min(220, 16 + 7 * longest);
  var right = 56;
  var top = 6;
  var thick = 16;
  var group = data.series.length * (thick + 2) - 2;
  var gap = 12;
  var plot = data.categories.length * (group + gap);
  var height = top + plot + 24;
  var reach = WIDTH - left - right;
  var scale = axis(values(data), data.unit === 'cases');
  var nodes = [];
  for (var tick = 0; tick <= scale.top + 1e-9; tick += scale.step) {
    var x = left + (tick / scale.top) * reach;
    nodes.push(svgNode('line', { class: 'grid', x1: x, x2: x, y1: top, y2: top + plot }));
    nodes.push(
      svgNode('text', { class: 'tick', x: x, y: top + plot + 16, 'text-anchor': 'middle' }, [
        shown(tick),
      ]),
    );
  }
  data.categories.forEach(function (category, index) {
    var y0 = top + index * (group + gap) + gap / 2;
    nodes.push(
      svgNode(
        'text',
        { class: 'label', x: left - 8, y: y0 + group / 2 + 4, 'text-anchor': 'end' },
        [category.label],
      ),
    );
    data.series.forEach(function (direction, place) {
      var value = category.values[direction.key];
      var y = y0 + place * (thick + 2);
      if (value === null || value === undefined) {
        nodes.push(svgNode('text', { class: 'none', x: left + 4, y: y + thick / 2 + 4 }, ['—']));
        return;
      }
      var length = (value / scale.top) * reach;
      nodes.push(
        bar(category, direction, value, data.unit, { x: left, y: y, width: length, height: thick }),
      );
      nodes.push(
        svgNode('text', { class: 'value', x: left + length + 4, y: y + thick / 2 + 4 }, [
          shown(value),
        ]),
      );
    });
  });
  nodes.push(svgNode('line', { class: 'axis', x1: left, x2: left, y1: top, y2: top + plot }));
  return svgNode(
    'svg',
    {
      class: 'chart-svg',
      viewBox: '0 0 ' + WIDTH + ' ' + height,
      width: WIDTH,
      height: height,
      role: 'img',
      'aria-label': summary(title, data),
    },
    nodes,
  );
}
