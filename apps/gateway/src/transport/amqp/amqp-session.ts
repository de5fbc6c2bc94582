import type { LoggerService } from '@nestjs/common';
import { connect, type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { BrokerUnavailableError } from '../message-transport';

/**
 * One AMQP connection with one confirm channel that comes back by itself: after a broker
 * restart or a network cut it reconnects with capped exponential backoff and runs the
 * `onOpen` hook again (topology, consumers). Every connection gets a generation number; events
 * of an older generation are ignored, so a late `close` cannot tear down its successor.
 */
export class AmqpSession {
  private model: ChannelModel | null = null;
  private current: ConfirmChannel | null = null;
  private generation = 0;
  private closing = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly logger: LoggerService,
    private readonly onOpen: (channel: ConfirmChannel) => Promise<void>,
    /** For amqps://: the CA certificates the broker's TLS certificate must chain to. */
    private readonly tlsCa?: Buffer,
  ) {}

  get channel(): ConfirmChannel {
    if (!this.current) {
      throw new BrokerUnavailableError(`the ${this.name} connection to the broker is down`);
    }
    return this.current;
  }

  get isOpen(): boolean {
    return this.current !== null;
  }

  /** Resolves once a connection is open (at once if one is); rejects if it cannot be opened. */
  open(): Promise<void> {
    this.closing = false;
    if (this.current) return Promise.resolve();
    this.connecting ??= this.connectOnce().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.generation += 1;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    await this.connecting?.catch(() => undefined);
    const model = this.model;
    this.model = null;
    this.current = null;
    await model?.close().catch(() => undefined);
  }

  /**
   * Runs `work` on a channel of its own, closed afterwards: for passive checks (queue depth)
   * whose failure closes the channel they ran on, which must never be the session's own.
   */
  async withSideChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    if (!this.model) {
      throw new BrokerUnavailableError(`the ${this.name} connection to the broker is down`);
    }
    const channel = await this.model.createChannel();
    channel.on('error', () => undefined);
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Drops the current connection and reconnects (e.g. when the broker cancelled a consumer). */
  reset(why: string): void {
    this.lost(this.generation, why);
  }

  /** Keeps retrying the first connection too, for a node started before its broker. */
  openInBackground(): void {
    this.open().catch((error: Error) => {
      this.logger.warn?.(`${this.name}: broker not reachable (${error.message}); retrying`);
      this.scheduleReconnect();
    });
  }

  private async connectOnce(): Promise<void> {
    const generation = ++this.generation;
    // noDelay: without it Nagle's algorithm and delayed ACKs add ~40 ms to every confirm.
    const model = await connect(this.url, {
      noDelay: true,
      ...(this.tlsCa ? { ca: [this.tlsCa] } : {}),
      clientProperties: { connection_name: `comity-${this.name}` },
    });
    let dead = false;
    const onLost = (why: string) => () => {
      dead = true;
      this.lost(generation, why);
    };
    model.on('error', (error: Error) =>
      this.logger.warn?.(`${this.name} connection error: ${error.message}`),
    );
    model.on('close', onLost('connection closed'));
    model.on('blocked', (reason: string) =>
      this.logger.warn?.(`${this.name}: the broker blocked publishing (${reason})`),
    );
    model.on('unblocked', () => this.logger.log(`${this.name}: the broker unblocked publishing`));
    try {
      const channel = await model.createConfirmChannel();
      channel.on('error', (error: Error) =>
        this.logger.warn?.(`${this.name} channel error: ${error.message}`),
      );
      channel.on('close', onLost('channel closed'));
      await this.onOpen(channel);
      if (dead || this.closing || generation !== this.generation) {
        throw new BrokerUnavailableError(
          `${this.name}: the connection closed while it was being set up`,
        );
      }
      this.model = model;
      this.current = channel;
      this.attempt = 0;
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
  }

  private lost(generation: number, why: string): void {
    if (this.closing || generation !== this.generation) return;
    this.generation += 1;
    const model = this.model;
    this.model = null;
    this.current = null;
    void model?.close().catch(() => undefined);
    this.logger.warn?.(`${this.name}: broker ${why}; reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = Math.min(30_000, 250 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open().then(
        () => this.logger.log(`${this.name}: reconnected to the broker`),
        (error: Error) => {
          this.logger.warn?.(`${this.name}: reconnect failed (${error.message}); retrying`);
          this.scheduleReconnect();
        },
      );
    }, delay);
  }
}
