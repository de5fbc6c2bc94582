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
import { EVIDENCE_TYPE } from './non-delivery-evidence';
import { ProtocolError } from './protocol-error';
import { PROTOCOL_VERSION, readParty, type Party } from './routing-header';
import { isUuidV7, uuidV7 } from './uuid-v7';

/**
 * Retrieval evidence (protocol §10.1, ETSI REM's retrieval / non-retrieval): the recipient's
 * gateway tells the sender, signed, that the recipient authority opened an envelope — or that
 * it did not within the directory's retrieval time frame. Binds the envelope by digest like a
 * receipt. Sent only to States that speak protocol version 4.
 */
export const RETRIEVAL_TYPES = ['retrieval', 'non-retrieval'] as const;
export type RetrievalType = (typeof RETRIEVAL_TYPES)[number];

export interface RetrievalStatement {
  v: typeof PROTOCOL_VERSION;
  id: string;
  type: RetrievalType;
  envelopeId: string;
  envelopeDigest: string;
  /** retrieval: when the recipient first opened it; non-retrieval: when the time frame ran out. */
  time: string;
  /** non-retrieval only: the instant by which the envelope should have been opened. */
  due?: string;
  /** The issuer: the recipient State and authority. */
  from: Party;
  /** The envelope's sender. */
  to: Party;
}

export interface VerifiedRetrievalEvidence {
  statement: RetrievalStatement;
  signer: VerifiedCertificate;
}

export function issueRetrievalEvidence(input: {
  signer: SigningIdentity;
  type: RetrievalType;
  envelopeId: string;
  envelopeDigest: string;
  from: Party;
  to: Party;
  due?: Date;
  now: Date;
}): { statement: RetrievalStatement; bytes: Buffer } {
  if ((input.type === 'non-retrieval') !== (input.due !== undefined)) {
    throw new Error('a non-retrieval evidence names its due time, a retrieval evidence none');
  }
  const statement: RetrievalStatement = {
    v: PROTOCOL_VERSION,
    id: uuidV7(input.now.getTime()),
    type: input.type,
    envelopeId: input.envelopeId,
    envelopeDigest: input.envelopeDigest,
    time: input.now.toISOString(),
    ...(input.due ? { due: input.due.toISOString() } : {}),
    from: input.from,
    to: input.to,
  };
  const jws = signJwsCompact(Buffer.from(JSON.stringify(statement)), input.signer.key, {
    alg: SIGNATURE_ALGORITHM[input.signer.suite],
    typ: EVIDENCE_TYPE,
    x5c: input.signer.x5c,
  });
  return { statement, bytes: Buffer.from(jws, 'ascii') };
}

/**
 * Checks a retrieval evidence's chain (at `at`, or offline at its own claimed time), its
 * signature and that its issuer is the signing certificate's State; expectations come after.
 */
export function authenticateRetrievalEvidence(
  bytes: Uint8Array,
  verifier: CertificateVerifier,
  at?: Date,
): VerifiedRetrievalEvidence {
  try {
    const parsed = parseJwsCompact(bytes);
    requireOnlyHeaderMembers(parsed.header, ['alg', 'typ', 'x5c'], 'the evidence signature');
    if (parsed.header.typ !== EVIDENCE_TYPE) {
      throw new ProtocolError('malformed-evidence', `an evidence's typ must be ${EVIDENCE_TYPE}`);
    }
    const x5c = parsed.header.x5c;
    if (!Array.isArray(x5c) || !x5c.every((entry) => typeof entry === 'string')) {
      throw new ProtocolError('malformed-evidence', 'the evidence must carry an x5c chain');
    }
    const source = parseJsonObjectStrict(parsed.payload, 'evidence');
    const statement = readRetrievalStatement(source);
    const signer = verifier.verifyChain(x5c as string[], 'signing', at ?? new Date(statement.time));
    verifyJwsCompact(parsed, signer.publicKey, signaturePolicy(signer.suite));
    if (statement.from.state !== signer.state) {
      throw new ProtocolError(
        'evidence-signer-mismatch',
        `the evidence claims to come from ${statement.from.state} but is signed by ${signer.state}'s certificate`,
      );
    }
    return { statement, signer };
  } catch (error) {
    throw toProtocolError(error, 'retrieval evidence', 'malformed-evidence');
  }
}

/** Accepts retrieval evidence only from the recipient's gateway, for the exact bytes sent. */
export function checkRetrievalExpectation(
  evidence: VerifiedRetrievalEvidence,
  expected: { envelopeId: string; envelopeDigest: string; recipient: Party; sender: Party },
): void {
  const { statement, signer } = evidence;
  if (signer.state !== expected.recipient.state) {
    throw new ProtocolError(
      'evidence-signer-mismatch',
      `the evidence is signed by ${signer.state}, but the envelope was addressed to ${expected.recipient.state}`,
    );
  }
  if (
    statement.envelopeId !== expected.envelopeId ||
    statement.from.authority !== expected.recipient.authority ||
    statement.to.state !== expected.sender.state ||
    statement.to.authority !== expected.sender.authority
  ) {
    throw new ProtocolError('evidence-envelope-mismatch', 'the evidence is for another envelope');
  }
  if (statement.envelopeDigest !== expected.envelopeDigest) {
    throw new ProtocolError(
      'evidence-digest-mismatch',
      'the evidence binds a digest that differs from the envelope that was sent',
    );
  }
}

function readRetrievalStatement(source: Record<string, unknown>): RetrievalStatement {
  const reader = new FieldReader('malformed-evidence', 'evidence');
  const type = reader.oneOf(source, 'type', RETRIEVAL_TYPES);
  const members = ['v', 'id', 'type', 'envelopeId', 'envelopeDigest', 'time', 'from', 'to'];
  reader.onlyMembers(source, type === 'non-retrieval' ? [...members, 'due'] : members);
  if (source.v !== PROTOCOL_VERSION) reader.fail('v', `must be ${PROTOCOL_VERSION}`);
  for (const field of ['id', 'envelopeId']) {
    if (!isUuidV7(source[field])) reader.fail(field, 'must be a lower-case UUIDv7');
  }
  return {
    v: PROTOCOL_VERSION,
    id: source.id as string,
    type,
    envelopeId: source.envelopeId as string,
    envelopeDigest: reader.string(source, 'envelopeDigest', /^[A-Za-z0-9_-]{43}$/),
    time: reader.timestamp(source, 'time'),
    ...(type === 'non-retrieval' ? { due: reader.timestamp(source, 'due') } : {}),
    from: readParty(reader, source, 'from'),
    to: readParty(reader, source, 'to'),
  };
}
