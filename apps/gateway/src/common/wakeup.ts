/**
 * The sleep of a worker loop that others can cut short: `wait(ms)` resolves after `ms` or at
 * the next `wake()`, and at once if `wake()` was called since the last wait (so a wake-up that
 * arrives while the loop is busy is not lost).
 */
export class Wakeup {
  private pending = false;
  private cut: (() => void) | null = null;

  wake(): void {
    this.pending = true;
    this.cut?.();
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.cut = null;
        this.pending = false;
        resolve();
      };
      // Unref'd: a loop asleep must not keep a process alive that has nothing else to do.
      const timer = setTimeout(finish, ms).unref();
      this.cut = finish;
    });
  }
}
