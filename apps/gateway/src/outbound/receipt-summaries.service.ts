import { Injectable, NotFoundException } from '@nestjs/common';
import {
  ProtocolError,
  authenticateRetrievalEvidence,
  checkRetrievalExpectation,
  verifyReceipt,
} from '@comity/protocol';
import type { OutboundMessageEntity } from '../persistence/entities/outbound-message.entity';
import { RetrievalRepository } from '../persistence/retrieval.repository';
import type { Principal } from '../auth/principal';
import { requireInScope } from '../auth/scope';
import { OutboundMessageRepository } from '../persistence/outbound-message.repository';
import { FederationTrust } from '../trust/federation-trust';

/** A stored receipt, checked again: what the workspace shows beside a sent message. */
export interface ReceiptSummary {
  status: 'delivered' | 'rejected' | null;
  reason: string | null;
  signedBy: string;
  signedAt: string | null;
  envelopeDigest: string;
  certificateThumbprint: string | null;
  verified: boolean;
  /** The reason code when the receipt no longer verifies. */
  problem: string | null;
  /** When the recipient authority first opened it, per the recipient's signed retrieval evidence (verified again). */
  openedAt: string | null;
  /** When it was due to be opened, per signed non-retrieval evidence (verified again). */
  notOpenedBy: string | null;
}

/**
 * The receipt of a sent message as people read it, verified again against the trust in force
 * (at the receipt's own time, as an offline verifier would): who signed it, when, for which
 * envelope digest. A receipt is stored only after it verified on arrival; checking again shows
 * a clerk what holds today, not what held then.
 */
@Injectable()
export class ReceiptSummaries {
  constructor(
    private readonly messages: OutboundMessageRepository,
    private readonly trust: FederationTrust,
    private readonly retrievals: RetrievalRepository,
  ) {}

  /** Null while no receipt has come. */
  async of(id: string, principal: Principal): Promise<ReceiptSummary | null> {
    const row = await this.messages.findOutbound(id);
    if (!row) throw new NotFoundException(`no outbound message ${id}`);
    requireInScope(principal, row.fromAuthority, id);
    if (!row.receipt) return null;
    try {
      const { statement, signer } = verifyReceipt(row.receipt, this.trust.verifier, {
        envelopeId: row.id,
        envelopeDigest: row.envelopeDigest,
        recipientState: row.toState,
        senderState: this.trust.state,
      });
      return {
        status: statement.status,
        reason: statement.reason,
        signedBy: signer.state,
        signedAt: statement.time,
        envelopeDigest: statement.envelopeDigest,
        certificateThumbprint: signer.sha256Thumbprint,
        verified: true,
        problem: null,
        ...(await this.retrievalOf(row)),
      };
    } catch (error) {
      return {
        status: null,
        reason: null,
        signedBy: row.toState,
        signedAt: null,
        envelopeDigest: row.envelopeDigest,
        certificateThumbprint: null,
        verified: false,
        problem: error instanceof ProtocolError ? error.reason : 'unverifiable',
        openedAt: null,
        notOpenedBy: null,
      };
    }
  }

  /** The recipient's retrieval evidence, each verified again; what does not verify is not shown. */
  private async retrievalOf(
    row: OutboundMessageEntity,
  ): Promise<{ openedAt: string | null; notOpenedBy: string | null }> {
    const { retrieval, nonRetrieval } = await this.retrievals.peerEvidence(row.id);
    const verified = (bytes: Buffer | null) => {
      if (!bytes) return null;
      try {
        const evidence = authenticateRetrievalEvidence(bytes, this.trust.verifier);
        checkRetrievalExpectation(evidence, {
          envelopeId: row.id,
          envelopeDigest: row.envelopeDigest,
          recipient: { state: row.toState, authority: row.toAuthority },
          sender: { state: this.trust.state, authority: row.fromAuthority },
        });
        return evidence.statement;
      } catch {
        return null;
      }
    };
    return {
      openedAt: verified(retrieval)?.time ?? null,
      notOpenedBy: verified(nonRetrieval)?.due ?? null,
    };
  }
}
