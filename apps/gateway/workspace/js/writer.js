/* The request writer: a guided form per kind of request, checked while the clerk writes
 * (the gateway's own completeness table), drafts and templates kept on the server, a printable
 * letter of request, and sending. */
import { api, errorText, fetchFile } from './api.js';
import { $, el, words } from './dom.js';
import { attachFiles, attachmentMembers } from './files.js';
import { listTemplates, saveTemplate } from './writer-templates.js';
import {
  KIND_LABELS,
  LANGUAGES,
  OFFENCE_FIELDS,
  PERSON_FIELDS,
  SURRENDER,
  TEXT_FIELDS,
  input,
  repeatable,
  rowsOf,
  select,
} from './writer-fields.js';

var vocabulary = null;
var session = null;
var draft = null; // { id, revision } once saved
var files = []; // { filename, role, ref | inline }
var checkTimer = null;
var afterSend = function () {};
/** What the templates see of the writer (function declarations are hoisted). */
var writer = { state: state, render: render, notice: notice };

function form() {
  return $('writer-form');
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
    persons: rowsOf(f, 'persons', PERSON_FIELDS),
    offences: rowsOf(f, 'offences', OFFENCE_FIELDS),
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
  panel.append(
    el('details', { className: 'preview' }, [
      el('summary', {}, ['Preview the text']),
      el('pre', { dataset: { testid: 'writer-preview' } }, [answer.body.preview]),
    ]),
  );
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
    repeatable(
      'persons',
      'Person',
      PERSON_FIELDS,
      request.persons,
      vocabulary.personRoles,
      scheduleCheck,
    ),
    repeatable('offences', 'Offence', OFFENCE_FIELDS, request.offences, [], scheduleCheck),
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
  listTemplates(writer, kind);
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
  $('w-save-template').addEventListener('click', function () {
    saveTemplate(writer);
  });
  $('w-new').addEventListener('click', function () {
    draft = null;
    render({ kind: state().kind });
    notice('');
  });
});
