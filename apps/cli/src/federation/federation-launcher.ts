import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DevFederationLayout } from '@comity/pki';
import { gatewayEntryPoint } from './repo-root';

export interface NodeSpec {
  state: string;
  port: number;
  databaseName: string;
}

export interface FederationOptions {
  layout: DevFederationLayout;
  directoryPath: string;
  nodes: NodeSpec[];
  /** A PostgreSQL URL whose user may create databases; the nodes' databases live on the same server. */
  postgresAdminUrl: string;
  /** The broker URL, or one per State when each gateway has its own broker account. */
  amqpUrl: string | ((state: string) => string);
  logDirectory: string;
  /** Extra environment for every node (timeouts, limits). */
  environment?: Record<string, string>;
}

/** One gateway node running as its own operating-system process. */
export class GatewayProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly state: string,
    readonly url: string,
    readonly logPath: string,
    readonly environment: Record<string, string>,
    /** The CA of the node's HTTPS certificate, when it serves HTTPS. */
    readonly tlsCa?: Buffer,
  ) {}

  /** The same node (URL, database, inbox) started with some settings changed, e.g. new keys. */
  reconfigured(overrides: Record<string, string>): GatewayProcess {
    return new GatewayProcess(
      this.state,
      this.url,
      this.logPath,
      { ...this.environment, ...overrides },
      this.tlsCa,
    );
  }

  /** Another process of the same State: same keys, database and inbox; its own HTTP port. */
  replica(port: number, logPath: string): GatewayProcess {
    return new GatewayProcess(
      this.state,
      `${new URL(this.url).protocol}//127.0.0.1:${port}`,
      logPath,
      { ...this.environment, COMITY_HTTP_PORT: String(port) },
      this.tlsCa,
    );
  }

  start(): void {
    const log = createWriteStream(this.logPath, { flags: 'a' });
    // COMITY_GATEWAY_NODE_ARGS passes flags to the gateways' node, e.g. "--cpu-prof" to profile them.
    const nodeArgs = (process.env.COMITY_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, gatewayEntryPoint()], {
      env: { ...process.env, ...this.environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.child = child;
  }

  /** The operating-system process id while it runs (for CPU and memory figures). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM and wait: the node stops consuming, finishes what it holds and closes. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  async waitUntilReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running)
        throw new Error(`gateway ${this.state} exited during start-up; see ${this.logPath}`);
      try {
        const status = await healthStatus(`${this.url}/health`, this.tlsCa);
        if (status === 200) return;
        last = `health answered ${status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(
      `gateway ${this.state} not ready after ${timeoutMs} ms (${last}); see ${this.logPath}`,
    );
  }
}

/** A small federation of gateway processes on the local PostgreSQL and RabbitMQ. */
export class Federation {
  private constructor(readonly nodes: Map<string, GatewayProcess>) {}

  static async launch(options: FederationOptions): Promise<Federation> {
    mkdirSync(options.logDirectory, { recursive: true });
    const nodes = new Map<string, GatewayProcess>();
    for (const spec of options.nodes) {
      const credentials = options.layout.states[spec.state];
      if (!credentials) throw new Error(`no credentials for ${spec.state}`);
      const databaseUrl = await ensureDatabase(options.postgresAdminUrl, spec.databaseName);
      const https = Boolean(options.environment?.COMITY_HTTPS_CERT);
      const node = new GatewayProcess(
        spec.state,
        `${https ? 'https' : 'http'}://127.0.0.1:${spec.port}`,
        join(options.logDirectory, `gateway-${spec.state.toLowerCase()}.log`),
        {
          COMITY_STATE: spec.state,
          COMITY_HTTP_HOST: '127.0.0.1',
          COMITY_HTTP_PORT: String(spec.port),
          COMITY_DATABASE_URL: databaseUrl,
          COMITY_AMQP_URL:
            typeof options.amqpUrl === 'string' ? options.amqpUrl : options.amqpUrl(spec.state),
          COMITY_TRUST_ANCHOR: options.layout.trustAnchor,
          COMITY_DIRECTORY: options.directoryPath,
          COMITY_CREDENTIALS_DIR: join(credentials.signingCertificate, '..'),
          COMITY_API_KEYS: join(credentials.signingCertificate, '..', 'api-keys.json'),
          // The workspace's development accounts, where the dev PKI made them.
          ...(existsSync(join(credentials.signingCertificate, '..', 'accounts.json'))
            ? { COMITY_ACCOUNTS: join(credentials.signingCertificate, '..', 'accounts.json') }
            : {}),
          ...options.environment,
        },
        https ? readFileSync(options.layout.trustAnchor) : undefined,
      );
      nodes.set(spec.state, node);
    }
    const federation = new Federation(nodes);
    try {
      for (const node of nodes.values()) node.start();
      await Promise.all([...nodes.values()].map((node) => node.waitUntilReady()));
    } catch (error) {
      await federation.stop();
      throw error;
    }
    return federation;
  }

  /** Puts another process in a State's place (after a reconfiguration); the caller starts it. */
  replace(state: string, node: GatewayProcess): void {
    this.nodes.set(state, node);
  }

  node(state: string): GatewayProcess {
    const node = this.nodes.get(state);
    if (!node) throw new Error(`no gateway for ${state} in this federation`);
    return node;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.stop()));
  }
}

/** GET a URL and return the status code; for https, the server must chain to `ca`. */
function healthStatus(url: string, ca?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const request = get(url, { ca, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timed out')));
  });
}

/** Creates the node's database if it does not exist yet and returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}"`);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}"`);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** A port that was free a moment ago (for tests that run beside other services). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
