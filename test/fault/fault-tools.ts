import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { GatewayApiError, GatewayClient } from '../../apps/cli/src/gateway-client';
import { mlaRequest } from '../support/test-federation';

const run = promisify(execFile);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The directions requests travel in the suite: every State sends to every other. */
export const DIRECTIONS: Array<[string, string]> = [
  ['AT', 'FR'],
  ['FR', 'KE'],
  ['KE', 'AT'],
  ['AT', 'KE'],
  ['FR', 'AT'],
  ['KE', 'FR'],
];

/**
 * Submits `count` requests spread over every direction, `concurrency` at a time, like case
 * systems would: a submit that is refused (node down: connection refused; database down: 503)
 * is retried, with the same Idempotency-Key, until the node accepts it. Calls `onProgress`
 * with how many were accepted.
 */
export async function submitMany(
  nodes: Record<string, string>,
  apiKeyOf: (state: string) => string,
  count: number,
  concurrency: number,
  onProgress: (accepted: number) => void = () => undefined,
): Promise<{ accepted: number; refusals: number }> {
  let next = 0;
  let accepted = 0;
  let refusals = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count && !failed) {
        const [from, to] = DIRECTIONS[next % DIRECTIONS.length]!;
        next += 1;
        const client = new GatewayClient(nodes[from]!, apiKeyOf(from));
        // One key per request: a retry after an answer lost in the fault cannot send it twice.
        const idempotencyKey = randomUUID();
        for (;;) {
          try {
            await client.submit(
              mlaRequest({
                senderAuthority: `${from.toLowerCase()}-central-authority`,
                recipient: { state: to, authority: `${to.toLowerCase()}-central-authority` },
                body: 'x'.repeat(4096),
              }),
              { idempotencyKey },
            );
            accepted += 1;
            onProgress(accepted);
            break;
          } catch (error) {
            if (error instanceof GatewayApiError && error.status !== 503) {
              failed = true; // stop the other workers too: no submits leak into the next scenario
              throw error;
            }
            refusals += 1;
            await sleep(200);
          }
        }
      }
    }),
  );
  return { accepted, refusals };
}

export interface Tally {
  accepted: number;
  delivered: number;
  notDelivered: number;
  storedAtRecipient: number;
  lost: number;
  storedTwice: number;
  receiptsVerified: number;
  retransmissions: number;
  duplicatesAbsorbed: number;
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Counts, from the databases themselves, what happened to every request accepted since
 * `since`: the sender's status and receipt, and how many times the recipient stored it.
 */
export async function tally(databaseUrls: Record<string, string>, since: Date): Promise<Tally> {
  const sent: Array<{
    id: string;
    to_state: string;
    status: string;
    has_receipt: boolean;
    delivered_evidence: number;
  }> = [];
  let retransmissions = 0;
  for (const url of Object.values(databaseUrls)) {
    await withClient(url, async (client) => {
      const rows = await client.query(
        `SELECT m.id, m.to_state, m.status, m.receipt IS NOT NULL AS has_receipt,
                (SELECT count(*)::int FROM evidence e WHERE e.message_id = m.id AND e.direction = 'outbound' AND e.type = 'delivered') AS delivered_evidence
           FROM outbound_message m WHERE m.created_at >= $1`,
        [since],
      );
      sent.push(...rows.rows);
      const again = await client.query(
        `SELECT count(*)::int AS n FROM evidence WHERE direction = 'outbound' AND type = 'retransmitted' AND at >= $1`,
        [since],
      );
      retransmissions += (again.rows[0] as { n: number }).n;
    });
  }
  let storedAtRecipient = 0;
  let storedTwice = 0;
  let duplicatesAbsorbed = 0;
  for (const [state, url] of Object.entries(databaseUrls)) {
    const ids = sent.filter((message) => message.to_state === state).map((message) => message.id);
    await withClient(url, async (client) => {
      const stored = await client.query(
        `SELECT m.id, (SELECT count(*)::int FROM evidence e WHERE e.message_id = m.id AND e.direction = 'inbound' AND e.type = 'received') AS received,
                (SELECT count(*)::int FROM evidence e WHERE e.message_id = m.id AND e.direction = 'inbound' AND e.type = 'duplicate') AS duplicates
           FROM inbound_message m WHERE m.id = ANY($1::uuid[])`,
        [ids],
      );
      for (const row of stored.rows as Array<{ received: number; duplicates: number }>) {
        storedAtRecipient += 1;
        if (row.received !== 1) storedTwice += 1;
        duplicatesAbsorbed += row.duplicates;
      }
    });
  }
  const delivered = sent.filter((message) => message.status === 'delivered').length;
  return {
    accepted: sent.length,
    delivered,
    notDelivered: sent.length - delivered,
    storedAtRecipient,
    lost: sent.length - storedAtRecipient,
    storedTwice,
    receiptsVerified: sent.filter(
      (message) => message.has_receipt && message.delivered_evidence === 1,
    ).length,
    retransmissions,
    duplicatesAbsorbed,
  };
}

/** Waits until every request accepted since `since` is delivered (or the time is up), then counts. */
export async function settle(
  databaseUrls: Record<string, string>,
  since: Date,
  timeoutMs: number,
): Promise<Tally> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await tally(databaseUrls, since).catch(() => null);
    if (counts && counts.notDelivered === 0 && counts.lost === 0) return counts;
    if (Date.now() > deadline) return counts ?? tally(databaseUrls, since);
    await sleep(500);
  }
}

export async function rabbitmqctl(...args: string[]): Promise<void> {
  await run('rabbitmqctl', ['-q', ...args], { timeout: 120_000 });
}

const postgresCluster = (): string[] => {
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('no PostgreSQL cluster in /etc/postgresql');
  return ['--skip-systemctl-redirect', version, 'main'];
};

export async function postgres(action: 'start' | 'stop' | 'restart'): Promise<void> {
  await run('pg_ctlcluster', [...postgresCluster(), action], { timeout: 120_000 });
}

/** Puts the services back as the suite found them, whatever happened. */
export async function restoreServices(): Promise<void> {
  await rabbitmqctl('start_app').catch(() => undefined);
  await postgres('start').catch(() => undefined);
}

/**
 * Acknowledges delivered requests at their recipients while the fault happens, as clerks would:
 * a refused attempt (node down, database down) is tried again; a 409 means the case is already
 * acknowledged (an earlier attempt committed although its answer was lost). Stops at `target`
 * acknowledgements or when `done()` says so.
 */
export async function acknowledgeMany(
  nodes: Record<string, string>,
  apiKeyOf: (state: string) => string,
  target: number,
  done: () => boolean,
): Promise<{ confirmed: number; conflicts: number; errors: string[] }> {
  let confirmed = 0;
  let conflicts = 0;
  // An unexpected answer ends the acknowledging and is reported, not thrown: the scenario's
  // submits must still finish (nothing may leak into the next scenario).
  const errors: string[] = [];
  const states = Object.keys(nodes);
  for (let turn = 0; confirmed < target && !done() && errors.length === 0; turn += 1) {
    const state = states[turn % states.length]!;
    const client = new GatewayClient(nodes[state]!, apiKeyOf(state));
    try {
      const page = await client.cases({
        direction: 'inbound',
        caseState: 'awaiting_acknowledgement',
        limit: 3,
      });
      if (page.items.length === 0) await sleep(50);
      for (const item of page.items) {
        try {
          await client.caseAction(item.id, {
            kind: 'acknowledgement',
            reference: `${state}-${item.id.slice(-8)}`,
          });
          confirmed += 1;
        } catch (error) {
          if (!(error instanceof GatewayApiError && error.status === 409)) throw error;
          conflicts += 1;
        }
        await sleep(20);
      }
    } catch (error) {
      if (error instanceof GatewayApiError && error.status !== 503) {
        errors.push(`${state}: ${error.message}`);
      } else {
        await sleep(200); // the node or its database is down: as a clerk would, try again
      }
    }
  }
  return { confirmed, conflicts, errors };
}

export interface CaseTally {
  /** Cases opened or acknowledged since the start, as their requested State holds them. */
  cases: number;
  /** Acknowledgements stored by their senders (each case's requested State). */
  acknowledgementsSent: number;
  /** Acknowledgements stored, and applied, at the requesting end. */
  acknowledged: number;
  /** Cases whose state differs between the two ends. */
  disagreeing: number;
  /** Cases with an acknowledgement applied more than once at either end. */
  appliedTwice: number;
  /** Cases still waiting to be derived again. */
  stale: number;
}

/**
 * Counts, from the databases, whether both ends of every case opened or acknowledged since
 * `since` agree (clerks may acknowledge requests of an earlier scenario).
 */
export async function caseTally(
  databaseUrls: Record<string, string>,
  since: Date,
): Promise<CaseTally> {
  const requesting = new Map<string, string>();
  const requested = new Map<string, string>();
  let acknowledgementsSent = 0;
  let acknowledged = 0;
  let appliedTwice = 0;
  let stale = 0;
  for (const url of Object.values(databaseUrls)) {
    await withClient(url, async (client) => {
      const rows = await client.query<{
        id: string;
        direction: string;
        state: string;
        stale: boolean;
      }>(`SELECT id, direction, state, stale FROM case_file WHERE opened_at >= $1`, [since]);
      for (const row of rows.rows) {
        (row.direction === 'outbound' ? requesting : requested).set(row.id, row.state);
        if (row.stale) stale += 1;
      }
      const sent = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbound_message WHERE kind = 'acknowledgement' AND created_at >= $1`,
        [since],
      );
      acknowledgementsSent += sent.rows[0]!.n;
      const received = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM case_message m JOIN case_file c ON c.id = m.case_id
          WHERE m.kind = 'acknowledgement' AND m.direction = 'inbound' AND m.created_at >= $1
            AND c.acknowledged_at IS NOT NULL`,
        [since],
      );
      acknowledged += received.rows[0]!.n;
      const twice = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT case_id FROM case_message WHERE kind = 'acknowledgement'
          GROUP BY case_id HAVING count(*) > 1) AS repeated`,
      );
      appliedTwice += twice.rows[0]!.n;
    });
  }
  let disagreeing = 0;
  for (const [id, state] of requested) if (requesting.get(id) !== state) disagreeing += 1;
  return {
    cases: requested.size,
    acknowledgementsSent,
    acknowledged,
    disagreeing,
    appliedTwice,
    stale,
  };
}

/** Waits until both ends of every case agree and nothing is stale (or the time is up). */
export async function settleCases(
  databaseUrls: Record<string, string>,
  since: Date,
  timeoutMs: number,
): Promise<CaseTally> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await caseTally(databaseUrls, since).catch(() => null);
    if (counts && counts.disagreeing === 0 && counts.stale === 0) return counts;
    if (Date.now() > deadline) return counts ?? caseTally(databaseUrls, since);
    await sleep(500);
  }
}
