import { Injectable, Logger } from '@nestjs/common';
import {
  ProtocolError,
  checkBrokerUser,
  authenticateReceipt,
  checkReceiptExpectation,
  type VerifiedReceipt,
} from '@comity/protocol';
import { Clock } from '../common/clock';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import {
  OutboundMessageRepository,
  type ReceiptExpectation,
} from '../persistence/outbound-message.repository';
import { FederationTrust } from '../trust/federation-trust';
import { ACK, type InboxDisposition } from '../transport/inbox-disposition';

/**
 * Receives a receipt for an envelope this node sent. It is accepted only if the recipient
 * State's certified gateway signed it and it binds the digest of the exact bytes sent.
 */
@Injectable()
export class ReceiptIntake {
  private readonly logger = new Logger(ReceiptIntake.name);

  constructor(
    private readonly messages: OutboundMessageRepository,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
    private readonly metrics: DeliveryMetrics,
  ) {}

  async receive(bytes: Buffer, brokerUser?: string): Promise<InboxDisposition> {
    const now = this.clock.now();
    let receipt: VerifiedReceipt;
    let message: ReceiptExpectation | null;
    try {
      receipt = authenticateReceipt(bytes, this.trust.verifier, now);
      this.trust.checkNotRevoked(receipt.signer);
      checkBrokerUser(this.trust.directory, receipt.signer.state, brokerUser);
      message = await this.messages.findOutboundForReceipt(receipt.statement.envelopeId);
      if (!message) {
        throw new ProtocolError(
          'receipt-envelope-mismatch',
          `receipt for envelope ${receipt.statement.envelopeId}, which this node never sent`,
        );
      }
      checkReceiptExpectation(receipt, {
        envelopeId: message.id,
        envelopeDigest: message.envelopeDigest,
        recipientState: message.toState,
        senderState: this.trust.state,
      });
    } catch (error) {
      if (error instanceof ProtocolError)
        return { action: 'quarantine', reason: error.reason, detail: error.message };
      throw error;
    }
    const { statement } = receipt;
    const applied = await this.messages.recordReceipt({
      messageId: statement.envelopeId,
      status: statement.status,
      reason: statement.reason,
      receipt: bytes,
      detail: `receipt ${statement.id} signed by ${receipt.signer.state} at ${statement.time}`,
      at: now,
    });
    // A repeated receipt for a message already settled changes nothing.
    if (applied && statement.status === 'delivered') {
      this.metrics.delivered(message.toState, message.createdAt, now);
    }
    if (statement.status === 'rejected') {
      this.logger.warn({
        message: `envelope rejected by ${receipt.signer.state}: ${statement.reason}`,
        envelopeId: statement.envelopeId,
      });
    }
    return ACK;
  }
}
