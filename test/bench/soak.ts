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
  /** RSS growth over the second half of the run, MiB per 10,000 requests (after warm-up). */
  growthPer10k: { AT: number; FR: number };
}

/**
 * Memory over a long run: `requests` requests in ten rounds through AT's API, every one
 * delivered and its receipt verified, the resident memory of both gateways read after each
 * round. Flat memory means the second half's growth stays near zero (the first rounds fill
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
  const middle = rounds[4]!;
  const last = rounds[9]!;
  const per10k = (from: number, to: number) => ((to - from) * 10_000) / (last.after - middle.after);
  return {
    requests: last.after,
    rounds,
    growthPer10k: {
      AT: per10k(middle.rss.AT, last.rss.AT),
      FR: per10k(middle.rss.FR, last.rss.FR),
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
    `RSS growth over the second half, MiB per 10,000 requests: AT ${result.growthPer10k.AT.toFixed(1)}, FR ${result.growthPer10k.FR.toFixed(1)}`,
  ];
}
