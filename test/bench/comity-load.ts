import { Client } from 'pg';
import { Agent, request as httpRequest } from 'node:http';
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

/**
 * The load generator's HTTP client: node:http with keep-alive, the body serialised once per
 * size. It shares the machine's two cores with what it measures, so it must be cheap (fetch
 * cost about twice as much CPU per request here).
 */
export class Submitter {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly url: URL;
  private readonly bodies = new Map<number, Buffer>();

  constructor(
    baseUrl: string,
    private readonly apiKey: string,
  ) {
    this.url = new URL('/v1/outbound-messages', baseUrl);
  }

  submit(bodyBytes: number): Promise<string> {
    let body = this.bodies.get(bodyBytes);
    if (!body) {
      body = Buffer.from(JSON.stringify(request(bodyBytes)));
      this.bodies.set(bodyBytes, body);
    }
    const payload = body;
    return new Promise<string>((resolve, reject) => {
      const call = httpRequest(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            'content-type': 'application/json',
            'content-length': payload.length,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode !== 201) {
              reject(new Error(`submit answered ${response.statusCode}: ${text.slice(0, 300)}`));
              return;
            }
            resolve((JSON.parse(text) as { id: string }).id);
          });
          response.on('error', reject);
        },
      );
      call.on('error', reject);
      call.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Submits `count` requests, `concurrency` at a time, as fast as the API takes them. */
export async function submitClosedLoop(
  client: Submitter,
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
        ids.push(await client.submit(bodyBytes));
      }
    }),
  );
  return ids;
}

/** Submits at a fixed rate (an open loop: the schedule does not wait for answers). */
export async function submitAtRate(
  client: Submitter,
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
    pending.push(client.submit(bodyBytes));
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

export interface StageBreakdown {
  /** Median ms of each hop, from the two nodes' timelines (one machine, one clock). */
  submitToSent: number;
  sentToReceived: number;
  receivedToReceiptSent: number;
  receiptSentToDelivered: number;
}

/** Where a request's time goes: the median of each hop between the sender's and receiver's timelines. */
export async function stageBreakdown(
  senderUrl: string,
  receiverUrl: string,
  ids: string[],
  tail?: number,
): Promise<StageBreakdown> {
  const times = async (url: string, direction: string, types: string[]) => {
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query<{ message_id: string; type: string; at: Date }>(
        `SELECT message_id, type, min(at) AS at FROM evidence
          WHERE message_id = ANY($1::uuid[]) AND direction = $2 AND type = ANY($3::text[])
          GROUP BY message_id, type`,
        [ids, direction, types],
      );
      const byId = new Map<string, Record<string, number>>();
      for (const row of rows) {
        const entry = byId.get(row.message_id) ?? {};
        entry[row.type] = row.at.getTime();
        byId.set(row.message_id, entry);
      }
      return byId;
    } finally {
      await db.end();
    }
  };
  const sender = await times(senderUrl, 'outbound', ['submitted', 'sent', 'delivered']);
  const receiver = await times(receiverUrl, 'inbound', ['received', 'receipt-sent']);
  // Only the slowest `tail` of the messages (e.g. 0.01: the slowest 1 %), to see where a p99 goes.
  const total = (id: string) => {
    const s = sender.get(id) ?? {};
    return s.delivered! - s.submitted!;
  };
  const measured = ids.filter((id) => Number.isFinite(total(id)));
  const chosen =
    tail === undefined
      ? measured
      : [...measured]
          .sort((a, b) => total(b) - total(a))
          .slice(0, Math.max(1, Math.round(measured.length * tail)));
  const median = (pick: (s: Record<string, number>, r: Record<string, number>) => number) => {
    const values = chosen
      .map((id) => pick(sender.get(id) ?? {}, receiver.get(id) ?? {}))
      .filter((value) => Number.isFinite(value))
      .sort((a, b) => a - b);
    return percentile(values, 50);
  };
  return {
    submitToSent: median((s) => s.sent! - s.submitted!),
    sentToReceived: median((s, r) => r.received! - s.sent!),
    receivedToReceiptSent: median((_s, r) => r['receipt-sent']! - r.received!),
    receiptSentToDelivered: median((s, r) => s.delivered! - r['receipt-sent']!),
  };
}
