/**
 * Group commit: callers each hand in one item and wait for it to be durable; items that arrive
 * while a write is in flight are written together by the next one, as one statement and one
 * commit. A lone item is written at once (no timer, no added latency); under load the batches
 * grow by themselves. If a batch fails, its items are written one by one, so one bad item
 * (a unique-key clash) fails only its own caller. The same shape serves lookups made for
 * every message: one `id = ANY(...)` query for all the callers waiting.
 */
export class GroupCommit<T, R> {
  private queue: Array<{
    item: T;
    resolve: (result: R) => void;
    reject: (error: unknown) => void;
  }> = [];
  private flushing = false;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 200,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.write(batch.map((entry) => entry.item));
          batch.forEach((entry, index) => entry.resolve(results[index]!));
        } catch (error) {
          // Only an error about the data (SQL classes 22 and 23: a bad value, a unique-key
          // clash) is worth isolating. Anything else (the connection dropped, perhaps after the
          // commit) is ambiguous: every caller gets it, none is retried behind its back.
          if (batch.length === 1 || !isDataError(error)) {
            for (const entry of batch) entry.reject(error);
            continue;
          }
          for (const entry of batch) {
            try {
              const [result] = await this.write([entry.item]);
              entry.resolve(result!);
            } catch (alone) {
              entry.reject(alone);
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}
