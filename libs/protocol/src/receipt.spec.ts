import { encodeBase64Url } from '@comity/jose';
import { x5cOf } from '@comity/pki';
import {
  createTestFederation,
  flipBase64UrlChar,
  issueSigningCertificate,
  positionsIn,
  protocolErrorOf,
  rogueSigningChain,
  sealFor,
  signRaw,
  type StateCode,
  type TestFederation,
} from '../test-support/federation';
import {
  RECEIPT_TYPE,
  SIGNATURE_ALGORITHM,
  authenticateReceipt,
  checkReceiptExpectation,
  issueReceipt,
  uuidV7,
  verifyReceipt,
  type ReasonCode,
  type ReceiptExpectation,
  type ReceiptStatement,
  type SealedEnvelope,
} from './index';

let f: TestFederation;
let envelope: SealedEnvelope;
let expectation: ReceiptExpectation;

beforeAll(async () => {
  f = await createTestFederation();
  envelope = sealFor(f, 'AT', 'FR');
  expectation = {
    envelopeId: envelope.header.id,
    envelopeDigest: envelope.digest,
    recipientState: 'FR',
    senderState: 'AT',
  };
});

afterAll(() => f.dispose());

function delivered(
  signer: StateCode = 'FR',
  overrides: Partial<Parameters<typeof issueReceipt>[0]> = {},
) {
  return issueReceipt({
    signer: f.states[signer].signer,
    envelopeId: envelope.header.id,
    envelopeDigest: envelope.digest,
    senderState: 'AT',
    status: 'delivered',
    now: f.now,
    ...overrides,
  });
}

/** The statement `issueReceipt` would sign, for tests that sign what it never would. */
function statement(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    id: uuidV7(f.now.getTime()),
    envelopeId: envelope.header.id,
    envelopeDigest: envelope.digest,
    status: 'delivered',
    reason: null,
    time: f.now.toISOString(),
    from: { state: 'FR' },
    to: { state: 'AT' },
    ...overrides,
  };
}

function signReceipt(
  body: Record<string, unknown>,
  signer: StateCode = 'FR',
  protectedOverrides: Record<string, unknown> = {},
): Buffer {
  const identity = f.states[signer].signer;
  const header: Record<string, unknown> = {
    alg: SIGNATURE_ALGORITHM[identity.suite],
    typ: RECEIPT_TYPE,
    x5c: identity.x5c,
    ...protectedOverrides,
  };
  for (const member of Object.keys(header)) if (header[member] === undefined) delete header[member];
  return Buffer.from(signRaw(header, JSON.stringify(body), identity.key), 'ascii');
}

function verifyReason(bytes: Uint8Array, expected: ReceiptExpectation = expectation): ReasonCode {
  return protocolErrorOf(() => verifyReceipt(bytes, f.verifier, expected, f.now)).reason;
}

describe('issue and verify', () => {
  it('a delivery receipt verifies against the envelope it names', () => {
    const receipt = delivered();
    const verified = verifyReceipt(receipt.bytes, f.verifier, expectation, f.now);
    expect(verified.statement).toEqual(receipt.statement);
    expect(verified.signer.state).toBe('FR');
    expect(receipt.statement).toMatchObject({
      v: 1,
      envelopeId: envelope.header.id,
      envelopeDigest: envelope.digest,
      status: 'delivered',
      reason: null,
      time: f.now.toISOString(),
      from: { state: 'FR' },
      to: { state: 'AT' },
    });
  });

  it('a negative receipt carries its reason code', () => {
    const receipt = delivered('FR', { status: 'rejected', reason: 'content-binding-mismatch' });
    const verified = verifyReceipt(receipt.bytes, f.verifier, expectation, f.now);
    expect(verified.statement.status).toBe('rejected');
    expect(verified.statement.reason).toBe('content-binding-mismatch');
  });

  it('an RSA gateway (KE) issues receipts that verify', () => {
    const toKenya = sealFor(f, 'AT', 'KE');
    const receipt = issueReceipt({
      signer: f.states.KE.signer,
      envelopeId: toKenya.header.id,
      envelopeDigest: toKenya.digest,
      senderState: 'AT',
      status: 'delivered',
      now: f.now,
    });
    const verified = verifyReceipt(receipt.bytes, f.verifier, {
      envelopeId: toKenya.header.id,
      envelopeDigest: toKenya.digest,
      recipientState: 'KE',
      senderState: 'AT',
    });
    expect(verified.signer.suite).toBe('rsa');
  });

  it('without a trusted time the chain is checked at the receipt time', () => {
    expect(authenticateReceipt(delivered().bytes, f.verifier).statement.time).toBe(
      f.now.toISOString(),
    );
  });

  it('gives each receipt a fresh UUIDv7 id', () => {
    const first = delivered().statement.id;
    const second = delivered().statement.id;
    expect(first).not.toBe(second);
    expect(first.slice(0, 13)).toBe(second.slice(0, 13));
  });

  test.each([
    ['delivered with a reason', 'delivered', 'invalid-signature'],
    ['rejected without a reason', 'rejected', undefined],
  ] as const)('issueReceipt refuses a receipt %s', (_name, status, reason) => {
    expect(() => delivered('FR', { status, ...(reason === undefined ? {} : { reason }) })).toThrow(
      'a rejected receipt needs a reason code, and a delivered one must have none',
    );
  });

  test.each([
    ['delivered with a reason', { reason: 'invalid-signature' }],
    ['rejected without a reason', { status: 'rejected' }],
    ['rejected with an unknown reason', { status: 'rejected', reason: 'felt-like-it' }],
    ['status accepted', { status: 'accepted' }],
  ])('a signed receipt %s → malformed-receipt', (_name, change) => {
    expect(verifyReason(signReceipt(statement(change)))).toBe('malformed-receipt');
  });
});

describe('binding to the envelope', () => {
  it('a receipt with another digest → receipt-digest-mismatch', () => {
    const receipt = delivered('FR', { envelopeDigest: encodeBase64Url(Buffer.alloc(32, 7)) });
    expect(verifyReason(receipt.bytes)).toBe('receipt-digest-mismatch');
  });

  it('a receipt for another envelope id → receipt-envelope-mismatch', () => {
    const receipt = delivered('FR', { envelopeId: uuidV7() });
    expect(verifyReason(receipt.bytes)).toBe('receipt-envelope-mismatch');
  });

  it('a receipt addressed to another sender State → receipt-envelope-mismatch', () => {
    const receipt = delivered('FR', { senderState: 'KE' });
    expect(verifyReason(receipt.bytes)).toBe('receipt-envelope-mismatch');
  });

  it('a receipt signed by a third State (KE for an AT → FR envelope) → receipt-signer-mismatch', () => {
    const receipt = delivered('KE');
    expect(verifyReason(receipt.bytes)).toBe('receipt-signer-mismatch');
  });

  it('a receipt signed by the sender itself (AT) → receipt-signer-mismatch', () => {
    expect(verifyReason(delivered('AT').bytes)).toBe('receipt-signer-mismatch');
  });

  it("statement.from.state FR signed with KE's certificate → receipt-signer-mismatch", () => {
    const bytes = signReceipt(statement(), 'KE');
    const error = protocolErrorOf(() => authenticateReceipt(bytes, f.verifier, f.now));
    expect(error.reason).toBe('receipt-signer-mismatch');
    expect(error.message).toContain('KE');
  });

  it('checkReceiptExpectation checks the signer before the envelope and the digest', () => {
    const verified = authenticateReceipt(
      delivered('KE', { envelopeId: uuidV7() }).bytes,
      f.verifier,
    );
    expect(protocolErrorOf(() => checkReceiptExpectation(verified, expectation)).reason).toBe(
      'receipt-signer-mismatch',
    );
  });
});

describe('tampering', () => {
  let parts: string[];

  beforeAll(() => {
    parts = delivered().bytes.toString('ascii').split('.');
  });

  function withPart(index: number, value: string): Buffer {
    const copy = [...parts];
    copy[index] = value;
    return Buffer.from(copy.join('.'), 'ascii');
  }

  it('any flipped character of the signature → invalid-signature', () => {
    for (const position of positionsIn(parts[2]!, 20)) {
      expect({
        position,
        reason: verifyReason(withPart(2, flipBase64UrlChar(parts[2]!, position))),
      }).toEqual({
        position,
        reason: 'invalid-signature',
      });
    }
  });

  it('a payload changed to another well-formed statement → invalid-signature', () => {
    const changed = statement({ status: 'rejected', reason: 'decryption-failed' });
    const payload = encodeBase64Url(Buffer.from(JSON.stringify(changed)));
    expect(verifyReason(withPart(1, payload))).toBe('invalid-signature');
  });

  it('any flipped character of the payload → invalid-signature or malformed-receipt, never accepted', () => {
    // The statement is read before the signature is checked, so a flip that breaks its form
    // is reported as malformed rather than as a bad signature.
    const unexpected = positionsIn(parts[1]!, 40)
      .map((position) => ({
        position,
        reason: verifyReason(withPart(1, flipBase64UrlChar(parts[1]!, position))),
      }))
      .filter(({ reason }) => reason !== 'invalid-signature' && reason !== 'malformed-receipt');
    expect(unexpected).toEqual([]);
  });

  it('the protected header with its members reordered → invalid-signature', () => {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as object;
    const reordered = Object.fromEntries(Object.entries(header).reverse());
    expect(verifyReason(withPart(0, encodeBase64Url(Buffer.from(JSON.stringify(reordered)))))).toBe(
      'invalid-signature',
    );
  });

  test.each([
    ['empty', ''],
    ['not a JWS', 'receipt'],
    ['four parts', 'a.b.c.d'],
    ['a JWS with whitespace', 'eyJhbGciOiJFZERTQSJ9 .e30.AA'],
    ['padding', 'eyJhbGciOiJFZERTQSJ9.e30=.AA'],
  ])('%s → malformed-receipt', (_name, token) => {
    expect(verifyReason(Buffer.from(token))).toBe('malformed-receipt');
  });
});

describe('statement form', () => {
  test.each([
    [
      'an unknown top-level member',
      () => statement({ comment: 'ok' }),
      'receipt has an unknown member "comment"',
    ],
    [
      'an unknown member in from',
      () => statement({ from: { state: 'FR', gateway: 'x' } }),
      'receipt.from has an unknown member "gateway"',
    ],
    [
      'an unknown member in to',
      () => statement({ to: { state: 'AT', x: 1 } }),
      'receipt.to has an unknown member "x"',
    ],
    ['version 2', () => statement({ v: 2 }), 'receipt.v must be 1'],
    [
      'an id that is not a UUIDv7',
      () => statement({ id: '6f1c2d9e-0b1a-4c3d-8e4f-5a6b7c8d9e0f' }),
      'receipt.id must be a lower-case UUIDv7',
    ],
    [
      'an upper-case envelopeId',
      () => statement({ envelopeId: envelope.header.id.toUpperCase() }),
      'receipt.envelopeId must be a lower-case UUIDv7',
    ],
    [
      'a digest in standard base64',
      () => statement({ envelopeDigest: `${envelope.digest.slice(0, 42)}+` }),
      'receipt.envelopeDigest must match',
    ],
    [
      'a time without zone',
      () => statement({ time: '2026-05-01T10:00:00' }),
      'receipt.time must match',
    ],
    ['from as a string', () => statement({ from: 'FR' }), 'receipt.from must be an object'],
    [
      'a missing status',
      () => statement({ status: undefined }),
      'receipt.status must be one of delivered, rejected',
    ],
  ])('%s → malformed-receipt naming the field', (_name, body, message) => {
    const error = protocolErrorOf(() =>
      authenticateReceipt(signReceipt(body()), f.verifier, f.now),
    );
    expect(error.reason).toBe('malformed-receipt');
    expect(error.message).toContain(message);
  });

  it('names receipt.from.state when the issuing State code is invalid', () => {
    const error = protocolErrorOf(() =>
      authenticateReceipt(signReceipt(statement({ from: { state: 'fr' } })), f.verifier, f.now),
    );
    expect(error.message).toContain('receipt.from.state');
  });

  it('a statement that is not JSON, or a JSON array → malformed-receipt', () => {
    const identity = f.states.FR.signer;
    const header = { alg: 'EdDSA', typ: RECEIPT_TYPE, x5c: identity.x5c };
    for (const payload of ['not json', '[]', '{"v":1,"v":1}']) {
      const bytes = Buffer.from(signRaw(header, payload, identity.key));
      expect(verifyReason(bytes)).toBe('malformed-receipt');
    }
  });
});

describe('protected header', () => {
  test.each([
    ['typ of an envelope', 'malformed-receipt', { typ: 'comity-envelope+jws' }],
    ['no typ', 'malformed-receipt', { typ: undefined }],
    ['no x5c', 'malformed-receipt', { x5c: undefined }],
    ['a kid', 'forbidden-header', { kid: 'fr' }],
    ['a jwk', 'forbidden-header', { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } }],
    ['a jku', 'forbidden-header', { jku: 'https://attacker.example/' }],
    ['crit', 'forbidden-header', { crit: ['exp'], exp: 0 }],
    ['alg none', 'algorithm-not-allowed', { alg: 'none' }],
  ] as const)('%s → %s', (_name, expected, change) => {
    expect(verifyReason(signReceipt(statement(), 'FR', change))).toBe(expected);
  });

  it("HS256 keyed with FR's public key bytes → algorithm-not-allowed", () => {
    const identity = f.states.FR.signer;
    const secret = f.states.FR.signingCertificate.publicKey.export({ format: 'der', type: 'spki' });
    const bytes = Buffer.from(
      signRaw(
        { alg: 'HS256', typ: RECEIPT_TYPE, x5c: identity.x5c },
        JSON.stringify(statement()),
        secret,
      ),
    );
    expect(verifyReason(bytes)).toBe('algorithm-not-allowed');
  });

  it('a chain to a rogue root → certificate-untrusted', async () => {
    const x5c = await rogueSigningChain(f.states.FR, f.now);
    expect(verifyReason(signReceipt(statement(), 'FR', { x5c }))).toBe('certificate-untrusted');
  });

  it("PS256 by KE's key over FR's chain → algorithm-not-allowed", () => {
    const bytes = Buffer.from(
      signRaw(
        { alg: 'PS256', typ: RECEIPT_TYPE, x5c: f.states.FR.signer.x5c },
        JSON.stringify(statement()),
        f.states.KE.signer.key,
      ),
    );
    expect(verifyReason(bytes)).toBe('algorithm-not-allowed');
  });

  it('a receipt by an expired certificate → certificate-expired at the verifier time', async () => {
    // The dev State CA is valid from five minutes before the federation was made.
    const notAfter = new Date(f.now.getTime() - 2 * 60_000);
    const expired = await issueSigningCertificate(f.states.FR, {
      notBefore: new Date(f.now.getTime() - 4 * 60_000),
      notAfter,
    });
    const x5c = x5cOf([expired, f.states.FR.stateCa.certificate]);
    expect(verifyReason(signReceipt(statement(), 'FR', { x5c }))).toBe('certificate-expired');

    // Without a trusted time the receipt's own claim is used, so a receipt backdated into the
    // certificate's validity passes: whoever holds an expired key can still sign "receipts".
    const backdated = statement({ time: new Date(notAfter.getTime() - 60_000).toISOString() });
    const verified = authenticateReceipt(signReceipt(backdated, 'FR', { x5c }), f.verifier);
    expect(verified.statement.time).toBe(backdated.time);
  });
});

describe('a receipt placed where it does not belong', () => {
  it('an envelope header JWS given as a receipt → malformed-receipt', () => {
    const headerJws = (JSON.parse(envelope.bytes.toString()) as { header: string }).header;
    expect(verifyReason(Buffer.from(headerJws))).toBe('malformed-receipt');
  });

  it('a receipt statement is never mistaken for another: its typ is checked', () => {
    const bytes = signReceipt(
      statement() as unknown as ReceiptStatement & Record<string, unknown>,
      'FR',
      {
        typ: 'JWT',
      },
    );
    expect(verifyReason(bytes)).toBe('malformed-receipt');
  });
});
