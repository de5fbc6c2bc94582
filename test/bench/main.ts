import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { devApiKey } from '../../apps/cli/src/federation/dev-api-keys';
import { ensureDevCertificates } from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES } from '../../apps/cli/src/federation/dev-directory';
import {
  Federation,
  dropDatabase,
  freePort,
} from '../../apps/cli/src/federation/federation-launcher';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { POSTGRES_ADMIN_URL, createVhost, deleteVhost, uniqueName } from '../support/services';
import {
  measureDelivered,
  stageBreakdown,
  submitAtRate,
  submitClosedLoop,
  Submitter,
  type ComityResult,
  type StageBreakdown,
} from './comity-load';
import { casesAtVolume, casesTable, type CasesResult } from './cases-at-volume';
import { consoleAtVolume, consoleTable, type ConsoleResult } from './console-at-volume';
import { largeFile, largeFileTable } from './large-file';
import { cpuSeconds, cpuSecondsOf, machineCpu, peakRssMiB } from './process-usage';
import { rawRoundTrips } from './raw-baseline';
import { soak, soakTable, type SoakResult } from './soak';
import { WebhookFanout } from './webhook-fanout';

/**
 * npm run bench [-- --count 4000 --body-bytes 4096 --concurrency 32 --rate 100,200 --rate-count 3000
 *                   --volume 100000 --cases 100000 --file-mib 1024 --soak 20000 --webhooks 3]
 *
 * Two gateways (AT → FR) as separate processes with their own databases on the local RabbitMQ
 * and PostgreSQL. Measures, in the same run: the raw broker round trip (the floor), Comity end to
 * end as fast as the API takes requests, and Comity at a fixed offered load. Then the console at
 * volume: `--volume` messages (0 skips it) seeded into FR's database and each operator console
 * page timed through FR's HTTP API; `--cases` cases (0 skips it) seeded the same way and the
 * statistics and case lists timed. Last, one large file (`--file-mib`, 0 skips it) uploaded to
 * AT in chunks and sent to FR (test/bench/large-file.ts): MB/s end to end and peak RSS of both.
 * Before those, memory over a long run: `--soak` requests (0 skips it) in ten rounds, the
 * gateways' resident memory read after each (test/bench/soak.ts).
 * `--webhooks` local HTTP endpoints (0 for none) are subscribed to every event of both nodes
 * for the whole run, so the CPU figures include the fan-out (test/bench/webhook-fanout.ts).
 * Prints tables and writes a JSON result under var/bench/.
 */
function stageLine(stages: StageBreakdown): string {
  return `submit→sent ${stages.submitToSent.toFixed(1)}, sent→received by FR ${stages.sentToReceived.toFixed(1)}, received→receipt published ${stages.receivedToReceiptSent.toFixed(1)}, receipt published→verified by AT ${stages.receiptSentToDelivered.toFixed(1)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '4000' },
      'body-bytes': { type: 'string', default: '4096' },
      concurrency: { type: 'string', default: '32' },
      rate: { type: 'string', default: '100,200' },
      'rate-count': { type: 'string', default: '3000' },
      volume: { type: 'string', default: '100000' },
      cases: { type: 'string', default: '100000' },
      'file-mib': { type: 'string', default: '1024' },
      soak: { type: 'string', default: '20000' },
      webhooks: { type: 'string', default: '3' },
    },
  });
  const fileMiB = Number(values['file-mib']);
  if (!Number.isInteger(fileMiB) || fileMiB < 0)
    throw new Error(
      `--file-mib must be a whole number of MiB (0 skips), not ${values['file-mib']}`,
    );
  const count = Number(values.count);
  const bodyBytes = Number(values['body-bytes']);
  const concurrency = Number(values.concurrency);
  // One or more offered loads, e.g. --rate 100,200.
  const rates = values.rate.split(',').map(Number);
  if (rates.some((rate) => !(rate > 0)))
    throw new Error(`--rate must be positive numbers separated by commas (got "${values.rate}")`);
  const rateCount = Number(values['rate-count']);
  const volume = Number(values.volume);
  if (!Number.isInteger(volume) || volume < 0)
    throw new Error(`--volume must be a whole number of messages (0 skips), not ${values.volume}`);
  const caseCount = Number(values.cases);
  const soakCount = Number(values.soak);
  if (!Number.isInteger(soakCount) || soakCount < 0) {
    throw new Error(`--soak must be a whole number of requests (0 skips), not ${values.soak}`);
  }
  const webhookEndpoints = Number(values.webhooks);
  if (!Number.isInteger(webhookEndpoints) || webhookEndpoints < 0 || webhookEndpoints > 20) {
    throw new Error(`--webhooks must be 0 to 20 endpoints, not ${values.webhooks}`);
  }
  if (!Number.isInteger(caseCount) || caseCount < 0)
    throw new Error(`--cases must be a whole number of cases (0 skips), not ${values.cases}`);
  const root = repoRoot();
  const output = join(root, 'var', 'bench');
  mkdirSync(output, { recursive: true });

  const pki = await ensureDevCertificates(join(output, 'pki'), DEV_STATES);
  const vhost = uniqueName('bench-comity');
  const amqpUrl = await createVhost(vhost);
  const databases = {
    AT: uniqueName('bench_at').toLowerCase(),
    FR: uniqueName('bench_fr').toLowerCase(),
  };
  const federation = await Federation.launch({
    layout: pki.layout,
    directoryPath: pki.directoryPath,
    nodes: [
      { state: 'AT', port: await freePort(), databaseName: databases.AT },
      { state: 'FR', port: await freePort(), databaseName: databases.FR },
    ],
    postgresAdminUrl: POSTGRES_ADMIN_URL,
    amqpUrl,
    logDirectory: join(output, 'logs'),
    environment: {
      COMITY_RATE_LIMIT_PER_SECOND: '100000',
      COMITY_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    },
  });
  try {
    const stateDirectory = join(pki.layout.states.AT!.signingCertificate, '..');
    const client = new Submitter(
      federation.node('AT').url,
      devApiKey(stateDirectory, 'central-clerk'),
    );
    const atDatabase = new URL(POSTGRES_ADMIN_URL);
    atDatabase.pathname = `/${databases.AT}`;
    const pids = { AT: federation.node('AT').pid!, FR: federation.node('FR').pid! };

    console.log(`raw baseline: ${count} round trips, ${bodyBytes} B, window ${concurrency} ...`);
    const raw = await rawRoundTrips(amqpUrl, count, bodyBytes, concurrency);

    const fanout = await WebhookFanout.start(
      webhookEndpoints,
      (['AT', 'FR'] as const).map((state) => ({
        url: federation.node(state).url,
        apiKey: devApiKey(join(pki.layout.states[state]!.signingCertificate, '..'), 'operator'),
      })),
    );
    await submitClosedLoop(client, 500, concurrency, bodyBytes); // warm-up (JIT, pools), not measured
    await fanout.drain();
    const deliveriesBefore = fanout.received;
    const commitsBefore = await commitsOf(Object.values(databases));
    const cpuBefore = {
      AT: cpuSeconds(pids.AT),
      FR: cpuSeconds(pids.FR),
      postgres: cpuSecondsOf(['postgres']),
      rabbitmq: cpuSecondsOf(['beam.smp']),
      bench: process.cpuUsage(),
      machine: machineCpu(),
    };
    const wallBefore = performance.now();
    console.log(
      `Comity end to end: ${count} requests through the API, ${concurrency} at a time ...`,
    );
    const closedIds = await submitClosedLoop(client, count, concurrency, bodyBytes);
    const closed = await measureDelivered(atDatabase.toString(), closedIds, 600_000);
    // The webhook deliveries of these requests belong to their cost: wait for them (idle time
    // adds no CPU seconds, and CPU per request is CPU seconds over requests).
    if (webhookEndpoints > 0) await fanout.drain();
    const webhookDeliveries = fanout.received - deliveriesBefore;
    const wall = (performance.now() - wallBefore) / 1000;
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const machine = machineCpu();
    const cpu = {
      AT: (cpuSeconds(pids.AT) - cpuBefore.AT) / wall,
      FR: (cpuSeconds(pids.FR) - cpuBefore.FR) / wall,
      postgres: (cpuSecondsOf(['postgres']) - cpuBefore.postgres) / wall,
      rabbitmq: (cpuSecondsOf(['beam.smp']) - cpuBefore.rabbitmq) / wall,
      loadGenerator: (benchCpu.user + benchCpu.system) / 1e6 / wall,
      machineBusyPercent:
        (100 * (machine.busy - cpuBefore.machine.busy)) / (machine.total - cpuBefore.machine.total),
    };
    // CPU milliseconds each party spends per request: steadier than requests per second on a
    // shared machine, and what a lever changes.
    const msPerRequest = (cores: number) => (cores * wall * 1000) / count;
    const cpuMsPerRequest = {
      AT: msPerRequest(cpu.AT),
      FR: msPerRequest(cpu.FR),
      postgres: msPerRequest(cpu.postgres),
      rabbitmq: msPerRequest(cpu.rabbitmq),
      loadGenerator: msPerRequest(cpu.loadGenerator),
      total: msPerRequest(cpu.AT + cpu.FR + cpu.postgres + cpu.rabbitmq + cpu.loadGenerator),
    };
    const commits = (await commitsOf(Object.values(databases))) - commitsBefore;
    const frUrl = new URL(POSTGRES_ADMIN_URL);
    frUrl.pathname = `/${databases.FR}`;
    const stages = await stageBreakdown(atDatabase.toString(), frUrl.toString(), closedIds);
    const open: Array<ComityResult & { offered: number; slowestStages: StageBreakdown }> = [];
    for (const rate of rates) {
      console.log(`Comity at a fixed offered load: ${rateCount} requests at ${rate}/s ...`);
      const ids = await submitAtRate(client, rateCount, rate, bodyBytes);
      open.push({
        offered: rate,
        ...(await measureDelivered(atDatabase.toString(), ids, 600_000)),
        slowestStages: await stageBreakdown(atDatabase.toString(), frUrl.toString(), ids, 0.01),
      });
    }
    const rss = { AT: peakRssMiB(pids.AT), FR: peakRssMiB(pids.FR) };
    let soakResult: SoakResult | null = null;
    if (soakCount > 0) {
      console.log(`memory over a long run: ${soakCount} requests in ten rounds ...`);
      soakResult = await soak({
        client,
        atDatabaseUrl: atDatabase.toString(),
        pids,
        requests: soakCount,
        concurrency,
        bodyBytes,
      });
    }
    client.close();
    await fanout.close();

    let consoleResult: ConsoleResult | null = null;
    if (volume > 0) {
      console.log(`console at volume: seeding ${volume} messages into FR's database ...`);
      const frDatabase = new URL(POSTGRES_ADMIN_URL);
      frDatabase.pathname = `/${databases.FR}`;
      consoleResult = await consoleAtVolume({
        node: 'FR',
        baseUrl: federation.node('FR').url,
        apiKey: devApiKey(join(pki.layout.states.FR!.signingCertificate, '..'), 'operator'),
        databaseUrl: frDatabase.toString(),
        volume,
      });
    }
    let casesResult: CasesResult | null = null;
    if (caseCount > 0) {
      console.log(`cases at volume: seeding ${caseCount} cases into FR's database ...`);
      const frDatabase = new URL(POSTGRES_ADMIN_URL);
      frDatabase.pathname = `/${databases.FR}`;
      casesResult = await casesAtVolume({
        node: 'FR',
        baseUrl: federation.node('FR').url,
        apiKey: devApiKey(join(pki.layout.states.FR!.signingCertificate, '..'), 'operator'),
        databaseUrl: frDatabase.toString(),
        cases: caseCount,
      });
    }
    // Last, so its gigabytes disturb no other figure; it measures its own peak RSS.
    const large =
      fileMiB > 0
        ? await largeFile({
            fileMiB,
            at: federation.node('AT'),
            fr: federation.node('FR'),
            atClerkKey: devApiKey(stateDirectory, 'central-clerk'),
            frClerkKey: devApiKey(
              join(pki.layout.states.FR!.signingCertificate, '..'),
              'central-clerk',
            ),
          })
        : null;

    const row = (
      name: string,
      result: ComityResult | { perSecond: number; p50Ms: number; p99Ms: number; p95Ms?: number },
    ) =>
      `| ${name} | ${result.perSecond.toFixed(0)} | ${result.p50Ms.toFixed(1)} | ${result.p95Ms?.toFixed(1) ?? '—'} | ${result.p99Ms.toFixed(1)} |`;
    const lines = [
      `| measured (${bodyBytes} B bodies, this machine, everything co-located) | per second | p50 ms | p95 ms | p99 ms |`,
      '|---|---|---|---|---|',
      row(`raw AMQP round trip (persistent, confirmed, quorum; window ${concurrency})`, raw),
      row(`Comity submit → verified receipt (API, ${concurrency} concurrent)`, closed),
      ...open.map((result) => row(`Comity at ${result.offered}/s offered`, result)),
      '',
      `ratio Comity/raw: ${(closed.perSecond / raw.perSecond).toFixed(3)}`,
      `CPU during the closed-loop run (cores): AT ${cpu.AT.toFixed(2)}, FR ${cpu.FR.toFixed(2)}, PostgreSQL ${cpu.postgres.toFixed(2)}, RabbitMQ ${cpu.rabbitmq.toFixed(2)}, load generator ${cpu.loadGenerator.toFixed(2)}; machine busy ${cpu.machineBusyPercent.toFixed(0)}%`,
      `webhooks: ${webhookEndpoints} endpoint(s) subscribed to every event of AT and FR; ${webhookDeliveries} deliveries for these ${count} requests`,
      `CPU per request (ms): AT ${cpuMsPerRequest.AT.toFixed(2)}, FR ${cpuMsPerRequest.FR.toFixed(2)}, PostgreSQL ${cpuMsPerRequest.postgres.toFixed(2)}, RabbitMQ ${cpuMsPerRequest.rabbitmq.toFixed(2)}, load generator ${cpuMsPerRequest.loadGenerator.toFixed(2)}; total ${cpuMsPerRequest.total.toFixed(2)}`,
      `peak RSS MiB: AT ${rss.AT.toFixed(0)}, FR ${rss.FR.toFixed(0)}; PostgreSQL transactions per request (both nodes): ${(commits / count).toFixed(2)}`,
      `where the time goes (closed loop, median ms): ${stageLine(stages)}`,
      ...open.map(
        (result) =>
          `where the slowest 1 % went at ${result.offered}/s (median of those, ms): ${stageLine(result.slowestStages)}`,
      ),
      ...(soakResult ? ['', ...soakTable(soakResult)] : []),
      ...(consoleResult ? ['', ...consoleTable(consoleResult)] : []),
      ...(casesResult ? ['', ...casesTable(casesResult)] : []),
      ...(large ? ['', ...largeFileTable(large)] : []),
    ];
    console.log(`\n${lines.join('\n')}`);
    const file = join(output, `result-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ at: new Date().toISOString(), count, bodyBytes, concurrency, rates, rateCount, raw, closed, open, cpu, cpuMsPerRequest, webhooks: { endpoints: webhookEndpoints, deliveries: webhookDeliveries }, rss, stages, soak: soakResult, ratio: closed.perSecond / raw.perSecond, console: consoleResult, cases: casesResult, largeFile: large }, null, 2)}\n`,
    );
    console.log(`\nJSON: ${file}`);
  } finally {
    await federation.stop();
    await deleteVhost(vhost);
    for (const name of Object.values(databases)) await dropDatabase(POSTGRES_ADMIN_URL, name);
  }
}

/** Committed transactions so far in these databases (every statement outside a transaction counts as one). */
async function commitsOf(names: string[]): Promise<number> {
  const db = new Client({ connectionString: POSTGRES_ADMIN_URL });
  await db.connect();
  try {
    const { rows } = await db.query<{ n: string }>(
      `SELECT coalesce(sum(xact_commit), 0) AS n FROM pg_stat_database WHERE datname = ANY($1::text[])`,
      [names],
    );
    return Number(rows[0]!.n);
  } finally {
    await db.end();
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
