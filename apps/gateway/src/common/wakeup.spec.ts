import { Wakeup } from './wakeup';

describe('Wakeup', () => {
  it('ends a wait early on wake(), and remembers a wake-up that came while nobody waited', async () => {
    const wakeup = new Wakeup();
    const started = Date.now();
    const waiting = wakeup.wait(10_000);
    wakeup.wake();
    await waiting;
    wakeup.wake();
    await wakeup.wait(10_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('ends a wait after its time when nobody wakes it', async () => {
    const started = Date.now();
    await new Wakeup().wait(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });
});
