import { Wakeup } from './wakeup';

export interface BackgroundLoopOptions {
  /** Names the loop in its log lines. */
  name: string;
  /** One pass of the work. `true`: it did something, so the next pass starts at once. */
  pass: () => Promise<boolean | void>;
  /** The sleep between passes that found nothing to do (cut short by `wake()`). */
  idleMs: number;
  /** The sleep after a pass that failed; `idleMs` by default. */
  errorDelayMs?: number;
  /** Sleep before the first pass too (periodic sweeps), instead of starting with one. */
  sleepFirst?: boolean;
  logger: { warn(message: string): void };
}

/**
 * The life of a worker loop that runs beside the request handling: started once, woken when
 * new work was committed, stopped at shutdown after the pass in hand finished. A pass that
 * throws is logged and the loop goes on: a database or broker outage must never end it.
 */
export class BackgroundLoop {
  private readonly wakeup = new Wakeup();
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: BackgroundLoopOptions) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Starts the next pass now (or right after the one in hand). */
  wake(): void {
    this.wakeup.wake();
  }

  /** Resolves once the pass in hand (if any) has finished; no pass starts after this. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeup.wake();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    const { pass, idleMs, errorDelayMs, sleepFirst, logger, name } = this.options;
    if (sleepFirst) await this.wakeup.wait(idleMs);
    while (this.running) {
      let worked = false;
      let failed = false;
      try {
        worked = (await pass()) === true;
      } catch (error) {
        failed = true;
        logger.warn(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (!worked && this.running)
        await this.wakeup.wait(failed ? (errorDelayMs ?? idleMs) : idleMs);
    }
  }
}
