import type { LoggerService } from '@nestjs/common';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { lastValueFrom } from 'rxjs';
import type { InboxDisposition } from '../inbox-disposition';
import type { InboxContext } from '../message-transport';
import type { AmqpSettings } from './amqp-settings';
import { AmqpSession } from './amqp-session';
import {
  QUARANTINE_DETAIL_HEADER,
  QUARANTINE_EXCHANGE,
  QUARANTINE_REASON_HEADER,
  assertInboxTopology,
  inboxQueue,
} from './topology';

export interface InboxServerOptions {
  settings: AmqpSettings;
  /** The routing key senders use for this State (from the directory). */
  routingKey: string;
  logger: LoggerService;
  /** First wait before a message that failed for a passing reason (database down) is redelivered. */
  retryDelayMs?: number;
}

/** The broker message as handlers see it: the AMQP properties they may use, nothing parsed. */
class AmqpInboxContext implements InboxContext {
  constructor(private readonly message: ConsumeMessage) {}

  get messageId(): string | undefined {
    const messageId: unknown = this.message.properties.messageId;
    return typeof messageId === 'string' ? messageId : undefined;
  }

  get userId(): string | undefined {
    const userId: unknown = this.message.properties.userId;
    return typeof userId === 'string' ? userId : undefined;
  }

  get headers(): Readonly<Record<string, unknown>> {
    return (this.message.properties.headers ?? {}) as Record<string, unknown>;
  }
}

/**
 * NestJS transport strategy for a State's inbox queue: manual acks, bounded prefetch, and one
 * rule: a message is acked only after its handler has durably stored what it means, or after
 * it has been copied to quarantine with the reason. Handlers are `@EventPattern('envelope')`
 * and `@EventPattern('receipt')`, keyed by the AMQP `type` property.
 */
export class AmqpInboxServer extends Server implements CustomTransportStrategy {
  private readonly session: AmqpSession;
  private readonly inFlight = new Set<Promise<void>>();
  private consumerTag: string | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: InboxServerOptions) {
    super();
    this.session = new AmqpSession(
      options.settings.url,
      `inbox-${options.settings.state}`,
      options.logger,
      (channel) => this.startConsuming(channel),
      options.settings.tlsCa,
    );
  }

  listen(callback: (error?: unknown) => void): void {
    this.session.open().then(
      () => callback(),
      (error: unknown) => {
        // Start anyway and keep trying: the HTTP API accepts requests while the broker is away.
        this.options.logger.warn?.(`inbox: broker not reachable yet (${String(error)}); retrying`);
        this.session.openInBackground();
        callback();
      },
    );
  }

  /** Stops taking new messages, lets those in hand finish, then closes the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.consumerTag && this.session.isOpen) {
        await this.session.channel.cancel(this.consumerTag).catch(() => undefined);
      }
      await Promise.allSettled([...this.inFlight]);
      await this.session.close();
    })();
    return this.closing;
  }

  on(): never {
    throw new Error('AmqpInboxServer has no events to subscribe to');
  }

  unwrap<T>(): T {
    return this.session.channel as T;
  }

  get isConsuming(): boolean {
    return this.session.isOpen && this.consumerTag !== null;
  }

  private async startConsuming(channel: ConfirmChannel): Promise<void> {
    const { state, declareTopology, prefetch } = this.options.settings;
    if (declareTopology) await assertInboxTopology(channel, state, this.options.routingKey);
    await channel.prefetch(prefetch);
    const { consumerTag } = await channel.consume(
      inboxQueue(state),
      (message) => {
        if (!message) {
          // The broker cancelled the consumer (queue deleted or moved): start over.
          this.consumerTag = null;
          this.session.reset('cancelled the inbox consumer');
          return;
        }
        const work = this.handle(channel, message).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
      },
      { noAck: false },
    );
    this.consumerTag = consumerTag;
  }

  private async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const disposition = await this.dispose(message);
    try {
      if (disposition.action === 'ack') {
        channel.ack(message);
      } else if (disposition.action === 'quarantine') {
        try {
          await this.quarantine(channel, message, disposition.reason, disposition.detail);
          channel.ack(message);
        } catch (error) {
          // The copy failed: let the broker dead-letter the original to quarantine instead.
          this.options.logger.warn?.(
            `inbox: quarantine copy failed (${String(error)}); dead-lettering`,
          );
          channel.nack(message, false, false);
        }
      } else {
        this.options.logger.warn?.(
          `inbox: message ${String(message.properties.messageId)} will be redelivered: ${disposition.detail}`,
        );
        setTimeout(() => {
          try {
            channel.nack(message, false, true);
          } catch {
            // The channel is gone; the broker redelivers unacked messages anyway.
          }
        }, this.retryDelay(message)).unref();
      }
    } catch (error) {
      // Not acked: the broker redelivers it after the channel closes, so nothing is lost.
      this.options.logger.warn?.(`inbox: could not settle a message: ${String(error)}`);
    }
  }

  /**
   * Backs off per delivery (1 s, 2 s, 4 s ... capped at a minute) so that a database outage of
   * several minutes passes before the broker's delivery limit sends the message to quarantine.
   */
  private retryDelay(message: ConsumeMessage): number {
    const deliveries = Number(message.properties.headers?.['x-delivery-count'] ?? 0);
    return Math.min(60_000, (this.options.retryDelayMs ?? 1000) * 2 ** Math.min(deliveries, 10));
  }

  private async dispose(message: ConsumeMessage): Promise<InboxDisposition> {
    const type = String(message.properties.type ?? '');
    const handler = this.getHandlerByPattern(type);
    if (!handler) {
      return {
        action: 'quarantine',
        reason: 'unknown-message-type',
        detail: `the AMQP type property "${type.slice(0, 64)}" is not one this node handles`,
      };
    }
    try {
      const result = await handler(message.content, new AmqpInboxContext(message));
      return (await lastValueFrom(this.transformToObservable(result))) as InboxDisposition;
    } catch (error) {
      const detail = error instanceof Error ? error.message : JSON.stringify(error);
      return { action: 'retry', detail };
    }
  }

  private async quarantine(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    reason: string,
    detail: string,
  ): Promise<void> {
    this.options.logger.warn?.(
      `inbox: quarantined message ${String(message.properties.messageId)}: ${reason}`,
    );
    // Only our own headers: copying a stranger's could overflow the frame or, with CC/BCC,
    // route copies elsewhere.
    channel.publish(QUARANTINE_EXCHANGE, this.options.settings.state, message.content, {
      persistent: true,
      messageId: printable(message.properties.messageId),
      type: printable(message.properties.type),
      contentType: printable(message.properties.contentType),
      timestamp:
        typeof message.properties.timestamp === 'number' ? message.properties.timestamp : undefined,
      // Our own account (validated by the broker): the quarantine keeper trusts the headers
      // below only on copies published by it. The original user_id goes in a header.
      userId: this.options.settings.brokerUser,
      headers: {
        [QUARANTINE_REASON_HEADER]: reason,
        [QUARANTINE_DETAIL_HEADER]: detail.slice(0, 1000),
        'x-comity-original-user-id': printable(message.properties.userId) ?? '',
        'x-comity-quarantined-at': new Date().toISOString(),
      },
    });
    await channel.waitForConfirms();
  }
}

/** An AMQP short string from a stranger, bounded and printable, or undefined. */
function printable(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  return String(value)
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 200);
}
