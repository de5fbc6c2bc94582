import { BackgroundLoop } from './background-loop';

const quietLogger = (): { warn: jest.Mock } => ({ warn: jest.fn() });
const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('BackgroundLoop', () => {
  it('runs passes back to back while they find work, then sleeps until woken', async () => {
    let work = 3;
    const pass = jest.fn(async () => (work > 0 ? (work -= 1) >= 0 : false));
    const loop = new BackgroundLoop({ name: 't', pass, idleMs: 60_000, logger: quietLogger() });
    loop.start();
    await tick(20);
    expect(pass).toHaveBeenCalledTimes(4); // three with work, one that found none
    work = 1;
    loop.wake();
    await tick(20);
    expect(pass).toHaveBeenCalledTimes(6);
    await loop.stop();
  });

  it('logs a failing pass and goes on after the error delay', async () => {
    const logger = quietLogger();
    let calls = 0;
    const loop = new BackgroundLoop({
      name: 'sweep',
      pass: async () => {
        calls += 1;
        if (calls === 1) throw new Error('database down');
        return false;
      },
      idleMs: 60_000,
      errorDelayMs: 5,
      logger,
    });
    loop.start();
    await tick(40);
    expect(logger.warn).toHaveBeenCalledWith('sweep: database down');
    expect(calls).toBe(2);
    await loop.stop();
  });

  it('stop() waits for the pass in hand and starts no other', async () => {
    let release!: () => void;
    const started: number[] = [];
    const loop = new BackgroundLoop({
      name: 't',
      pass: () => {
        started.push(Date.now());
        return new Promise<boolean>((resolve) => {
          release = () => resolve(true);
        });
      },
      idleMs: 1,
      logger: quietLogger(),
    });
    loop.start();
    await tick();
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await tick();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(started).toHaveLength(1);
    expect(loop.isRunning).toBe(false);
  });

  it('sleepFirst: the first pass waits for the interval (or a wake-up)', async () => {
    const pass = jest.fn(async () => false);
    const loop = new BackgroundLoop({
      name: 't',
      pass,
      idleMs: 60_000,
      sleepFirst: true,
      logger: quietLogger(),
    });
    loop.start();
    await tick(20);
    expect(pass).not.toHaveBeenCalled();
    loop.wake();
    await tick(20);
    expect(pass).toHaveBeenCalledTimes(1);
    await loop.stop();
  });
});
