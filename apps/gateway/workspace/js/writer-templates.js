/* Templates of an authority: what recurs in its requests (legal basis, urgency, language, who
 * asks and conducts, confidentiality), never the case itself; every clerk of the authority may
 * apply them. `writer` gives the form's state, renders a new one and shows notices. */
import { api, errorText } from './api.js';
import { $, el } from './dom.js';

export async function saveTemplate(writer) {
  var name = $('w-template-name').value.trim();
  if (!name) return writer.notice('Give the template a name first.', true);
  var current = writer.state();
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
  if (!answer.ok) return writer.notice(errorText(answer.status, answer.body), true);
  writer.notice('Template “' + name + '” saved for your authority.');
  listTemplates(writer, current.kind);
}

async function applyTemplate(writer, id) {
  var answer = await api('GET', '/v1/templates/' + id);
  if (!answer.ok) return writer.notice(errorText(answer.status, answer.body), true);
  var merged = writer.state();
  var t = answer.body.form;
  merged.legalBasis = t.legalBasis || merged.legalBasis;
  merged.urgency = t.urgency || merged.urgency;
  Object.keys(t.request || {}).forEach(function (key) {
    if (key === 'proceedings') Object.assign(merged.request.proceedings, t.request.proceedings);
    else merged.request[key] = t.request[key];
  });
  writer.render(merged);
  writer.notice('Template “' + answer.body.name + '” applied.');
}

export async function listTemplates(writer, kind) {
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
        applyTemplate(writer, template.id);
      });
      box.append(use);
    });
}
