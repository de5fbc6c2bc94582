/* One case: where it stands, every message in order, and the actions allowed now as forms. */
import { api, errorText } from './api.js';
import { $, day, el, words } from './dom.js';
import { attachFiles, attachmentMembers } from './files.js';

var GROUNDS = [
  'insufficient-information',
  'sovereignty-security-public-order',
  'domestic-law-prohibits',
  'contrary-to-legal-system',
  'dual-criminality',
  'ne-bis-in-idem',
  'immunity-or-privilege',
  'fundamental-rights',
  'political-offence',
  'death-penalty',
  'nationality',
  'limitation-period',
  'other',
];

/* What each action asks for; `required` ones are marked so the browser warns before sending. */
var FIELDS = {
  acknowledgement: [
    ['reference', 'text', true],
    ['estimatedCompletion', 'date', false],
    ['note', 'textarea', false],
  ],
  information_request: [
    ['note', 'textarea', true],
    ['respondBy', 'date', false],
  ],
  additional_information: [
    ['note', 'textarea', true],
    ['attachments', 'file', false],
  ],
  status_inquiry: [['note', 'textarea', false]],
  status_report: [
    ['note', 'textarea', true],
    ['estimatedCompletion', 'date', false],
  ],
  postponement: [
    ['reasons', 'textarea', true],
    ['estimatedCompletion', 'date', true],
  ],
  consultation: [['note', 'textarea', true]],
  partial_execution: [
    ['note', 'textarea', false],
    ['attachments', 'file', true],
  ],
  execution_completed: [
    ['note', 'textarea', false],
    ['attachments', 'file', false],
  ],
  refusal: [
    ['grounds', 'grounds', true],
    ['reasons', 'textarea', true],
  ],
  withdrawal: [['reasons', 'textarea', false]],
  closure: [],
  supplementary_information: [
    ['note', 'textarea', true],
    ['attachments', 'file', false],
  ],
  reply: [
    ['note', 'textarea', true],
    ['attachments', 'file', false],
  ],
};

var onBack = function () {};

var LABELS = {
  reference: 'Your reference number',
  estimatedCompletion: 'Estimated completion',
  respondBy: 'Needed by',
  note: 'Message',
  reasons: 'Reasons',
  attachments:
    'Files (up to 1 MiB each travel inside the message; larger ones are uploaded in parts and resume after a dropped connection)',
  grounds: 'Grounds',
};

function field(name, type, required) {
  var id = 'action-' + name;
  if (type === 'grounds') {
    return el(
      'fieldset',
      {},
      [el('legend', {}, [LABELS.grounds + ' (at least one)'])].concat(
        GROUNDS.map(function (ground) {
          return el('label', { className: 'check' }, [
            el('input', { type: 'checkbox', name: 'grounds', value: ground }),
            ' ' + words(ground),
          ]);
        }),
      ),
    );
  }
  var input =
    type === 'textarea'
      ? el('textarea', { id: id, name: name, rows: 3, required: required })
      : el('input', {
          id: id,
          name: name,
          type: type,
          required: required,
          multiple: type === 'file',
        });
  input.dataset.testid = 'action-' + name;
  return el('div', { className: 'field' }, [
    el('label', { htmlFor: id }, [LABELS[name] + (required ? ' (required)' : '')]),
    input,
    type === 'file'
      ? el('div', { className: 'uploads', dataset: { testid: 'action-uploads' } })
      : '',
  ]);
}

async function bodyOf(kind, form) {
  var body = { kind: kind };
  for (var [name, type] of FIELDS[kind]) {
    if (type === 'grounds') {
      body.grounds = Array.from(form.querySelectorAll('input[name="grounds"]:checked')).map(
        function (box) {
          return box.value;
        },
      );
    } else if (type === 'file') {
      var chosen = Array.from(form.elements[name].files || []);
      if (chosen.length) {
        var area = form.querySelector('[data-testid="action-uploads"]');
        area.replaceChildren();
        var added = await attachFiles(chosen, area);
        if (added.error) throw new Error(added.error);
        Object.assign(body, attachmentMembers(added.files));
      }
    } else if (form.elements[name].value.trim()) {
      body[name] = form.elements[name].value;
    }
  }
  return body;
}

function actionForm(caseId, kind) {
  var form = el(
    'form',
    { className: 'card action', dataset: { testid: 'action-form' } },
    [el('h3', {}, [words(kind)])]
      .concat(
        FIELDS[kind].map(function ([name, type, required]) {
          return field(name, type, required);
        }),
      )
      .concat([
        el('p', {
          className: 'error',
          role: 'alert',
          hidden: true,
          dataset: { testid: 'action-error' },
        }),
        el('button', { type: 'submit', className: 'primary', dataset: { testid: 'action-send' } }, [
          'Send ' + words(kind),
        ]),
      ]),
  );
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    var error = form.querySelector('[data-testid="action-error"]');
    var send = form.querySelector('[data-testid="action-send"]');
    error.hidden = true;
    send.disabled = true;
    try {
      var answer = await api('POST', '/v1/cases/' + caseId + '/actions', await bodyOf(kind, form));
      if (answer.ok) return showCase(caseId);
      error.textContent = errorText(answer.status, answer.body);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      send.disabled = false;
    }
    error.hidden = false;
  });
  return form;
}

function download(attachment) {
  var bytes = Uint8Array.from(atob(attachment.data), function (c) {
    return c.charCodeAt(0);
  });
  var link = el('a', {
    href: URL.createObjectURL(new Blob([bytes], { type: attachment.mediaType })),
    download: attachment.filename,
  });
  link.click();
}

function messageItem(message) {
  var details = message.details || {};
  var facts = [
    details.reference ? 'reference ' + details.reference : '',
    details.estimatedCompletion ? 'estimated completion ' + details.estimatedCompletion : '',
    details.respondBy ? 'needed by ' + details.respondBy : '',
    details.grounds ? 'grounds: ' + details.grounds.map(words).join(', ') : '',
  ]
    .filter(Boolean)
    .join(' · ');
  var content = message.content;
  var files = (content && content.attachments) || [];
  var large = (content && content.largeAttachments) || [];
  return el(
    'li',
    {
      className: 'message ' + message.direction,
      dataset: { testid: 'timeline-entry', kind: message.kind, status: message.status },
    },
    [
      el('div', { className: 'message-head' }, [
        el('strong', {}, [words(message.kind)]),
        ' · ' +
          (message.direction === 'outbound' ? 'sent' : 'received') +
          ' ' +
          message.createdAt.replace('T', ' ').slice(0, 16) +
          ' UTC · ',
        el('span', { className: 'status ' + message.status }, [
          message.status + (message.applied ? '' : ' (crossed, no effect)'),
        ]),
      ]),
      facts ? el('p', { className: 'facts' }, [facts]) : '',
      content && content.case && content.case.reasons
        ? el('p', {}, ['Reasons: ' + content.case.reasons])
        : '',
      content ? el('p', { className: 'body' }, [content.body]) : '',
      files.length
        ? el(
            'p',
            {},
            files.map(function (file) {
              var button = el(
                'button',
                { type: 'button', className: 'link', dataset: { testid: 'download' } },
                [file.filename],
              );
              button.addEventListener('click', function () {
                download(file);
              });
              return button;
            }),
          )
        : '',
      large.length
        ? el(
            'p',
            {},
            large.map(function (file, index) {
              return el(
                'a',
                {
                  href:
                    '/v1/' +
                    message.direction +
                    '-messages/' +
                    message.id +
                    '/attachments/' +
                    index,
                  download: file.filename,
                  className: 'file-link',
                  dataset: { testid: 'download-large' },
                },
                [file.filename + ' (' + size(file.size) + ')'],
              );
            }),
          )
        : '',
      message.direction === 'outbound' ? receiptLine(message.receipt) : '',
    ],
  );
}

function size(bytes) {
  if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + ' MiB';
  if (bytes >= 1024) return Math.ceil(bytes / 1024) + ' KiB';
  return bytes + ' bytes';
}

/** `2026-12-05T10:00:00.000Z` → `2026-12-05 10:00:00`. */
function utc(time) {
  return time.replace('T', ' ').slice(0, 19);
}

/** "Delivered, signed by FR at …, verified": the receipt as the gateway checked it just now. */
function receiptLine(receipt) {
  if (!receipt) {
    return el('p', { className: 'receipt pending', dataset: { testid: 'receipt' } }, [
      'No receipt yet',
    ]);
  }
  if (!receipt.verified) {
    return el('p', { className: 'receipt bad', dataset: { testid: 'receipt' } }, [
      'Receipt from ' + receipt.signedBy + ' does not verify: ' + words(receipt.problem),
    ]);
  }
  var text =
    (receipt.status === 'delivered' ? 'Delivered' : 'Rejected (' + words(receipt.reason) + ')') +
    ', signed by ' +
    receipt.signedBy +
    ' at ' +
    utc(receipt.signedAt) +
    ' UTC, signature verified';
  if (receipt.openedAt) {
    text +=
      '. Opened by ' + receipt.signedBy + ' at ' + utc(receipt.openedAt) + ' UTC (signed evidence)';
  } else if (receipt.notOpenedBy) {
    text +=
      '. Not opened by ' +
      utc(receipt.notOpenedBy) +
      ' UTC, the end of its time frame (signed evidence)';
  }
  return el(
    'p',
    {
      className: 'receipt ' + receipt.status,
      title:
        'Envelope SHA-256 ' +
        receipt.envelopeDigest +
        '; certificate ' +
        receipt.certificateThumbprint,
      dataset: { testid: 'receipt' },
    },
    [text],
  );
}

/** `back`: what the back button does (the list shows itself again). */
export async function showCase(id, backTo) {
  onBack = backTo || onBack;
  var section = $('case');
  var answer = await api('GET', '/v1/cases/' + id);
  section.replaceChildren();
  section.hidden = false;
  $('cases').hidden = true;
  var back = el('button', { type: 'button', className: 'quiet', dataset: { testid: 'back' } }, [
    '← All cases',
  ]);
  back.addEventListener('click', function () {
    section.hidden = true;
    $('cases').hidden = false;
    onBack();
  });
  if (!answer.ok) {
    section.append(
      back,
      el('p', { className: 'error', role: 'alert' }, [errorText(answer.status, answer.body)]),
    );
    return;
  }
  var view = answer.body;
  var actions = el('div', { className: 'actions' });
  var picker = el(
    'div',
    { className: 'action-picker' },
    view.allowedActions.map(function (kind) {
      var button = el('button', { type: 'button', dataset: { testid: 'action-' + kind } }, [
        words(kind),
      ]);
      button.addEventListener('click', function () {
        actions.replaceChildren(actionForm(view.id, kind));
      });
      return button;
    }),
  );
  section.append(
    back,
    el('h2', { dataset: { testid: 'case-subject' } }, [view.subject || view.id]),
    el('p', { className: 'summary' }, [
      el('span', { className: 'state', dataset: { testid: 'case-view-state' } }, [
        words(view.state),
      ]),
      ' · ' +
        view.requesting.state +
        ' → ' +
        view.requested.state +
        ' · ' +
        words(view.kind) +
        ' · ' +
        view.urgency,
      view.reference ? ' · their reference ' + view.reference : '',
      view.nextStep
        ? ' · next: ' +
          words(view.nextStep) +
          ' by the ' +
          view.nextStepBy +
          ' State, due ' +
          day(view.dueAt)
        : '',
      view.overdue ? el('strong', { className: 'overdue-flag' }, [' overdue']) : '',
    ]),
    el(
      'ol',
      { className: 'timeline', dataset: { testid: 'timeline' } },
      view.timeline.map(messageItem),
    ),
    view.allowedActions.length ? el('h3', {}, ['What you can do now']) : '',
    picker,
    actions,
  );
}
