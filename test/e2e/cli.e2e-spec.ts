import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { freePort } from '../../apps/cli/src/federation/federation-launcher';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { startTestFederation, type TestFederation } from '../support/test-federation';

const cli = join(repoRoot(__dirname), 'dist', 'apps', 'cli', 'src', 'main.js');
const CHUNK = 64 * 1024;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A pass-through proxy in front of a gateway that records the chunk PUTs it forwards, and can
 * hold every chunk after the first `forwardLimit` (an upload that stalls, to be killed).
 */
class ChunkProxy {
  puts: number[] = [];
  forwardLimit = Number.POSITIVE_INFINITY;
  private pending = 0;
  private readonly held: ServerResponse[] = [];
  private onHold: (() => void) | null = null;
  private server!: Server;
  url = '';

  constructor(private readonly upstream: string) {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves when a chunk is held back (the upload has stalled). */
  held$(): Promise<void> {
    return new Promise((resolve) => (this.onHold = resolve));
  }

  /** Waits until every forwarded request has its answer from the gateway. */
  async idle(): Promise<void> {
    while (this.pending > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  release(): void {
    for (const response of this.held.splice(0)) response.destroy();
    this.forwardLimit = Number.POSITIVE_INFINITY;
    this.puts = [];
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    const chunk = /^\/v1\/attachments\/[^/]+\/chunks\/(\d+)$/.exec(request.url ?? '');
    if (request.method === 'PUT' && chunk) {
      if (this.puts.length >= this.forwardLimit) {
        this.held.push(response);
        this.onHold?.();
        return;
      }
      this.puts.push(Number(chunk[1]));
    }
    this.pending += 1;
    try {
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'idempotency-key']) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer = await fetch(`${this.upstream}${request.url}`, {
        method: request.method,
        headers,
        body: parts.length ? Buffer.concat(parts) : undefined,
      });
      const body = Buffer.from(await answer.arrayBuffer());
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
      });
      response.end(body);
    } catch {
      response.destroy();
    } finally {
      this.pending -= 1;
    }
  }
}

/**
 * The built `comity` CLI run as a child process, as people and scripts run it, against three
 * gateway processes: a chunked, resumable upload; requests with uploaded and inline
 * attachments; the recipient's inbox and downloads; the audit log; --json and exit codes.
 */
describe('the comity CLI against a running federation', () => {
  let world: TestFederation;
  let proxy: ChunkProxy;
  let dir: string;
  let home: string;

  beforeAll(async () => {
    world = await startTestFederation('cli', {
      COMITY_ATTACHMENT_CHUNK_BYTES: String(CHUNK),
    });
    proxy = new ChunkProxy(world.federation.node('AT').url);
    await proxy.start();
    dir = mkdtempSync(join(tmpdir(), 'comity-cli-'));
    home = join(dir, 'home');
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await world?.stop();
  }, 60_000);

  const environment = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, COMITY_HOME: home };
    delete env.COMITY_API_KEY;
    return env;
  };
  const comity = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [cli, ...args],
        { env: environment(), maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  const json = <T>(run: Run): T => {
    if (run.code !== 0) throw new Error(`comity exited ${run.code}: ${run.stderr}${run.stdout}`);
    return JSON.parse(run.stdout) as T;
  };
  const as = (state: string, principal: 'central-clerk' | 'auditor' = 'central-clerk') => [
    '--node',
    world.federation.node(state).url,
    '--api-key',
    world.apiKey(state, principal),
  ];
  const file = (name: string, bytes: Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  const sendArgs = (subject: string) => [
    'send',
    ...as('AT'),
    '--from',
    'at-central-authority',
    '--to',
    'FR',
    '--authority',
    'fr-central-authority',
    '--legal-basis',
    'UNCAC art. 46',
    '--subject',
    subject,
    '--body',
    'Please provide the account statements of account 1234 for 2019-2024.',
  ];
  const delivered = (id: string) =>
    world.client('AT').waitForStatus(id, ['delivered', 'rejected', 'failed'], 20_000);

  interface Uploaded {
    id: string;
    sha256: string;
    chunks: number;
    chunksSent: number;
    chunksPresent: number;
    resumed: boolean;
    mediaType: string;
    status: string;
  }

  it('uploads a file in chunks, with progress on stderr, and prints its reference and SHA-256', async () => {
    const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(16 * CHUNK + 123)]);
    const path = file('statements.bin', bytes);
    const run = await comity('upload', path, ...as('AT'), '--progress', 'lines');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^attachment ${UUID.source}$`, 'm'));
    expect(run.stdout).toContain(`sha-256  ${sha256(bytes)}`);
    expect(run.stdout).toContain('application/pdf');
    const lines = run.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.at(-1)).toMatch(/^statements\.bin: 100% \(1\.0 MiB of 1\.0 MiB\)$/);

    const id = UUID.exec(run.stdout)![0];
    const held = await world.client('AT').attachment(id);
    expect(held).toMatchObject({ status: 'complete', chunks: 17, receivedChunks: 17 });
    expect(Buffer.from(held.sha256!, 'base64url').toString('hex')).toBe(sha256(bytes));

    // A terminal's bar, asked for: one line redrawn, then ended.
    const bar = await comity('upload', path, ...as('AT'), '--progress', 'bar', '--json');
    expect(bar.stderr).toMatch(/\rstatements\.bin \[#+\] 100%/);
    expect(json<Uploaded>(bar).sha256).toBe(sha256(bytes));
  });

  it('resumes an upload killed in the middle from its state file, sending only the missing chunks', async () => {
    const bytes = randomBytes(40 * CHUNK + 1000);
    const path = file('interrupted.zip', bytes);
    proxy.forwardLimit = 12;
    const stalled = proxy.held$();
    const child = spawn(
      process.execPath,
      [cli, 'upload', path, '--node', proxy.url, '--api-key', world.apiKey('AT', 'central-clerk')],
      { env: environment(), stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    await stalled;
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await proxy.idle();
    const first = [...proxy.puts].sort((a, b) => a - b);
    proxy.release();

    const states = readdirSync(join(home, 'uploads'));
    expect(states).toHaveLength(1);
    const state = JSON.parse(readFileSync(join(home, 'uploads', states[0]!), 'utf8')) as {
      uploadId: string;
    };
    const partial = await world.client('AT').attachment(state.uploadId);
    expect(partial).toMatchObject({ status: 'uploading', chunks: 41, receivedChunks: 12 });
    expect(first).toHaveLength(12);

    const run = await comity(
      'upload',
      path,
      '--node',
      proxy.url,
      '--api-key',
      world.apiKey('AT', 'central-clerk'),
      '--json',
      '--progress',
      'lines',
    );
    const result = json<Uploaded>(run);
    expect(result).toMatchObject({
      id: state.uploadId,
      resumed: true,
      chunks: 41,
      chunksSent: 29,
      chunksPresent: 12,
      sha256: sha256(bytes),
      status: 'complete',
    });
    expect(run.stderr).toContain(
      `resuming upload ${state.uploadId}: 12 of 41 chunks already at the gateway`,
    );
    // Exactly the chunks the gateway lacked went, each once.
    const missing = Array.from({ length: 41 }, (_, index) => index).filter(
      (index) => !first.includes(index),
    );
    expect([...proxy.puts].sort((a, b) => a - b)).toEqual(missing);
    expect(readdirSync(join(home, 'uploads'))).toEqual([]);
    proxy.release();
  });

  it('continues an upload by its id with --resume', async () => {
    const bytes = randomBytes(5 * CHUNK);
    const path = file('by-id.bin', bytes);
    const clerk = world.client('AT');
    const started = await clerk.createAttachment({
      filename: 'by-id.bin',
      mediaType: 'application/octet-stream',
      size: bytes.length,
    });
    await clerk.putChunk(started.id, 0, bytes.subarray(0, CHUNK));
    await clerk.putChunk(started.id, 3, bytes.subarray(3 * CHUNK, 4 * CHUNK));
    const run = await comity(
      'upload',
      path,
      '--node',
      proxy.url,
      '--api-key',
      world.apiKey('AT', 'central-clerk'),
      '--resume',
      started.id,
      '--no-state',
      '--json',
    );
    expect(json<Uploaded>(run)).toMatchObject({ id: started.id, chunksSent: 3, chunksPresent: 2 });
    expect([...proxy.puts].sort((a, b) => a - b)).toEqual([1, 2, 4]);
    proxy.release();
  });

  it('sends a request with --attachment-ref; FR finds it in its inbox and downloads the exact bytes', async () => {
    const bytes = randomBytes(3 * CHUNK + 77);
    const upload = json<Uploaded>(
      await comity(
        'upload',
        file('ledger.dat', bytes),
        ...as('AT'),
        '--json',
        '--progress',
        'none',
      ),
    );
    expect(upload.mediaType).toBe('application/octet-stream');
    const sent = json<{ id: string; status: string }>(
      await comity(...sendArgs('Ledger'), '--attachment-ref', upload.id, '--json'),
    );
    expect((await delivered(sent.id)).status).toBe('delivered');

    const inbox = json<{ items: Array<{ id: string; from: { state: string } }> }>(
      await comity('inbox', ...as('FR'), '--limit', '20', '--json'),
    );
    expect(inbox.items.find((item) => item.id === sent.id)?.from.state).toBe('AT');
    const table = await comity('inbox', ...as('FR'));
    expect(table.stdout).toContain(`${sent.id}  mla_request  AT/at-central-authority`);

    const out = join(dir, 'ledger-at-fr.dat');
    const download = json<{ bytes: number; sha256: string; verified: boolean; filename: string }>(
      await comity('download', sent.id, ...as('FR'), '--attachment', '0', '--out', out, '--json'),
    );
    expect(download).toMatchObject({
      bytes: bytes.length,
      sha256: sha256(bytes),
      verified: true,
      filename: 'ledger.dat',
    });
    expect(readFileSync(out).equals(bytes)).toBe(true);
    const again = await comity('download', sent.id, ...as('FR'), '--attachment', '0', '--out', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists: give --force');
  });

  it('send --attach detects media types from the bytes; FR reads them and the inline bytes back', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      randomBytes(500),
    ]);
    const docx = Buffer.from(
      zipSync({
        '[Content_Types].xml': strToU8('<Types/>'),
        'word/document.xml': strToU8('<w:document/>'),
      }),
    );
    const key = `cli-e2e-${randomBytes(6).toString('hex')}`;
    const args = [
      ...sendArgs('Scans'),
      '--attach',
      file('scan', png),
      file('letter', docx),
      '--idempotency-key',
      key,
      '--json',
    ];
    const sent = json<{ id: string }>(await comity(...args));
    // The same key again: the first message, not a second request.
    expect(json<{ id: string }>(await comity(...args)).id).toBe(sent.id);
    expect((await delivered(sent.id)).status).toBe('delivered');

    const out = join(dir, 'scans.json');
    await comity('download', sent.id, ...as('FR'), '--out', out, '--json');
    const message = JSON.parse(readFileSync(out, 'utf8')) as {
      content: { attachments: Array<{ filename: string; mediaType: string }> };
    };
    expect(message.content.attachments.map((a) => [a.filename, a.mediaType])).toEqual([
      ['scan', 'image/png'],
      ['letter', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ]);
    const inline = await comity('download', sent.id, ...as('FR'), '--inline', '0', '--out', '-');
    expect(inline.code).toBe(0);
    expect(Buffer.from(inline.stdout, 'latin1').length).toBeGreaterThan(0);
    const letter = join(dir, 'letter-at-fr.docx');
    expect(
      (await comity('download', sent.id, ...as('FR'), '--inline', '1', '--out', letter)).code,
    ).toBe(0);
    expect(readFileSync(letter).equals(docx)).toBe(true);
  });

  it("shows the node's audit log to its auditor, as a table and as JSON", async () => {
    const page = json<{ items: Array<{ action: string; principal: string }>; nextCursor: unknown }>(
      await comity('audit', ...as('FR', 'auditor'), '--limit', '200', '--json'),
    );
    expect(
      page.items.some((event) => /^read inbound message .* attachment 0$/.test(event.action)),
    ).toBe(true);
    const table = await comity('audit', ...as('FR', 'auditor'), '--limit', '5');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^\s*ID\s+AT\s+PRINCIPAL\s+ROLE\s+ACTION/);
    // A clerk may not read it: refused.
    expect((await comity('audit', ...as('FR'))).code).toBe(3);
  });

  it('exits 3 when the gateway refuses, 4 when it cannot be reached, 2 on a usage error; --json says so', async () => {
    const refused = await comity(
      ...sendArgs('Wrong key').map((arg) =>
        arg === world.apiKey('AT', 'central-clerk') ? 'not-a-key' : arg,
      ),
      '--json',
    );
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout)).toEqual({
      error: { exitCode: 3, status: 401, message: expect.stringContaining('gateway answered 401') },
    });
    const missing = await comity('download', '0197a000-0000-7000-8000-000000000000', ...as('FR'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('gateway answered 404');

    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await comity('inbox', '--node', closed, '--api-key', 'x', '--json');
    expect(unreachable.code).toBe(4);
    expect(JSON.parse(unreachable.stdout).error).toMatchObject({ exitCode: 4, status: null });
    expect(unreachable.stderr).toContain('ECONNREFUSED');

    expect((await comity('upload', join(dir, 'no-such-file'), ...as('AT'))).code).toBe(2);
    const usage = await comity('inbox', ...as('FR'), '--limit', 'many', '--json');
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout).error.exitCode).toBe(2);
  });
});
