import { Injectable } from '@nestjs/common';
import type { EventType, NodeEvent } from '@comity/protocol';
import { Database } from './database';

/** Serialises the event sequencers of all replicas of a node on one database. */
const EVENT_SEQUENCER_LOCK = 0x636f6d65;

/** Which events a reader may see: all, or those of one authority (and never the node's own). */
export interface EventScope {
  authority: string | null;
  types?: readonly EventType[];
}

/**
 * The node's events (docs/integration.md): written by triggers in the transaction of the change
 * they report, numbered here afterwards, read by the feed and the webhook dispatcher.
 */
@Injectable()
export class EventRepository {
  constructor(private readonly database: Database) {}

  /**
   * Numbers the events that committed since the last pass, in the order they are found, after
   * the highest number given so far (gapless); returns how many. Other replicas skip the pass
   * while one holds the lock.
   */
  async sequence(limit: number): Promise<number> {
    const rows = await this.database.query<Array<{ numbered: string }>>(
      `WITH lock AS (SELECT pg_try_advisory_xact_lock($2) AS held),
            todo AS (
              SELECT pos, row_number() OVER (ORDER BY pos) AS n FROM (
                SELECT pos FROM event WHERE seq IS NULL AND (SELECT held FROM lock)
                 ORDER BY pos LIMIT $1) pending),
            base AS (SELECT coalesce(max(seq), 0) AS seq FROM event),
            numbered AS (
              UPDATE event e SET seq = base.seq + todo.n FROM todo, base
               WHERE e.pos = todo.pos RETURNING 1)
       SELECT count(*)::text AS numbered FROM numbered`,
      [limit, EVENT_SEQUENCER_LOCK],
    );
    return Number(rows[0]?.numbered ?? 0);
  }

  /** Events after `after` in sequence order, as far as the scope allows. */
  async page(after: number, limit: number, scope: EventScope): Promise<NodeEvent[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT seq::text AS seq, id, type, at, authority, subject, data FROM event e
        WHERE e.seq > $1
          AND ($2::text IS NULL OR e.authority = $2)
          AND ($3::text[] IS NULL OR e.type = ANY($3))
        ORDER BY e.seq LIMIT $4`,
      [after, scope.authority, scope.types?.length ? scope.types : null, limit],
    );
    return rows.map(eventOf);
  }

  async bySeq(seq: number): Promise<NodeEvent | null> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT seq::text AS seq, id, type, at, authority, subject, data FROM event WHERE seq = $1`,
      [seq],
    );
    return rows[0] ? eventOf(rows[0]) : null;
  }

  /** The highest sequence number given (0: none yet). */
  async latestSeq(): Promise<number> {
    const rows = await this.database.query<Array<{ seq: string | null }>>(
      `SELECT max(seq)::text AS seq FROM event`,
    );
    return Number(rows[0]?.seq ?? 0);
  }
}

function eventOf(row: Record<string, unknown>): NodeEvent {
  return {
    seq: Number(row.seq),
    id: row.id as string,
    type: row.type as EventType,
    time: (row.at as Date).toISOString(),
    authority: row.authority as string | null,
    subject: row.subject as string | null,
    data: row.data as Record<string, unknown>,
  };
}
