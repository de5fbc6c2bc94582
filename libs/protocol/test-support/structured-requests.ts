import type { StructuredRequest } from '../src/structured-request';

/** A complete request for bank records, as the workspace's writer produces it. */
export function completeMlaRequest(overrides: Partial<StructuredRequest> = {}): StructuredRequest {
  return {
    language: 'en',
    assistance: ['records'],
    requestingAuthority: 'Public Prosecutor’s Office Vienna',
    proceedings: {
      nature: 'investigation',
      subjectMatter: 'Bribery of a public official in a procurement procedure',
      conductingAuthority: 'Public Prosecutor’s Office Vienna',
      conductingAuthorityFunctions: 'Directs the criminal investigation',
      reference: '12 St 34/26k',
    },
    facts: 'Between 2023 and 2025 the suspect paid EUR 400,000 to an official.',
    assistanceSought: 'Certified copies of statements of account FR76 1234 for 2023–2025.',
    procedure: '',
    purpose: 'To prove the flow of the bribes.',
    persons: [
      {
        role: 'suspect',
        name: 'Max Muster',
        dateOfBirth: '1970-01-02',
        nationality: 'AT',
        location: 'Vienna',
        description: '',
      },
    ],
    offences: [
      {
        description: 'Bribery',
        legalProvision: '§ 307 StGB',
        maximumPenalty: '10 years',
        acts: '',
        limitation: '',
      },
    ],
    confidentiality: 'Do not inform the account holder.',
    documents: [],
    freeText: '',
    ...overrides,
  };
}
