import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { issueNonDeliveryEvidence } from '@comity/protocol';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { MessageStore } from '../persistence/message-store';
import { FederationTrust } from '../trust/federation-trust';
import { OutboxRelay } from './outbox-relay.service';

/** After this many failed publishes (about a day at the relay's capped backoff) a receipt is given up. */
export const RECEIPT_PUBLISH_ATTEMPTS = 1500;

/**
 * Makes sure nothing waits for ever. Each non-final state has a deadline and a next step:
 * - `sent` without a receipt by `receipt_due_at` → the same envelope bytes go out again
 *   (exponential backoff with jitter, set when the broker confirms each transmission);
 * - `submitted` or `sent` at `expires_at` → `failed`, with the sender's signed non-delivery
 *   evidence on the timeline and an alert in the log;
 * - a receipt that could not be published after RECEIPT_PUBLISH_ATTEMPTS → dropped, recorded.
 * Claims use FOR UPDATE SKIP LOCKED, so replicas sharing a database split the work.
 */
@Injectable()
export class DeliveryWatchdog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryWatchdog.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: MessageStore,
    private readonly trust: FederationTrust,
    private readonly relay: OutboxRelay,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((error: Error) => this.logger.warn(`watchdog: ${error.message}`))
        .finally(() => {
          this.running = null;
        });
    }, this.config.delivery.watchdogIntervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass over every deadline; returns what it did (for tests and logs). */
  async sweep(): Promise<{ retransmitted: number; expired: number; receiptsDropped: number }> {
    const retransmitted = await this.retransmitOverdue();
    const expired = await this.expireUnsettled();
    const receiptsDropped = await this.dropExhaustedReceipts();
    if (retransmitted > 0) this.relay.wake();
    return { retransmitted, expired, receiptsDropped };
  }

  private retransmitOverdue(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const overdue = await this.store.claimOverdue(manager, 200);
      const now = this.clock.now();
      for (const message of overdue) {
        await this.store.enqueue(manager, {
          messageId: message.id,
          payloadType: 'envelope',
          routingKey: this.trust.routingKeyOf(message.toState),
          // The relay reads the envelope from the message row (no second copy in the outbox).
          payload: null,
          availableAt: now,
        });
        await this.store.addEvidence(manager, {
          messageId: message.id,
          direction: 'outbound',
          type: 'retransmitted',
          at: now,
          detail: `no receipt after transmission ${message.transmissions}; sending the same envelope again`,
        });
      }
      return overdue.length;
    });
  }

  private expireUnsettled(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const expired = await this.store.claimExpired(manager, 200);
      const now = this.clock.now();
      for (const message of expired) {
        const reason = message.transmissions === 0 ? 'expired-unsent' : 'expired-undelivered';
        const evidence = issueNonDeliveryEvidence({
          signer: this.trust.signing,
          envelopeId: message.id,
          envelopeDigest: message.envelopeDigest,
          reason,
          transmissions: message.transmissions,
          from: { state: this.trust.state, authority: message.fromAuthority },
          to: { state: message.toState, authority: message.toAuthority },
          now,
        });
        await this.store.dropPendingEnvelopes(manager, message.id);
        await this.store.markFailed(manager, {
          messageId: message.id,
          reason,
          detail: `expired after ${message.transmissions} transmission(s) without a valid receipt; non-delivery evidence ${evidence.statement.id}`,
          signed: evidence.bytes,
          at: now,
        });
        this.logger.error(
          `alert: non-delivery of envelope ${message.id} to ${message.toState} (${reason}, ${message.transmissions} transmission(s))`,
        );
      }
      return expired.length;
    });
  }

  private dropExhaustedReceipts(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const dropped = await this.store.dropExhaustedReceipts(manager, RECEIPT_PUBLISH_ATTEMPTS);
      const now = this.clock.now();
      for (const messageId of dropped) {
        await this.store.addEvidence(manager, {
          messageId,
          direction: 'inbound',
          type: 'failed',
          at: now,
          reason: 'receipt-unpublishable',
          detail: `the receipt could not be published after ${RECEIPT_PUBLISH_ATTEMPTS} attempts; a retransmission of the envelope will get it again`,
        });
        this.logger.error(
          `alert: receipt for envelope ${messageId} given up after ${RECEIPT_PUBLISH_ATTEMPTS} attempts`,
        );
      }
      return dropped.length;
    });
  }
}
