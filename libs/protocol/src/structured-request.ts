import { FieldReader } from './fields';
import { ProtocolError } from './protocol-error';

/**
 * Structured requests (protocol §9): the contents UNCAC art. 46(15) and the extradition
 * treaties ask of a request, as named fields, beside the free text. One table says which
 * fields each kind and type of assistance requires; the API, the workspace and the receiver
 * all apply it through `missingFields` (request-requirements.ts).
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

/** An ISO 639-1 language code. */
export const LANGUAGE_CODE = /^[a-z]{2}$/;
const DATE_OR_EMPTY = /^(\d{4}-\d{2}-\d{2})?$/;

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
