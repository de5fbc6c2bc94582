import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { devApiKey } from '../../apps/cli/src/federation/dev-api-keys';
import { ensureDevCertificates } from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES } from '../../apps/cli/src/federation/dev-directory';
import {
  Federation,
  dropDatabase,
  freePort,
  type GatewayProcess,
} from '../../apps/cli/src/federation/federation-launcher';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { GatewayClient } from '../../apps/cli/src/gateway-client';
import { AttachmentClient, GeneratedFile } from '../support/large-attachments';
import { POSTGRES_ADMIN_URL, createVhost, deleteVhost, uniqueName } from '../support/services';
import { cpuSeconds, cpuSecondsOf, peakRssMiB } from './process-usage';

const MIB = 1024 * 1024;

export interface LargeFileResult {
  fileMiB: number;
  bytes: number;
  chunkBytes: number;
  chunks: number;
  /** Seconds of each stage, from the client's side and the sender's timeline. */
  seconds: {
    upload: number;
    complete: number;
    submitToSent: number;
    sentToDelivered: number;
    endToEnd: number;
    download: number;
  };
  /** Megabytes (10^6 bytes) a second, upload start → verified receipt held by the sender. */
  endToEndMBps: number;
  uploadMBps: number;
  downloadMBps: number;
  /** Peak resident set size during this section (MiB), per node. */
  peakRssMiB: { AT: number; FR: number };
  peakRssMethod: 'VmHWM reset' | 'sampled VmRSS';
  /** CPU seconds spent from upload start to the verified receipt, per process (group). */
  cpuSeconds: { AT: number; FR: number; postgres: number; rabbitmq: number; client: number };
  downloadVerified: boolean;
}

/**
 * One large file end to end: a generated file (never held in memory) uploaded to AT in chunks,
 * submitted to FR, until AT holds FR's verified receipt; then FR's clerk downloads and hashes it.
 * Peak RSS of both nodes is measured over this section alone.
 */
export async function largeFile(options: {
  fileMiB: number;
  at: GatewayProcess;
  fr: GatewayProcess;
  atClerkKey: string;
  frClerkKey: string;
  parallelUploads?: number;
  log?: (line: string) => void;
}): Promise<LargeFileResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const pids = { AT: options.at.pid!, FR: options.fr.pid! };
  const rss = new RssWatch(pids);
  const cpu = () => ({
    AT: cpuSeconds(pids.AT),
    FR: cpuSeconds(pids.FR),
    postgres: cpuSecondsOf(['postgres']),
    rabbitmq: cpuSecondsOf(['beam.smp']),
    client: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  });
  const cpuBefore = cpu();
  const file = new GeneratedFile(options.fileMiB * MIB, `bench-${Date.now()}`);
  log(`large file: ${options.fileMiB} MiB generated on the fly, uploaded to AT, sent to FR ...`);
  const uploads = new AttachmentClient(options.at.url, options.atClerkKey);
  const started = performance.now();
  const upload = await uploads.create({
    filename: 'evidence.bin',
    mediaType: 'application/octet-stream',
    size: file.size,
  });
  await uploads.uploadMissing(upload, file, { parallel: options.parallelUploads ?? 2 });
  const uploaded = performance.now();
  const completed = await uploads.complete(upload.id);
  const completedAt = performance.now();
  const sender = new GatewayClient(options.at.url, options.atClerkKey);
  const submitted = await sender.submit({
    kind: 'mla_request',
    senderAuthority: 'at-central-authority',
    recipient: { state: 'FR', authority: 'fr-central-authority' },
    legalBasis: 'UNCAC art. 46',
    urgency: 'routine',
    subject: 'Benchmark: one large evidence file',
    body: 'The evidence is attached by reference.',
    attachmentRefs: [upload.id],
  });
  const delivered = await sender.waitForStatus(
    submitted.id,
    ['delivered', 'rejected', 'failed'],
    3_600_000,
  );
  const receipted = performance.now();
  if (delivered.status !== 'delivered') {
    throw new Error(
      `the large file was not delivered: ${delivered.status} (${delivered.statusReason ?? ''})`,
    );
  }
  const peak = rss.stop();
  const cpuAfter = cpu();
  const at = (type: string) =>
    Date.parse(delivered.timeline.find((evidence) => evidence.type === type)?.at ?? '');
  const downloadStarted = performance.now();
  const download = await new AttachmentClient(options.fr.url, options.frClerkKey).download(
    `/v1/inbound-messages/${submitted.id}/attachments/0`,
  );
  const downloaded = performance.now();
  const bytes = file.size;
  const endToEnd = (receipted - started) / 1000;
  const result: LargeFileResult = {
    fileMiB: options.fileMiB,
    bytes,
    chunkBytes: upload.chunkSize,
    chunks: upload.chunks,
    seconds: {
      upload: (uploaded - started) / 1000,
      complete: (completedAt - uploaded) / 1000,
      submitToSent: (at('sent') - at('submitted')) / 1000,
      sentToDelivered: (at('delivered') - at('sent')) / 1000,
      endToEnd,
      download: (downloaded - downloadStarted) / 1000,
    },
    endToEndMBps: bytes / 1e6 / endToEnd,
    uploadMBps: bytes / 1e6 / ((uploaded - started) / 1000),
    downloadMBps: bytes / 1e6 / ((downloaded - downloadStarted) / 1000),
    peakRssMiB: peak.peak,
    peakRssMethod: peak.method,
    cpuSeconds: {
      AT: cpuAfter.AT - cpuBefore.AT,
      FR: cpuAfter.FR - cpuBefore.FR,
      postgres: cpuAfter.postgres - cpuBefore.postgres,
      rabbitmq: cpuAfter.rabbitmq - cpuBefore.rabbitmq,
      client: cpuAfter.client - cpuBefore.client,
    },
    downloadVerified: download.bytes === bytes && download.sha256 === completed.sha256,
  };
  if (!result.downloadVerified) throw new Error('the downloaded file differs from the upload');
  return result;
}

export function largeFileTable(result: LargeFileResult): string[] {
  const s = result.seconds;
  const c = result.cpuSeconds;
  return [
    `| large file (${result.fileMiB} MiB, ${result.chunks} chunks of ${result.chunkBytes / MIB} MiB) | figure |`,
    '|---|---|',
    `| end to end, upload start → verified receipt | ${s.endToEnd.toFixed(1)} s, **${result.endToEndMBps.toFixed(1)} MB/s** |`,
    `| upload (sealed and stored by AT) | ${s.upload.toFixed(1)} s, ${result.uploadMBps.toFixed(1)} MB/s |`,
    `| complete (digest) | ${s.complete.toFixed(2)} s |`,
    `| submit → envelope sent (chunks published and confirmed first) | ${s.submitToSent.toFixed(1)} s |`,
    `| sent → delivered (FR stores, verifies, receipt back) | ${s.sentToDelivered.toFixed(1)} s |`,
    `| FR clerk download (decrypted, hashed) | ${s.download.toFixed(1)} s, ${result.downloadMBps.toFixed(1)} MB/s; identical: ${result.downloadVerified ? 'yes' : 'NO'} |`,
    `| peak RSS during the transfer (${result.peakRssMethod}) | AT ${result.peakRssMiB.AT.toFixed(0)} MiB, FR ${result.peakRssMiB.FR.toFixed(0)} MiB |`,
    `| CPU seconds, upload start → receipt | AT ${c.AT.toFixed(1)}, FR ${c.FR.toFixed(1)}, PostgreSQL ${c.postgres.toFixed(1)}, RabbitMQ ${c.rabbitmq.toFixed(1)}, client ${c.client.toFixed(1)} |`,
  ];
}

/**
 * Peak RSS of some processes over a stretch of time: the kernel's high-water mark reset at the
 * start (clear_refs 5), or, where that is not allowed, VmRSS sampled every 50 ms.
 */
class RssWatch {
  private readonly sampled: Record<string, number> = {};
  private readonly timer: NodeJS.Timeout;
  private readonly method: LargeFileResult['peakRssMethod'];

  constructor(private readonly pids: { AT: number; FR: number }) {
    let reset = true;
    for (const pid of Object.values(pids)) {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        reset = false;
      }
    }
    this.method = reset ? 'VmHWM reset' : 'sampled VmRSS';
    this.timer = setInterval(() => this.sample(), 50);
    this.sample();
  }

  private sample(): void {
    for (const [state, pid] of Object.entries(this.pids)) {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      const mib = match ? Number(match[1]) / 1024 : 0;
      this.sampled[state] = Math.max(this.sampled[state] ?? 0, mib);
    }
  }

  stop(): { peak: { AT: number; FR: number }; method: LargeFileResult['peakRssMethod'] } {
    clearInterval(this.timer);
    this.sample();
    const peak = (state: 'AT' | 'FR') =>
      this.method === 'VmHWM reset'
        ? Math.max(peakRssMiB(this.pids[state]), this.sampled[state] ?? 0)
        : (this.sampled[state] ?? 0);
    return { peak: { AT: peak('AT'), FR: peak('FR') }, method: this.method };
  }
}

/** Alone: `node dist/test/bench/large-file.js [--file-mib 1024]` starts AT and FR of its own. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'file-mib': { type: 'string', default: '1024' } } });
  const fileMiB = Number(values['file-mib']);
  if (!Number.isInteger(fileMiB) || fileMiB < 1) throw new Error('--file-mib must be at least 1');
  const output = join(repoRoot(), 'var', 'bench');
  const pki = await ensureDevCertificates(join(output, 'pki'), DEV_STATES);
  const vhost = uniqueName('bench-large');
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
    environment: { COMITY_RATE_LIMIT_PER_SECOND: '100000' },
  });
  try {
    const key = (state: string) =>
      devApiKey(join(pki.layout.states[state]!.signingCertificate, '..'), 'central-clerk');
    const result = await largeFile({
      fileMiB,
      at: federation.node('AT'),
      fr: federation.node('FR'),
      atClerkKey: key('AT'),
      frClerkKey: key('FR'),
    });
    console.log(`\n${largeFileTable(result).join('\n')}`);
    const file = join(output, `large-file-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nJSON: ${file}`);
  } finally {
    await federation.stop();
    await deleteVhost(vhost);
    for (const name of Object.values(databases)) await dropDatabase(POSTGRES_ADMIN_URL, name);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
