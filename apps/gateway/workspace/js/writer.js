/* The request writer: a guided form per kind of request, checked while the clerk writes
 * (the gateway's own completeness table), drafts and templates kept on the server, a printable
 * letter of request, and sending. */
import { api, errorText, fetchFile } from './api.js';
import { $, el, words } from './dom.js';
import { attachFiles, attachmentMembers } from './files.js';

var vocabulary = null;
var session = null;
var draft = null; // { id, revision } once saved
var files = []; // { filename, role, ref | inline }
var checkTimer = null;
var afterSend = function () {};

var KIND_LABELS = {
  mla_request: 'Mutual legal assistance',
  asset_recovery_request: 'Asset recovery',
  extradition_request: 'Extradition',
  provisional_arrest_request: 'Provisional arrest',
};
var LANGUAGES = ['en', 'fr', 'de', 'es', 'it', 'pt', 'ar', 'ru', 'zh', 'sw'];
var SURRENDER = ['extradition_request', 'provisional_arrest_request'];

/** Text inputs of the structured request: [field path, label, multi-line]. */
var TEXT_FIELDS = [
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
var PERSON_FIELDS = ['name', 'dateOfBirth', 'nationality', 'location', 'description'];
var ROW_LABELS = {
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
var OFFENCE_FIELDS = ['description', 'legalProvision', 'maximumPenalty', 'acts', 'limitation'];

function form() {
  return $('writer-form');
}

function input(name, label, multiline, value) {
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

function select(name, label, options, value) {
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
function repeatable(kind, title, fields, rows) {
  var list = el('div', { className: 'rows', dataset: { testid: 'w-' + kind } });
  function addRow(values) {
    var index = list.children.length;
    var row = el('fieldset', { className: 'row', dataset: { row: kind } }, [
      el('legend', {}, [title + ' ' + (index + 1)]),
    ]);
    if (kind === 'persons') {
      row.append(select(kind + '.role', 'Role', vocabulary.personRoles, values.role || 'suspect'));
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
    var remove = el('button', { type: 'button', className: 'quiet' }, ['Remove']);
    remove.addEventListener('click', function () {
      row.remove();
      scheduleCheck();
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
    scheduleCheck();
  });
  return el('fieldset', { className: 'group', dataset: { field: kind } }, [
    el('legend', {}, [title + 's']),
    list,
    add,
  ]);
}

function rowsOf(kind, fields) {
  return Array.from(form().querySelectorAll('[data-row="' + kind + '"]')).map(function (row) {
    var values = {};
    (kind === 'persons' ? ['role'].concat(fields) : fields).forEach(function (name) {
      values[name] = row.querySelector('[name="' + kind + '.' + name + '"]').value.trim();
    });
    return values;
  });
}

/** The form as the API and the drafts take it. */
function state() {
  var f = form();
  var value = function (name) {
    var control = f.querySelector('[name="' + name + '"]');
    return control ? control.value.trim() : '';
  };
  var kind = value('kind');
  var recipient = value('recipient');
  var request = {
    language: value('language'),
    assistance: SURRENDER.includes(kind)
      ? []
      : Array.from(f.querySelectorAll('input[name="assistance"]:checked')).map(function (box) {
          return box.value;
        }),
    requestingAuthority: value('requestingAuthority'),
    proceedings: {
      nature: value('proceedings.nature') || 'investigation',
      subjectMatter: value('proceedings.subjectMatter'),
      conductingAuthority: value('proceedings.conductingAuthority'),
      conductingAuthorityFunctions: value('proceedings.conductingAuthorityFunctions'),
      reference: value('proceedings.reference'),
    },
    facts: value('facts'),
    assistanceSought: value('assistanceSought'),
    procedure: value('procedure'),
    purpose: value('purpose'),
    persons: rowsOf('persons', PERSON_FIELDS),
    offences: rowsOf('offences', OFFENCE_FIELDS),
    confidentiality: value('confidentiality'),
    documents: files.map(function (file) {
      return { role: file.role, filename: file.filename };
    }),
    freeText: value('freeText'),
  };
  return {
    kind: kind,
    recipient: recipient
      ? { state: recipient.split('/')[0], authority: recipient.split('/')[1] }
      : null,
    subject: value('subject'),
    legalBasis: value('legalBasis'),
    urgency: value('urgency') || 'routine',
    deadline: value('deadline'),
    request: request,
    files: files,
  };
}

function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 300);
}

/** Asks the gateway what is still missing; shows it beside the form. Returns the answer. */
async function check() {
  var current = state();
  var answer = await api('POST', '/v1/requests/check', {
    kind: current.kind,
    recipient: current.recipient || undefined,
    request: current.request,
    filenames: files.map(function (file) {
      return file.filename;
    }),
  });
  var panel = $('writer-check');
  panel.replaceChildren();
  form()
    .querySelectorAll('.missing')
    .forEach(function (node) {
      node.classList.remove('missing');
    });
  if (!answer.ok) {
    panel.append(el('p', { className: 'error' }, [errorText(answer.status, answer.body)]));
    return null;
  }
  var missing = answer.body.missing;
  if (!current.subject)
    missing.unshift({ field: 'subject', label: 'A subject', rule: 'for the list' });
  if (!current.legalBasis)
    missing.unshift({ field: 'legalBasis', label: 'The legal basis', rule: 'UNCAC art. 46(6)' });
  if (!current.recipient)
    missing.unshift({ field: 'recipient', label: 'The requested authority', rule: 'directory' });
  panel.append(
    el('h3', {}, [missing.length ? 'Still missing (' + missing.length + ')' : 'Complete']),
    el(
      'ul',
      { dataset: { testid: 'writer-missing' } },
      missing.map(function (item) {
        var target = form().querySelector('[data-field="' + item.field.split('.')[0] + '"]');
        var exact = form().querySelector('[data-field="' + item.field + '"]');
        (exact || target || { classList: { add: function () {} } }).classList.add('missing');
        return el('li', { dataset: { field: item.field } }, [item.label + ' — ' + item.rule]);
      }),
    ),
  );
  if (answer.body.warnings.length) {
    panel.append(
      el('h3', {}, ['Worth checking']),
      el(
        'ul',
        { className: 'warnings', dataset: { testid: 'writer-warnings' } },
        answer.body.warnings.map(function (text) {
          return el('li', {}, [text]);
        }),
      ),
    );
  }
  return missing;
}

function notice(text, bad) {
  var box = $('writer-notice');
  box.textContent = text;
  box.className = bad ? 'error' : 'ok';
  box.hidden = !text;
}

async function saveDraft() {
  var current = state();
  var body = { kind: current.kind, name: current.subject || words(current.kind), form: current };
  var answer = draft
    ? await api('PUT', '/v1/drafts/' + draft.id, Object.assign({ revision: draft.revision }, body))
    : await api('POST', '/v1/drafts', body);
  if (!answer.ok) return notice(errorText(answer.status, answer.body), true);
  draft = { id: answer.body.id, revision: answer.body.revision };
  notice('Draft saved ' + answer.body.updatedAt.slice(11, 16) + ' UTC.');
  listDrafts();
}

async function saveTemplate() {
  var name = $('w-template-name').value.trim();
  if (!name) return notice('Give the template a name first.', true);
  var current = state();
  // A template keeps what recurs: who asks, on which basis, in which language; never the case.
  var fields = {
    kind: current.kind,
    legalBasis: current.legalBasis,
    urgency: current.urgency,
    request: {
      language: current.request.language,
      requestingAuthority: current.request.requestingAuthority,
      proceedings: {
        nature: current.request.proceedings.nature,
        conductingAuthority: current.request.proceedings.conductingAuthority,
        conductingAuthorityFunctions: current.request.proceedings.conductingAuthorityFunctions,
      },
      confidentiality: current.request.confidentiality,
    },
  };
  var answer = await api('POST', '/v1/templates', { kind: current.kind, name: name, form: fields });
  if (!answer.ok) return notice(errorText(answer.status, answer.body), true);
  notice('Template “' + name + '” saved for your authority.');
  listTemplates(current.kind);
}

async function applyTemplate(id) {
  var answer = await api('GET', '/v1/templates/' + id);
  if (!answer.ok) return notice(errorText(answer.status, answer.body), true);
  var merged = state();
  var t = answer.body.form;
  merged.legalBasis = t.legalBasis || merged.legalBasis;
  merged.urgency = t.urgency || merged.urgency;
  Object.keys(t.request || {}).forEach(function (key) {
    if (key === 'proceedings') Object.assign(merged.request.proceedings, t.request.proceedings);
    else merged.request[key] = t.request[key];
  });
  render(merged);
  notice('Template “' + answer.body.name + '” applied.');
}

async function letter() {
  var current = state();
  if (!current.recipient) return notice('Choose the requested authority first.', true);
  var answer = await fetchFile('POST', '/v1/requests/letter', {
    kind: current.kind,
    senderAuthority: session.authority,
    recipient: current.recipient,
    subject: current.subject || words(current.kind),
    legalBasis: current.legalBasis || undefined,
    urgency: current.urgency,
    deadline: current.deadline || undefined,
    request: current.request,
    filenames: files.map(function (file) {
      return file.filename;
    }),
  });
  if (!answer.ok) return notice(errorText(answer.status, answer.body), true);
  var link = $('w-letter-link');
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(answer.blob);
  link.hidden = false;
  link.dataset.bytes = String(answer.blob.size);
  notice('The letter of request is ready: open or print it.');
}

async function send() {
  var missing = await check();
  if (missing === null) return;
  if (missing.length) {
    notice(
      'Not sent: ' +
        missing.length +
        ' required ' +
        (missing.length === 1 ? 'field is' : 'fields are') +
        ' missing (listed beside the form).',
      true,
    );
    var first = form().querySelector(
      '.missing input, .missing textarea, .missing select, input.missing, textarea.missing, select.missing',
    );
    if (first) first.focus();
    return;
  }
  var current = state();
  var body = {
    kind: current.kind,
    senderAuthority: session.authority,
    recipient: current.recipient,
    legalBasis: current.legalBasis,
    urgency: current.urgency,
    subject: current.subject,
    request: current.request,
  };
  if (current.deadline) body.deadline = current.deadline;
  Object.assign(body, attachmentMembers(files));
  $('w-send').disabled = true;
  var answer = await api('POST', '/v1/outbound-messages', body, {
    'Idempotency-Key': 'draft-' + (draft ? draft.id : globalThis.crypto.randomUUID()),
  });
  $('w-send').disabled = false;
  if (!answer.ok) return notice(errorText(answer.status, answer.body), true);
  if (draft) await api('DELETE', '/v1/drafts/' + draft.id);
  draft = null;
  afterSend(answer.body.id);
}

async function addFiles(chosen) {
  var role = $('w-file-role').value;
  // Every file is uploaded: a saved draft then keeps only upload ids, never file bytes.
  var added = await attachFiles(chosen, $('w-uploads'), 0);
  added.files.forEach(function (file) {
    files.push(Object.assign({ role: role }, file));
  });
  renderFiles();
  scheduleCheck();
  if (added.error) notice(added.error, true);
}

function renderFiles() {
  $('w-files').replaceChildren(
    ...files.map(function (file, index) {
      var remove = el('button', { type: 'button', className: 'quiet' }, ['Remove']);
      remove.addEventListener('click', function () {
        files.splice(index, 1);
        renderFiles();
        scheduleCheck();
      });
      return el('li', { dataset: { testid: 'w-file' } }, [
        file.filename + ' — ' + words(file.role) + ' ',
        remove,
      ]);
    }),
  );
}

async function counterparts(kind, chosen) {
  var answer = await api('GET', '/v1/directory/authorities');
  var control = form().querySelector('[name="recipient"]');
  control.replaceChildren(el('option', { value: '' }, ['— choose —']));
  if (!answer.ok) return;
  answer.body
    .filter(function (authority) {
      return authority.state !== session.state && authority.requestKinds.includes(kind);
    })
    .forEach(function (authority) {
      control.append(
        el('option', { value: authority.state + '/' + authority.id }, [
          authority.stateName +
            ' — ' +
            authority.name +
            ' (' +
            authority.languages.join(', ') +
            ')',
        ]),
      );
    });
  control.value = chosen || '';
}

async function listTemplates(kind) {
  var answer = await api('GET', '/v1/templates');
  var box = $('w-templates');
  box.replaceChildren();
  if (!answer.ok) return;
  answer.body
    .filter(function (template) {
      return template.kind === kind;
    })
    .forEach(function (template) {
      var use = el('button', { type: 'button', dataset: { testid: 'w-use-template' } }, [
        template.name,
      ]);
      use.addEventListener('click', function () {
        applyTemplate(template.id);
      });
      box.append(use);
    });
}

async function listDrafts() {
  var answer = await api('GET', '/v1/drafts');
  var list = $('writer-drafts');
  list.replaceChildren();
  if (!answer.ok || !answer.body.length) {
    list.append(el('li', { className: 'muted' }, ['No drafts.']));
    return;
  }
  answer.body.forEach(function (item) {
    var open = el('button', { type: 'button', className: 'link', dataset: { testid: 'w-draft' } }, [
      item.name || words(item.kind),
    ]);
    open.addEventListener('click', async function () {
      var full = await api('GET', '/v1/drafts/' + item.id);
      if (!full.ok) return notice(errorText(full.status, full.body), true);
      draft = { id: full.body.id, revision: full.body.revision };
      render(full.body.form);
      notice('Draft opened.');
    });
    list.append(
      el('li', {}, [
        open,
        ' · ' + words(item.kind) + ' · ' + item.updatedAt.slice(0, 16).replace('T', ' '),
      ]),
    );
  });
}

/** Builds the form for `values` (a new request, a draft, a template applied). */
function render(values) {
  var kind = values.kind || 'mla_request';
  var request = values.request || {};
  var proceedings = request.proceedings || {};
  files = (values.files || []).slice();
  var f = form();
  f.replaceChildren(
    el('fieldset', { className: 'group' }, [
      el('legend', {}, ['The request']),
      select(
        'kind',
        'Kind',
        vocabulary.kinds.map(function (k) {
          return [k, KIND_LABELS[k] || words(k)];
        }),
        kind,
      ),
      select('recipient', 'Requested authority', [['', '— choose —']], ''),
      input('subject', 'Subject (shown in lists)', false, values.subject),
      input(
        'legalBasis',
        'Legal basis (treaty, convention, reciprocity)',
        false,
        values.legalBasis,
      ),
      select('urgency', 'Urgency', ['routine', 'urgent', 'immediate'], values.urgency || 'routine'),
      input('deadline', 'Execution wished by (YYYY-MM-DD)', false, values.deadline),
      select(
        'language',
        'Language of the request',
        [['', '— choose —']].concat(LANGUAGES),
        request.language,
      ),
    ]),
    SURRENDER.includes(kind)
      ? ''
      : el(
          'fieldset',
          { className: 'group checks', dataset: { field: 'assistance', testid: 'w-assistance' } },
          [el('legend', {}, ['Types of assistance'])].concat(
            vocabulary.assistanceTypes.map(function (type) {
              var box = el('input', { type: 'checkbox', name: 'assistance', value: type.id });
              box.checked = (request.assistance || []).includes(type.id);
              return el('label', {}, [box, ' ' + type.label]);
            }),
          ),
        ),
    el(
      'fieldset',
      { className: 'group' },
      [
        el('legend', {}, ['Contents (UNCAC art. 46(15))']),
        select(
          'proceedings.nature',
          '(b) Nature of the proceeding',
          vocabulary.proceedingNatures,
          proceedings.nature || 'investigation',
        ),
      ].concat(
        TEXT_FIELDS.map(function ([name, label, multiline]) {
          var parts = name.split('.');
          var value = parts.length === 2 ? proceedings[parts[1]] : request[name];
          return input(name, label, multiline, value);
        }),
      ),
    ),
    repeatable('persons', 'Person', PERSON_FIELDS, request.persons),
    repeatable('offences', 'Offence', OFFENCE_FIELDS, request.offences),
    el('fieldset', { className: 'group', dataset: { field: 'documents' } }, [
      el('legend', {}, ['Documents']),
      select('file-role', 'Role of the next files', vocabulary.documentRoles, 'letter_of_request'),
      el('div', { className: 'field' }, [
        el('label', { htmlFor: 'w-file-input' }, [
          'Attach files (uploaded in parts; an upload resumes after a dropped connection)',
        ]),
        el('input', {
          id: 'w-file-input',
          type: 'file',
          multiple: true,
          dataset: { testid: 'w-file-input' },
        }),
      ]),
      el('ul', { dataset: { testid: 'w-files' } }),
      el('div', { dataset: { testid: 'w-uploads' } }),
    ]),
  );
  renderFiles();
  counterparts(
    kind,
    values.recipient ? values.recipient.state + '/' + values.recipient.authority : '',
  );
  listTemplates(kind);
  f.querySelector('[name="kind"]').addEventListener('change', function (event) {
    var next = state();
    next.kind = event.target.value;
    render(next);
  });
  $('w-file-input').addEventListener('change', function (event) {
    var chosen = Array.from(event.target.files || []);
    event.target.value = '';
    if (chosen.length) addFiles(chosen);
  });
  scheduleCheck();
}

/** Opens the writer: a new request of `kind`; `sent(id)` is called with the new case's id. */
export async function showWriter(current, sent) {
  session = current;
  afterSend = sent || afterSend;
  if (!vocabulary) {
    var answer = await api('GET', '/v1/requests/form');
    if (!answer.ok) return notice(errorText(answer.status, answer.body), true);
    vocabulary = answer.body;
  }
  draft = null;
  notice('');
  $('w-letter-link').hidden = true;
  render({ kind: 'mla_request' });
  listDrafts();
}

document.addEventListener('DOMContentLoaded', function () {
  form().addEventListener('input', scheduleCheck);
  form().addEventListener('change', scheduleCheck);
  form().addEventListener('submit', function (event) {
    event.preventDefault();
  });
  $('w-save').addEventListener('click', saveDraft);
  $('w-send').addEventListener('click', send);
  $('w-letter').addEventListener('click', letter);
  $('w-save-template').addEventListener('click', saveTemplate);
  $('w-new').addEventListener('click', function () {
    draft = null;
    render({ kind: state().kind });
    notice('');
  });
});
