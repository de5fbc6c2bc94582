import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ENVELOPE_MEDIA_TYPE, RECEIPT_MEDIA_TYPE } from '@comity/protocol';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { MessageStore, type ClaimedOutboxEntry } from '../persistence/message-store';
import { AmqpPublisher, UnroutableError } from '../transport/amqp-publisher';

/**
 * Moves outbox entries to the broker. Each batch is claimed with FOR UPDATE SKIP LOCKED (so
 * replicas sharing a database never publish the same entry concurrently), published with
 * confirms, and only then deleted and marked sent, in the same transaction that claimed it.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
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
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
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
      const timer = setTimeout(done, this.config.outbox.pollIntervalMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        this.pendingWake = false;
        done();
      };
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
      const retry: string[] = [];
      for (const [index, outcome] of outcomes.entries()) {
        const entry = entries[index]!;
        if (outcome.status === 'fulfilled') {
          done.push(entry.id);
          if (entry.payloadType === 'envelope') sentEnvelopes.push(entry.messageId);
          else {
            await this.store.addEvidence(manager, {
              messageId: entry.messageId,
              direction: 'inbound',
              type: 'receipt-sent',
              at: now,
            });
          }
        } else if (outcome.reason instanceof UnroutableError) {
          done.push(entry.id);
          if (entry.payloadType === 'envelope') {
            await this.store.markFailed(
              manager,
              entry.messageId,
              'unroutable',
              outcome.reason.message,
              now,
            );
          } else {
            this.logger.warn(
              `receipt for ${entry.messageId} is unroutable: ${outcome.reason.message}`,
            );
          }
        } else {
          retry.push(entry.id);
        }
      }
      await this.store.deleteOutbox(manager, done);
      await this.store.markSent(manager, sentEnvelopes, now);
      await this.store.postponeOutbox(manager, retry, 1000);
      return done.length;
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
