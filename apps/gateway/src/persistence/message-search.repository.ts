import { Injectable } from '@nestjs/common';
import { Database } from './database';

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

const OUTBOUND_COLUMNS = `'outbound' AS direction, id, ${OUTBOUND_RANK}::bigint AS rank, kind, to_state AS peer_state, from_authority AS local_authority,
  to_authority AS peer_authority, status, status_reason, transmissions, envelope_digest, created_at, updated_at, expires_at`;
const INBOUND_COLUMNS = `'inbound' AS direction, id, ${INBOUND_RANK}::bigint AS rank, kind, from_state AS peer_state, to_authority AS local_authority,
  from_authority AS peer_authority, status, NULL::text AS status_reason, 1 AS transmissions, envelope_digest, created_at,
  received_at AS updated_at, expires_at`;
// A refused envelope keeps only what the receipt needs; its routing is in the (authenticated) envelope.
const REJECTION_COLUMNS = `'inbound' AS direction, envelope_id AS id, id AS rank, NULL::text AS kind, from_state AS peer_state,
  NULL::text AS local_authority, NULL::text AS peer_authority, 'rejected' AS status, reason AS status_reason,
  1 AS transmissions, envelope_digest, received_at AS created_at, received_at AS updated_at, received_at AS expires_at`;

/** The console's view of all messages, both directions and refused copies, newest first. */
@Injectable()
export class MessageSearchRepository {
  constructor(private readonly database: Database) {}

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
    const rows = (await this.database.query(
      `SELECT * FROM (${parts.join(' UNION ALL ')}) page ORDER BY id DESC, rank DESC LIMIT ${limit}`,
      parameters,
    )) as Array<Record<string, unknown>>;
    return rows.map(toMessageRecord);
  }

  async findMessage(direction: 'outbound' | 'inbound', id: string): Promise<MessageRecord | null> {
    const [record] = await this.searchMessages({ direction, id, limit: 1 });
    return record ?? null;
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
