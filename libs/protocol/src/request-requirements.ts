import type { RequestKind } from './message-kinds';
import { ProtocolError } from './protocol-error';
import {
  LANGUAGE_CODE,
  readStructuredRequest,
  type AssistanceType,
  type PersonConcerned,
  type StructuredRequest,
} from './structured-request';

/**
 * The table of required fields of structured requests (protocol §9.2) and the check that
 * applies it: one function for the API, the workspace's writer and the receiving node.
 */

/** A field a request of its kind and types must fill, and why (the table in protocol §9.2). */
export interface MissingField {
  /** JSON path inside `content.request`, e.g. `proceedings.subjectMatter` or `persons`. */
  field: string;
  label: string;
  /** The rule it comes from, e.g. "UNCAC art. 46(15)(c)". */
  rule: string;
}

interface Requirement {
  field: string;
  label: string;
  rule: string;
  applies(kind: RequestKind, request: StructuredRequest): boolean;
  satisfied(request: StructuredRequest): boolean;
}

export const filled = (text: string): boolean => text.trim().length > 0;
const MLA_KINDS: readonly RequestKind[] = ['mla_request', 'asset_recovery_request'];
const SURRENDER_KINDS: readonly RequestKind[] = [
  'extradition_request',
  'provisional_arrest_request',
];
const ALL = (): boolean => true;
const isMla = (kind: RequestKind): boolean => MLA_KINDS.includes(kind);
const isSurrender = (kind: RequestKind): boolean => SURRENDER_KINDS.includes(kind);
const asks = (request: StructuredRequest, ...types: AssistanceType[]): boolean =>
  request.assistance.some((type) => types.includes(type));
/** Service of documents alone needs no summary of facts (art. 46(15)(c)). */
const onlyService = (request: StructuredRequest): boolean =>
  request.assistance.length > 0 &&
  request.assistance.every(
    (type) => type === 'service_of_documents' || type === 'civil_procedural_acts',
  );
const criminal = (request: StructuredRequest): boolean =>
  request.proceedings.nature !== 'civil' && request.proceedings.nature !== 'administrative';
const personSought = (request: StructuredRequest): PersonConcerned | undefined =>
  request.persons.find((person) => person.role === 'person_sought');

/** The table of protocol §9.2, in order of the form. */
const REQUIREMENTS: readonly Requirement[] = [
  {
    field: 'language',
    label: 'Language of the request',
    rule: 'UNCAC art. 46(14)',
    applies: ALL,
    satisfied: (r) => LANGUAGE_CODE.test(r.language),
  },
  {
    field: 'assistance',
    label: 'At least one type of assistance',
    rule: 'UNCAC art. 46(3)',
    applies: isMla,
    satisfied: (r) => r.assistance.length > 0,
  },
  {
    field: 'requestingAuthority',
    label: 'The requesting authority',
    rule: 'UNCAC art. 46(15)(a)',
    applies: ALL,
    satisfied: (r) => filled(r.requestingAuthority),
  },
  {
    field: 'proceedings.subjectMatter',
    label: 'Subject matter and nature of the proceeding',
    rule: 'UNCAC art. 46(15)(b)',
    applies: ALL,
    satisfied: (r) => filled(r.proceedings.subjectMatter),
  },
  {
    field: 'proceedings.conductingAuthority',
    label: 'Name of the authority conducting the proceeding',
    rule: 'UNCAC art. 46(15)(b)',
    applies: ALL,
    satisfied: (r) => filled(r.proceedings.conductingAuthority),
  },
  {
    field: 'proceedings.conductingAuthorityFunctions',
    label: 'Functions of the authority conducting the proceeding',
    rule: 'UNCAC art. 46(15)(b)',
    applies: ALL,
    satisfied: (r) => filled(r.proceedings.conductingAuthorityFunctions),
  },
  {
    field: 'facts',
    label: 'Summary of the relevant facts',
    rule: 'UNCAC art. 46(15)(c); UNTOC art. 16(3)(b)',
    applies: (kind, r) => !(isMla(kind) && onlyService(r)),
    satisfied: (r) => filled(r.facts),
  },
  {
    field: 'assistanceSought',
    label: 'The assistance sought',
    rule: 'UNCAC art. 46(15)(d)',
    applies: isMla,
    satisfied: (r) => filled(r.assistanceSought),
  },
  {
    field: 'purpose',
    label: 'Purpose of the evidence, information or action',
    rule: 'UNCAC art. 46(15)(f)',
    applies: isMla,
    satisfied: (r) => filled(r.purpose),
  },
  {
    field: 'offences',
    label: 'At least one offence, with its description and legal provision',
    rule: 'UNCAC art. 46(15)(b); UNTOC art. 16(3)',
    applies: (kind, r) => isSurrender(kind) || (isMla(kind) && criminal(r) && !onlyService(r)),
    satisfied: (r) =>
      r.offences.length > 0 &&
      r.offences.every((o) => filled(o.description) && filled(o.legalProvision)),
  },
  {
    field: 'offences.maximumPenalty',
    label: 'The maximum penalty of each offence',
    rule: 'UNTOC art. 16(1); Model Treaty on Extradition art. 2',
    applies: isSurrender,
    satisfied: (r) => r.offences.every((o) => filled(o.maximumPenalty)),
  },
  {
    field: 'offences.acts',
    label: 'The acts of each offence, with time and place',
    rule: 'Model Treaty on Extradition art. 5(2)(b)',
    applies: (kind) => kind === 'extradition_request',
    satisfied: (r) => r.offences.every((o) => filled(o.acts)),
  },
  {
    field: 'offences.limitation',
    label: 'The limitation period of each offence',
    rule: 'Model Treaty on Extradition art. 5(2)(b)',
    applies: (kind) => kind === 'extradition_request',
    satisfied: (r) => r.offences.every((o) => filled(o.limitation)),
  },
  {
    field: 'persons.person_sought',
    label: 'The person sought: name, description, nationality and location',
    rule: 'Model Treaty on Extradition art. 5(2)(a)',
    applies: isSurrender,
    satisfied: (r) => {
      const person = personSought(r);
      return (
        person !== undefined &&
        filled(person.name) &&
        filled(person.description) &&
        filled(person.nationality) &&
        filled(person.location)
      );
    },
  },
  {
    field: 'documents.warrant',
    label: 'The warrant of arrest or the judgment, attached',
    rule: 'Model Treaty on Extradition art. 5(2)(a)',
    applies: (kind) => kind === 'extradition_request',
    satisfied: (r) => r.documents.some((d) => d.role === 'warrant' || d.role === 'judgment'),
  },
  {
    field: 'documents.warrant',
    label: 'The warrant of arrest, attached',
    rule: 'Model Treaty on Extradition art. 9(2)',
    applies: (kind) => kind === 'provisional_arrest_request',
    satisfied: (r) => r.documents.some((d) => d.role === 'warrant'),
  },
  {
    field: 'persons.addressee',
    label: 'The person to be served: name and location',
    rule: 'UNCAC art. 46(15)(e)',
    applies: (kind, r) => isMla(kind) && asks(r, 'service_of_documents', 'civil_procedural_acts'),
    satisfied: (r) =>
      r.persons.some((p) => p.role === 'addressee' && filled(p.name) && filled(p.location)),
  },
  {
    field: 'documents.document_to_serve',
    label: 'The document to be served, attached',
    rule: 'UNCAC art. 46(3)(b)',
    applies: (kind, r) => isMla(kind) && asks(r, 'service_of_documents', 'civil_procedural_acts'),
    satisfied: (r) => r.documents.some((d) => d.role === 'document_to_serve'),
  },
  {
    field: 'persons.heard',
    label: 'The person to be heard (witness, expert, suspect or victim)',
    rule: 'UNCAC art. 46(15)(e)',
    applies: (kind, r) => isMla(kind) && asks(r, 'taking_evidence', 'videoconference_hearing'),
    satisfied: (r) =>
      r.persons.some(
        (p) =>
          ['witness', 'expert', 'suspect', 'accused', 'victim'].includes(p.role) && filled(p.name),
      ),
  },
];

/** Every requirement of the table, for the docs and the workspace's form: field, label, rule. */
export function requirementTable(): { field: string; label: string; rule: string }[] {
  return REQUIREMENTS.map(({ field, label, rule }) => ({ field, label, rule }));
}

/** What a request of `kind` still lacks; empty when it is complete. */
export function missingFields(kind: RequestKind, request: StructuredRequest): MissingField[] {
  return REQUIREMENTS.filter((req) => req.applies(kind, request) && !req.satisfied(request)).map(
    ({ field, label, rule }) => ({ field, label, rule }),
  );
}

/** Advice that never blocks sending: what UNCAC asks "where possible". */
export function requestAdvice(request: StructuredRequest): string[] {
  const advice: string[] = [];
  request.persons.forEach((person, index) => {
    const lacking = (['dateOfBirth', 'nationality', 'location'] as const).filter(
      (field) => !filled(person[field]),
    );
    if (lacking.length > 0) {
      advice.push(
        `persons[${index}] (${filled(person.name) ? person.name : person.role}): where possible give ${lacking.join(', ')} (UNCAC art. 46(15)(e))`,
      );
    }
  });
  if (!request.documents.some((d) => d.role === 'letter_of_request')) {
    advice.push('no signed letter of request is attached (role letter_of_request)');
  }
  return advice;
}

/**
 * Reads and checks a request that is about to travel or has arrived: well formed, complete
 * for its kind, and every document names one of the request's files.
 */
export function checkStructuredRequest(
  kind: RequestKind,
  value: unknown,
  filenames: readonly string[],
): StructuredRequest {
  const request = readStructuredRequest(value);
  if (isSurrender(kind) && request.assistance.length > 0) {
    throw new ProtocolError(
      'malformed-content',
      `content.request.assistance must be empty for ${kind}`,
    );
  }
  request.documents.forEach((document, index) => {
    if (!filenames.includes(document.filename)) {
      throw new ProtocolError(
        'malformed-content',
        `content.request.documents[${index}].filename "${document.filename}" is not one of the request's files`,
      );
    }
  });
  const missing = missingFields(kind, request);
  if (missing.length > 0) {
    throw new ProtocolError(
      'request-incomplete',
      `the ${kind} lacks ${missing.map((item) => `${item.field} (${item.label}, ${item.rule})`).join('; ')}`,
    );
  }
  return request;
}
