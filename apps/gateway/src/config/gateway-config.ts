import { LARGE_ATTACHMENT_LIMITS, MESSAGE_KINDS, type MessageKind } from '@comity/protocol';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/**
 * The node's configuration, read once from the environment at start-up. Every problem is
 * collected and reported together, naming the variable, so an operator fixes them in one go.
 */
export interface GatewayConfig {
  state: string;
  http: {
    host: string;
    port: number;
    rateLimitPerSecond: number;
    /** HTTPS when both are set: PEM files of the server certificate (chain) and its key. */
    tls: { certificatePath: string; keyPath: string } | null;
  };
  /** The API principals and the SHA-256 of their keys (JSON). */
  apiKeysPath: string;
  /** People who may sign in (usernames, roles, scrypt hashes; JSON); null: nobody signs in. */
  accountsPath: string | null;
  sessions: {
    /** A session ends after this long without a request... */
    idleMs: number;
    /** ...and this long after sign-in, whatever happens. */
    maxMs: number;
    /** Failed sign-ins of one account within `lockoutWindowMs` that lock it for that long. */
    lockoutFailures: number;
    lockoutWindowMs: number;
  };
  databaseUrl: string;
  amqpUrl: string;
  /** For amqps:// — the CA certificate(s) (PEM) that issued the broker's TLS certificate. */
  amqpCaPath: string | null;
  /** RFC 3161 time-stamps on evidence checkpoints: the TSA's URL and, optionally, its CA. */
  timestamping: { url: string; caPath: string | null } | null;
  trustAnchorPath: string;
  directoryPath: string;
  /** How often the directory file is read again for a newer signed edition. */
  directoryRefreshSeconds: number;
  /**
   * Folders (PEM layout) of keys this gateway rolled away from: kept only to decrypt envelopes
   * sealed to them before the switch, during the overlap.
   */
  retiredCredentialDirectories: string[];
  credentials:
    | { kind: 'pem-directory'; directory: string }
    | { kind: 'pkcs12'; signingPath: string; encryptionPath: string; password: string };
  limits: { maxEnvelopeBytes: number; clockSkewMs: number };
  delivery: {
    /** How long a sent envelope may wait for its receipt before it is retransmitted, per kind. */
    receiptTimeoutMs: Record<MessageKind, number>;
    /** How long a request stays valid (its `expires`), per kind; then non-delivery is recorded. */
    messageTtlMs: Record<MessageKind, number>;
    /** Cap of the exponential backoff between retransmissions. */
    maxRetransmitIntervalMs: number;
    watchdogIntervalMs: number;
    /** How often cases are swept for overdue steps and re-derived after a refused message. */
    caseSweepIntervalMs: number;
    /** How often the evidence log signs a checkpoint when it has grown. */
    checkpointIntervalMs: number;
  };
  /**
   * Content retention (docs/evidence.md, "Retention"): how long after it was sent or received a
   * message's content is kept, per kind; a kind absent is kept for good. Null: nothing is purged.
   */
  retention: {
    afterMs: Partial<Record<MessageKind, number>>;
    /** How often messages are swept for content past its retention. */
    sweepIntervalMs: number;
  } | null;
  /**
   * `development` (the default) or `production`: in production webhooks must use HTTPS
   * (docs/integration.md).
   */
  environment: 'development' | 'production';
  /** Webhook delivery (docs/integration.md). */
  webhooks: {
    /** Host names or addresses a webhook may reach although private or loopback. */
    allowedHosts: string[];
    /** The first retry's wait; each next one doubles (±20 %), up to an hour. */
    retryBaseMs: number;
    /** After this long failing, an event is given up as a dead letter and the next one goes. */
    giveUpMs: number;
    /** Time allowed for an endpoint's answer. */
    timeoutMs: number;
  };
  transport: {
    prefetch: number;
    /**
     * Declare exchanges and queues at start-up (development). Off when an administrator
     * provisions the broker and the node's account may only publish and read its inbox.
     */
    declareTopology: boolean;
  };
  outbox: { pollIntervalMs: number; batchSize: number };
  /** Large attachments by reference (docs/protocol.md §7, docs/operations.md). */
  attachments: {
    /** Largest file, in bytes; the directory policy's maxAttachmentBytes wins when stricter. */
    maxBytes: number;
    /** Plaintext bytes per chunk of the files uploaded to this node. */
    chunkBytes: number;
    /**
     * Receiver: sealed chunk bytes one sender State may have here whose envelope has not been
     * accepted yet; null = ten times the largest file.
     */
    maxPendingBytes: number | null;
    /** Receiver: chunks whose envelope never came are deleted after this long without a new one. */
    orphanChunkTtlMs: number;
    /** Receiver: how long an envelope waits for missing chunks before it is refused (attachment-incomplete). */
    incompleteWaitMs: number;
    /** Sender: chunks published and not yet confirmed by the broker, at most. */
    transferWindow: number;
    /** Sender: publishing rate cap in bytes a second (0: none). */
    transferBytesPerSecond: number;
    /** Sender: an upload never completed is deleted after this long without a new chunk. */
    uploadTtlMs: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

type Env = Record<string, string | undefined>;

export function loadGatewayConfig(env: Env): GatewayConfig {
  const problems: string[] = [];
  const text = (name: string, fallback?: string): string => {
    const value = env[name]?.trim() || fallback;
    if (value === undefined) {
      problems.push(`${name} is required`);
      return '';
    }
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const url = (name: string, fallback: string | undefined, protocols: string[]): string => {
    const value = text(name, fallback);
    if (value === '') return value;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return value;
  };

  /**
   * A default for every message kind plus per-kind overrides, e.g.
   * COMITY_RECEIPT_TIMEOUTS="extradition_request=10,mla_request=60".
   */
  const perKind = (
    defaultName: string,
    overridesName: string,
    fallback: number,
    min: number,
    max: number,
    unitMs: number,
  ): Record<MessageKind, number> => {
    const base = integer(defaultName, fallback, min, max);
    const values = Object.fromEntries(MESSAGE_KINDS.map((kind) => [kind, base * unitMs])) as Record<
      MessageKind,
      number
    >;
    for (const entry of (env[overridesName] ?? '').split(',').filter((item) => item.trim())) {
      const [kind, raw] = entry.split('=').map((part) => part.trim());
      const value = Number(raw);
      if (!kind || !(MESSAGE_KINDS as readonly string[]).includes(kind)) {
        problems.push(
          `${overridesName}: "${kind}" is not a message kind (${MESSAGE_KINDS.join(', ')})`,
        );
      } else if (!Number.isInteger(value) || value < min || value > max) {
        problems.push(`${overridesName}: ${kind} must be an integer from ${min} to ${max}`);
      } else {
        values[kind as MessageKind] = value * unitMs;
      }
    }
    return values;
  };

  /**
   * COMITY_RETENTION_DAYS="mla_request=3650,extradition_request=7300,default=3650": per kind,
   * `default` for the kinds not named, `keep` for a kind never purged. COMITY_RETENTION_SECONDS
   * takes the same form in seconds, for tests and demonstrations.
   */
  const retentionOf = (): GatewayConfig['retention'] => {
    const days = env.COMITY_RETENTION_DAYS?.trim();
    const seconds = env.COMITY_RETENTION_SECONDS?.trim();
    if (days && seconds) {
      problems.push('COMITY_RETENTION_DAYS and COMITY_RETENTION_SECONDS are both set: set one');
      return null;
    }
    if (!days && !seconds) return null;
    const name = days ? 'COMITY_RETENTION_DAYS' : 'COMITY_RETENTION_SECONDS';
    const unitMs = days ? 86_400_000 : 1000;
    const max = days ? 36_500 : 36_500 * 86_400;
    const given = new Map<string, number | 'keep'>();
    for (const entry of (days ?? seconds)!.split(',')) {
      const [kind, raw, extra] = entry.split('=').map((part) => part.trim());
      if (!kind || raw === undefined || extra !== undefined) {
        problems.push(`${name}: "${entry.trim()}" is not kind=number (e.g. mla_request=3650)`);
        continue;
      }
      if (kind !== 'default' && !(MESSAGE_KINDS as readonly string[]).includes(kind)) {
        problems.push(
          `${name}: "${kind}" is not a message kind (${MESSAGE_KINDS.join(', ')}) nor default`,
        );
        continue;
      }
      if (given.has(kind)) {
        problems.push(`${name}: ${kind} is given twice`);
        continue;
      }
      const value = Number(raw);
      if (raw === 'keep') given.set(kind, 'keep');
      else if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1 || value > max) {
        problems.push(
          `${name}: ${kind} must be an integer from 1 to ${max}, or keep (got "${raw}")`,
        );
      } else given.set(kind, value);
    }
    const afterMs: Partial<Record<MessageKind, number>> = {};
    for (const kind of MESSAGE_KINDS) {
      const value = given.get(kind) ?? given.get('default') ?? 'keep';
      if (value !== 'keep') afterMs[kind] = value * unitMs;
    }
    return {
      afterMs,
      sweepIntervalMs: integer('COMITY_RETENTION_SWEEP_SECONDS', 3600, 1, 86_400) * 1000,
    };
  };

  const flag = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };

  const environmentOf = (): GatewayConfig['environment'] => {
    const raw = env.COMITY_ENV?.trim() || 'development';
    if (raw !== 'development' && raw !== 'production') {
      problems.push(`COMITY_ENV must be development or production (got "${raw}")`);
      return 'development';
    }
    return raw;
  };

  const timestampingOf = (): GatewayConfig['timestamping'] => {
    const url = env.COMITY_TSA_URL?.trim();
    const caPath = env.COMITY_TSA_CA?.trim() || null;
    if (!url) {
      if (caPath) problems.push('COMITY_TSA_CA is set but COMITY_TSA_URL is not');
      return null;
    }
    if (!/^https?:\/\/[^\s]+$/.test(url)) {
      problems.push(`COMITY_TSA_URL must be an http(s) URL (got "${url}")`);
    }
    return { url, caPath };
  };
  const httpsFiles = (): GatewayConfig['http']['tls'] => {
    const certificatePath = env.COMITY_HTTPS_CERT?.trim();
    const keyPath = env.COMITY_HTTPS_KEY?.trim();
    if (!certificatePath && !keyPath) return null;
    if (!certificatePath || !keyPath) {
      problems.push('COMITY_HTTPS_CERT and COMITY_HTTPS_KEY must be set together (or neither)');
      return null;
    }
    return { certificatePath, keyPath };
  };

  const state = text('COMITY_STATE');
  if (state && !/^[A-Z]{2}$/.test(state)) {
    problems.push(`COMITY_STATE must be an ISO 3166 alpha-2 code such as AT (got "${state}")`);
  }
  const signingP12 = env.COMITY_SIGNING_PKCS12?.trim();
  const credentials: GatewayConfig['credentials'] = signingP12
    ? {
        kind: 'pkcs12',
        signingPath: signingP12,
        encryptionPath: text('COMITY_ENCRYPTION_PKCS12'),
        password: text('COMITY_PKCS12_PASSWORD'),
      }
    : { kind: 'pem-directory', directory: text('COMITY_CREDENTIALS_DIR') };

  const config: GatewayConfig = {
    state,
    http: {
      host: text('COMITY_HTTP_HOST', '127.0.0.1'),
      port: integer('COMITY_HTTP_PORT', 3000, 0, 65535),
      rateLimitPerSecond: integer('COMITY_RATE_LIMIT_PER_SECOND', 200, 1, 100_000),
      tls: httpsFiles(),
    },
    amqpCaPath: env.COMITY_AMQP_CA?.trim() || null,
    timestamping: timestampingOf(),
    apiKeysPath: text('COMITY_API_KEYS'),
    accountsPath: env.COMITY_ACCOUNTS?.trim() || null,
    sessions: {
      idleMs: integer('COMITY_SESSION_IDLE_MINUTES', 30, 1, 24 * 60) * 60_000,
      maxMs: integer('COMITY_SESSION_MAX_HOURS', 8, 1, 7 * 24) * 3_600_000,
      lockoutFailures: integer('COMITY_SIGN_IN_LOCKOUT_FAILURES', 5, 1, 100),
      lockoutWindowMs: integer('COMITY_SIGN_IN_LOCKOUT_MINUTES', 15, 1, 24 * 60) * 60_000,
    },
    databaseUrl: url('COMITY_DATABASE_URL', undefined, ['postgres:', 'postgresql:']),
    amqpUrl: url('COMITY_AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', ['amqp:', 'amqps:']),
    trustAnchorPath: text('COMITY_TRUST_ANCHOR'),
    directoryPath: text('COMITY_DIRECTORY'),
    directoryRefreshSeconds: integer('COMITY_DIRECTORY_REFRESH_SECONDS', 10, 1, 3600),
    credentials,
    retiredCredentialDirectories: (env.COMITY_RETIRED_CREDENTIALS_DIRS ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
    limits: {
      maxEnvelopeBytes: integer(
        'COMITY_MAX_ENVELOPE_BYTES',
        16 * 1024 * 1024,
        64 * 1024,
        512 * 1024 * 1024,
      ),
      clockSkewMs: integer('COMITY_CLOCK_SKEW_SECONDS', 300, 0, 3600) * 1000,
    },
    delivery: {
      receiptTimeoutMs: perKind(
        'COMITY_RECEIPT_TIMEOUT_SECONDS',
        'COMITY_RECEIPT_TIMEOUTS',
        30,
        1,
        86_400,
        1000,
      ),
      messageTtlMs: perKind(
        'COMITY_MESSAGE_TTL_SECONDS',
        'COMITY_MESSAGE_TTLS',
        30 * 86_400,
        10,
        365 * 86_400,
        1000,
      ),
      maxRetransmitIntervalMs: integer('COMITY_RETRANSMIT_MAX_SECONDS', 600, 1, 86_400) * 1000,
      watchdogIntervalMs: integer('COMITY_WATCHDOG_INTERVAL_MS', 1000, 50, 60_000),
      caseSweepIntervalMs: integer('COMITY_CASE_SWEEP_MS', 1000, 50, 3_600_000),
      checkpointIntervalMs: integer('COMITY_CHECKPOINT_INTERVAL_SECONDS', 60, 1, 86_400) * 1000,
    },
    retention: retentionOf(),
    environment: environmentOf(),
    webhooks: {
      allowedHosts: (env.COMITY_WEBHOOK_ALLOWED_HOSTS ?? '')
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter((host) => host !== ''),
      retryBaseMs: integer('COMITY_WEBHOOK_RETRY_BASE_MS', 5000, 10, 3_600_000),
      giveUpMs: integer('COMITY_WEBHOOK_GIVE_UP_SECONDS', 259_200, 1, 2_592_000) * 1000,
      timeoutMs: integer('COMITY_WEBHOOK_TIMEOUT_SECONDS', 15, 1, 60) * 1000,
    },
    transport: {
      prefetch: integer('COMITY_PREFETCH', 64, 1, 1000),
      declareTopology: flag('COMITY_AMQP_DECLARE', true),
    },
    outbox: {
      pollIntervalMs: integer('COMITY_OUTBOX_POLL_MS', 250, 10, 60_000),
      batchSize: integer('COMITY_OUTBOX_BATCH', 100, 1, 1000),
    },
    attachments: {
      maxBytes: integer(
        'COMITY_MAX_ATTACHMENT_BYTES',
        2 * GIB,
        MIB,
        LARGE_ATTACHMENT_LIMITS.maxBytes,
      ),
      chunkBytes: integer(
        'COMITY_ATTACHMENT_CHUNK_BYTES',
        MIB,
        LARGE_ATTACHMENT_LIMITS.minChunkBytes,
        LARGE_ATTACHMENT_LIMITS.maxChunkBytes,
      ),
      maxPendingBytes:
        integer('COMITY_MAX_PENDING_CHUNK_BYTES', 0, 0, Number.MAX_SAFE_INTEGER) || null,
      orphanChunkTtlMs: integer('COMITY_ORPHAN_CHUNK_TTL_SECONDS', 86_400, 60, 30 * 86_400) * 1000,
      incompleteWaitMs: integer('COMITY_ATTACHMENT_WAIT_SECONDS', 120, 1, 240) * 1000,
      transferWindow: integer('COMITY_TRANSFER_WINDOW', 16, 1, 256),
      transferBytesPerSecond: integer(
        'COMITY_TRANSFER_MAX_BYTES_PER_SECOND',
        0,
        0,
        Number.MAX_SAFE_INTEGER,
      ),
      uploadTtlMs: integer('COMITY_UPLOAD_TTL_SECONDS', 7 * 86_400, 60, 365 * 86_400) * 1000,
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
