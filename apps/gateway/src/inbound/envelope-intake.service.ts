import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  ProtocolError,
  checkBrokerUser,
  checkContentDigest,
  checkEnvelopeAcceptable,
  checkPartiesInDirectory,
  checkEnvelopeSize,
  issueReceipt,
  openEnvelope,
  verifyEnvelopeSignature,
  type SignedEnvelope,
} from '@comity/protocol';
import { AttachmentVerification } from '../attachments/attachment-verification.service';
import { Clock } from '../common/clock';
import { MessageStore, type DeliveredReceipt } from '../persistence/message-store';
import { OutboxRelay } from '../outbound/outbox-relay.service';
import { FederationTrust } from '../trust/federation-trust';
import { ACK, type InboxDisposition } from '../transport/inbox-disposition';

/**
 * Receives one envelope from the inbox: authenticate, then decrypt and check the binding,
 * then store it exactly once together with its signed receipt and the receipt's outbox entry.
 * Only then is the broker message acked (by the transport, on ACK).
 */
@Injectable()
export class EnvelopeIntake {
  private readonly logger = new Logger(EnvelopeIntake.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: MessageStore,
    private readonly trust: FederationTrust,
    private readonly relay: OutboxRelay,
    private readonly clock: Clock,
    private readonly attachments: AttachmentVerification,
  ) {}

  /** `brokerUser`: the AMQP user_id the message arrived with (validated by the broker). */
  async receive(bytes: Buffer, brokerUser?: string): Promise<InboxDisposition> {
    const now = this.clock.now();
    let envelope: SignedEnvelope;
    try {
      checkEnvelopeSize(bytes, this.trust.maxEnvelopeBytes);
      envelope = verifyEnvelopeSignature(bytes, this.trust.verifier, now);
      this.trust.checkNotRevoked(envelope.sender);
      // Genuinely signed, but published through another State's broker account: a replay or
      // an injection by that State. Not answered: the signer did not send this copy.
      checkBrokerUser(this.trust.directory, envelope.header.from.state, brokerUser);
    } catch (error) {
      // Unauthenticated: nobody to answer. Keep it for the operator, with the reason.
      if (error instanceof ProtocolError)
        return { action: 'quarantine', reason: error.reason, detail: error.message };
      throw error;
    }

    // From here on the sender is certified: every refusal is answered with a signed negative receipt.
    try {
      checkContentDigest(envelope);
    } catch (error) {
      if (error instanceof ProtocolError) return this.reject(envelope, error, now);
      throw error;
    }

    // The same bytes again (a retransmission, a replay): the same receipt again, whatever the
    // clock says now, so this gateway never signs two different answers for one envelope.
    const existing = await this.store.findDeliveredReceipt(envelope.header.id);
    if (existing) return this.duplicate(existing, envelope, now);

    try {
      checkEnvelopeAcceptable(envelope, {
        self: this.trust.state,
        now,
        clockSkewMs: this.trust.clockSkewMs,
      });
      checkPartiesInDirectory(this.trust.directory, envelope.header);
    } catch (error) {
      if (error instanceof ProtocolError) return this.reject(envelope, error, now);
      throw error;
    }

    let opened;
    try {
      opened = openEnvelope(envelope, this.trust.decryption);
    } catch (error) {
      if (error instanceof ProtocolError) return this.reject(envelope, error, now);
      throw error;
    }
    const { header } = opened;
    // Large attachments: every chunk here and proven against the signed digests, or no receipt yet.
    const attachments = await this.attachments.check(envelope, opened.statement.content, now);
    if (attachments instanceof ProtocolError) return this.reject(envelope, attachments, now);
    if (attachments) return attachments;
    const receipt = issueReceipt({
      signer: this.trust.signing,
      envelopeId: header.id,
      envelopeDigest: envelope.digest,
      senderState: header.from.state,
      status: 'delivered',
      now,
    });
    const receiptRoutingKey = this.trust.routingKeyOf(header.from.state);
    const outboxId = await this.store.storeDelivered({
      row: {
        id: header.id,
        threadId: header.thread,
        inReplyTo: header.inReplyTo,
        kind: header.kind,
        fromState: header.from.state,
        fromAuthority: header.from.authority,
        toAuthority: header.to.authority,
        status: 'delivered',
        envelope: bytes,
        envelopeDigest: envelope.digest,
        receiptId: receipt.statement.id,
        receipt: receipt.bytes,
        createdAt: new Date(header.created),
        expiresAt: new Date(header.expires),
        receivedAt: now,
      },
      receiptRoutingKey,
      leaseUntil: this.relay.leaseUntil(now),
    });
    if (outboxId === null) {
      // A concurrent delivery of the same envelope won the insert: answer as for any duplicate.
      const winner = await this.store.findDeliveredReceipt(header.id);
      if (winner) return this.duplicate(winner, envelope, now);
      return ACK;
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
  private async duplicate(
    existing: DeliveredReceipt,
    envelope: SignedEnvelope,
    now: Date,
  ): Promise<InboxDisposition> {
    if (existing.envelopeDigest !== envelope.digest) {
      return this.reject(
        envelope,
        new ProtocolError(
          'duplicate-envelope-conflict',
          `envelope id ${existing.id} was already delivered with different bytes`,
        ),
        now,
      );
    }
    await this.dataSource.transaction(async (manager) => {
      await this.store.addEvidence(manager, {
        messageId: existing.id,
        direction: 'inbound',
        type: 'duplicate',
        at: now,
      });
      await this.queueReceipt(manager, existing.id, existing.fromState, existing.receipt, now);
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
    await this.dataSource.transaction(async (manager) => {
      await this.store.insertRejection(manager, {
        envelopeId: header.id,
        fromState: header.from.state,
        reason: error.reason,
        envelopeDigest: envelope.digest,
        envelope: envelope.bytes,
        receipt: receipt.bytes,
        receivedAt: now,
      });
      await this.queueReceipt(manager, header.id, header.from.state, receipt.bytes, now);
    });
    this.relay.wake();
    return ACK;
  }

  /** Queues a receipt for the sender's inbox in the caller's transaction. */
  private queueReceipt(
    manager: EntityManager,
    envelopeId: string,
    senderState: string,
    receipt: Buffer,
    now: Date,
  ): Promise<void> {
    return this.store.enqueue(manager, {
      messageId: envelopeId,
      payloadType: 'receipt',
      routingKey: this.trust.routingKeyOf(senderState),
      payload: receipt,
      availableAt: now,
    });
  }
}
