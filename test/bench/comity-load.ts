import { Client } from 'pg';
import type { GatewayClient } from '../../apps/cli/src/gateway-client';
import { percentile } from './process-usage';

export interface ComityResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

function request(bodyBytes: number): Record<string, unknown> {
  return {
    kind: 'mla_request',
    senderAuthority: 'at-central-authority',
    recipient: { state: 'FR', authority: 'fr-central-authority' },
    legalBasis: 'UNCAC art. 46',
    urgency: 'routine',
    subject: 'Benchmark',
    body: 'b'.repeat(bodyBytes),
  };
}

/** Submits `count` requests, `concurrency` at a time, as fast as the API takes them. */
export async function submitClosedLoop(
  client: GatewayClient,
  count: number,
  concurrency: number,
  bodyBytes: number,
): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        ids.push((await client.submit(request(bodyBytes))).id);
      }
    }),
  );
  return ids;
}

/** Submits at a fixed rate (an open loop: the schedule does not wait for answers). */
export async function submitAtRate(
  client: GatewayClient,
  count: number,
  perSecond: number,
  bodyBytes: number,
): Promise<string[]> {
  const started = performance.now();
  const pending: Array<Promise<string>> = [];
  for (let index = 0; index < count; index += 1) {
    const due = started + (index * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(client.submit(request(bodyBytes)).then((message) => message.id));
  }
  return Promise.all(pending);
}

/**
 * Waits until the sender's database shows every request delivered (verified receipt), then reads
 * each one's submit-to-verified-receipt latency from its own timeline (one clock: the sender's).
 */
export async function measureDelivered(
  databaseUrl: string,
  ids: string[],
  timeoutMs: number,
): Promise<ComityResult> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbound_message WHERE id = ANY($1::uuid[]) AND status = 'delivered'`,
        [ids],
      );
      if (rows[0]!.n === ids.length) break;
      if (Date.now() > deadline)
        throw new Error(`only ${rows[0]!.n} of ${ids.length} delivered in time`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const { rows } = await db.query<{ ms: number; submitted: Date; delivered: Date }>(
      `SELECT EXTRACT(EPOCH FROM (e.at - m.created_at)) * 1000 AS ms, m.created_at AS submitted, e.at AS delivered
         FROM outbound_message m
         JOIN evidence e ON e.message_id = m.id AND e.direction = 'outbound' AND e.type = 'delivered'
        WHERE m.id = ANY($1::uuid[])`,
      [ids],
    );
    const latencies = rows.map((row) => Number(row.ms)).sort((a, b) => a - b);
    const first = Math.min(...rows.map((row) => row.submitted.getTime()));
    const last = Math.max(...rows.map((row) => row.delivered.getTime()));
    return {
      requests: ids.length,
      perSecond: ids.length / ((last - first) / 1000),
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      p99Ms: percentile(latencies, 99),
    };
  } finally {
    await db.end();
  }
}
