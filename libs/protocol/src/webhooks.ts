import {
  createHmac,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';

/**
 * Events for national systems and their delivery by webhook (docs/integration.md): the event
 * catalogue, the CloudEvents 1.0 body (structured JSON mode), and Standard Webhooks signatures
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`; `v1` HMAC-SHA256 with the
 * subscription's secret, `v1a` Ed25519 with the node's key). Framework-free, so a receiver can
 * use the same code (`comity webhook listen`).
 */
export const EVENT_TYPES = [
  'message.received',
  'message.delivered',
  'message.rejected',
  'message.failed',
  'message.retrieved',
  'message.not_retrieved',
  'case.state_changed',
  'case.overdue',
  'attachment.available',
  'quarantine.held',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** An event as the node stores and serves it. */
export interface NodeEvent {
  /** Per-node sequence number: the feed's cursor and the order of delivery. */
  seq: number;
  /** Unique id (UUID): the idempotency key (`webhook-id`). */
  id: string;
  type: EventType;
  time: string;
  /** The authority of this node the event concerns (null: the node's own, e.g. quarantine). */
  authority: string | null;
  /** The message, case or quarantine entry it is about. */
  subject: string | null;
  data: Record<string, unknown>;
}

/** CloudEvents 1.0, structured JSON mode. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype: 'application/json';
  /** Extension attribute: the node's sequence number. */
  comityseq: number;
  data: Record<string, unknown>;
}

export const CLOUD_EVENT_TYPE_PREFIX = 'org.comity.';

export function cloudEventOf(event: NodeEvent, source: string): CloudEvent {
  return {
    specversion: '1.0',
    id: event.id,
    source,
    type: `${CLOUD_EVENT_TYPE_PREFIX}${event.type}`,
    time: event.time,
    ...(event.subject ? { subject: event.subject } : {}),
    datacontenttype: 'application/json',
    comityseq: event.seq,
    data: event.data,
  };
}

const SECRET_PREFIX = 'whsec_';

/** A new subscription secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

export class WebhookSecretError extends Error {
  override readonly name = 'WebhookSecretError';
}

/** The key bytes of a `whsec_` secret; refuses anything shorter than 24 bytes of key. */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new WebhookSecretError(`a webhook secret starts with ${SECRET_PREFIX}`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 24 || key.length > 64 || key.toString('base64') !== encoded) {
    throw new WebhookSecretError(
      `a webhook secret is ${SECRET_PREFIX} followed by 24 to 64 bytes in base64`,
    );
  }
  return key;
}

function signedContent(id: string, timestamp: number, body: string): string {
  return `${id}.${timestamp}.${body}`;
}

/**
 * The three Standard Webhooks headers for one delivery: a `v1` signature per secret (several
 * during a rotation) and, with an Ed25519 node key, a `v1a` signature too.
 */
export function signWebhook(input: {
  id: string;
  timestamp: number;
  body: string;
  secrets: readonly string[];
  ed25519Key?: KeyObject;
}): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const content = signedContent(input.id, input.timestamp, input.body);
  const signatures = input.secrets.map(
    (secret) =>
      `v1,${createHmac('sha256', webhookSecretKey(secret)).update(content).digest('base64')}`,
  );
  if (input.ed25519Key) {
    signatures.push(`v1a,${sign(null, Buffer.from(content), input.ed25519Key).toString('base64')}`);
  }
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signatures.join(' '),
  };
}

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/**
 * A receiver's check: the headers are there, the timestamp within `toleranceSeconds` of now,
 * and one `v1` signature matches the secret (or one `v1a` the node's Ed25519 public key).
 */
export function verifyWebhook(input: {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  secret?: string;
  ed25519PublicKey?: KeyObject;
  now?: Date;
  toleranceSeconds?: number;
}): { id: string; timestamp: number } {
  const header = (name: string): string => {
    const value = input.headers[name];
    const text = Array.isArray(value) ? value[0] : value;
    if (!text) throw new WebhookVerificationError(`the ${name} header is missing`);
    return text;
  };
  const id = header('webhook-id');
  const timestampText = header('webhook-timestamp');
  const timestamp = Number(timestampText);
  if (!/^\d{1,12}$/.test(timestampText)) {
    throw new WebhookVerificationError('webhook-timestamp is not whole seconds');
  }
  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - timestamp) > (input.toleranceSeconds ?? 300)) {
    throw new WebhookVerificationError('webhook-timestamp is too far from now (a replay?)');
  }
  const content = Buffer.from(signedContent(id, timestamp, input.body));
  const expected = input.secret
    ? createHmac('sha256', webhookSecretKey(input.secret)).update(content).digest()
    : null;
  for (const entry of header('webhook-signature').split(' ')) {
    const [version, encoded] = entry.split(',');
    const signature = Buffer.from(encoded ?? '', 'base64');
    if (version === 'v1' && expected && signature.length === expected.length) {
      if (timingSafeEqual(signature, expected)) return { id, timestamp };
    }
    if (version === 'v1a' && input.ed25519PublicKey && signature.length === 64) {
      if (verify(null, content, input.ed25519PublicKey, signature)) return { id, timestamp };
    }
  }
  throw new WebhookVerificationError('no webhook-signature matches');
}
