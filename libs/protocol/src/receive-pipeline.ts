import type { CertificateVerifier } from '@comity/pki';
import {
  checkBrokerUser,
  checkNotRevoked,
  checkPartiesInDirectory,
  type FederationDirectory,
} from './directory';
import {
  checkContentDigest,
  checkEnvelopeAcceptable,
  checkEnvelopeSize,
  openEnvelope,
  verifyEnvelopeSignature,
  type OpenedEnvelope,
  type SignedEnvelope,
} from './envelope';
import type { DecryptionIdentity } from './gateway-identity';
import { ProtocolError, type ReasonCode } from './protocol-error';

/** What a receiving node knows when an envelope arrives: its trust state, and the moment. */
export interface EnvelopeReceiveContext<Delivered extends { envelopeDigest: string }> {
  /** This node's State: the only acceptable recipient. */
  self: string;
  now: Date;
  verifier: CertificateVerifier;
  /** The directory in force: members, authorities, revocations, broker accounts. */
  directory: FederationDirectory;
  /** The current decryption key first, then retired ones still honoured during a rollover. */
  decryption: DecryptionIdentity | readonly DecryptionIdentity[];
  maxEnvelopeBytes: number;
  clockSkewMs: number;
  /** The broker account the message was published with, as the broker validated it. */
  brokerUser: string | undefined;
  /**
   * The hook to the node's store: what it already delivered under an authenticated envelope's
   * id (null: nothing). Called only once the sender is authenticated, so that unauthenticated
   * input costs no lookup and is quarantined with its reason even while the store is down. A
   * rejection propagates (the caller retries the message later).
   */
  alreadyDelivered(envelopeId: string): Promise<Delivered | null>;
}

/**
 * The one answer to "what do we do with these bytes":
 * - `quarantined`: not authenticated (no certified sender to answer): kept for an operator;
 * - `refused`: a certified sender whose envelope fails: answered with a signed negative receipt;
 * - `duplicate`: the same bytes again: answered with the receipt already given;
 * - `accepted`: authenticated, addressed to us, fresh, decrypted and bound to its header.
 */
export type EnvelopeVerdict<Delivered = { envelopeDigest: string }> =
  | { verdict: 'quarantined'; reason: ReasonCode; detail: string }
  | { verdict: 'refused'; envelope: SignedEnvelope; error: ProtocolError }
  | { verdict: 'duplicate'; envelope: SignedEnvelope; delivered: Delivered }
  | { verdict: 'accepted'; envelope: OpenedEnvelope };

/**
 * The receive checks of protocol §3.4, in their order, as one function of the bytes and the
 * trust state, pure but for the `alreadyDelivered` hook. Only a ProtocolError becomes a
 * verdict; anything else (a bug, the store unreachable) is thrown for the caller to retry.
 */
export async function receiveEnvelope<Delivered extends { envelopeDigest: string }>(
  bytes: Buffer,
  context: EnvelopeReceiveContext<Delivered>,
): Promise<EnvelopeVerdict<Delivered>> {
  let envelope: SignedEnvelope;
  try {
    checkEnvelopeSize(bytes, context.maxEnvelopeBytes);
    envelope = verifyEnvelopeSignature(bytes, context.verifier, context.now);
    checkNotRevoked(context.directory, envelope.sender);
    // Genuinely signed, but published through another State's broker account: a replay or an
    // injection by that State. Not answered: the signer did not send this copy.
    checkBrokerUser(context.directory, envelope.header.from.state, context.brokerUser);
  } catch (error) {
    if (error instanceof ProtocolError) {
      return { verdict: 'quarantined', reason: error.reason, detail: error.message };
    }
    throw error;
  }
  // From here on the sender is certified: every refusal is answered with a signed negative receipt.
  try {
    checkContentDigest(envelope);
  } catch (error) {
    if (error instanceof ProtocolError) return { verdict: 'refused', envelope, error };
    throw error;
  }
  // The same bytes again: the same receipt again, whatever the clock says now, so a node never
  // signs two different answers for one envelope.
  const delivered = await context.alreadyDelivered(envelope.header.id);
  if (delivered) return duplicateVerdict(envelope, delivered);
  try {
    checkEnvelopeAcceptable(envelope, context);
    checkPartiesInDirectory(context.directory, envelope.header);
    return { verdict: 'accepted', envelope: openEnvelope(envelope, context.decryption) };
  } catch (error) {
    if (error instanceof ProtocolError) return { verdict: 'refused', envelope, error };
    throw error;
  }
}

/** An envelope id already delivered: the same bytes are a duplicate, other bytes a conflict. */
export function duplicateVerdict<Delivered extends { envelopeDigest: string }>(
  envelope: SignedEnvelope,
  delivered: Delivered,
): Extract<EnvelopeVerdict<Delivered>, { verdict: 'duplicate' | 'refused' }> {
  if (delivered.envelopeDigest === envelope.digest) {
    return { verdict: 'duplicate', envelope, delivered };
  }
  return {
    verdict: 'refused',
    envelope,
    error: new ProtocolError(
      'duplicate-envelope-conflict',
      `envelope id ${envelope.header.id} was already delivered with different bytes`,
    ),
  };
}
