import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { MESSAGE_KINDS, uuidV7, type MessageKind } from '@comity/protocol';

/**
 * The console at volume: N messages seeded with SQL into a running node's database (half sent,
 * half received, with their timelines, some refused envelopes and a quarantine), then each page
 * of the operator console timed through the node's real HTTP API. The goal: every page under
 * one second at 100,000 messages. The bench reports; it does not fail on a slow page.
 */

export const PAGE_BUDGET_MS = 1000;

export interface ConsoleRow {
  page: string;
  /** The request as printed (long cursors and ids elided). */
  request: string;
  /** The request actually made. */
  path: string;
  /** Items in the answer: messages, peers, timeline events, quarantine entries or metric samples. */
  items: number;
  medianMs: number;
  maxMs: number;
  pass: boolean;
}

export interface SeedSummary {
  outbound: number;
  inbound: number;
  rejections: number;
  quarantined: number;
  evidence: number;
  seconds: number;
}

export interface ConsoleResult {
  node: string;
  volume: number;
  repetitions: number;
  seed: SeedSummary;
  rows: ConsoleRow[];
}

const DAY_MS = 86_400_000;
const HISTORY_DAYS = 90;
const BATCH = 5_000;
const PEERS: Array<[state: string, weight: number]> = [
  ['AT', 25],
  ['DE', 20],
  ['IT', 15],
  ['ES', 15],
  ['KE', 10],
  ['NL', 8],
  ['PL', 7],
];
const KINDS: Array<[kind: MessageKind, weight: number]> = [
  ['mla_request', 40],
  ['extradition_request', 12],
  ['provisional_arrest_request', 5],
  ['asset_recovery_request', 8],
  ['supplementary_information', 15],
  ['reply', 20],
];
const OUTBOUND_STATUSES: Array<[status: string, weight: number]> = [
  ['delivered', 92],
  ['sent', 3],
  ['submitted', 1],
  ['failed', 2],
  ['rejected', 2],
];
const REJECTION_REASONS = [
  'invalid-signature',
  'certificate-untrusted',
  'certificate-expired',
  'decryption-failed',
  'content-binding-mismatch',
];
const QUARANTINE_REASONS = [
  'envelope-too-large',
  'unroutable',
  'unknown-message-type',
  'malformed-receipt',
  'forbidden-header',
];

/** A small deterministic generator, so two runs seed the same distribution. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function weighted<T>(random: () => number, choices: Array<[T, number]>): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let left = random() * total;
  for (const [value, weight] of choices) {
    left -= weight;
    if (left < 0) return value;
  }
  return choices[choices.length - 1]![0];
}

/** The authority that handles a kind: extraditions go to the extradition authority, the rest to the central one. */
function authorityFor(state: string, kind: MessageKind, random: () => number): string {
  const lower = state.toLowerCase();
  const extradition =
    kind === 'extradition_request' ||
    kind === 'provisional_arrest_request' ||
    ((kind === 'supplementary_information' || kind === 'reply') && random() < 0.3);
  return `${lower}-${extradition ? 'extradition' : 'central'}-authority`;
}

interface Generated {
  id: string;
  at: number;
  kind: MessageKind;
  peer: string;
  localAuthority: string;
  peerAuthority: string;
  status: string;
}

function generate(
  count: number,
  direction: 'outbound' | 'inbound',
  localState: string,
  now: number,
  random: () => number,
): Generated[] {
  const rows: Generated[] = [];
  for (let index = 0; index < count; index += 1) {
    const kind = weighted(random, KINDS);
    const peer = weighted(random, PEERS);
    const status = direction === 'outbound' ? weighted(random, OUTBOUND_STATUSES) : 'delivered';
    // Awaiting a receipt (or not yet sent) only recently; failed = expired after 7 days, so at least 7 days old.
    const at =
      status === 'sent' || status === 'submitted'
        ? now - 60_000 - random() * 6 * 3600_000
        : status === 'failed'
          ? now - 7 * DAY_MS - random() * (HISTORY_DAYS - 7) * DAY_MS
          : now - 60_000 - random() * HISTORY_DAYS * DAY_MS;
    const ms = Math.floor(at);
    rows.push({
      id: uuidV7(ms),
      at: ms,
      kind,
      peer,
      localAuthority: authorityFor(localState, kind, random),
      peerAuthority: authorityFor(peer, kind, random),
      status,
    });
  }
  // Inserted in time order, as a node writes them.
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
}

const DIGEST = `translate(rtrim(encode(sha256(convert_to(b.id::text, 'UTF8')), 'base64'), '='), '+/', '-_')`;

async function seedOutbound(db: Client, rows: Generated[], envelope: Buffer): Promise<number> {
  let evidence = 0;
  for (let start = 0; start < rows.length; start += BATCH) {
    const batch = rows.slice(start, start + BATCH);
    const result = await db.query(
      `WITH b AS (
         SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                    AS b(id, created_at, kind, from_authority, to_state, to_authority, status)
       ), m AS (
         INSERT INTO outbound_message (id, thread_id, kind, from_authority, to_state, to_authority, status, status_reason,
                                       envelope, envelope_digest, sender_copy, created_at, expires_at, updated_at,
                                       transmissions, receipt_timeout_ms, receipt_due_at)
         SELECT b.id, b.id, b.kind, b.from_authority, b.to_state, b.to_authority, b.status,
                CASE b.status WHEN 'failed' THEN 'expired-undelivered'
                              WHEN 'rejected' THEN ($9::text[])[1 + (abs(hashtext(b.id::text)) % 5)] END,
                $8, ${DIGEST}, 'bench sender copy (dummy)', b.created_at, b.created_at + interval '7 days',
                CASE b.status WHEN 'failed' THEN b.created_at + interval '7 days'
                              WHEN 'submitted' THEN b.created_at
                              WHEN 'sent' THEN b.created_at + interval '80 milliseconds'
                              ELSE b.created_at + interval '400 milliseconds' END,
                CASE b.status WHEN 'submitted' THEN 0 WHEN 'failed' THEN 4 ELSE 1 END,
                30000,
                CASE WHEN b.status = 'sent' THEN now() + interval '1 day' END
           FROM b
         RETURNING id, status, status_reason, created_at
       )
       INSERT INTO evidence (message_id, direction, type, at, reason, detail)
       SELECT m.id, 'outbound', e.type, m.created_at + e.after,
              CASE WHEN e.type IN ('failed', 'rejected') THEN m.status_reason END,
              CASE e.type WHEN 'delivered' THEN 'receipt signed by the recipient State (bench seed)'
                          WHEN 'failed' THEN 'expired after 4 transmission(s) without a valid receipt (bench seed)' END
         FROM m
         CROSS JOIN LATERAL (VALUES (1, 'submitted', interval '0'),
                                    (2, 'sent', interval '80 milliseconds'),
                                    (3, m.status, CASE m.status WHEN 'failed' THEN interval '7 days'
                                                                ELSE interval '400 milliseconds' END)) AS e(n, type, after)
        WHERE e.n = 1 OR (e.n = 2 AND m.status <> 'submitted') OR (e.n = 3 AND m.status NOT IN ('submitted', 'sent'))
        ORDER BY m.id, e.n`,
      [
        batch.map((row) => row.id),
        batch.map((row) => new Date(row.at).toISOString()),
        batch.map((row) => row.kind),
        batch.map((row) => row.localAuthority),
        batch.map((row) => row.peer),
        batch.map((row) => row.peerAuthority),
        batch.map((row) => row.status),
        envelope,
        REJECTION_REASONS,
      ],
    );
    evidence += result.rowCount ?? 0;
  }
  return evidence;
}

async function seedInbound(db: Client, rows: Generated[], envelope: Buffer): Promise<number> {
  let evidence = 0;
  for (let start = 0; start < rows.length; start += BATCH) {
    const batch = rows.slice(start, start + BATCH);
    const result = await db.query(
      `WITH b AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[])
                    AS b(id, receipt_id, created_at, kind, from_state, from_authority, to_authority)
       ), m AS (
         INSERT INTO inbound_message (id, thread_id, kind, from_state, from_authority, to_authority, status, envelope,
                                      envelope_digest, receipt_id, receipt, created_at, expires_at, received_at)
         SELECT b.id, b.id, b.kind, b.from_state, b.from_authority, b.to_authority, 'delivered', $8,
                ${DIGEST}, b.receipt_id, $8, b.created_at, b.created_at + interval '7 days',
                b.created_at + interval '150 milliseconds'
           FROM b
         RETURNING id, received_at
       )
       INSERT INTO evidence (message_id, direction, type, at)
       SELECT m.id, 'inbound', e.type, m.received_at + e.after
         FROM m
         CROSS JOIN (VALUES (1, 'received', interval '0'), (2, 'receipt-sent', interval '30 milliseconds')) AS e(n, type, after)
        ORDER BY m.id, e.n`,
      [
        batch.map((row) => row.id),
        batch.map((row) => uuidV7(row.at + 150)),
        batch.map((row) => new Date(row.at).toISOString()),
        batch.map((row) => row.kind),
        batch.map((row) => row.peer),
        batch.map((row) => row.peerAuthority),
        batch.map((row) => row.localAuthority),
        envelope,
      ],
    );
    evidence += result.rowCount ?? 0;
  }
  return evidence;
}

async function seedRejections(
  db: Client,
  count: number,
  now: number,
  random: () => number,
  envelope: Buffer,
): Promise<void> {
  const rows = Array.from({ length: count }, () => {
    const at = Math.floor(now - 60_000 - random() * HISTORY_DAYS * DAY_MS);
    return {
      id: uuidV7(at),
      at,
      peer: weighted(random, PEERS),
      reason: REJECTION_REASONS[Math.floor(random() * REJECTION_REASONS.length)]!,
    };
  }).sort((a, b) => a.at - b.at);
  await db.query(
    `INSERT INTO inbound_rejection (envelope_id, from_state, reason, envelope_digest, envelope, receipt, received_at)
     SELECT b.id, b.from_state, b.reason, ${DIGEST}, $5, $5, b.received_at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS b(id, from_state, reason, received_at)`,
    [
      rows.map((row) => row.id),
      rows.map((row) => row.peer),
      rows.map((row) => row.reason),
      rows.map((row) => new Date(row.at).toISOString()),
      envelope,
    ],
  );
}

async function seedQuarantine(
  db: Client,
  count: number,
  localState: string,
  now: number,
  random: () => number,
): Promise<void> {
  const rows = Array.from({ length: count }, () => {
    const at = Math.floor(now - 60_000 - random() * HISTORY_DAYS * DAY_MS);
    const type = weighted(random, [
      ['envelope', 70],
      ['receipt', 20],
      ['unknown', 10],
    ] as Array<[string, number]>);
    const peer = weighted(random, PEERS);
    const kind = MESSAGE_KINDS[Math.floor(random() * MESSAGE_KINDS.length)]!;
    const status = weighted(random, [
      ['held', 30],
      ['released', 35],
      ['discarded', 35],
    ] as Array<[string, number]>);
    const reason =
      type === 'unknown'
        ? 'unknown-message-type'
        : type === 'receipt'
          ? 'malformed-receipt'
          : QUARANTINE_REASONS[Math.floor(random() * QUARANTINE_REASONS.length)]!;
    const known = type !== 'unknown';
    return {
      at,
      fingerprint: randomBytes(16).toString('hex'),
      type,
      reason,
      envelopeId: known ? uuidV7(at - 200) : null,
      state: known ? peer : null,
      authority: known ? authorityFor(peer, kind, random) : null,
      kind: type === 'envelope' ? kind : null,
      brokerUser: `comity-${peer.toLowerCase()}`,
      bytes: 200 + Math.floor(random() * 4000),
      status,
      resolvedAt: status === 'held' ? null : new Date(at + 3600_000).toISOString(),
    };
  }).sort((a, b) => a.at - b.at);
  await db.query(
    `INSERT INTO quarantined_message (fingerprint, message_type, amqp_message_id, broker_user, reason, detail, envelope_id,
                                      claimed_from_state, claimed_from_authority, kind, payload, quarantined_at, status,
                                      resolved_at, resolved_by, resolution_reason, outcome)
     SELECT b.fingerprint, b.type, 'bench-' || b.fingerprint, b.broker_user, b.reason, 'seeded by the bench: ' || b.reason,
            b.envelope_id, b.state, b.authority, b.kind, decode(repeat('7b', b.bytes), 'hex'), b.at, b.status,
            b.resolved_at, CASE WHEN b.status <> 'held' THEN $13 END,
            CASE b.status WHEN 'released' THEN 'directory updated, processed again'
                          WHEN 'discarded' THEN 'confirmed junk with the sending State' END,
            CASE b.status WHEN 'released' THEN 'delivered' WHEN 'discarded' THEN 'discarded' END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::int[], $10::timestamptz[], $11::text[], $12::timestamptz[])
            AS b(fingerprint, type, broker_user, reason, envelope_id, state, authority, kind, bytes, at, status, resolved_at)`,
    [
      rows.map((row) => row.fingerprint),
      rows.map((row) => row.type),
      rows.map((row) => row.brokerUser),
      rows.map((row) => row.reason),
      rows.map((row) => row.envelopeId),
      rows.map((row) => row.state),
      rows.map((row) => row.authority),
      rows.map((row) => row.kind),
      rows.map((row) => row.bytes),
      rows.map((row) => new Date(row.at).toISOString()),
      rows.map((row) => row.status),
      rows.map((row) => row.resolvedAt),
      `${localState.toLowerCase()}-operator`,
    ],
  );
}

/** Seeds `volume` messages (half each way) into a node's migrated database, then ANALYZEs it. */
export async function seedMessages(
  databaseUrl: string,
  volume: number,
  localState: string,
): Promise<SeedSummary> {
  const started = performance.now();
  const random = generator(20_261_129);
  const now = Date.now();
  const envelope = Buffer.alloc(200, 0x2a);
  const outbound = generate(Math.ceil(volume / 2), 'outbound', localState, now, random);
  const inbound = generate(Math.floor(volume / 2), 'inbound', localState, now, random);
  const rejections = Math.min(300, Math.max(1, Math.floor(volume / 300)));
  const quarantined = Math.min(300, Math.max(1, Math.floor(volume / 300)));
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const evidence =
      (await seedOutbound(db, outbound, envelope)) + (await seedInbound(db, inbound, envelope));
    await seedRejections(db, rejections, now, random, envelope);
    await seedQuarantine(db, quarantined, localState, now, random);
    for (const table of [
      'outbound_message',
      'inbound_message',
      'inbound_rejection',
      'quarantined_message',
      'evidence',
    ]) {
      await db.query(`ANALYZE ${table}`);
    }
    return {
      outbound: outbound.length,
      inbound: inbound.length,
      rejections,
      quarantined,
      evidence,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await db.end();
  }
}

interface Picks {
  middleOutbound: string;
  middleInbound: string;
}

/** Ids and filters from the middle of the seeded history, read from the database. */
async function pick(databaseUrl: string): Promise<Picks> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const middle = async (table: string): Promise<string> => {
      const { rows } = await db.query<{ id: string }>(
        `SELECT id FROM ${table} ORDER BY id OFFSET (SELECT count(*) / 2 FROM ${table}) LIMIT 1`,
      );
      if (!rows[0]) throw new Error(`${table} is empty`);
      return rows[0].id;
    };
    return {
      middleOutbound: await middle('outbound_message'),
      middleInbound: await middle('inbound_message'),
    };
  } finally {
    await db.end();
  }
}

/** One timed GET through the node's HTTP API; anything but 200 throws with the body. */
export async function get(
  baseUrl: string,
  apiKey: string,
  path: string,
): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}${path}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  const body = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200)
    throw new Error(`GET ${path} answered ${response.status}: ${body.slice(0, 300)}`);
  return { ms, body };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PageSpec {
  page: string;
  request: string;
  path: string;
  count: (body: string) => number;
  /** Pause before each repetition (the overview is cached server-side for 250 ms). */
  pauseMs?: number;
}

const messageItems = (body: string): number =>
  (JSON.parse(body) as { items: unknown[] }).items.length;

/** Times each console page through the node's HTTP API: one warm-up, then `repetitions` timed. */
export async function timeConsole(
  baseUrl: string,
  apiKey: string,
  databaseUrl: string,
  repetitions: number,
): Promise<ConsoleRow[]> {
  const picks = await pick(databaseUrl);
  // The 20th page of the unfiltered list: follow nextCursor 19 times.
  let cursor: string | null = null;
  for (let page = 1; page < 20; page += 1) {
    const { body } = await get(
      baseUrl,
      apiKey,
      `/v1/operations/messages?limit=50${cursor ? `&before=${cursor}` : ''}`,
    );
    cursor = (JSON.parse(body) as { nextCursor: string | null }).nextCursor;
    if (!cursor) throw new Error(`the message list ended after ${page} page(s)`);
  }
  const dayStart = new Date(Date.now() - 45 * DAY_MS);
  dayStart.setUTCHours(0, 0, 0, 0);
  const since = dayStart.toISOString();
  const until = new Date(dayStart.getTime() + DAY_MS).toISOString();
  const specs: PageSpec[] = [
    {
      page: 'overview',
      request: 'GET /v1/operations/overview',
      path: '/v1/operations/overview',
      count: (body) => (JSON.parse(body) as { peers: unknown[] }).peers.length,
      pauseMs: 300,
    },
    {
      page: 'messages, first page',
      request: 'GET /v1/operations/messages?limit=50',
      path: '/v1/operations/messages?limit=50',
      count: messageItems,
    },
    {
      page: 'messages, page 20 (nextCursor ×19)',
      request: '…/messages?limit=50&before=<cursor of page 19>',
      path: `/v1/operations/messages?limit=50&before=${cursor}`,
      count: messageItems,
    },
    {
      page: 'messages, middle of history',
      request: '…/messages?limit=50&before=<id at 50 %>',
      path: `/v1/operations/messages?limit=50&before=${picks.middleOutbound}`,
      count: messageItems,
    },
    {
      page: 'search by id (outbound, middle)',
      request: '…/messages?id=<id>',
      path: `/v1/operations/messages?id=${picks.middleOutbound}`,
      count: messageItems,
    },
    {
      page: 'search by id (inbound, middle)',
      request: '…/messages?id=<id>',
      path: `/v1/operations/messages?id=${picks.middleInbound}`,
      count: messageItems,
    },
    {
      page: 'search by state + status',
      request: `…/messages?state=KE&status=failed`,
      path: `/v1/operations/messages?state=KE&status=failed`,
      count: messageItems,
    },
    {
      page: 'search by status (rejected, both ways)',
      request: '…/messages?status=rejected',
      path: '/v1/operations/messages?status=rejected',
      count: messageItems,
    },
    {
      page: 'search by peer authority',
      request: '…/messages?authority=ke-extradition-authority',
      path: '/v1/operations/messages?authority=ke-extradition-authority',
      count: messageItems,
    },
    {
      page: 'search by own authority, page from the middle',
      request: '…/messages?authority=fr-central-authority&before=<id at 50 %>',
      path: `/v1/operations/messages?authority=fr-central-authority&before=${picks.middleOutbound}`,
      count: messageItems,
    },
    {
      page: 'search by kind + one day, 45 days ago',
      request: '…/messages?kind=extradition_request&since=<day>&until=<day+1>',
      path: `/v1/operations/messages?kind=extradition_request&since=${since}&until=${until}`,
      count: messageItems,
    },
    {
      page: 'inbound only, first page',
      request: '…/messages?direction=inbound',
      path: '/v1/operations/messages?direction=inbound',
      count: messageItems,
    },
    {
      page: 'message timeline (outbound)',
      request: 'GET /v1/operations/messages/outbound/<id>',
      path: `/v1/operations/messages/outbound/${picks.middleOutbound}`,
      count: (body) => (JSON.parse(body) as { timeline: unknown[] }).timeline.length,
    },
    {
      page: 'message timeline (inbound)',
      request: 'GET /v1/operations/messages/inbound/<id>',
      path: `/v1/operations/messages/inbound/${picks.middleInbound}`,
      count: (body) => (JSON.parse(body) as { timeline: unknown[] }).timeline.length,
    },
    {
      page: 'quarantine (held)',
      request: 'GET /v1/operations/quarantine',
      path: '/v1/operations/quarantine',
      count: messageItems,
    },
    {
      page: 'quarantine (all)',
      request: 'GET /v1/operations/quarantine?status=all&limit=200',
      path: '/v1/operations/quarantine?status=all&limit=200',
      count: messageItems,
    },
    {
      page: 'metrics',
      request: 'GET /metrics',
      path: '/metrics',
      count: (body) => body.split('\n').filter((line) => line && !line.startsWith('#')).length,
      pauseMs: 300,
    },
  ];
  const rows: ConsoleRow[] = [];
  for (const spec of specs) {
    if (spec.pauseMs) await sleep(spec.pauseMs);
    const warm = await get(baseUrl, apiKey, spec.path);
    const times: number[] = [];
    for (let repetition = 0; repetition < repetitions; repetition += 1) {
      if (spec.pauseMs) await sleep(spec.pauseMs);
      times.push((await get(baseUrl, apiKey, spec.path)).ms);
    }
    times.sort((a, b) => a - b);
    const medianMs = times[Math.floor((times.length - 1) / 2)]!;
    const maxMs = times[times.length - 1]!;
    rows.push({
      page: spec.page,
      request: spec.request,
      path: spec.path,
      items: spec.count(warm.body),
      medianMs,
      maxMs,
      pass: maxMs < PAGE_BUDGET_MS,
    });
  }
  return rows;
}

/** Seeds, then times: the whole "console at volume" section. */
export async function consoleAtVolume(options: {
  node: string;
  baseUrl: string;
  apiKey: string;
  databaseUrl: string;
  volume: number;
  repetitions?: number;
}): Promise<ConsoleResult> {
  const repetitions = options.repetitions ?? 5;
  const seed = await seedMessages(options.databaseUrl, options.volume, options.node);
  const rows = await timeConsole(options.baseUrl, options.apiKey, options.databaseUrl, repetitions);
  return { node: options.node, volume: options.volume, repetitions, seed, rows };
}

export function consoleTable(result: ConsoleResult): string[] {
  const { seed } = result;
  const n = (value: number) => value.toLocaleString('en-US');
  return [
    `console at ${n(result.volume)} messages on ${result.node} (seeded ${n(seed.outbound)} outbound + ${n(seed.inbound)} inbound, ${n(seed.rejections)} refused, ${n(seed.quarantined)} quarantined, ${n(seed.evidence)} timeline events in ${seed.seconds.toFixed(1)} s); HTTP API, 1 warm-up + ${result.repetitions} timed each`,
    '',
    `| console page | request | items | median ms | max ms | < ${PAGE_BUDGET_MS} ms |`,
    '|---|---|---|---|---|---|',
    ...result.rows.map(
      (row) =>
        `| ${row.page} | \`${row.request}\` | ${row.items} | ${row.medianMs.toFixed(1)} | ${row.maxMs.toFixed(1)} | ${row.pass ? 'PASS' : 'FAIL'} |`,
    ),
  ];
}
