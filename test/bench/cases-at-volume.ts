import { Client } from 'pg';
import { get } from './console-at-volume';

/** The statistics answer over this many cases within this budget (a printed figure, not a test). */
export const STATISTICS_BUDGET_MS = 200;

export interface CasesRow {
  request: string;
  medianMs: number;
  maxMs: number;
  pass: boolean;
}

export interface CasesResult {
  node: string;
  cases: number;
  seedSeconds: number;
  repetitions: number;
  rows: CasesRow[];
}

/**
 * Seeds `count` cases into a node's database in one statement: a year of requests both ways with
 * every outcome, some overdue, with acknowledgement and execution times spread over months.
 */
async function seedCases(databaseUrl: string, count: number, node: string): Promise<number> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const started = performance.now();
  try {
    await db.query(`SELECT setseed(0.42)`);
    await db.query(
      `WITH base AS (
         SELECT n, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                timestamptz '2026-01-01' + (random() * 365) * interval '1 day' AS opened
           FROM generate_series(1, $1::int) AS n),
       shaped AS (
         SELECT *, CASE WHEN r1 < 0.45 THEN 'executed' WHEN r1 < 0.55 THEN 'refused'
                        WHEN r1 < 0.6 THEN 'withdrawn' ELSE NULL END AS outcome FROM base)
       INSERT INTO case_file (id, direction, kind, local_authority, counterpart_state, counterpart_authority,
                              urgency, state, next_step, next_due_at, overdue_since, opened_at, acknowledged_at,
                              outcome, outcome_at, refusal_grounds, partial_executions, last_message_at)
       SELECT gen_random_uuid(), CASE WHEN r2 < 0.5 THEN 'outbound' ELSE 'inbound' END,
              (ARRAY['mla_request', 'extradition_request', 'asset_recovery_request', 'provisional_arrest_request'])[1 + floor(r3 * 4)::int],
              lower($2) || '-central-authority', (ARRAY['AT', 'KE', 'DE', 'IT', 'ES', 'BR', 'NG', 'IN'])[1 + floor(r4 * 8)::int],
              'peer-central-authority', (ARRAY['routine', 'routine', 'routine', 'urgent', 'immediate'])[1 + floor(r2 * 5)::int],
              COALESCE(outcome, (ARRAY['awaiting_acknowledgement', 'in_progress', 'postponed', 'awaiting_information'])[1 + floor(r3 * 4)::int]),
              CASE WHEN outcome IS NULL THEN 'execute' END,
              CASE WHEN outcome IS NULL THEN opened + interval '90 days' END,
              CASE WHEN outcome IS NULL AND opened + interval '90 days' < now() THEN opened + interval '90 days' END,
              opened, opened + (r4 * 14) * interval '1 day', outcome,
              CASE WHEN outcome IS NOT NULL THEN opened + (20 + r3 * 200) * interval '1 day' END,
              CASE WHEN outcome = 'refused' THEN ARRAY['dual-criminality'] ELSE '{}' END,
              CASE WHEN r4 < 0.1 THEN 1 ELSE 0 END, opened
         FROM shaped`,
      [count, node],
    );
    // As autovacuum leaves a table at rest: statistics and the visibility map (index-only scans).
    await db.query(`VACUUM ANALYZE case_file`);
  } finally {
    await db.end();
  }
  return (performance.now() - started) / 1000;
}

/** Seeds, then times the statistics and the case lists through the node's HTTP API. */
export async function casesAtVolume(options: {
  node: string;
  baseUrl: string;
  apiKey: string;
  databaseUrl: string;
  cases: number;
  repetitions?: number;
}): Promise<CasesResult> {
  const repetitions = options.repetitions ?? 5;
  const seedSeconds = await seedCases(options.databaseUrl, options.cases, options.node);
  const first = JSON.parse(
    (await get(options.baseUrl, options.apiKey, '/v1/cases?limit=50')).body,
  ) as {
    nextCursor: string;
  };
  const paths = [
    '/v1/statistics',
    '/v1/statistics?format=csv',
    '/v1/statistics?from=2026-04-01&to=2026-07-01&state=KE',
    '/v1/cases?limit=50',
    `/v1/cases?limit=50&cursor=${encodeURIComponent(first.nextCursor)}`,
    '/v1/cases?limit=50&overdue=true',
    '/v1/cases?limit=50&caseState=in_progress&state=DE',
  ];
  const rows: CasesRow[] = [];
  for (const path of paths) {
    await get(options.baseUrl, options.apiKey, path);
    const times: number[] = [];
    for (let repetition = 0; repetition < repetitions; repetition += 1) {
      times.push((await get(options.baseUrl, options.apiKey, path)).ms);
    }
    times.sort((a, b) => a - b);
    const medianMs = times[Math.floor(times.length / 2)]!;
    rows.push({
      request: `GET ${path}`,
      medianMs,
      maxMs: times.at(-1)!,
      pass: medianMs < STATISTICS_BUDGET_MS,
    });
  }
  return { node: options.node, cases: options.cases, seedSeconds, repetitions, rows };
}

export function casesTable(result: CasesResult): string[] {
  return [
    `cases at ${result.cases.toLocaleString('en-US')} on ${result.node} (seeded in ${result.seedSeconds.toFixed(1)} s); HTTP API as the operator, 1 warm-up + ${result.repetitions} timed each`,
    '',
    `| request | median ms | max ms | < ${STATISTICS_BUDGET_MS} ms |`,
    '|---|---|---|---|',
    ...result.rows.map(
      (row) =>
        `| \`${row.request}\` | ${row.medianMs.toFixed(1)} | ${row.maxMs.toFixed(1)} | ${row.pass ? 'PASS' : 'FAIL'} |`,
    ),
  ];
}
