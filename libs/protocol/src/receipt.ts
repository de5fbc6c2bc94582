import {
  parseJsonObjectStrict,
  parseJwsCompact,
  signJwsCompact,
  verifyJwsCompact,
} from '@comity/jose';
import type { CertificateVerifier, VerifiedCertificate } from '@comity/pki';
import { SIGNATURE_ALGORITHM, signaturePolicy } from './algorithm-policy';
import { requireOnlyHeaderMembers, toProtocolError } from './error-mapping';
import { FieldReader } from './fields';
import type { SigningIdentity } from './gateway-identity';
import { STATE_CODE } from './message-kinds';
import { ProtocolError, REASON_CODES, type ReasonCode } from './protocol-error';
import { PROTOCOL_VERSION } from './routing-header';
import { isUuidV7, uuidV7 } from './uuid-v7';

export const RECEIPT_TYPE = 'comity-receipt+jws';
export const RECEIPT_MEDIA_TYPE = 'application/jose';

export const RECEIPT_STATUSES = ['delivered', 'rejected'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** What the receiving gateway signs: "I received exactly these bytes, and this is what became of them." */
export interface ReceiptStatement {
  v: typeof PROTOCOL_VERSION;
  id: string;
  envelopeId: string;
  /** SHA-256 (base64url) of the exact envelope bytes received. */
  envelopeDigest: string;
  status: ReceiptStatus;
  reason: ReasonCode | null;
  time: string;
  /** The issuing (receiving) State. */
  from: { state: string };
  /** The State the envelope came from. */
  to: { state: string };
}

export interface IssuedReceipt {
  statement: ReceiptStatement;
  /** Compact JWS, ASCII. */
  bytes: Buffer;
}

export interface VerifiedReceipt {
  statement: ReceiptStatement;
  signer: VerifiedCertificate;
}

/** What the verifier must already know from its own records (or from the envelope itself). */
export interface ReceiptExpectation {
  envelopeId: string;
  envelopeDigest: string;
  /** The State the envelope was addressed to: the only one whose gateway may sign the receipt. */
  recipientState: string;
  senderState: string;
}

export function issueReceipt(input: {
  signer: SigningIdentity;
  envelopeId: string;
  envelopeDigest: string;
  senderState: string;
  status: ReceiptStatus;
  reason?: ReasonCode;
  now: Date;
}): IssuedReceipt {
  if ((input.status === 'rejected') !== (input.reason !== undefined)) {
    throw new Error('a rejected receipt needs a reason code, and a delivered one must have none');
  }
  const statement: ReceiptStatement = {
    v: PROTOCOL_VERSION,
    id: uuidV7(input.now.getTime()),
    envelopeId: input.envelopeId,
    envelopeDigest: input.envelopeDigest,
    status: input.status,
    reason: input.reason ?? null,
    time: input.now.toISOString(),
    from: { state: input.signer.state },
    to: { state: input.senderState },
  };
  const jws = signJwsCompact(Buffer.from(JSON.stringify(statement)), input.signer.key, {
    alg: SIGNATURE_ALGORITHM[input.signer.suite],
    typ: RECEIPT_TYPE,
    x5c: input.signer.x5c,
  });
  return { statement, bytes: Buffer.from(jws, 'ascii') };
}

/** Reads a receipt's signed statement after checking its signature chain, without any expectation. */
export function authenticateReceipt(
  bytes: Uint8Array,
  verifier: CertificateVerifier,
  at?: Date,
): VerifiedReceipt {
  try {
    const parsed = parseJwsCompact(bytes);
    requireOnlyHeaderMembers(parsed.header, ['alg', 'typ', 'x5c'], 'the receipt signature');
    if (parsed.header.typ !== RECEIPT_TYPE) {
      throw new ProtocolError('malformed-receipt', `a receipt's typ must be ${RECEIPT_TYPE}`);
    }
    const x5c = parsed.header.x5c;
    if (!Array.isArray(x5c) || !x5c.every((entry) => typeof entry === 'string')) {
      throw new ProtocolError('malformed-receipt', 'the receipt signature must carry an x5c chain');
    }
    // A live gateway passes `at` = now. Offline, without a trusted timestamp, the receipt's own
    // (not yet verified) time is the instant to check the chain at: a forged time can only make
    // the chain check fail or pass for a certificate that really was valid then.
    const instant = at ?? claimedTime(parsed.payload);
    const signer = verifier.verifyChain(x5c as string[], 'signing', instant);
    verifyJwsCompact(parsed, signer.publicKey, signaturePolicy(signer.suite));
    const statement = readReceiptStatement(parseJsonObjectStrict(parsed.payload, 'receipt'));
    if (statement.from.state !== signer.state) {
      throw new ProtocolError(
        'receipt-signer-mismatch',
        `the receipt claims to come from ${statement.from.state} but is signed by ${signer.state}'s certificate`,
      );
    }
    return { statement, signer };
  } catch (error) {
    throw toProtocolError(error, 'receipt', 'malformed-receipt');
  }
}

/** Accepts a receipt only from the recipient's certified gateway and only for the exact bytes sent. */
export function checkReceiptExpectation(
  receipt: VerifiedReceipt,
  expected: ReceiptExpectation,
): void {
  const { statement, signer } = receipt;
  if (signer.state !== expected.recipientState) {
    throw new ProtocolError(
      'receipt-signer-mismatch',
      `the receipt is signed by ${signer.state}, but the envelope was addressed to ${expected.recipientState}`,
    );
  }
  if (statement.envelopeId !== expected.envelopeId || statement.to.state !== expected.senderState) {
    throw new ProtocolError('receipt-envelope-mismatch', 'the receipt is for another envelope');
  }
  if (statement.envelopeDigest !== expected.envelopeDigest) {
    throw new ProtocolError(
      'receipt-digest-mismatch',
      'the receipt binds a digest that differs from the envelope that was sent',
    );
  }
}

export function verifyReceipt(
  bytes: Uint8Array,
  verifier: CertificateVerifier,
  expected: ReceiptExpectation,
  at?: Date,
): VerifiedReceipt {
  const receipt = authenticateReceipt(bytes, verifier, at);
  checkReceiptExpectation(receipt, expected);
  return receipt;
}

function claimedTime(payload: Buffer): Date {
  const time = parseJsonObjectStrict(payload, 'receipt').time;
  const instant = typeof time === 'string' ? new Date(time) : new Date(Number.NaN);
  if (Number.isNaN(instant.getTime())) {
    throw new ProtocolError('malformed-receipt', 'receipt.time must be a valid UTC timestamp');
  }
  return instant;
}

function readReceiptStatement(source: Record<string, unknown>): ReceiptStatement {
  const reader: FieldReader = new FieldReader('malformed-receipt', 'receipt');
  reader.onlyMembers(source, [
    'v',
    'id',
    'envelopeId',
    'envelopeDigest',
    'status',
    'reason',
    'time',
    'from',
    'to',
  ]);
  if (source.v !== PROTOCOL_VERSION) reader.fail('v', `must be ${PROTOCOL_VERSION}`);
  for (const field of ['id', 'envelopeId']) {
    if (!isUuidV7(source[field])) reader.fail(field, 'must be a lower-case UUIDv7');
  }
  const status = reader.oneOf(source, 'status', RECEIPT_STATUSES);
  const reason = source.reason === null ? null : reader.oneOf(source, 'reason', REASON_CODES);
  if ((status === 'rejected') !== (reason !== null)) {
    reader.fail('reason', 'must be a reason code exactly when status is rejected');
  }
  const state = (field: 'from' | 'to'): { state: string } => {
    const party = reader.object(source, field);
    reader.onlyMembers(party, ['state'], field);
    return { state: reader.nested(field).string(party, 'state', STATE_CODE) };
  };
  return {
    v: PROTOCOL_VERSION,
    id: source.id as string,
    envelopeId: source.envelopeId as string,
    envelopeDigest: reader.string(source, 'envelopeDigest', /^[A-Za-z0-9_-]{43}$/),
    status,
    reason,
    time: reader.timestamp(source, 'time'),
    from: state('from'),
    to: state('to'),
  };
}
