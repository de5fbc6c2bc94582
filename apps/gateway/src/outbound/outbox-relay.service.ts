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
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { OutboundMessageEntity } from '../persistence/entities/outbound-message.entity';
import { MessageStore, type ClaimedOutboxEntry } from '../persistence/message-store';
import { FederationTrust } from '../trust/federation-trust';
import { AmqpPublisher, UnroutableError } from '../transport/amqp-publisher';

/**
 * Moves outbox entries to the broker. Each batch is claimed with FOR UPDATE SKIP LOCKED (so
 * replicas sharing a database never publish the same entry concurrently), published with
 * confirms, and only then deleted and marked sent, in the same transaction that claimed it.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private pendingWake = false;

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
      while (this.publisher.isConnected && Date.now() < deadline && (await this.relayBatch()) > 0);
    } catch (error) {
      this.logger.warn(`final outbox flush stopped: ${(error as Error).message}`);
    }
  }

  /** Called after a commit that added outbox entries, so they leave at once instead of at the next poll. */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let published = 0;
      try {
        if (this.publisher.isConnected) published = await this.relayBatch();
      } catch (error) {
        this.logger.warn(`outbox relay: ${(error as Error).message}`);
      }
      if (published === 0 && this.running) await this.idle();
    }
  }

  private idle(): Promise<void> {
    if (this.pendingWake) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.pendingWake = false;
        resolve();
      };
      const timer = setTimeout(finish, this.config.outbox.pollIntervalMs);
      this.wakeUp = finish;
    });
  }

  /** Publishes one batch; returns how many entries left the outbox. */
  async relayBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const entries = await this.store.claimOutbox(manager, this.config.outbox.batchSize);
      if (entries.length === 0) return 0;
      const outcomes = await Promise.allSettled(entries.map((entry) => this.publish(entry)));
      const now = this.clock.now();
      const done: string[] = [];
      const sentEnvelopes: string[] = [];
      const sentReceipts: string[] = [];
      const retry: string[] = [];
      for (const [index, outcome] of outcomes.entries()) {
        const entry = entries[index]!;
        if (outcome.status === 'fulfilled') {
          done.push(entry.id);
          (entry.payloadType === 'envelope' ? sentEnvelopes : sentReceipts).push(entry.messageId);
        } else if (outcome.reason instanceof UnroutableError) {
          done.push(entry.id);
          if (entry.payloadType === 'envelope') {
            await this.failUnroutable(manager, entry.messageId, outcome.reason.message, now);
          } else {
            this.logger.warn({
              message: `a receipt is unroutable: ${outcome.reason.message}`,
              envelopeId: entry.messageId,
            });
          }
        } else {
          retry.push(entry.id);
        }
      }
      // One statement for the whole batch: delete, mark sent, evidence, postpone.
      await this.store.settleRelayed(manager, {
        published: done,
        sentEnvelopes,
        sentReceipts,
        retry,
        retryDelayMs: 1000,
        at: now,
        maxRetransmitIntervalMs: this.config.delivery.maxRetransmitIntervalMs,
      });
      return done.length;
    });
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

  private publish(entry: ClaimedOutboxEntry): Promise<void> {
    return this.publisher.publish({
      routingKey: entry.routingKey,
      payload: entry.payload,
      messageId: `${entry.payloadType}:${entry.messageId}:${entry.id}`,
      type: entry.payloadType,
      contentType: entry.payloadType === 'envelope' ? ENVELOPE_MEDIA_TYPE : RECEIPT_MEDIA_TYPE,
    });
  }
}
