import {
  createTestFederation,
  flipBase64UrlChar,
  protocolErrorOf,
  sealFor,
  signRaw,
  type TestFederation,
} from '../test-support/federation';
import {
  EVIDENCE_TYPE,
  SIGNATURE_ALGORITHM,
  authenticateRetrievalEvidence,
  checkRetrievalExpectation,
  issueRetrievalEvidence,
  type SealedEnvelope,
} from './index';

let f: TestFederation;
let envelope: SealedEnvelope;
let expected: Parameters<typeof checkRetrievalExpectation>[1];

beforeAll(async () => {
  f = await createTestFederation();
  envelope = sealFor(f, 'AT', 'FR');
  expected = {
    envelopeId: envelope.header.id,
    envelopeDigest: envelope.digest,
    recipient: envelope.header.to,
    sender: envelope.header.from,
  };
});

afterAll(() => f.dispose());

function issue(
  type: 'retrieval' | 'non-retrieval' = 'retrieval',
  signer = f.states.FR.signer,
  from = envelope.header.to,
) {
  return issueRetrievalEvidence({
    signer,
    type,
    envelopeId: envelope.header.id,
    envelopeDigest: envelope.digest,
    from,
    to: envelope.header.from,
    ...(type === 'non-retrieval' ? { due: new Date(f.now.getTime() - 1000) } : {}),
    now: f.now,
  });
}

it('signs retrieval and non-retrieval evidence the sender accepts', () => {
  for (const type of ['retrieval', 'non-retrieval'] as const) {
    const { bytes, statement } = issue(type);
    const verified = authenticateRetrievalEvidence(bytes, f.verifier, f.now);
    expect(verified.statement).toEqual(statement);
    expect(verified.signer.state).toBe('FR');
    expect(() => checkRetrievalExpectation(verified, expected)).not.toThrow();
  }
});

it('refuses evidence signed by a third State, for another envelope or another digest', () => {
  const fromKenya = issue('retrieval', f.states.KE.signer, { ...envelope.header.to, state: 'KE' });
  const verified = authenticateRetrievalEvidence(fromKenya.bytes, f.verifier, f.now);
  expect(protocolErrorOf(() => checkRetrievalExpectation(verified, expected)).reason).toBe(
    'evidence-signer-mismatch',
  );
  const genuine = authenticateRetrievalEvidence(issue().bytes, f.verifier, f.now);
  expect(
    protocolErrorOf(() =>
      checkRetrievalExpectation(genuine, {
        ...expected,
        envelopeId: sealFor(f, 'AT', 'FR').header.id,
      }),
    ).reason,
  ).toBe('evidence-envelope-mismatch');
  expect(
    protocolErrorOf(() =>
      checkRetrievalExpectation(genuine, { ...expected, envelopeDigest: 'A'.repeat(43) }),
    ).reason,
  ).toBe('evidence-digest-mismatch');
});

it('refuses a claim of another State than the signer, a flipped signature, a wrong typ', () => {
  const claimingAustria = issue('retrieval', f.states.FR.signer, {
    ...envelope.header.to,
    state: 'AT',
  });
  expect(
    protocolErrorOf(() => authenticateRetrievalEvidence(claimingAustria.bytes, f.verifier, f.now))
      .reason,
  ).toBe('evidence-signer-mismatch');
  const text = issue().bytes.toString('ascii');
  const flipped = flipBase64UrlChar(text, text.length - 5);
  expect(
    protocolErrorOf(() => authenticateRetrievalEvidence(Buffer.from(flipped), f.verifier, f.now))
      .reason,
  ).toBe('invalid-signature');
  const { statement } = issue();
  const fr = f.states.FR.signer;
  const wrongTyp = signRaw(
    { alg: SIGNATURE_ALGORITHM[fr.suite], typ: 'comity-receipt+jws', x5c: fr.x5c },
    JSON.stringify(statement),
    fr.key,
  );
  expect(
    protocolErrorOf(() => authenticateRetrievalEvidence(Buffer.from(wrongTyp), f.verifier, f.now))
      .message,
  ).toContain(EVIDENCE_TYPE);
});

it.each([
  ['a due time on a retrieval', { due: new Date().toISOString() }, 'unknown member'],
  ['an unknown type', { type: 'opened' }, 'type'],
  ['a bad digest', { envelopeDigest: 'abc' }, 'envelopeDigest'],
  ['no authority', { from: { state: 'FR' } }, 'authority'],
])('refuses a statement with %s', (_, change, message) => {
  const fr = f.states.FR.signer;
  const jws = signRaw(
    { alg: SIGNATURE_ALGORITHM[fr.suite], typ: EVIDENCE_TYPE, x5c: fr.x5c },
    JSON.stringify({ ...issue().statement, ...change }),
    fr.key,
  );
  const error = protocolErrorOf(() =>
    authenticateRetrievalEvidence(Buffer.from(jws), f.verifier, f.now),
  );
  expect(error.reason).toBe('malformed-evidence');
  expect(error.message).toContain(message);
});
