import { filled } from './request-requirements';
import {
  ASSISTANCE_TYPE_LABELS,
  type ProceedingNature,
  type StructuredRequest,
} from './structured-request';

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
