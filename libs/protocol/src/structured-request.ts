import { FieldReader } from './fields';
import type { RequestKind } from './message-kinds';
import { ProtocolError } from './protocol-error';

/**
 * Structured requests (protocol §9): the contents UNCAC art. 46(15) and the extradition
 * treaties ask of a request, as named fields, beside the free text. One table says which
 * fields each kind and type of assistance requires; the API, the workspace and the receiver
 * all apply it through `missingFields`.
 */

/** Types of assistance (UNCAC art. 46(3), the UNODC request writer; civil: the Hague conventions). */
export const ASSISTANCE_TYPES = [
  'taking_evidence',
  'service_of_documents',
  'search_and_seizure',
  'examining_objects_and_sites',
  'providing_information_and_evidence',
  'records',
  'proceeds_of_crime',
  'electronic_data',
  'videoconference_hearing',
  'transfer_of_proceedings',
  'civil_bank_records',
  'civil_precautionary_measures',
  'civil_procedural_acts',
  'civil_recognition_of_judgments',
] as const;
export type AssistanceType = (typeof ASSISTANCE_TYPES)[number];

export const ASSISTANCE_TYPE_LABELS: Record<AssistanceType, string> = {
  taking_evidence: 'Taking evidence or statements',
  service_of_documents: 'Service of judicial documents',
  search_and_seizure: 'Search and seizure',
  examining_objects_and_sites: 'Examining objects and sites',
  providing_information_and_evidence: 'Providing information and evidentiary items',
  records: 'Originals or certified copies of records (bank, financial, corporate, business)',
  proceeds_of_crime: 'Identifying, tracing, freezing, seizing, confiscating and returning proceeds',
  electronic_data: 'Preservation of and access to stored electronic data, traffic data',
  videoconference_hearing: 'Hearing by videoconference',
  transfer_of_proceedings: 'Transfer of proceedings',
  civil_bank_records: 'Civil or administrative: bank records',
  civil_precautionary_measures: 'Civil or administrative: precautionary measures',
  civil_procedural_acts: 'Civil or administrative: communication of procedural acts',
  civil_recognition_of_judgments: 'Civil or administrative: recognition of judgments',
};

export const PROCEEDING_NATURES = [
  'investigation',
  'prosecution',
  'judicial_proceeding',
  'civil',
  'administrative',
] as const;
export type ProceedingNature = (typeof PROCEEDING_NATURES)[number];

export const PERSON_ROLES = [
  'suspect',
  'accused',
  'convicted',
  'person_sought',
  'witness',
  'expert',
  'victim',
  'addressee',
  'account_holder',
  'other',
] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

/** The roles a file attached to a request plays. */
export const DOCUMENT_ROLES = [
  'letter_of_request',
  'warrant',
  'judgment',
  'translation',
  'evidence',
  'document_to_serve',
  'other',
] as const;
export type DocumentRole = (typeof DOCUMENT_ROLES)[number];

export interface PersonConcerned {
  role: PersonRole;
  name: string;
  /** YYYY-MM-DD, or '' when not known. Every text field below: '' when not known. */
  dateOfBirth: string;
  nationality: string;
  location: string;
  /** Physical description and identity documents (extradition). */
  description: string;
}

export interface Offence {
  description: string;
  legalProvision: string;
  maximumPenalty: string;
  /** Extradition: the acts, with time and place. */
  acts: string;
  /** Extradition: the limitation period and whether it has run. */
  limitation: string;
}

export interface DocumentReference {
  role: DocumentRole;
  /** The file name of one of the request's attachments (inline or large). */
  filename: string;
}

/** `content.request` (protocol §9). Text fields are '' when not given; required ones never are. */
export interface StructuredRequest {
  /** ISO 639-1 code of the language the request is written in. */
  language: string;
  /** Types of assistance; empty for extradition and provisional arrest. */
  assistance: AssistanceType[];
  /** (a) the authority making the request. */
  requestingAuthority: string;
  /** (b) the proceeding and the authority conducting it. */
  proceedings: {
    nature: ProceedingNature;
    subjectMatter: string;
    conductingAuthority: string;
    conductingAuthorityFunctions: string;
    reference: string;
  };
  /** (c) a summary of the relevant facts. */
  facts: string;
  /** (d) the assistance sought, and any particular procedure to follow. */
  assistanceSought: string;
  procedure: string;
  /** (f) the purpose for which the evidence, information or action is sought. */
  purpose: string;
  /** (e) persons concerned. */
  persons: PersonConcerned[];
  offences: Offence[];
  confidentiality: string;
  documents: DocumentReference[];
  /** Anything else, in the clerk's words. */
  freeText: string;
}

export const STRUCTURED_REQUEST_LIMITS = {
  shortChars: 500,
  longChars: 20_000,
  persons: 50,
  offences: 50,
  documents: 20,
} as const;

const LANGUAGE = /^[a-z]{2}$/;
const DATE_OR_EMPTY = /^(\d{4}-\d{2}-\d{2})?$/;

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

const filled = (text: string): boolean => text.trim().length > 0;
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
    satisfied: (r) => LANGUAGE.test(r.language),
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

/** Reads `content.request` of untrusted JSON; the completeness table is applied separately. */
export function readStructuredRequest(value: unknown): StructuredRequest {
  const reader: FieldReader = new FieldReader('malformed-content', 'content.request');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('malformed-content', 'content.request must be an object');
  }
  const source = value as Record<string, unknown>;
  reader.onlyMembers(source, [
    'language',
    'assistance',
    'requestingAuthority',
    'proceedings',
    'facts',
    'assistanceSought',
    'procedure',
    'purpose',
    'persons',
    'offences',
    'confidentiality',
    'documents',
    'freeText',
  ]);
  const { shortChars, longChars } = STRUCTURED_REQUEST_LIMITS;
  const list = (field: string, max: number): Record<string, unknown>[] => {
    const items = source[field];
    if (!Array.isArray(items)) reader.fail(field, 'must be an array');
    if (items.length > max) reader.fail(field, `must hold at most ${max} entries`);
    return items.map((item: unknown, index) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        reader.fail(`${field}[${index}]`, 'must be an object');
      }
      return item as Record<string, unknown>;
    });
  };
  const assistanceValue = source.assistance;
  if (!Array.isArray(assistanceValue)) reader.fail('assistance', 'must be an array');
  const assistance = assistanceValue.map((type: unknown, index) => {
    if (!(ASSISTANCE_TYPES as readonly unknown[]).includes(type)) {
      reader.fail(`assistance[${index}]`, `must be one of ${ASSISTANCE_TYPES.join(', ')}`);
    }
    return type as AssistanceType;
  });
  if (new Set(assistance).size !== assistance.length) {
    reader.fail('assistance', 'must not name a type twice');
  }
  const proceedingsSource = reader.object(source, 'proceedings');
  const proceedingsReader = reader.nested('proceedings');
  proceedingsReader.onlyMembers(proceedingsSource, [
    'nature',
    'subjectMatter',
    'conductingAuthority',
    'conductingAuthorityFunctions',
    'reference',
  ]);
  const persons = list('persons', STRUCTURED_REQUEST_LIMITS.persons).map((item, index) => {
    const at = reader.nested(`persons[${index}]`);
    at.onlyMembers(item, ['role', 'name', 'dateOfBirth', 'nationality', 'location', 'description']);
    return {
      role: at.oneOf(item, 'role', PERSON_ROLES),
      name: at.string(item, 'name', undefined, shortChars),
      dateOfBirth: at.string(item, 'dateOfBirth', DATE_OR_EMPTY, 10),
      nationality: at.string(item, 'nationality', undefined, shortChars),
      location: at.string(item, 'location', undefined, shortChars),
      description: at.string(item, 'description', undefined, longChars),
    };
  });
  const offences = list('offences', STRUCTURED_REQUEST_LIMITS.offences).map((item, index) => {
    const at = reader.nested(`offences[${index}]`);
    at.onlyMembers(item, ['description', 'legalProvision', 'maximumPenalty', 'acts', 'limitation']);
    return {
      description: at.string(item, 'description', undefined, longChars),
      legalProvision: at.string(item, 'legalProvision', undefined, shortChars),
      maximumPenalty: at.string(item, 'maximumPenalty', undefined, shortChars),
      acts: at.string(item, 'acts', undefined, longChars),
      limitation: at.string(item, 'limitation', undefined, shortChars),
    };
  });
  const documents = list('documents', STRUCTURED_REQUEST_LIMITS.documents).map((item, index) => {
    const at = reader.nested(`documents[${index}]`);
    at.onlyMembers(item, ['role', 'filename']);
    return {
      role: at.oneOf(item, 'role', DOCUMENT_ROLES),
      filename: at.string(item, 'filename', /\S/, 255),
    };
  });
  return {
    language: reader.string(source, 'language', /^([a-z]{2})?$/, 2),
    assistance,
    requestingAuthority: reader.string(source, 'requestingAuthority', undefined, shortChars),
    proceedings: {
      nature: proceedingsReader.oneOf(proceedingsSource, 'nature', PROCEEDING_NATURES),
      subjectMatter: proceedingsReader.string(
        proceedingsSource,
        'subjectMatter',
        undefined,
        longChars,
      ),
      conductingAuthority: proceedingsReader.string(
        proceedingsSource,
        'conductingAuthority',
        undefined,
        shortChars,
      ),
      conductingAuthorityFunctions: proceedingsReader.string(
        proceedingsSource,
        'conductingAuthorityFunctions',
        undefined,
        shortChars,
      ),
      reference: proceedingsReader.string(proceedingsSource, 'reference', undefined, shortChars),
    },
    facts: reader.string(source, 'facts', undefined, longChars),
    assistanceSought: reader.string(source, 'assistanceSought', undefined, longChars),
    procedure: reader.string(source, 'procedure', undefined, longChars),
    purpose: reader.string(source, 'purpose', undefined, longChars),
    persons,
    offences,
    confidentiality: reader.string(source, 'confidentiality', undefined, longChars),
    documents,
    freeText: reader.string(source, 'freeText', undefined, longChars),
  };
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

const NATURE_LABELS: Record<ProceedingNature, string> = {
  investigation: 'criminal investigation',
  prosecution: 'prosecution',
  judicial_proceeding: 'judicial proceeding',
  civil: 'civil proceeding',
  administrative: 'administrative proceeding',
};

/** A titled section of a request as people read it; sections left empty are not listed. */
export interface RequestSection {
  title: string;
  text: string;
}

/** The request as readable sections, in the order a letter of request presents them. */
export function requestSections(request: StructuredRequest): RequestSection[] {
  const sections: RequestSection[] = [];
  const section = (title: string, text: string): void => {
    if (filled(text)) sections.push({ title, text: text.trim() });
  };
  section('Requesting authority', request.requestingAuthority);
  section(
    'Proceeding',
    [
      `${NATURE_LABELS[request.proceedings.nature]}: ${request.proceedings.subjectMatter.trim()}`,
      filled(request.proceedings.conductingAuthority)
        ? `Conducted by ${request.proceedings.conductingAuthority.trim()}${filled(request.proceedings.conductingAuthorityFunctions) ? ` (${request.proceedings.conductingAuthorityFunctions.trim()})` : ''}`
        : '',
      filled(request.proceedings.reference)
        ? `Reference: ${request.proceedings.reference.trim()}`
        : '',
    ]
      .filter(filled)
      .join('\n'),
  );
  section(
    'Assistance requested',
    request.assistance.map((type) => `- ${ASSISTANCE_TYPE_LABELS[type]}`).join('\n'),
  );
  section('Summary of the facts', request.facts);
  section(
    'Offences',
    request.offences
      .map((offence, index) =>
        [
          `${index + 1}. ${offence.description.trim()}`,
          filled(offence.legalProvision)
            ? `   Legal provision: ${offence.legalProvision.trim()}`
            : '',
          filled(offence.maximumPenalty)
            ? `   Maximum penalty: ${offence.maximumPenalty.trim()}`
            : '',
          filled(offence.acts) ? `   Acts: ${offence.acts.trim()}` : '',
          filled(offence.limitation) ? `   Limitation: ${offence.limitation.trim()}` : '',
        ]
          .filter(filled)
          .join('\n'),
      )
      .join('\n'),
  );
  section(
    'Persons concerned',
    request.persons
      .map((person) =>
        [
          `- ${person.name.trim() || '(name not known)'} (${person.role.replace(/_/g, ' ')})`,
          filled(person.dateOfBirth) ? `born ${person.dateOfBirth}` : '',
          filled(person.nationality) ? `nationality ${person.nationality.trim()}` : '',
          filled(person.location) ? `located ${person.location.trim()}` : '',
          filled(person.description) ? `description: ${person.description.trim()}` : '',
        ]
          .filter(filled)
          .join('; '),
      )
      .join('\n'),
  );
  section('Assistance sought', request.assistanceSought);
  section('Procedure to be followed', request.procedure);
  section('Purpose', request.purpose);
  section('Confidentiality', request.confidentiality);
  section(
    'Documents attached',
    request.documents.map((d) => `- ${d.filename} (${d.role.replace(/_/g, ' ')})`).join('\n'),
  );
  section('Further information', request.freeText);
  return sections;
}

/**
 * The request as plain text, for `content.body`: what a node that does not read structured
 * requests shows. Deterministic: one input, one text.
 */
export function renderRequestText(request: StructuredRequest): string {
  return requestSections(request)
    .map((section) => `${section.title.toUpperCase()}\n${section.text}`)
    .join('\n\n');
}
