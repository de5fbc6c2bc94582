import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type {
  MessageTransport,
  Publication,
  QuarantinedDelivery,
  QueueStatus,
} from '../message-transport';
import { AmqpInboxServer } from './amqp-inbox.server';
import { AmqpPublisher } from './amqp-publisher';
import { AmqpQuarantineConsumer } from './amqp-quarantine-consumer';
import type { AmqpSettings } from './amqp-settings';

export const AMQP_SETTINGS = Symbol('AmqpSettings');

/**
 * The node's broker, over AMQP 0-9-1: one publishing connection, the inbox consumer (a NestJS
 * transport strategy, started by main.ts) and the quarantine consumer, each with its own
 * connection so that a slow or failing one never holds up the others.
 */
@Injectable()
export class AmqpTransport implements MessageTransport, OnModuleInit, OnApplicationShutdown {
  private readonly publisher: AmqpPublisher;
  private inbox: AmqpInboxServer | null = null;
  private quarantine: AmqpQuarantineConsumer | null = null;

  constructor(@Inject(AMQP_SETTINGS) private readonly settings: AmqpSettings) {
    this.publisher = new AmqpPublisher(settings);
  }

  onModuleInit(): void {
    this.publisher.openInBackground();
  }

  /** Last: the relay's final flush (before shutdown) still publishes through this connection. */
  async onApplicationShutdown(): Promise<void> {
    await this.quarantine?.close();
    await this.publisher.close();
  }

  get isConnected(): boolean {
    return this.publisher.isConnected;
  }

  /** Whether this State's inbox is being consumed. */
  get isConsuming(): boolean {
    return this.inbox?.isConsuming ?? false;
  }

  ready(): Promise<void> {
    return this.publisher.ready();
  }

  publish(publication: Publication): Promise<void> {
    return this.publisher.publish(publication);
  }

  queueDepths(): Promise<QueueStatus[]> {
    return this.publisher.queueDepths();
  }

  consumeQuarantine(keep: (delivery: QuarantinedDelivery) => Promise<void>): void {
    if (this.quarantine) throw new Error('the quarantine queue already has a consumer');
    this.quarantine = new AmqpQuarantineConsumer(this.settings, keep);
    this.quarantine.openInBackground();
  }

  /** The inbox consumer, as the NestJS transport strategy main.ts connects. Built once. */
  inboxServer(routingKey: string): AmqpInboxServer {
    this.inbox ??= new AmqpInboxServer({
      settings: this.settings,
      routingKey,
      logger: new Logger(AmqpInboxServer.name),
    });
    return this.inbox;
  }
}
