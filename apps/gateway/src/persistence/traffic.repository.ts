import { Injectable } from '@nestjs/common';
import { Database } from './database';

export interface PeerCounts {
  state: string;
  sent: Record<string, number>;
  received: Record<string, number>;
  awaitingReceipt: { count: number; oldestSince: Date | null };
  retransmissions: number;
  perMinute: { published: number; delivered: number; received: number };
}

/** Counts over the stored messages for the operations overview and /metrics: read at scrape time, so every replica reports the same. */
@Injectable()
export class TrafficRepository {
  constructor(private readonly database: Database) {}

  /** Per peer State: messages by direction and status, receipts awaited, retransmissions, last minute's rates. */
  async peerCounts(now: Date): Promise<PeerCounts[]> {
    const minuteAgo = new Date(now.getTime() - 60_000);
    const [outbound, inbound, rejected, recent] = await Promise.all([
      this.database.query(
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
      this.database.query(
        `SELECT from_state AS state, count(*)::int AS count FROM inbound_message GROUP BY from_state`,
      ) as Promise<Array<{ state: string; count: number }>>,
      this.database.query(
        `SELECT from_state AS state, count(*)::int AS count FROM inbound_rejection GROUP BY from_state`,
      ) as Promise<Array<{ state: string; count: number }>>,
      // The last minute's events, joined to their peer: uses the (at, type) index.
      this.database.query(
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
    const [row] = (await this.database.query(
      `SELECT count(*)::int AS backlog, min(available_at) AS oldest FROM outbox`,
    )) as Array<{ backlog: number; oldest: Date | null }>;
    return { backlog: row?.backlog ?? 0, oldest: row?.oldest ?? null };
  }

  /** Messages whose receipt is overdue: sent, and past the first receipt deadline (retransmitted at least once or due now). */
  async overdueReceipts(now: Date): Promise<{ count: number; oldestSince: Date | null }> {
    const [row] = (await this.database.query(
      `SELECT count(*)::int AS count, min(created_at) AS oldest FROM outbound_message
        WHERE status = 'sent' AND (transmissions > 1 OR receipt_due_at < $1)`,
      [now],
    )) as Array<{ count: number; oldest: Date | null }>;
    return { count: row?.count ?? 0, oldestSince: row?.oldest ?? null };
  }

  async failuresSince(since: Date): Promise<number> {
    const [row] = (await this.database.query(
      `SELECT count(*)::int AS count FROM outbound_message WHERE status = 'failed' AND updated_at >= $1`,
      [since],
    )) as Array<{ count: number }>;
    return row?.count ?? 0;
  }
}
