import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  ENVELOPE_MEDIA_TYPE,
  RECEIPT_MEDIA_TYPE,
  issueNonDeliveryEvidence,
} from '@comity/protocol';
import { Wakeup } from '../common/wakeup';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { OutboundMessageEntity } from '../persistence/entities/outbound-message.entity';
import { MessageStore, type ClaimedOutboxEntry } from '../persistence/message-store';
import { FederationTrust } from '../trust/federation-trust';
import { AmqpPublisher, UnroutableError } from '../transport/amqp-publisher';

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
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly wakeup = new Wakeup();
  private readonly handedOver: Array<HandedOverEntry & { handedAt: number }> = [];
  private lastClaimAt = 0;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: MessageStore,
    private readonly publisher: AmqpPublisher,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the loop, then publishes what is still due (receipts of the last messages taken), briefly. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    const deadline = Date.now() + 5000;
    try {
      while (
        this.publisher.isConnected &&
        Date.now() < deadline &&
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
      this.handedOver.push({ ...entry, handedAt: Date.now() });
    }
    this.wake();
  }

  /** Called after a commit that added outbox entries, so they leave at once instead of at the next poll. */
  wake(): void {
    this.wakeup.wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let published = 0;
      try {
        if (this.publisher.isConnected) {
          published = await this.relayHandedOver();
          // The safety net's claim query: when nothing was handed over, and at least every
          // poll interval while the fast path is busy.
          if (
            published === 0 ||
            Date.now() - this.lastClaimAt >= this.config.outbox.pollIntervalMs
          ) {
            this.lastClaimAt = Date.now();
            published += await this.relayBatch();
          }
        }
      } catch (error) {
        this.logger.warn(`outbox relay: ${(error as Error).message}`);
      }
      if (published === 0 && this.running)
        await this.wakeup.wait(this.config.outbox.pollIntervalMs);
    }
  }

  /**
   * Publishes what was handed over (up to a batch); settles it in one statement. If the broker
   * refuses or the process dies, the leased rows are still in the outbox for the safety net.
   */
  private async relayHandedOver(): Promise<number> {
    if (this.handedOver.length === 0) return 0;
    const fresh = Date.now() - HAND_OVER_MAX_AGE_MS;
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
    return this.dataSource.transaction(async (manager) => {
      const entries = await this.store.claimOutbox(manager, this.config.outbox.batchSize);
      if (entries.length === 0) return 0;
      return this.publishAndSettle(entries, manager);
    });
  }

  /**
   * Publishes the entries with confirms, then records the outcome in one statement: published
   * ones leave the outbox (envelopes become sent, receipts get their evidence), refused ones are
   * postponed, and an unroutable envelope is failed with signed non-delivery evidence. `manager`:
   * the transaction that claimed the entries, or null for entries handed over in memory.
   * Returns how many entries left the outbox (published or unroutable).
   */
  private async publishAndSettle(
    entries: Array<ClaimedOutboxEntry | HandedOverEntry>,
    manager: EntityManager | null,
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
        (entry.payloadType === 'envelope' ? sentEnvelopes : sentReceipts).push(entry.messageId);
      } else if (outcome.reason instanceof UnroutableError) {
        published.push(entry.id);
        unroutable.push({ entry, detail: outcome.reason.message });
      } else {
        retry.push(entry.id);
      }
    }
    const settle = async (db: EntityManager | null): Promise<void> => {
      for (const { entry, detail } of unroutable) {
        if (entry.payloadType === 'envelope') {
          await this.failUnroutable(db!, entry.messageId, detail, now);
        } else {
          this.logger.warn({
            message: `a receipt is unroutable: ${detail}`,
            envelopeId: entry.messageId,
          });
        }
      }
      await this.store.settleRelayed(db, {
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
    if (manager !== null || unroutable.length === 0) await settle(manager);
    else await this.dataSource.transaction(settle);
    return published.length;
  }

  /** No inbox is bound for the recipient: final, with the sender's signed non-delivery evidence. */
  private async failUnroutable(
    manager: EntityManager,
    messageId: string,
    detail: string,
    now: Date,
  ): Promise<void> {
    const message = await manager.findOneBy(OutboundMessageEntity, { id: messageId });
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
    await this.store.markFailed(manager, {
      messageId,
      reason: 'unroutable',
      detail,
      signed: evidence.bytes,
      at: now,
    });
  }

  private publish(entry: ClaimedOutboxEntry | HandedOverEntry): Promise<void> {
    return this.publisher.publish({
      routingKey: entry.routingKey,
      payload: entry.payload,
      messageId: `${entry.payloadType}:${entry.messageId}:${entry.id}`,
      type: entry.payloadType,
      contentType: entry.payloadType === 'envelope' ? ENVELOPE_MEDIA_TYPE : RECEIPT_MEDIA_TYPE,
    });
  }
}
