/* The request writer's controls: labelled inputs and selects that carry their field's path
 * (data-field, for the missing-field marks) and test id, and the repeatable groups (persons,
 * offences). */
import { el, words } from './dom.js';

export var KIND_LABELS = {
  mla_request: 'Mutual legal assistance',
  asset_recovery_request: 'Asset recovery',
  extradition_request: 'Extradition',
  provisional_arrest_request: 'Provisional arrest',
};
export var LANGUAGES = ['en', 'fr', 'de', 'es', 'it', 'pt', 'ar', 'ru', 'zh', 'sw'];
export var SURRENDER = ['extradition_request', 'provisional_arrest_request'];

/** Text inputs of the structured request: [field path, label, multi-line]. */
export var TEXT_FIELDS = [
  ['requestingAuthority', '(a) Requesting authority', false],
  ['proceedings.subjectMatter', '(b) Subject matter and nature of the proceeding', true],
  ['proceedings.conductingAuthority', '(b) Authority conducting the proceeding', false],
  ['proceedings.conductingAuthorityFunctions', '(b) Its functions', false],
  ['proceedings.reference', 'Your case reference', false],
  ['facts', '(c) Summary of the relevant facts', true],
  ['assistanceSought', '(d) Assistance sought', true],
  ['procedure', '(d) Particular procedure to follow', true],
  ['purpose', '(f) Purpose of the evidence, information or action', true],
  ['confidentiality', 'Confidentiality requirements', true],
  ['freeText', 'Further information (free text)', true],
];
export var PERSON_FIELDS = ['name', 'dateOfBirth', 'nationality', 'location', 'description'];
export var ROW_LABELS = {
  name: 'Name',
  dateOfBirth: 'Date of birth (YYYY-MM-DD)',
  nationality: 'Nationality',
  location: 'Location (where to find them)',
  description: 'Description, identity documents',
  legalProvision: 'Legal provision',
  maximumPenalty: 'Maximum penalty',
  acts: 'The acts, with time and place',
  limitation: 'Limitation period',
};
export var OFFENCE_FIELDS = [
  'description',
  'legalProvision',
  'maximumPenalty',
  'acts',
  'limitation',
];

export function input(name, label, multiline, value) {
  var id = 'w-' + name.replace(/\W/g, '-');
  var control = multiline
    ? el('textarea', { id: id, name: name, rows: 3 })
    : el('input', { id: id, name: name });
  control.value = value || '';
  control.dataset.field = name;
  control.dataset.testid = 'w-' + name;
  return el('div', { className: 'field', dataset: { field: name } }, [
    el('label', { htmlFor: id }, [label]),
    control,
  ]);
}

export function select(name, label, options, value) {
  var id = 'w-' + name.replace(/\W/g, '-');
  var control = el(
    'select',
    { id: id, name: name },
    options.map(function (option) {
      var pair = Array.isArray(option) ? option : [option, words(option)];
      return el('option', { value: pair[0] }, [pair[1]]);
    }),
  );
  control.value = value || '';
  control.dataset.testid = 'w-' + name;
  control.dataset.field = name;
  return el('div', { className: 'field', dataset: { field: name } }, [
    el('label', { htmlFor: id }, [label]),
    control,
  ]);
}

/** A repeatable group (persons, offences): rows of inputs with add and remove. */
export function repeatable(kind, title, fields, rows, roles, onChange) {
  var list = el('div', { className: 'rows', dataset: { testid: 'w-' + kind } });
  function addRow(values) {
    var index = list.children.length;
    var row = el('fieldset', { className: 'row', dataset: { row: kind } }, [
      el('legend', {}, [title + ' ' + (index + 1)]),
    ]);
    if (kind === 'persons') {
      row.append(select(kind + '.role', 'Role', roles, values.role || 'suspect'));
    }
    fields.forEach(function (name) {
      row.append(
        input(
          kind + '.' + name,
          kind === 'offences' && name === 'description' ? 'Offence' : ROW_LABELS[name],
          name === 'description' || name === 'acts',
          values[name],
        ),
      );
    });
    var remove = el('button', { type: 'button', className: 'quiet' }, [
      'Remove ' + title.toLowerCase() + ' ' + (index + 1),
    ]);
    remove.addEventListener('click', function () {
      row.remove();
      onChange();
    });
    row.append(remove);
    list.append(row);
  }
  (rows || []).forEach(addRow);
  var add = el('button', { type: 'button', dataset: { testid: 'w-add-' + kind } }, [
    'Add ' + title.toLowerCase(),
  ]);
  add.addEventListener('click', function () {
    addRow({});
    onChange();
  });
  return el('fieldset', { className: 'group', dataset: { field: kind } }, [
    el('legend', {}, [title + 's']),
    list,
    add,
  ]);
}

export function rowsOf(form, kind, fields) {
  return Array.from(form.querySelectorAll('[data-row="' + kind + '"]')).map(function (row) {
    var values = {};
    (kind === 'persons' ? ['role'].concat(fields) : fields).forEach(function (name) {
      values[name] = row.querySelector('[name="' + kind + '.' + name + '"]').value.trim();
    });
    return values;
  });
}
