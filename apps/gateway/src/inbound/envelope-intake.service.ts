import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  ProtocolError,
  duplicateVerdict,
  isCaseMessageKind,
  issueReceipt,
  receiveEnvelope,
  type OpenedEnvelope,
  type SignedEnvelope,
} from '@comity/protocol';
import { AttachmentVerification } from '../attachments/attachment-verification.service';
import { Clock } from '../common/clock';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { UnitOfWork, type Transaction } from '../persistence/database';
import { EvidenceRepository } from '../persistence/evidence.repository';
import {
  InboundMessageRepository,
  type DeliveredInbound,
  type DeliveredReceipt,
} from '../persistence/inbound-message.repository';
import { OutboxRepository } from '../persistence/outbox.repository';
import { CaseOpenings } from '../content/case-openings';
import { ACK, type InboxDisposition } from '../transport/inbox-disposition';
import { FederationTrust } from '../trust/federation-trust';
import { CASE_MESSAGE_ADMISSION, type CaseMessageAdmission } from './case-message-admission';

/**
 * Receives one envelope from the inbox: the protocol's receive pipeline decides (asking this
 * node's store what it already holds under the envelope's id), large attachments are verified, and then the
 * envelope is stored exactly once together with its signed receipt and the receipt's outbox
 * entry. Only then is the broker message acked (by the transport, on ACK).
 */
@Injectable()
export class EnvelopeIntake {
  private readonly logger = new Logger(EnvelopeIntake.name);

  constructor(
    private readonly trust: FederationTrust,
    private readonly attachments: AttachmentVerification,
    private readonly messages: InboundMessageRepository,
    private readonly evidence: EvidenceRepository,
    private readonly outbox: OutboxRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly relay: OutboxRelay,
    private readonly clock: Clock,
    private readonly caseOpenings: CaseOpenings,
    @Optional()
    @Inject(CASE_MESSAGE_ADMISSION)
    private readonly cases: CaseMessageAdmission | null = null,
  ) {}

  /** `brokerUser`: the AMQP user_id the message arrived with (validated by the broker). */
  async receive(bytes: Buffer, brokerUser?: string): Promise<InboxDisposition> {
    const now = this.clock.now();
    const verdict = await receiveEnvelope(bytes, {
      self: this.trust.state,
      now,
      verifier: this.trust.verifier,
      directory: this.trust.directory,
      decryption: this.trust.decryption,
      maxEnvelopeBytes: this.trust.maxEnvelopeBytes,
      clockSkewMs: this.trust.clockSkewMs,
      brokerUser,
      alreadyDelivered: (id) => this.messages.findDeliveredReceipt(id),
    });
    switch (verdict.verdict) {
      case 'quarantined':
        // Unauthenticated: nobody to answer. Kept for the operator, with the reason.
        return { action: 'quarantine', reason: verdict.reason, detail: verdict.detail };
      case 'refused':
        return this.reject(verdict.envelope, verdict.error, now);
      case 'duplicate':
        return this.duplicate(verdict.delivered, now);
      case 'accepted':
        return this.accept(verdict.envelope, now);
    }
  }

  private async accept(envelope: OpenedEnvelope, now: Date): Promise<InboxDisposition> {
    // Large attachments: every chunk here and proven against the signed digests, or no receipt yet.
    const attachments = await this.attachments.check(envelope, envelope.statement.content, now);
    if (attachments instanceof ProtocolError) return this.reject(envelope, attachments, now);
    if (attachments) return attachments;
    const { header } = envelope;
    const receipt = issueReceipt({
      signer: this.trust.signing,
      envelopeId: header.id,
      envelopeDigest: envelope.digest,
      senderState: header.from.state,
      status: 'delivered',
      now,
    });
    const receiptRoutingKey = this.trust.routingKeyOf(header.from.state);
    const delivered: DeliveredInbound = {
      row: {
        id: header.id,
        threadId: header.thread,
        inReplyTo: header.inReplyTo,
        kind: header.kind,
        fromState: header.from.state,
        fromAuthority: header.from.authority,
        toAuthority: header.to.authority,
        status: 'delivered',
        envelope: envelope.bytes,
        envelopeDigest: envelope.digest,
        receiptId: receipt.statement.id,
        receipt: receipt.bytes,
        createdAt: new Date(header.created),
        expiresAt: new Date(header.expires),
        receivedAt: now,
      },
      receiptRoutingKey,
      leaseUntil: this.relay.leaseUntil(now),
      caseOpening: await this.caseOpenings.rowFor({
        kind: header.kind,
        created: header.created,
        requested: header.to,
        content: envelope.statement.content,
      }),
    };
    let outboxId: string | null;
    if (this.cases?.concerns(envelope)) {
      // A case message: stored in the same transaction as what it does to its case, or refused.
      const cases = this.cases;
      try {
        outboxId = await this.unitOfWork.run(async (tx) => {
          const stored = await this.messages.storeDeliveredIn(tx, delivered);
          if (stored !== null) await cases.admit(tx, envelope, now);
          return stored;
        });
      } catch (error) {
        if (error instanceof ProtocolError) return this.reject(envelope, error, now);
        throw error;
      }
    } else if (isCaseMessageKind(header.kind)) {
      return this.reject(
        envelope,
        new ProtocolError('case-unknown', `this node keeps no cases for ${header.kind}`),
        now,
      );
    } else {
      outboxId = await this.messages.storeDelivered(delivered);
    }
    if (outboxId === null) {
      // A concurrent delivery of the same envelope won the insert: answer as for any duplicate.
      const winner = await this.messages.findDeliveredReceipt(header.id);
      if (!winner) return ACK;
      const again = duplicateVerdict(envelope, winner);
      return again.verdict === 'duplicate'
        ? this.duplicate(winner, now)
        : this.reject(envelope, again.error, now);
    }
    this.relay.handOver({
      id: outboxId,
      messageId: header.id,
      payloadType: 'receipt',
      routingKey: receiptRoutingKey,
      payload: receipt.bytes,
    });
    return ACK;
  }

  /** The same envelope again: resend the receipt already given; never a second delivery. */
  private async duplicate(existing: DeliveredReceipt, now: Date): Promise<InboxDisposition> {
    await this.unitOfWork.run(async (tx) => {
      await this.evidence.addEvidence(tx, {
        messageId: existing.id,
        direction: 'inbound',
        type: 'duplicate',
        at: now,
      });
      await this.queueReceipt(tx, existing.id, existing.fromState, existing.receipt, now);
    });
    this.relay.wake();
    return ACK;
  }

  /** An authenticated sender whose envelope fails: record it and answer with a signed negative receipt. */
  private async reject(
    envelope: SignedEnvelope,
    error: ProtocolError,
    now: Date,
  ): Promise<InboxDisposition> {
    const { header } = envelope;
    this.logger.warn(`rejected envelope ${header.id} from ${header.from.state}: ${error.reason}`);
    const receipt = issueReceipt({
      signer: this.trust.signing,
      envelopeId: header.id,
      envelopeDigest: envelope.digest,
      senderState: header.from.state,
      status: 'rejected',
      reason: error.reason,
      now,
    });
    await this.unitOfWork.run(async (tx) => {
      await this.messages.insertRejection(tx, {
        envelopeId: header.id,
        fromState: header.from.state,
        reason: error.reason,
        envelopeDigest: envelope.digest,
        envelope: envelope.bytes,
        receipt: receipt.bytes,
        receivedAt: now,
      });
      await this.queueReceipt(tx, header.id, header.from.state, receipt.bytes, now);
    });
    this.relay.wake();
    return ACK;
  }

  /** Queues a receipt for the sender's inbox in the caller's transaction. */
  private queueReceipt(
    tx: Transaction,
    envelopeId: string,
    senderState: string,
    receipt: Buffer,
    now: Date,
  ): Promise<void> {
    return this.outbox.enqueue(tx, {
      messageId: envelopeId,
      payloadType: 'receipt',
      routingKey: this.trust.routingKeyOf(senderState),
      payload: receipt,
      availableAt: now,
    });
  }
}
