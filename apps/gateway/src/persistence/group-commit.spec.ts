import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('writes a lone item at once and batches what arrives while a write is in flight', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const group = new GroupCommit<number, string>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return items.map((item) => `ok ${item}`);
    });
    const first = group.submit(1);
    const others = [2, 3, 4].map((item) => group.submit(item));
    expect(batches).toEqual([[1]]);
    release();
    expect(await first).toBe('ok 1');
    expect(await Promise.all(others)).toEqual(['ok 2', 'ok 3', 'ok 4']);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('isolates a failing item: the others of its batch still succeed', async () => {
    let gate: () => void = () => undefined;
    let calls = 0;
    const group = new GroupCommit<number, number>(async (items) => {
      calls += 1;
      if (calls === 1) await new Promise<void>((resolve) => (gate = resolve));
      if (items.includes(3)) throw Object.assign(new Error('duplicate key'), { code: '23505' });
      return items.map((item) => item * 10);
    });
    const first = group.submit(1);
    const batch = [2, 3, 4].map((item) =>
      group.submit(item).catch((error: Error) => error.message),
    );
    gate();
    await first;
    expect(await Promise.all(batch)).toEqual([20, 'duplicate key', 40]);
  });

  it('fails every caller, retrying none, when the error is not about the data (the commit may have happened)', async () => {
    let gate: () => void = () => undefined;
    let calls = 0;
    const group = new GroupCommit<number, number>(async (items) => {
      calls += 1;
      if (calls === 1) await new Promise<void>((resolve) => (gate = resolve));
      if (calls === 2)
        throw Object.assign(new Error('Connection terminated'), { code: 'ECONNRESET' });
      return items;
    });
    const first = group.submit(1);
    const batch = [2, 3].map((item) => group.submit(item).catch((error: Error) => error.message));
    gate();
    await first;
    expect(await Promise.all(batch)).toEqual(['Connection terminated', 'Connection terminated']);
    expect(calls).toBe(2);
  });

  it('caps a batch and keeps going until the queue is empty', async () => {
    const sizes: number[] = [];
    let gate: () => void = () => undefined;
    const group = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      if (sizes.length === 1) await new Promise<void>((resolve) => (gate = resolve));
      return items;
    }, 3);
    const all = Array.from({ length: 8 }, (_, index) => group.submit(index));
    gate();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sizes).toEqual([1, 3, 3, 1]);
  });
});
