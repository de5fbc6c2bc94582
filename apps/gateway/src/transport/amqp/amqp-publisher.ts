import { Logger } from '@nestjs/common';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { UnroutableError, type Publication, type QueueStatus } from '../message-transport';
import type { AmqpSettings } from './amqp-settings';
import { AmqpSession } from './amqp-session';
import { TRANSMIT_EXCHANGE, assertTransmitExchange, inboxQueue, quarantineQueue } from './topology';

const CONFIRM_TIMEOUT_MS = 15_000;

export { UnroutableError };

/**
 * Publishes persistent, mandatory messages and resolves only when the broker has confirmed
 * them. A message the broker returned as unroutable rejects with UnroutableError.
 */
export class AmqpPublisher {
  private readonly logger = new Logger(AmqpPublisher.name);
  private readonly session: AmqpSession;
  private readonly returned = new Set<string>();

  constructor(private readonly settings: AmqpSettings) {
    this.session = new AmqpSession(
      settings.url,
      `publisher-${settings.state}`,
      this.logger,
      (channel) => this.prepare(channel),
      settings.tlsCa,
    );
  }

  /** Connects, and keeps retrying in the background while the broker is away. */
  openInBackground(): void {
    this.session.openInBackground();
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  get isConnected(): boolean {
    return this.session.isOpen;
  }

  /** Waits (bounded) for the first connection; used at start-up and by tests. */
  async ready(): Promise<void> {
    await this.session.open();
  }

  publish(publication: Publication): Promise<void> {
    const channel = this.session.channel;
    const { messageId } = publication;
    return new Promise<void>((resolve, reject) => {
      // A broker under a memory or disk alarm blocks publishers without closing anything:
      // give up on the confirm after a while, so the outbox retries instead of hanging.
      const timer = setTimeout(
        () => reject(new Error(`no confirm from the broker within ${CONFIRM_TIMEOUT_MS} ms`)),
        CONFIRM_TIMEOUT_MS,
      );
      channel.publish(
        TRANSMIT_EXCHANGE,
        publication.routingKey,
        publication.payload,
        {
          persistent: true,
          mandatory: true,
          messageId,
          type: publication.type,
          contentType: publication.contentType,
          timestamp: Math.floor(Date.now() / 1000),
          appId: 'comity',
          userId: this.settings.brokerUser,
          ...(publication.headers ? { headers: publication.headers } : {}),
        },
        (error: unknown) => {
          // RabbitMQ sends basic.return before the confirm of the same message.
          clearTimeout(timer);
          const wasReturned = this.returned.delete(messageId);
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else if (wasReturned) {
            reject(
              new UnroutableError(`no inbox is bound for routing key "${publication.routingKey}"`),
            );
          } else resolve();
        },
      );
    });
  }

  /** Depth and consumers of this State's inbox and quarantine queues; null values when the broker is away. */
  queueDepths(): Promise<QueueStatus[]> {
    const names: Array<[string, QueueStatus['role']]> = [
      [inboxQueue(this.settings.state), 'inbox'],
      [quarantineQueue(this.settings.state), 'quarantine'],
    ];
    return Promise.all(
      names.map(async ([name, role]) => {
        try {
          // A passive check of a missing queue closes its channel: never the publishing one.
          const status = await this.session.withSideChannel((channel: Channel) =>
            channel.checkQueue(name),
          );
          return { name, role, messages: status.messageCount, consumers: status.consumerCount };
        } catch {
          return { name, role, messages: null, consumers: null };
        }
      }),
    );
  }

  private async prepare(channel: ConfirmChannel): Promise<void> {
    channel.on('return', (message: ConsumeMessage) => {
      if (message.properties.messageId) this.returned.add(String(message.properties.messageId));
    });
    if (this.settings.declareTopology) await assertTransmitExchange(channel);
  }
}
