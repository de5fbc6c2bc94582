import {
  decryptFromCertificate,
  verifyContentStatement,
  verifyEnvelopeSignature,
  type RequestContent,
} from '@comity/protocol';
import { contentUnavailable } from '../common/content-unavailable';
import type { OutboundMessageEntity } from '../persistence/entities/outbound-message.entity';
import type { FederationTrust } from '../trust/federation-trust';

/**
 * The content of a request this node sent, from its own sealed copy, with the signature checked
 * against the certificate that signed it then, not today's (keys roll over). A copy that cannot
 * be opened any more is a 409 naming the reason.
 */
export function openSenderCopy(
  row: Pick<OutboundMessageEntity, 'id' | 'envelope' | 'createdAt' | 'senderCopy'>,
  trust: FederationTrust,
): RequestContent {
  try {
    const signer = verifyEnvelopeSignature(row.envelope, trust.verifier, row.createdAt).sender;
    const contentJws = decryptFromCertificate(row.senderCopy, trust.decryption);
    return verifyContentStatement(contentJws, signer).content;
  } catch (error) {
    throw contentUnavailable(row.id, error);
  }
}
