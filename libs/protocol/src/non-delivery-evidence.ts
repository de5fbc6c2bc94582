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
import { ProtocolError } from './protocol-error';
import { PROTOCOL_VERSION, readParty, type Party } from './routing-header';
import { isUuidV7, uuidV7 } from './uuid-v7';

export const EVIDENCE_TYPE = 'comity-evidence+jws';

export const NON_DELIVERY_REASONS = [
  'expired-unsent',
  'expired-undelivered',
  'unroutable',
] as const;
export type NonDeliveryReason = (typeof NON_DELIVERY_REASONS)[number];

/**
 * The sender's own signed statement that an envelope was not delivered (ETSI REM's
 * non-delivery evidence): no valid receipt came before the envelope expired, or the broker had
 * no inbox for the recipient. It binds the envelope by digest like a receipt does.
 */
export interface NonDeliveryStatement {
  v: typeof PROTOCOL_VERSION;
  id: string;
  type: 'non-delivery';
  envelopeId: string;
  envelopeDigest: string;
  reason: NonDeliveryReason;
  transmissions: number;
  time: string;
  from: Party;
  to: Party;
}

export function issueNonDeliveryEvidence(input: {
  signer: SigningIdentity;
  envelopeId: string;
  envelopeDigest: string;
  reason: NonDeliveryReason;
  transmissions: number;
  from: Party;
  to: Party;
  now: Date;
}): { statement: NonDeliveryStatement; bytes: Buffer } {
  const statement: NonDeliveryStatement = {
    v: PROTOCOL_VERSION,
    id: uuidV7(input.now.getTime()),
    type: 'non-delivery',
    envelopeId: input.envelopeId,
    envelopeDigest: input.envelopeDigest,
    reason: input.reason,
    transmissions: input.transmissions,
    time: input.now.toISOString(),
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
 * Reads non-delivery evidence offline: its chain at its own claimed time, its signature, and
 * that its issuer (`from`, the sender) is the signing certificate's State.
 */
export function authenticateNonDeliveryEvidence(
  bytes: Uint8Array,
  verifier: CertificateVerifier,
): { statement: NonDeliveryStatement; signer: VerifiedCertificate } {
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
    const reader = new FieldReader('malformed-evidence', 'evidence');
    reader.onlyMembers(source, [
      'v',
      'id',
      'type',
      'envelopeId',
      'envelopeDigest',
      'reason',
      'transmissions',
      'time',
      'from',
      'to',
    ]);
    if (source.v !== PROTOCOL_VERSION) reader.fail('v', `must be ${PROTOCOL_VERSION}`);
    if (source.type !== 'non-delivery') reader.fail('type', 'must be non-delivery');
    for (const field of ['id', 'envelopeId']) {
      if (!isUuidV7(source[field])) reader.fail(field, 'must be a lower-case UUIDv7');
    }
    const statement: NonDeliveryStatement = {
      v: PROTOCOL_VERSION,
      id: source.id as string,
      type: 'non-delivery',
      envelopeId: source.envelopeId as string,
      envelopeDigest: reader.string(source, 'envelopeDigest', /^[A-Za-z0-9_-]{43}$/),
      reason: reader.oneOf(source, 'reason', NON_DELIVERY_REASONS),
      transmissions: reader.integer(source, 'transmissions', 0, Number.MAX_SAFE_INTEGER),
      time: reader.timestamp(source, 'time'),
      from: readParty(reader, source, 'from'),
      to: readParty(reader, source, 'to'),
    };
    const signer = verifier.verifyChain(x5c as string[], 'signing', new Date(statement.time));
    verifyJwsCompact(parsed, signer.publicKey, signaturePolicy(signer.suite));
    if (statement.from.state !== signer.state) {
      throw new ProtocolError(
        'evidence-signer-mismatch',
        `the evidence claims to come from ${statement.from.state} but is signed by ${signer.state}'s certificate`,
      );
    }
    return { statement, signer };
  } catch (error) {
    throw toProtocolError(error, 'non-delivery evidence', 'malformed-evidence');
  }
}
