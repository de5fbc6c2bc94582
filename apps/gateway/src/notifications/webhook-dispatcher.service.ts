import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { cloudEventOf, signWebhook, type NodeEvent } from '@comity/protocol';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { EventRepository } from '../persistence/event.repository';
import { WebhookRepository, type WebhookSubscriptionRow } from '../persistence/webhook.repository';
import { FederationTrust } from '../trust/federation-trust';
import { postToEndpoint } from './webhook-endpoint';
import { WebhookSubscriptions } from './webhook-subscriptions.service';

const BATCH = 50;
const MAX_BACKOFF_MS = 3_600_000;
/** An endpoint failing this many times in a row, or this long, raises one alert. */
const ALERT_AFTER_ATTEMPTS = 8;
const ALERT_AFTER_MS = 15 * 60_000;

export type DeliveryOutcome =
  { kind: 'delivered' } | { kind: 'gone' } | { kind: 'failed'; error: string };

/**
 * Delivers events to webhook subscriptions (docs/integration.md): at least once, in sequence
 * order per endpoint (the next event waits for the one before), each signed per Standard
 * Webhooks with a CloudEvents JSON body. A failure is retried with exponential backoff and
 * jitter; after COMITY_WEBHOOK_GIVE_UP_SECONDS (three days) of failures the event becomes a dead letter (for
 * an operator to redeliver) and the next one goes. `410 Gone` disables the subscription.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly loop: BackgroundLoop;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: WebhookRepository,
    private readonly events: EventRepository,
    private readonly subscriptions: WebhookSubscriptions,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {
    this.loop = new BackgroundLoop({
      name: 'webhook dispatcher',
      // Again at once only with a backlog: otherwise events gather for up to 200 ms and go
      // in one pass (a pass costs a few queries however few events it carries).
      pass: async () => (await this.dispatch()) >= BATCH,
      idleMs: 200,
      errorDelayMs: 2000,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled(this.serving.values());
  }

  /** Subscriptions being served now: a slow endpoint holds its own pass, not everyone's. */
  private readonly serving = new Map<string, Promise<number>>();

  /**
   * Starts a pass for each due subscription not already being served, and waits up to half a
   * second for them; returns the events those that finished delivered.
   */
  async dispatch(): Promise<number> {
    // One cheap look first: a subscription already at the latest event has nothing to do.
    const latest = await this.events.latestSeq();
    const due = (await this.store.due(this.clock.now())).filter(
      (subscription) => subscription.cursorSeq < latest && !this.serving.has(subscription.id),
    );
    const started = due.map((subscription) => {
      const pass = this.serve(subscription, latest)
        .catch((error: unknown) => {
          this.logger.warn(
            `webhook pass for ${subscription.id} failed: ${(error as Error).message}`,
          );
          return 0;
        })
        .finally(() => this.serving.delete(subscription.id));
      this.serving.set(subscription.id, pass);
      return pass;
    });
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(started),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), 500);
      }),
    ]);
    clearTimeout(timer);
    return finished ? finished.reduce((sum, count) => sum + count, 0) : 0;
  }

  /** Sends one event to a subscription now (an operator's redelivery of a dead letter). */
  async deliverOnce(
    subscription: WebhookSubscriptionRow,
    event: NodeEvent,
  ): Promise<DeliveryOutcome> {
    return this.post(subscription, event, await this.subscriptions.secretsOf(subscription));
  }

  private async serve(subscription: WebhookSubscriptionRow, latest: number): Promise<number> {
    const leaseMs = this.config.webhooks.timeoutMs * 2 + 5000;
    const leasedAt = Date.now();
    if (!(await this.store.lease(subscription.id, this.clock.now(), leaseMs))) return 0;
    // No delivery starts that could outlast the lease (another replica would take over).
    const mayStartAnother = () =>
      Date.now() - leasedAt < leaseMs - this.config.webhooks.timeoutMs - 1000;
    try {
      const events = await this.events.page(subscription.cursorSeq, BATCH, {
        authority: subscription.authority,
        types: subscription.eventTypes,
      });
      if (events.length === 0) {
        // Nothing for it: move past what did not match, so the next pass reads from here.
        if (latest > subscription.cursorSeq) {
          await this.store.advance(subscription.id, subscription.cursorSeq, latest);
        }
        return 0;
      }
      const secrets = await this.subscriptions.secretsOf(subscription);
      // The cursor moves once per pass (one commit, not one per event): a crash in the middle
      // delivers this pass's events again, which at-least-once allows (webhook-id tells).
      let cursor = subscription.cursorSeq;
      let delivered = 0;
      const moveCursor = async () =>
        cursor === subscription.cursorSeq ||
        (await this.store.advance(subscription.id, subscription.cursorSeq, cursor));
      for (const event of events) {
        if (!mayStartAnother()) break;
        const outcome = await this.post(subscription, event, secrets);
        if (outcome.kind === 'delivered') {
          cursor = event.seq;
          delivered += 1;
          continue;
        }
        if (!(await moveCursor())) return delivered;
        if (outcome.kind === 'gone') {
          await this.store.disable(
            subscription.id,
            'the endpoint answered 410 Gone',
            this.clock.now(),
          );
          this.logger.error(
            `alert: webhook subscription ${subscription.id} disabled: its endpoint answered 410 Gone`,
          );
        } else {
          // Events delivered in this pass ended the previous failure streak.
          const streak = delivered > 0 ? { attempts: 0, failingSince: null, alerted: false } : {};
          await this.failed(
            { ...subscription, ...streak, cursorSeq: cursor },
            event,
            outcome.error,
          );
        }
        return delivered;
      }
      await moveCursor();
      return delivered;
    } finally {
      await this.store.release(subscription.id);
    }
  }

  private async failed(subscription: WebhookSubscriptionRow, event: NodeEvent, error: string) {
    const now = this.clock.now();
    const attempts = subscription.attempts + 1;
    const failingSince = subscription.failingSince ?? now;
    const host = new URL(subscription.url).host;
    if (now.getTime() - failingSince.getTime() >= this.config.webhooks.giveUpMs) {
      await this.store.addDeadLetter({
        subscriptionId: subscription.id,
        eventSeq: event.seq,
        attempts,
        lastError: error,
        failedAt: now,
      });
      await this.store.advance(subscription.id, subscription.cursorSeq, event.seq);
      this.logger.error(
        `alert: webhook event ${event.seq} to ${host} given up after ${attempts} attempts (dead letter): ${error}`,
      );
      return;
    }
    const backoff = Math.min(
      MAX_BACKOFF_MS,
      this.config.webhooks.retryBaseMs * 2 ** (attempts - 1),
    );
    const nextAttemptAt = new Date(now.getTime() + backoff * (0.8 + Math.random() * 0.4));
    const alert =
      !subscription.alerted &&
      (attempts >= ALERT_AFTER_ATTEMPTS ||
        now.getTime() - failingSince.getTime() >= ALERT_AFTER_MS);
    if (alert) {
      this.logger.error(
        `alert: webhook endpoint ${host} keeps failing (${attempts} attempts since ${failingSince.toISOString()}): ${error}`,
      );
    }
    await this.store.recordFailure(subscription.id, {
      attempts,
      failingSince,
      nextAttemptAt,
      error,
      alerted: subscription.alerted || alert,
    });
  }

  private async post(
    subscription: WebhookSubscriptionRow,
    event: NodeEvent,
    secrets: string[],
  ): Promise<DeliveryOutcome> {
    const ed25519 = this.trust.signing.suite === 'ed25519-x25519';
    if (secrets.length === 0 && !ed25519) {
      return {
        kind: 'failed',
        error:
          'no secret of this subscription can be opened (sealed with keys this node no longer holds): set a new secret',
      };
    }
    const body = JSON.stringify(cloudEventOf(event, `urn:comity:${this.trust.state}`));
    const headers = signWebhook({
      id: event.id,
      timestamp: Math.floor(this.clock.now().getTime() / 1000),
      body,
      secrets,
      ...(ed25519 ? { ed25519Key: this.trust.signing.key } : {}),
    });
    try {
      const answer = await postToEndpoint(new URL(subscription.url), headers, body, {
        environment: this.config.environment,
        allowedHosts: this.config.webhooks.allowedHosts,
        timeoutMs: this.config.webhooks.timeoutMs,
      });
      if (answer.status >= 200 && answer.status < 300) return { kind: 'delivered' };
      if (answer.status === 410) return { kind: 'gone' };
      return { kind: 'failed', error: `HTTP ${answer.status}` };
    } catch (error) {
      return { kind: 'failed', error: (error as Error).message.slice(0, 300) };
    }
  }
}
