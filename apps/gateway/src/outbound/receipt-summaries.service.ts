import { Injectable, NotFoundException } from '@nestjs/common';
import { ProtocolError, verifyReceipt } from '@comity/protocol';
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
      };
    }
  }
}
