import { Injectable, Logger } from '@nestjs/common';
import {
  ProtocolError,
  authenticateRetrievalEvidence,
  checkBrokerUser,
  checkRetrievalExpectation,
  type VerifiedRetrievalEvidence,
} from '@comity/protocol';
import { Clock } from '../common/clock';
import { UnitOfWork } from '../persistence/database';
import { OutboundMessageRepository } from '../persistence/outbound-message.repository';
import { RetrievalRepository } from '../persistence/retrieval.repository';
import { ACK, type InboxDisposition } from '../transport/inbox-disposition';
import { FederationTrust } from '../trust/federation-trust';

/**
 * The sender's side of retrieval evidence: accepted only when the recipient State's certified
 * gateway signed it for the exact envelope this node sent to that authority; kept on the
 * message's timeline once per kind (retrieved, not retrieved), with the signed bytes.
 */
@Injectable()
export class RetrievalIntake {
  private readonly logger = new Logger(RetrievalIntake.name);

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly messages: OutboundMessageRepository,
    private readonly retrievals: RetrievalRepository,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {}

  async receive(bytes: Buffer, brokerUser?: string): Promise<InboxDisposition> {
    const now = this.clock.now();
    let evidence: VerifiedRetrievalEvidence;
    try {
      evidence = authenticateRetrievalEvidence(bytes, this.trust.verifier, now);
      this.trust.checkNotRevoked(evidence.signer);
      checkBrokerUser(this.trust.directory, evidence.signer.state, brokerUser);
      const message = await this.messages.findOutbound(evidence.statement.envelopeId);
      if (!message) {
        throw new ProtocolError(
          'evidence-envelope-mismatch',
          `evidence for envelope ${evidence.statement.envelopeId}, which this node never sent`,
        );
      }
      checkRetrievalExpectation(evidence, {
        envelopeId: message.id,
        envelopeDigest: message.envelopeDigest,
        recipient: { state: message.toState, authority: message.toAuthority },
        sender: { state: this.trust.state, authority: message.fromAuthority },
      });
    } catch (error) {
      if (error instanceof ProtocolError)
        return { action: 'quarantine', reason: error.reason, detail: error.message };
      throw error;
    }
    const { statement, signer } = evidence;
    const added = await this.unitOfWork.run((tx) =>
      this.retrievals.recordPeerEvidence(tx, {
        messageId: statement.envelopeId,
        type: statement.type === 'retrieval' ? 'retrieved' : 'not-retrieved',
        at: now,
        detail: `${statement.type} evidence ${statement.id} signed by ${signer.state} at ${statement.time}`,
        signed: bytes,
      }),
    );
    if (added && statement.type === 'non-retrieval') {
      this.logger.warn({
        message: `${signer.state} reports a request not opened within its time frame`,
        envelopeId: statement.envelopeId,
      });
    }
    return ACK;
  }
}
