import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  CHECKPOINT_MEDIA_TYPE,
  COSIGNATURE_MEDIA_TYPE,
  ENVELOPE_MEDIA_TYPE,
  RECEIPT_MEDIA_TYPE,
  issueNonDeliveryEvidence,
} from '@comity/protocol';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { UnitOfWork, type Transaction } from '../persistence/database';
import { OutboundMessageRepository } from '../persistence/outbound-message.repository';
import type { OutboxPayloadType } from '../persistence/entities/outbox-entry.entity';
import { OutboxRepository, type ClaimedOutboxEntry } from '../persistence/outbox.repository';
import {
  MESSAGE_TRANSPORT,
  UnroutableError,
  type MessageTransport,
} from '../transport/message-transport';
import { FederationTrust } from '../trust/federation-trust';

/** The AMQP content type of each kind of outbox entry. */
const CONTENT_TYPES: Record<OutboxPayloadType, string> = {
  envelope: ENVELOPE_MEDIA_TYPE,
  receipt: RECEIPT_MEDIA_TYPE,
  evidence: RECEIPT_MEDIA_TYPE,
  checkpoint: CHECKPOINT_MEDIA_TYPE,
  cosignature: COSIGNATURE_MEDIA_TYPE,
};

/** How long a fresh outbox entry is left to the relay of the process that wrote it. */
export const OUTBOX_LEASE_MS = 60_000;
/**
 * A handed-over entry older than this is left to the safety net instead: its lease could run
 * out while it waits for a confirm (up to 15 s), and a second relay could publish it too.
 */
const HAND_OVER_MAX_AGE_MS = OUTBOX_LEASE_MS - 30_000;
/** Beyond this many waiting (the broker away), entries stay in the database only. */
const HAND_OVER_MAX_WAITING = 10_000;

/** An outbox entry handed over in memory by the code that just committed it. */
export interface HandedOverEntry {
  id: string;
  messageId: string;
  payloadType: 'envelope' | 'receipt';
  routingKey: string;
  payload: Buffer;
}

/**
 * Moves outbox entries to the broker, two ways:
 * - the fast path: whoever commits an entry hands it over in memory (with the bytes), leased to
 *   this process for OUTBOX_LEASE_MS; it is published at once and, once confirmed, deleted and
 *   marked sent — no claim query, no reading the payload back;
 * - the safety net: entries whose lease ran out (the process died, the broker was away, a
 *   retransmission) are claimed with FOR UPDATE SKIP LOCKED (so replicas sharing a database
 *   never publish the same entry concurrently), published with confirms, and only then deleted
 *   and marked sent, in the transaction that claimed them.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly loop: BackgroundLoop;
  private readonly handedOver: Array<HandedOverEntry & { handedAt: number }> = [];
  private lastClaimAt = 0;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: OutboxRepository,
    private readonly messages: OutboundMessageRepository,
    @Inject(MESSAGE_TRANSPORT) private readonly transport: MessageTransport,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {
    this.loop = new BackgroundLoop({
      name: 'outbox relay',
      pass: () => this.relayDue(),
      idleMs: config.outbox.pollIntervalMs,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  /** Stops the loop, then publishes what is still due (receipts of the last messages taken), briefly. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    const deadline = this.clock.now().getTime() + 5000;
    try {
      while (
        this.transport.isConnected &&
        this.clock.now().getTime() < deadline &&
        (await this.relayHandedOver()) + (await this.relayBatch()) > 0
      );
    } catch (error) {
      this.logger.warn(`final outbox flush stopped: ${(error as Error).message}`);
    }
  }

  /** The lease for an entry about to be written, to hand over once committed. */
  leaseUntil(now: Date): Date {
    return new Date(now.getTime() + OUTBOX_LEASE_MS);
  }

  /** Takes a just-committed, leased outbox entry to publish now. */
  handOver(entry: HandedOverEntry): void {
    if (this.handedOver.length < HAND_OVER_MAX_WAITING) {
      this.handedOver.push({ ...entry, handedAt: this.clock.now().getTime() });
    }
    this.wake();
  }

  /** Called after a commit that added outbox entries, so they leave at once instead of at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  /** One pass: what was handed over, then the safety net; true when anything was published. */
  private async relayDue(): Promise<boolean> {
    if (!this.transport.isConnected) return false;
    let published = await this.relayHandedOver();
    // The safety net's claim query: when nothing was handed over, and at least every poll
    // interval while the fast path is busy.
    const now = this.clock.now().getTime();
    if (published === 0 || now - this.lastClaimAt >= this.config.outbox.pollIntervalMs) {
      this.lastClaimAt = now;
      published += await this.relayBatch();
    }
    return published > 0;
  }

  /**
   * Publishes what was handed over (up to a batch); settles it in one statement. If the broker
   * refuses or the process dies, the leased rows are still in the outbox for the safety net.
   */
  private async relayHandedOver(): Promise<number> {
    if (this.handedOver.length === 0) return 0;
    const fresh = this.clock.now().getTime() - HAND_OVER_MAX_AGE_MS;
    const entries = this.handedOver
      .splice(0, this.config.outbox.batchSize)
      .filter((entry) => entry.handedAt >= fresh);
    if (entries.length === 0) return 0;
    // Not in a transaction: the settlement is one statement, atomic on its own (one opens only
    // for the rare unroutable entry).
    await this.publishAndSettle(entries, null);
    return entries.length;
  }

  /** Publishes one batch; returns how many entries left the outbox. */
  async relayBatch(): Promise<number> {
    return this.unitOfWork.run(async (tx) => {
      const entries = await this.outbox.claimOutbox(tx, this.config.outbox.batchSize);
      if (entries.length === 0) return 0;
      return this.publishAndSettle(entries, tx);
    });
  }

  /**
   * Publishes the entries with confirms, then records the outcome in one statement: published
   * ones leave the outbox (envelopes become sent, receipts get their evidence), refused ones are
   * postponed, and an unroutable envelope is failed with signed non-delivery evidence. `tx`:
   * the transaction that claimed the entries, or null for entries handed over in memory.
   * Returns how many entries left the outbox (published or unroutable).
   */
  private async publishAndSettle(
    entries: Array<ClaimedOutboxEntry | HandedOverEntry>,
    tx: Transaction | null,
  ): Promise<number> {
    const outcomes = await Promise.allSettled(entries.map((entry) => this.publish(entry)));
    const now = this.clock.now();
    const published: string[] = [];
    const sentEnvelopes: string[] = [];
    const sentReceipts: string[] = [];
    const retry: string[] = [];
    const unroutable: Array<{ entry: ClaimedOutboxEntry | HandedOverEntry; detail: string }> = [];
    for (const [index, outcome] of outcomes.entries()) {
      const entry = entries[index]!;
      if (outcome.status === 'fulfilled') {
        published.push(entry.id);
        if (entry.payloadType === 'envelope') sentEnvelopes.push(entry.messageId);
        else if (entry.payloadType === 'receipt') sentReceipts.push(entry.messageId);
      } else if (outcome.reason instanceof UnroutableError) {
        published.push(entry.id);
        unroutable.push({ entry, detail: outcome.reason.message });
      } else {
        retry.push(entry.id);
      }
    }
    const settle = async (db: Transaction | null): Promise<void> => {
      for (const { entry, detail } of unroutable) {
        if (entry.payloadType === 'envelope') {
          await this.failUnroutable(db!, entry.messageId, detail, now);
        } else {
          this.logger.warn({
            message: `a ${entry.payloadType} message is unroutable: ${detail}`,
            envelopeId: entry.messageId,
          });
        }
      }
      await this.outbox.settleRelayed(db, {
        published,
        sentEnvelopes,
        sentReceipts,
        retry,
        retryDelayMs: 1000,
        at: now,
        maxRetransmitIntervalMs: this.config.delivery.maxRetransmitIntervalMs,
      });
    };
    // Failing an unroutable envelope takes several writes: in a transaction, ours or the caller's.
    if (tx !== null || unroutable.length === 0) await settle(tx);
    else await this.unitOfWork.run(settle);
    return published.length;
  }

  /** No inbox is bound for the recipient: final, with the sender's signed non-delivery evidence. */
  private async failUnroutable(
    tx: Transaction,
    messageId: string,
    detail: string,
    now: Date,
  ): Promise<void> {
    const message = await this.messages.findOutbound(messageId, tx);
    if (!message) return;
    const evidence = issueNonDeliveryEvidence({
      signer: this.trust.signing,
      envelopeId: message.id,
      envelopeDigest: message.envelopeDigest,
      reason: 'unroutable',
      transmissions: message.transmissions,
      from: { state: this.trust.state, authority: message.fromAuthority },
      to: { state: message.toState, authority: message.toAuthority },
      now,
    });
    this.logger.error(
      `alert: envelope ${messageId} to ${message.toState} is unroutable: ${detail}`,
    );
    await this.messages.markFailed(tx, {
      messageId,
      reason: 'unroutable',
      detail,
      signed: evidence.bytes,
      at: now,
    });
  }

  private publish(entry: ClaimedOutboxEntry | HandedOverEntry): Promise<void> {
    return this.transport.publish({
      routingKey: entry.routingKey,
      payload: entry.payload,
      messageId: `${entry.payloadType}:${entry.messageId}:${entry.id}`,
      type: entry.payloadType,
      contentType: CONTENT_TYPES[entry.payloadType],
    });
  }
}
