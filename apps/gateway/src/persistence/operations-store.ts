import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** Where a message stands as the operator sees it: metadata only, never content. */
export interface MessageRecord {
  direction: 'outbound' | 'inbound';
  id: string;
  kind: string;
  peerState: string;
  localAuthority: string;
  peerAuthority: string;
  status: string;
  statusReason: string | null;
  transmissions: number;
  envelopeDigest: string;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  /** Where this row sorts among rows of the same id (see `MessageCursor`). */
  rank: string;
}

/**
 * A position in the newest-first order of all messages: by id, then by rank among rows of the
 * same id (an outbound message, a stored inbound one, then refused copies newest first; one
 * envelope id can have several). Written `<id>:<rank>`; a bare id means "below this id".
 */
export interface MessageCursor {
  id: string;
  rank: string | null;
}

export function messageCursorOf(record: Pick<MessageRecord, 'id' | 'rank'>): string {
  return `${record.id}:${record.rank}`;
}

export function parseMessageCursor(cursor: string): MessageCursor {
  const [id = '', rank] = cursor.toLowerCase().split(':');
  return { id, rank: rank ?? null };
}

/** Ranks of the two single-row sources; a refused copy ranks by its own (smaller) serial id. */
const OUTBOUND_RANK = '9223372036854775807';
const INBOUND_RANK = '9223372036854775806';

export interface MessageSearch {
  direction?: 'outbound' | 'inbound';
  id?: string;
  state?: string;
  authority?: string;
  kind?: string;
  status?: string;
  since?: Date;
  until?: Date;
  /** Keyset: only rows after this position (ids are time-ordered UUIDv7). */
  before?: MessageCursor;
  limit: number;
}

export interface PeerCounts {
  state: string;
  sent: Record<string, number>;
  received: Record<string, number>;
  awaitingReceipt: { count: number; oldestSince: Date | null };
  retransmissions: number;
  perMinute: { published: number; delivered: number; received: number };
}

export interface QuarantineRecord {
  id: string;
  messageType: string;
  amqpMessageId: string | null;
  brokerUser: string | null;
  reason: string;
  detail: string;
  envelopeId: string | null;
  claimedFromState: string | null;
  claimedFromAuthority: string | null;
  kind: string | null;
  bytes: number;
  quarantinedAt: Date;
  status: 'held' | 'released' | 'discarded';
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolutionReason: string | null;
  outcome: string | null;
}

export type NewQuarantineRecord = Omit<
  QuarantineRecord,
  'id' | 'bytes' | 'status' | 'resolvedAt' | 'resolvedBy' | 'resolutionReason' | 'outcome'
> & { fingerprint: string; payload: Buffer };

const OUTBOUND_COLUMNS = `'outbound' AS direction, id, ${OUTBOUND_RANK}::bigint AS rank, kind, to_state AS peer_state, from_authority AS local_authority,
  to_authority AS peer_authority, status, status_reason, transmissions, envelope_digest, created_at, updated_at, expires_at`;
const INBOUND_COLUMNS = `'inbound' AS direction, id, ${INBOUND_RANK}::bigint AS rank, kind, from_state AS peer_state, to_authority AS local_authority,
  from_authority AS peer_authority, status, NULL::text AS status_reason, 1 AS transmissions, envelope_digest, created_at,
  received_at AS updated_at, expires_at`;
// A refused envelope keeps only what the receipt needs; its routing is in the (authenticated) envelope.
const REJECTION_COLUMNS = `'inbound' AS direction, envelope_id AS id, id AS rank, NULL::text AS kind, from_state AS peer_state,
  NULL::text AS local_authority, NULL::text AS peer_authority, 'rejected' AS status, reason AS status_reason,
  1 AS transmissions, envelope_digest, received_at AS created_at, received_at AS updated_at, received_at AS expires_at`;

const QUARANTINE_COLUMNS = `id::text, message_type, amqp_message_id, broker_user, reason, detail, envelope_id,
  claimed_from_state, claimed_from_authority, kind, octet_length(payload) AS bytes, quarantined_at, status,
  resolved_at, resolved_by, resolution_reason, outcome`;

/** The SQL behind the console, the metrics and the quarantine: reads over all messages, and the quarantine table. */
@Injectable()
export class OperationsStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /**
   * One keyset page, newest first. Each source is searched with its own index (peer, status,
   * kind or authority, then id) and limited before the merge, so a page costs the same on the
   * first and the thousandth page.
   */
  async searchMessages(search: MessageSearch): Promise<MessageRecord[]> {
    const parts: string[] = [];
    const parameters: unknown[] = [];
    const bind = (value: unknown): string => {
      parameters.push(value);
      return `$${parameters.length}`;
    };
    const filters = (columns: {
      peer: string;
      authorities: string[];
      kind: string | null;
      status: string;
      created: string;
      id: string;
      /** This source's rank: a constant, or the column of a source with several rows per id. */
      rank: { constant: string } | { column: string };
      idMarginMs: number;
    }): string[] => {
      const where: string[] = [];
      if (search.id) where.push(`${columns.id} = ${bind(search.id)}`);
      if (search.state) where.push(`${columns.peer} = ${bind(search.state)}`);
      if (search.authority) {
        const value = bind(search.authority);
        where.push(`(${columns.authorities.map((column) => `${column} = ${value}`).join(' OR ')})`);
      }
      if (search.kind)
        where.push(columns.kind ? `${columns.kind} = ${bind(search.kind)}` : 'false');
      if (search.status) where.push(`${columns.status} = ${bind(search.status)}`);
      // Ids are UUIDv7: a time window is also an id range, which the id-ordered indexes can
      // seek to instead of filtering every newer row. The margin covers a sender's clock.
      if (search.since) {
        where.push(`${columns.created} >= ${bind(search.since)}`);
        where.push(
          `${columns.id} >= ${bind(uuidV7Bound(search.since.getTime() - columns.idMarginMs))}`,
        );
      }
      if (search.until) {
        where.push(`${columns.created} < ${bind(search.until)}`);
        where.push(
          `${columns.id} < ${bind(uuidV7Bound(search.until.getTime() + columns.idMarginMs))}`,
        );
      }
      if (search.before) where.push(keysetAfter(search.before, columns.id, columns.rank, bind));
      return where;
    };
    const limit = search.limit + 1;
    const select = (columns: string, table: string, where: string[], order: string): string =>
      `(SELECT ${columns} FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit})`;
    if (search.direction !== 'inbound') {
      const where = filters({
        peer: 'to_state',
        authorities: ['from_authority', 'to_authority'],
        kind: 'kind',
        status: 'status',
        created: 'created_at',
        id: 'id',
        rank: { constant: OUTBOUND_RANK },
        idMarginMs: 60_000,
      });
      parts.push(select(OUTBOUND_COLUMNS, 'outbound_message', where, 'id DESC'));
    }
    if (search.direction !== 'outbound') {
      // Stored inbound messages are all "delivered": any other status cannot match them.
      if (!search.status || search.status === 'delivered') {
        const inbound = filters({
          peer: 'from_state',
          authorities: ['from_authority', 'to_authority'],
          kind: 'kind',
          status: 'status',
          created: 'created_at',
          id: 'id',
          rank: { constant: INBOUND_RANK },
          idMarginMs: 86_400_000,
        });
        parts.push(select(INBOUND_COLUMNS, 'inbound_message', inbound, 'id DESC'));
      }
      if (!search.status || search.status === 'rejected') {
        const rejected = filters({
          peer: 'from_state',
          authorities: ['NULL::text'],
          kind: null,
          status: `'rejected'`,
          created: 'received_at',
          id: 'envelope_id',
          rank: { column: 'id' },
          idMarginMs: 86_400_000,
        });
        parts.push(
          // Qualified: a bare "id" in ORDER BY would name the output column (the envelope id).
          select(
            REJECTION_COLUMNS,
            'inbound_rejection',
            rejected,
            'envelope_id DESC, inbound_rejection.id DESC',
          ),
        );
      }
    }
    if (parts.length === 0) return [];
    const rows = (await this.dataSource.query(
      `SELECT * FROM (${parts.join(' UNION ALL ')}) page ORDER BY id DESC, rank DESC LIMIT ${limit}`,
      parameters,
    )) as Array<Record<string, unknown>>;
    return rows.map(toMessageRecord);
  }

  async findMessage(direction: 'outbound' | 'inbound', id: string): Promise<MessageRecord | null> {
    const [record] = await this.searchMessages({ direction, id, limit: 1 });
    return record ?? null;
  }

  /** Per peer State: messages by direction and status, receipts awaited, retransmissions, last minute's rates. */
  async peerCounts(now: Date): Promise<PeerCounts[]> {
    const minuteAgo = new Date(now.getTime() - 60_000);
    const [outbound, inbound, rejected, recent] = await Promise.all([
      this.dataSource.query(
        `SELECT to_state AS state, status, count(*)::int AS count,
                sum(GREATEST(transmissions - 1, 0))::int AS retransmissions,
                min(created_at) FILTER (WHERE status = 'sent') AS oldest_sent
           FROM outbound_message GROUP BY to_state, status`,
      ) as Promise<
        Array<{
          state: string;
          status: string;
          count: number;
          retransmissions: number;
          oldest_sent: Date | null;
        }>
      >,
      this.dataSource.query(
        `SELECT from_state AS state, count(*)::int AS count FROM inbound_message GROUP BY from_state`,
      ) as Promise<Array<{ state: string; count: number }>>,
      this.dataSource.query(
        `SELECT from_state AS state, count(*)::int AS count FROM inbound_rejection GROUP BY from_state`,
      ) as Promise<Array<{ state: string; count: number }>>,
      // The last minute's events, joined to their peer: uses the (at, type) index.
      this.dataSource.query(
        `SELECT coalesce(o.to_state, i.from_state) AS state, e.type, count(*)::int AS count
           FROM evidence e
           LEFT JOIN outbound_message o ON e.direction = 'outbound' AND o.id = e.message_id
           LEFT JOIN inbound_message i ON e.direction = 'inbound' AND i.id = e.message_id
          WHERE e.at >= $1 AND e.type IN ('sent', 'retransmitted', 'delivered', 'received')
          GROUP BY 1, 2`,
        [minuteAgo],
      ) as Promise<Array<{ state: string | null; type: string; count: number }>>,
    ]);
    const peers = new Map<string, PeerCounts>();
    const peer = (state: string): PeerCounts => {
      let counts = peers.get(state);
      if (!counts) {
        counts = {
          state,
          sent: { submitted: 0, sent: 0, delivered: 0, rejected: 0, failed: 0 },
          received: { delivered: 0, rejected: 0 },
          awaitingReceipt: { count: 0, oldestSince: null },
          retransmissions: 0,
          perMinute: { published: 0, delivered: 0, received: 0 },
        };
        peers.set(state, counts);
      }
      return counts;
    };
    for (const row of outbound) {
      const counts = peer(row.state);
      counts.sent[row.status] = row.count;
      counts.retransmissions += row.retransmissions;
      if (row.status === 'sent')
        counts.awaitingReceipt = { count: row.count, oldestSince: row.oldest_sent };
    }
    for (const row of inbound) peer(row.state).received.delivered = row.count;
    for (const row of rejected) peer(row.state).received.rejected = row.count;
    for (const row of recent) {
      if (!row.state) continue;
      const counts = peer(row.state);
      if (row.type === 'sent' || row.type === 'retransmitted')
        counts.perMinute.published += row.count;
      if (row.type === 'delivered') counts.perMinute.delivered += row.count;
      if (row.type === 'received') counts.perMinute.received += row.count;
    }
    return [...peers.values()].sort((a, b) => a.state.localeCompare(b.state));
  }

  async outboxBacklog(): Promise<{ backlog: number; oldest: Date | null }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS backlog, min(available_at) AS oldest FROM outbox`,
    )) as Array<{ backlog: number; oldest: Date | null }>;
    return { backlog: row?.backlog ?? 0, oldest: row?.oldest ?? null };
  }

  /** Messages whose receipt is overdue: sent, and past the first receipt deadline (retransmitted at least once or due now). */
  async overdueReceipts(now: Date): Promise<{ count: number; oldestSince: Date | null }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS count, min(created_at) AS oldest FROM outbound_message
        WHERE status = 'sent' AND (transmissions > 1 OR receipt_due_at < $1)`,
      [now],
    )) as Array<{ count: number; oldest: Date | null }>;
    return { count: row?.count ?? 0, oldestSince: row?.oldest ?? null };
  }

  async failuresSince(since: Date): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS count FROM outbound_message WHERE status = 'failed' AND updated_at >= $1`,
      [since],
    )) as Array<{ count: number }>;
    return row?.count ?? 0;
  }

  // --- quarantine -------------------------------------------------------------------------

  /** Stores one quarantined broker message; a redelivered copy (same fingerprint) is ignored. */
  async holdQuarantined(record: NewQuarantineRecord): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO quarantined_message (fingerprint, message_type, amqp_message_id, broker_user, reason, detail,
                                        envelope_id, claimed_from_state, claimed_from_authority, kind, payload, quarantined_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (fingerprint) DO NOTHING`,
      [
        record.fingerprint,
        record.messageType,
        record.amqpMessageId,
        record.brokerUser,
        record.reason,
        record.detail,
        record.envelopeId,
        record.claimedFromState,
        record.claimedFromAuthority,
        record.kind,
        record.payload,
        record.quarantinedAt,
      ],
    );
  }

  async listQuarantined(
    status: QuarantineRecord['status'] | 'all',
    limit: number,
    before?: string,
  ): Promise<QuarantineRecord[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${QUARANTINE_COLUMNS} FROM quarantined_message
        WHERE ($1::text = 'all' OR status = $1) AND ($2::bigint IS NULL OR id < $2::bigint)
        ORDER BY id DESC LIMIT $3`,
      [status, before ?? null, limit],
    )) as Array<Record<string, unknown>>;
    return rows.map(toQuarantineRecord);
  }

  async findQuarantined(id: string): Promise<{ record: QuarantineRecord; payload: Buffer } | null> {
    const rows = (await this.dataSource.query(
      `SELECT ${QUARANTINE_COLUMNS}, payload FROM quarantined_message WHERE id = $1`,
      [id],
    )) as Array<Record<string, unknown>>;
    const row = rows[0];
    return row ? { record: toQuarantineRecord(row), payload: row.payload as Buffer } : null;
  }

  async countQuarantined(): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS count FROM quarantined_message WHERE status = 'held'`,
    )) as Array<{ count: number }>;
    return row?.count ?? 0;
  }

  /**
   * Settles a held entry. Only one caller can do it (the row must still be held): false if it
   * was not, e.g. another operator was faster.
   */
  async resolveQuarantined(
    id: string,
    resolution: {
      status: 'released' | 'discarded';
      by: string;
      reason: string;
      outcome: string;
      at: Date;
    },
  ): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `UPDATE quarantined_message
          SET status = $2, resolved_by = $3, resolution_reason = $4, outcome = $5, resolved_at = $6
        WHERE id = $1 AND status = 'held' RETURNING id`,
      [id, resolution.status, resolution.by, resolution.reason, resolution.outcome, resolution.at],
    )) as [unknown[], number] | unknown[];
    return (Array.isArray(rows[0]) ? (rows[0] as unknown[]) : rows).length > 0;
  }

  /** A release that was refused again: the entry stays held with the new reason. */
  async requalifyQuarantined(id: string, reason: string, detail: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE quarantined_message SET reason = $2, detail = $3 WHERE id = $1 AND status = 'held'`,
      [id, reason, detail],
    );
  }
}

/** The smallest UUIDv7 of a millisecond: a keyset bound for a point in time. */
export function uuidV7Bound(ms: number): string {
  const hex = Math.max(0, Math.min(ms, 2 ** 48 - 1))
    .toString(16)
    .padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

function toMessageRecord(row: Record<string, unknown>): MessageRecord {
  return {
    direction: row.direction as MessageRecord['direction'],
    id: row.id as string,
    kind: (row.kind as string | null) ?? '-',
    peerState: row.peer_state as string,
    localAuthority: (row.local_authority as string | null) ?? '-',
    peerAuthority: (row.peer_authority as string | null) ?? '-',
    status: row.status as string,
    statusReason: row.status_reason as string | null,
    transmissions: Number(row.transmissions),
    envelopeDigest: row.envelope_digest as string,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
    expiresAt: row.expires_at as Date,
    rank: String(row.rank),
  };
}

/**
 * Rows after `cursor` in (id DESC, rank DESC) order, written so that each source's id index
 * can seek: for a constant rank the tie is decided here, for a rank column in SQL.
 */
function keysetAfter(
  cursor: MessageCursor,
  id: string,
  rank: { constant: string } | { column: string },
  bind: (value: unknown) => string,
): string {
  // Every value bound is used: PostgreSQL cannot type a parameter that appears nowhere.
  if (cursor.rank === null) return `${id} < ${bind(cursor.id)}`;
  if ('constant' in rank) {
    const orEqual = BigInt(rank.constant) < BigInt(cursor.rank) ? '=' : '';
    return `${id} <${orEqual} ${bind(cursor.id)}`;
  }
  const sameId = bind(cursor.id);
  return `(${id} <= ${sameId} AND (${id} < ${sameId} OR ${rank.column} < ${bind(cursor.rank)}))`;
}

function toQuarantineRecord(row: Record<string, unknown>): QuarantineRecord {
  return {
    id: row.id as string,
    messageType: row.message_type as string,
    amqpMessageId: row.amqp_message_id as string | null,
    brokerUser: row.broker_user as string | null,
    reason: row.reason as string,
    detail: row.detail as string,
    envelopeId: row.envelope_id as string | null,
    claimedFromState: row.claimed_from_state as string | null,
    claimedFromAuthority: row.claimed_from_authority as string | null,
    kind: row.kind as string | null,
    bytes: Number(row.bytes),
    quarantinedAt: row.quarantined_at as Date,
    status: row.status as QuarantineRecord['status'],
    resolvedAt: row.resolved_at as Date | null,
    resolvedBy: row.resolved_by as string | null,
    resolutionReason: row.resolution_reason as string | null,
    outcome: row.outcome as string | null,
  };
}
