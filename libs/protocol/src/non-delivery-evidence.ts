import { signJwsCompact } from '@comity/jose';
import { SIGNATURE_ALGORITHM } from './algorithm-policy';
import type { SigningIdentity } from './gateway-identity';
import type { Party } from './routing-header';
import { PROTOCOL_VERSION } from './routing-header';
import { uuidV7 } from './uuid-v7';

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
