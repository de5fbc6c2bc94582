import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { issueNonDeliveryEvidence } from '@comity/protocol';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { UnitOfWork } from '../persistence/database';
import { EvidenceRepository } from '../persistence/evidence.repository';
import { OutboundMessageRepository } from '../persistence/outbound-message.repository';
import { OutboxRepository } from '../persistence/outbox.repository';
import { FederationTrust } from '../trust/federation-trust';

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
  private readonly loop: BackgroundLoop;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly unitOfWork: UnitOfWork,
    private readonly messages: OutboundMessageRepository,
    private readonly outbox: OutboxRepository,
    private readonly evidence: EvidenceRepository,
    private readonly trust: FederationTrust,
    private readonly relay: OutboxRelay,
    private readonly clock: Clock,
  ) {
    this.loop = new BackgroundLoop({
      name: 'watchdog',
      pass: async () => {
        await this.sweep();
      },
      idleMs: config.delivery.watchdogIntervalMs,
      sleepFirst: true,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
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
    return this.unitOfWork.run(async (tx) => {
      const overdue = await this.messages.claimOverdue(tx, 200);
      const now = this.clock.now();
      for (const message of overdue) {
        await this.outbox.enqueue(tx, {
          messageId: message.id,
          payloadType: 'envelope',
          routingKey: this.trust.routingKeyOf(message.toState),
          // The relay reads the envelope from the message row (no second copy in the outbox).
          payload: null,
          availableAt: now,
        });
        await this.evidence.addEvidence(tx, {
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
    return this.unitOfWork.run(async (tx) => {
      const expired = await this.messages.claimExpired(tx, 200);
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
        await this.outbox.dropPendingEnvelopes(tx, message.id);
        await this.messages.markFailed(tx, {
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
    return this.unitOfWork.run(async (tx) => {
      const dropped = await this.outbox.dropExhaustedReceipts(tx, RECEIPT_PUBLISH_ATTEMPTS);
      const now = this.clock.now();
      for (const messageId of dropped) {
        await this.evidence.addEvidence(tx, {
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
