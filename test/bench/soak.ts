import { readFileSync } from 'node:fs';
import { measureDelivered, submitClosedLoop, type Submitter } from './comity-load';

/** The process's resident set size now, in MiB (VmRSS). */
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export interface SoakResult {
  requests: number;
  rounds: Array<{ after: number; rss: { AT: number; FR: number } }>;
  /** RSS range (MiB) over the first and the second half of the rounds. */
  halves: Record<'AT' | 'FR', Record<'first' | 'second', { min: number; max: number }>>;
}

/**
 * Memory over a long run: `requests` requests in ten rounds through AT's API, every one
 * delivered and its receipt verified, the resident memory of both gateways read after each
 * round. Flat memory: the second half's range no higher than the first's (the first rounds fill
 * pools, caches and the JIT).
 */
export async function soak(input: {
  client: Submitter;
  atDatabaseUrl: string;
  pids: { AT: number; FR: number };
  requests: number;
  concurrency: number;
  bodyBytes: number;
}): Promise<SoakResult> {
  const perRound = Math.max(1, Math.floor(input.requests / 10));
  const rounds: SoakResult['rounds'] = [];
  for (let round = 1; round <= 10; round++) {
    const ids = await submitClosedLoop(input.client, perRound, input.concurrency, input.bodyBytes);
    await measureDelivered(input.atDatabaseUrl, ids, 600_000);
    rounds.push({
      after: round * perRound,
      rss: { AT: rssMiB(input.pids.AT), FR: rssMiB(input.pids.FR) },
    });
  }
  // One round's garbage collection moves RSS by tens of MiB either way; a leak shows as a second
  // half whose range sits above the first half's.
  const range = (half: typeof rounds, state: 'AT' | 'FR') => {
    const values = half.map((round) => round.rss[state]);
    return { min: Math.min(...values), max: Math.max(...values) };
  };
  const [first, second] = [rounds.slice(0, 5), rounds.slice(5)];
  return {
    requests: rounds[9]!.after,
    rounds,
    halves: {
      AT: { first: range(first, 'AT'), second: range(second, 'AT') },
      FR: { first: range(first, 'FR'), second: range(second, 'FR') },
    },
  };
}

export function soakTable(result: SoakResult): string[] {
  return [
    `| memory over a long run (${result.requests} requests) | after | AT RSS MiB | FR RSS MiB |`,
    '|---|---|---|---|',
    ...result.rounds.map(
      (round, index) =>
        `| round ${index + 1} | ${round.after} | ${round.rss.AT.toFixed(0)} | ${round.rss.FR.toFixed(0)} |`,
    ),
    ...(['AT', 'FR'] as const).map((state) => {
      const { first, second } = result.halves[state];
      return `${state} RSS MiB, first half ${first.min.toFixed(0)}–${first.max.toFixed(0)}, second half ${second.min.toFixed(0)}–${second.max.toFixed(0)}`;
    }),
  ];
}
