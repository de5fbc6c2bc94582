import type { CertificateVerifier } from '@comity/pki';
import {
  checkContentDigest,
  readUnverifiedHeader,
  verifyEnvelopeSignature,
  type SignedEnvelope,
} from './envelope';
import { verifyReceipt, type VerifiedReceipt } from './receipt';

export interface OfflineVerification {
  envelope: SignedEnvelope;
  receipt: VerifiedReceipt;
}

/**
 * What an auditor checks with nothing but the two files and the trust anchor: the envelope is
 * signed by its sender's certified gateway and intact, and the receipt is signed by the
 * recipient State's certified gateway and binds the digest of exactly these envelope bytes.
 * Certificates are checked at the instants the documents claim (creation, receipt time).
 */
export function verifyReceiptOffline(input: {
  envelope: Buffer;
  receipt: Buffer;
  verifier: CertificateVerifier;
}): OfflineVerification {
  // The chain is checked at the instant the envelope claims; a forged instant can only make
  // that check fail, it cannot make a bad chain or signature pass.
  const claimedCreation = new Date(readUnverifiedHeader(input.envelope).created);
  const envelope = verifyEnvelopeSignature(input.envelope, input.verifier, claimedCreation);
  checkContentDigest(envelope);
  const receipt = verifyReceipt(input.receipt, input.verifier, {
    envelopeId: envelope.header.id,
    envelopeDigest: envelope.digest,
    recipientState: envelope.header.to.state,
    senderState: envelope.header.from.state,
  });
  return { envelope, receipt };
}
