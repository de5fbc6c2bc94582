import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { BackgroundLoop } from '../common/background-loop';
import { EventRepository } from '../persistence/event.repository';

const BATCH = 1000;

/**
 * Numbers the events the triggers wrote (docs/integration.md), off the request path, every
 * 100 ms (at once while there is a backlog); wakes the readers waiting on the feed.
 */
@Injectable()
export class EventSequencer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventSequencer.name);
  private readonly loop: BackgroundLoop;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly events: EventRepository) {
    this.loop = new BackgroundLoop({
      name: 'event sequencer',
      pass: async () => {
        const numbered = await this.events.sequence(BATCH);
        if (numbered > 0) this.notify();
        // Again at once only with a backlog; otherwise every 100 ms, numbering what gathered.
        return numbered === BATCH;
      },
      idleMs: 100,
      errorDelayMs: 2000,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.notify();
    await this.loop.stop();
  }

  /** Resolves when events were numbered (by this process), or after `ms`, or on `signal`. */
  waitForNew(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      // Another replica's sequencer numbers events too: wake at least every second to look.
      const timer = setTimeout(done, Math.min(ms, 1000));
      this.waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
