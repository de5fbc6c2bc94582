import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { AmqpSession } from './amqp-session';
import { TRANSMIT_EXCHANGE, assertTransmitExchange, type MessageType } from './topology';

const CONFIRM_TIMEOUT_MS = 15_000;

/** The broker had no queue for the routing key: with `mandatory` that is a failure, not silence. */
export class UnroutableError extends Error {
  override readonly name = 'UnroutableError';
}

export interface Publication {
  routingKey: string;
  payload: Buffer;
  messageId: string;
  type: MessageType;
  contentType: string;
  /** AMQP headers (chunks name their envelope, attachment and index); none by default. */
  headers?: Record<string, string | number>;
}

/**
 * Publishes persistent, mandatory messages and resolves only when the broker has confirmed
 * them. A message the broker returned as unroutable rejects with UnroutableError.
 */
@Injectable()
export class AmqpPublisher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AmqpPublisher.name);
  private readonly session: AmqpSession;
  private readonly returned = new Set<string>();
  /** The broker account: set as user_id on every message, which the broker validates. */
  private readonly userId: string;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.userId = brokerUserOf(config.amqpUrl);
    const tlsCa = config.amqpCaPath ? readFileSync(config.amqpCaPath) : undefined;
    this.session = new AmqpSession(
      config.amqpUrl,
      `publisher-${config.state}`,
      this.logger,
      (channel) => this.prepare(channel),
      tlsCa,
    );
  }

  onModuleInit(): void {
    this.session.openInBackground();
  }

  /** Last: the relay's final flush (before shutdown) still publishes through this connection. */
  async onApplicationShutdown(): Promise<void> {
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
          userId: this.userId,
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

  private async prepare(channel: ConfirmChannel): Promise<void> {
    channel.on('return', (message: ConsumeMessage) => {
      if (message.properties.messageId) this.returned.add(String(message.properties.messageId));
    });
    if (this.config.transport.declareTopology) await assertTransmitExchange(channel);
  }
}

/** The user name in an AMQP URL (amqplib connects as guest when there is none). */
export function brokerUserOf(amqpUrl: string): string {
  return decodeURIComponent(new URL(amqpUrl).username) || 'guest';
}
