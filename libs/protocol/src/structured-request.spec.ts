import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  contextFor,
  createTestFederation,
  envelopeWithContent,
  partsOf,
  protocolErrorOf,
  sampleContent,
  sealFor,
  type TestFederation,
} from '../test-support/federation';
import { completeMlaRequest } from '../test-support/structured-requests';
import {
  authenticateEnvelope,
  checkStructuredRequest,
  contentForPeer,
  missingFields,
  openEnvelope,
  readRequestContent,
  readRoutingHeader,
  renderRequestText,
  requestAdvice,
  requirementTable,
  type StructuredRequest,
} from './index';

function fieldsMissing(kind: Parameters<typeof missingFields>[0], request: StructuredRequest) {
  return missingFields(kind, request).map((item) => item.field);
}

describe('the completeness table', () => {
  it('finds nothing missing in a complete request for records', () => {
    expect(missingFields('mla_request', completeMlaRequest())).toEqual([]);
  });

  it('names each missing field of art. 46(15) with its label and rule', () => {
    const request = completeMlaRequest({ facts: '  ', purpose: '', requestingAuthority: '' });
    const missing = missingFields('mla_request', request);
    expect(missing.map((item) => item.field)).toEqual(['requestingAuthority', 'facts', 'purpose']);
    expect(missing[1]).toEqual({
      field: 'facts',
      label: 'Summary of the relevant facts',
      rule: 'UNCAC art. 46(15)(c); UNTOC art. 16(3)(b)',
    });
  });

  it('needs no summary of facts for service of documents alone, but an addressee and the document', () => {
    const request = completeMlaRequest({
      assistance: ['service_of_documents'],
      facts: '',
      persons: [],
    });
    expect(fieldsMissing('mla_request', request)).toEqual([
      'persons.addressee',
      'documents.document_to_serve',
    ]);
  });

  it('asks for the person to be heard when evidence is taken', () => {
    const request = completeMlaRequest({ assistance: ['taking_evidence'], persons: [] });
    expect(fieldsMissing('mla_request', request)).toEqual(['persons.heard']);
  });

  it('needs no offence in civil proceedings', () => {
    const request = completeMlaRequest({
      assistance: ['civil_bank_records'],
      offences: [],
      proceedings: { ...completeMlaRequest().proceedings, nature: 'civil' },
    });
    expect(missingFields('mla_request', request)).toEqual([]);
  });

  it('asks an extradition request for the person sought, the acts, penalty, limitation and warrant', () => {
    const request = completeMlaRequest({ assistance: [] });
    expect(fieldsMissing('extradition_request', request)).toEqual([
      'offences.acts',
      'offences.limitation',
      'persons.person_sought',
      'documents.warrant',
    ]);
    const complete = completeMlaRequest({
      assistance: [],
      persons: [
        {
          role: 'person_sought',
          name: 'Max Muster',
          dateOfBirth: '1970-01-02',
          nationality: 'AT',
          location: 'Lyon',
          description: '1.80 m, scar on the left hand',
        },
      ],
      offences: [
        {
          description: 'Bribery',
          legalProvision: '§ 307 StGB',
          maximumPenalty: '10 years',
          acts: 'Paid EUR 400,000 in Vienna, 2023–2025',
          limitation: '10 years, runs until 2035',
        },
      ],
      documents: [{ role: 'warrant', filename: 'warrant.pdf' }],
    });
    expect(missingFields('extradition_request', complete)).toEqual([]);
  });

  it('advises (without blocking) what UNCAC asks where possible', () => {
    const request = completeMlaRequest({
      persons: [
        {
          role: 'witness',
          name: 'Anna',
          dateOfBirth: '',
          nationality: '',
          location: 'Paris',
          description: '',
        },
      ],
    });
    expect(requestAdvice(request)).toEqual([
      'persons[0] (Anna): where possible give dateOfBirth, nationality (UNCAC art. 46(15)(e))',
      'no signed letter of request is attached (role letter_of_request)',
    ]);
  });
});

describe('reading content.request', () => {
  const filenames = ['letter.pdf'];

  it('refuses an incomplete request with request-incomplete, naming the fields', () => {
    const error = protocolErrorOf(() =>
      checkStructuredRequest('mla_request', completeMlaRequest({ facts: '' }), filenames),
    );
    expect(error.reason).toBe('request-incomplete');
    expect(error.message).toContain('facts (Summary of the relevant facts');
  });

  it.each([
    [{ assistance: ['gardening'] }, 'content.request.assistance[0] must be one of'],
    [{ assistance: ['records', 'records'] }, 'must not name a type twice'],
    [{ language: 'eng' }, 'content.request.language must be at most 2 characters'],
    [{ persons: [{ role: 'suspect' }] }, 'content.request.persons[0].name must be a string'],
    [{ documents: [{ role: 'warrant', filename: 'other.pdf' }] }, 'is not one of the request'],
    [{ secret: 1 }, 'has an unknown member "secret"'],
  ])('refuses %j', (overrides, message) => {
    const request = { ...completeMlaRequest(), ...overrides };
    expect(() => checkStructuredRequest('mla_request', request, filenames)).toThrow(message);
  });

  it('refuses types of assistance on an extradition request', () => {
    expect(() =>
      checkStructuredRequest('extradition_request', completeMlaRequest(), filenames),
    ).toThrow('content.request.assistance must be empty for extradition_request');
  });

  it('allows content.request on requests only', () => {
    const source = { ...sampleContent(), request: completeMlaRequest() };
    expect(readRequestContent(source, 'mla_request').request).toEqual(completeMlaRequest());
    expect(() => readRequestContent(source, 'reply')).toThrow('unknown member "request"');
  });

  it('renders the request as text, section by section, deterministically', () => {
    const text = renderRequestText(completeMlaRequest());
    expect(text).toBe(renderRequestText(completeMlaRequest()));
    expect(text).toContain('SUMMARY OF THE FACTS\nBetween 2023 and 2025');
    expect(text).toContain('- Originals or certified copies of records');
    expect(text).toContain('- Max Muster (suspect); born 1970-01-02; nationality AT');
    expect(text).not.toContain('PROCEDURE TO BE FOLLOWED');
  });
});

describe('structured requests on the wire (routing header version 3)', () => {
  let f: TestFederation;
  beforeAll(async () => {
    f = await createTestFederation();
  });
  afterAll(() => f.dispose());

  const structured = () => ({ ...sampleContent(), request: completeMlaRequest() });

  function receive(bytes: Buffer) {
    return openEnvelope(authenticateEnvelope(bytes, contextFor(f, 'FR')), f.states.FR.decryption);
  }

  it('travels in a version 3 header and opens with its structure', () => {
    const sealed = sealFor(f, 'AT', 'FR', {}, structured());
    expect(sealed.header.v).toBe(3);
    expect(receive(sealed.bytes).statement.content.request).toEqual(completeMlaRequest());
    expect(sealFor(f, 'AT', 'FR').header.v).toBe(1);
  });

  it('is refused in a version 1 header, and a version 3 header without it is refused', () => {
    const sealed = sealFor(f, 'AT', 'FR', {}, structured());
    const downgraded = envelopeWithContent(
      { ...sealed.header, v: 1 },
      partsOf(sealed.bytes).contentJwe,
      f.states.AT.signer,
    );
    const error = protocolErrorOf(() => receive(downgraded));
    expect(error.reason).toBe('content-binding-mismatch');
    expect(error.message).toContain('must travel in a version 3 header, not version 1');

    const plain = sealFor(f, 'AT', 'FR');
    const upgraded = envelopeWithContent(
      { ...plain.header, v: 3 },
      partsOf(plain.bytes).contentJwe,
      f.states.AT.signer,
    );
    expect(protocolErrorOf(() => receive(upgraded)).message).toContain(
      'a version 3 header promises a structured request',
    );
  });

  it('is refused on arrival when incomplete, whatever the sender checked', () => {
    const sealed = sealFor(
      f,
      'AT',
      'FR',
      {},
      {
        ...sampleContent(),
        request: completeMlaRequest({ purpose: '', requestingAuthority: ' ' }),
      },
    );
    const error = protocolErrorOf(() => receive(sealed.bytes));
    expect(error.reason).toBe('request-incomplete');
    expect(error.message).toContain('requestingAuthority (The requesting authority');
    expect(error.message).toContain('purpose (Purpose of the evidence');
  });

  it('allows only request kinds in a version 3 header', () => {
    const header = { ...sealFor(f, 'AT', 'FR').header, v: 3, kind: 'acknowledgement' };
    expect(() => readRoutingHeader(header)).toThrow('header.kind must be one of mla_request');
  });

  it('reaches a gateway without version 3 as its plain-text rendering alone', () => {
    const content = { ...sampleContent(), body: '-', request: completeMlaRequest() };
    const old = contentForPeer(content, [1, 2]);
    expect(old.request).toBeUndefined();
    expect(old.body).toBe(renderRequestText(completeMlaRequest()));
    expect(old.body).toContain('PURPOSE\nTo prove the flow of the bribes.');
    const current = contentForPeer(content, [1, 2, 3]);
    expect(current.request).toEqual(completeMlaRequest());
    expect(current.body).toBe(old.body);
    const plain = sampleContent();
    expect(contentForPeer(plain, [1])).toBe(plain);
    // The text-only form seals as version 1, which every gateway reads.
    expect(sealFor(f, 'AT', 'FR', {}, old).header.v).toBe(1);
  });

  it('has its table of required fields written down in the protocol document', () => {
    const docs = readFileSync(join(__dirname, '../../../docs/protocol.md'), 'utf8');
    const section = docs.slice(docs.indexOf('### 9.2 Required fields'), docs.indexOf('### 9.3'));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows).toHaveLength(requirementTable().length);
    requirementTable().forEach((requirement, index) => {
      expect(rows[index]).toContain(`| \`${requirement.field}\` |`);
      expect(rows[index]).toContain(`| ${requirement.rule} |`);
    });
  });
});
