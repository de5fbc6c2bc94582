import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { MESSAGE_TYPES, type MessageType, type QuarantinedDelivery } from '../message-transport';
import type { AmqpSettings } from './amqp-settings';
import { AmqpSession } from './amqp-session';
import { QUARANTINE_DETAIL_HEADER, QUARANTINE_REASON_HEADER, quarantineQueue } from './topology';

/** How long a quarantined message that could not be kept waits before it is offered again. */
const KEEP_RETRY_MS = 5000;

/**
 * Consumes this State's quarantine queue: every message the inbox set aside (our own copy with
 * the reason, or one the broker dead-lettered after its delivery limit) is handed to `keep`
 * and acked only once `keep` resolved.
 */
export class AmqpQuarantineConsumer {
  private readonly logger = new Logger(AmqpQuarantineConsumer.name);
  private readonly session: AmqpSession;

  constructor(
    private readonly settings: AmqpSettings,
    private readonly keep: (delivery: QuarantinedDelivery) => Promise<void>,
  ) {
    this.session = new AmqpSession(
      settings.url,
      `quarantine-${settings.state}`,
      this.logger,
      (channel) => this.startConsuming(channel),
      settings.tlsCa,
    );
  }

  openInBackground(): void {
    this.session.openInBackground();
  }

  close(): Promise<void> {
    return this.session.close();
  }

  private async startConsuming(channel: ConfirmChannel): Promise<void> {
    await channel.prefetch(16);
    await channel.consume(
      quarantineQueue(this.settings.state),
      (message) => {
        if (!message) {
          this.session.reset('cancelled the quarantine consumer');
          return;
        }
        this.keep(describeQuarantined(message, this.settings.brokerUser, new Date())).then(
          () => channel.ack(message),
          (error: Error) => {
            // Not stored: leave it on the queue for the next attempt (database down).
            this.logger.warn(`quarantine: could not store a message yet: ${error.message}`);
            setTimeout(() => {
              try {
                channel.nack(message, false, true);
              } catch {
                // The channel is gone; the broker keeps the message.
              }
            }, KEEP_RETRY_MS).unref();
          },
        );
      },
      { noAck: false },
    );
  }
}

/**
 * What may be kept of a quarantined broker message: the reason, and who published it. The
 * reason and original publisher are taken from our own copy's headers only when that copy was
 * published by this node's account; otherwise from the broker's dead-lettering headers.
 */
export function describeQuarantined(
  message: ConsumeMessage,
  ownBrokerUser: string,
  now: Date,
): QuarantinedDelivery {
  const properties = message.properties;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const publishedByUs = properties.userId === ownBrokerUser;
  const copied = publishedByUs && typeof headers[QUARANTINE_REASON_HEADER] === 'string';
  const deathReason = printable(headers['x-first-death-reason']);
  const reason = copied
    ? printable(headers[QUARANTINE_REASON_HEADER], 100)!
    : deathReason === 'delivery_limit'
      ? 'delivery-limit'
      : 'dead-lettered';
  const detail = copied
    ? (printable(headers[QUARANTINE_DETAIL_HEADER]) ?? '')
    : deathReason === 'delivery_limit'
      ? 'handling kept failing until the inbox delivery limit; see the node log'
      : `dead-lettered by the broker (${deathReason ?? 'no reason given'})`;
  const brokerUser = copied
    ? printable(headers['x-comity-original-user-id'], 200) || null
    : printable(properties.userId, 200);
  const quarantinedAt = copied
    ? new Date(printable(headers['x-comity-quarantined-at'], 40) ?? now.toISOString())
    : now;
  const type = printable(properties.type, 40);
  return {
    fingerprint: createHash('sha256')
      .update(message.content)
      .update(
        `\0${reason}\0${printable(headers['x-comity-quarantined-at']) ?? ''}\0${printable(properties.messageId) ?? ''}`,
      )
      .digest('base64url'),
    messageType: (MESSAGE_TYPES as readonly string[]).includes(type ?? '')
      ? (type as MessageType)
      : 'unknown',
    amqpMessageId: printable(properties.messageId, 200),
    brokerUser,
    reason,
    detail,
    payload: message.content,
    quarantinedAt: Number.isNaN(quarantinedAt.getTime()) ? now : quarantinedAt,
  };
}

/** A header value from a stranger, bounded and printable, or null. */
function printable(value: unknown, max = 1000): string | null {
  return typeof value === 'string' || typeof value === 'number'
    ? String(value)
        .replace(/[^\x20-\x7e]/g, '?')
        .slice(0, max)
    : null;
}
