import { createHash } from 'node:crypto';

/**
 * The leaves of a node's evidence log (docs/evidence.md): one per evidence on a message's
 * timeline and one per audit event, as canonical JSON (fixed members, fixed order, no white
 * space). A leaf holds identifiers, times, codes and SHA-256 digests: never content, never a
 * free text, never an address.
 */

/** A row of a message's timeline (submitted, sent, delivered, rejected, …). */
export interface MessageEvidenceSource {
  log: 'message';
  /** The row's id in its table (decimal). */
  id: string;
  messageId: string;
  direction: 'outbound' | 'inbound';
  type: string;
  /** Microseconds since the epoch (the database's precision), decimal. */
  atMicros: string;
  reason: string | null;
  detail: string | null;
  /** The signed document behind it (receipt, non-delivery evidence). */
  signed: Buffer | null;
}

/** An audit event: a refusal, an operator's action, a sign-in, a content read. */
export interface AuditEventSource {
  log: 'audit';
  id: string;
  atMicros: string;
  principal: string | null;
  role: string | null;
  action: string;
  outcome: string;
  status: number;
  reason: string;
  client: string | null;
}

export type EvidenceSource = MessageEvidenceSource | AuditEventSource;

const digest = (value: string | Buffer | null): string | null =>
  value === null ? null : createHash('sha256').update(value).digest('base64url');

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` from microseconds since the epoch. */
export function isoFromMicros(micros: string): string {
  if (!/^-?\d{1,20}$/.test(micros)) throw new Error(`not a microsecond timestamp: ${micros}`);
  const value = BigInt(micros);
  const millis = value / 1000n;
  const rest = String(((value % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
  return `${new Date(Number(millis)).toISOString().slice(0, 19)}.${rest}Z`;
}

/** The leaf's bytes: what the log hashes (RFC 6962 leaf hash) and a bundle carries. */
export function evidenceLeaf(source: EvidenceSource): Buffer {
  const body =
    source.log === 'message'
      ? {
          v: 1,
          log: 'message',
          id: source.id,
          message: source.messageId,
          direction: source.direction,
          type: source.type,
          at: isoFromMicros(source.atMicros),
          reason: source.reason,
          detailSha256: digest(source.detail),
          signedSha256: digest(source.signed),
        }
      : {
          v: 1,
          log: 'audit',
          id: source.id,
          at: isoFromMicros(source.atMicros),
          principal: source.principal,
          role: source.role,
          action: source.action,
          outcome: source.outcome,
          status: source.status,
          reasonSha256: digest(source.reason),
          clientSha256: digest(source.client),
        };
  return Buffer.from(JSON.stringify(body), 'utf8');
}
