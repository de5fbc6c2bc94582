import { Injectable } from '@nestjs/common';
import type { Checkpoint } from '@comity/protocol';
import { Database } from './database';

export interface PeerCheckpointRow {
  state: string;
  size: number;
  root: Buffer;
  note: string;
  receivedAt: Date;
}

export interface CosignatureRow {
  witness: string;
  size: number;
  note: string;
  cosignedAt: Date;
  receivedAt: Date;
}

export interface WitnessAlertRow {
  id: string;
  state: string;
  kind: 'peer-fork' | 'own-fork';
  detail: string;
  note: string;
  conflictingNote: string | null;
  at: Date;
}

/**
 * Witnessing (protocol §10.2): as a witness, the checkpoints of each peer's log this node
 * accepted (append-only); as a log, the cosignatures its peers returned; and the forks seen.
 */
@Injectable()
export class WitnessRepository {
  constructor(private readonly database: Database) {}

  /** The peer's latest accepted checkpoint, and the one of `size` if there is one. */
  async peerLog(
    state: string,
    size: number,
  ): Promise<{ latest: PeerCheckpointRow | null; atSize: PeerCheckpointRow | null }> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `(SELECT state, size::text AS size, root, note, received_at FROM peer_checkpoint p
         WHERE p.state = $1 ORDER BY p.size DESC LIMIT 1)
       UNION ALL
       (SELECT state, size::text AS size, root, note, received_at FROM peer_checkpoint
         WHERE state = $1 AND size = $2)`,
      [state, size],
    );
    const all = rows.map(peerCheckpointOf);
    return { latest: all[0] ?? null, atSize: all.find((row) => row.size === size) ?? null };
  }

  async addPeerCheckpoint(
    state: string,
    checkpoint: Checkpoint,
    note: string,
    at: Date,
  ): Promise<void> {
    await this.database.query(
      `INSERT INTO peer_checkpoint (state, size, root, note, received_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (state, size) DO NOTHING`,
      [state, checkpoint.size, checkpoint.root, note, at],
    );
  }

  /** Records a fork once per (kind, state, note). */
  async addAlert(alert: Omit<WitnessAlertRow, 'id'>): Promise<boolean> {
    const rows = await this.database.query<unknown[]>(
      `WITH added AS (
         INSERT INTO witness_alert (state, kind, detail, note, conflicting_note, at)
         SELECT $1, $2, $3, $4, $5, $6
          WHERE NOT EXISTS (SELECT 1 FROM witness_alert WHERE state = $1 AND kind = $2 AND note = $4)
         RETURNING id)
       SELECT id FROM added`,
      [alert.state, alert.kind, alert.detail, alert.note, alert.conflictingNote, alert.at],
    );
    return rows.length > 0;
  }

  async alerts(limit = 100): Promise<WitnessAlertRow[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT id::text AS id, state, kind, detail, note, conflicting_note, at FROM witness_alert
        ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      id: row.id as string,
      state: row.state as string,
      kind: row.kind as WitnessAlertRow['kind'],
      detail: row.detail as string,
      note: row.note as string,
      conflictingNote: row.conflicting_note as string | null,
      at: row.at as Date,
    }));
  }

  async addCosignature(row: CosignatureRow): Promise<void> {
    await this.database.query(
      `INSERT INTO checkpoint_cosignature (witness, size, note, cosigned_at, received_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (witness, size) DO NOTHING`,
      [row.witness, row.size, row.note, row.cosignedAt, row.receivedAt],
    );
  }

  /** The largest size each witness cosigned. */
  async cosignedSizes(): Promise<Map<string, number>> {
    const rows = await this.database.query<Array<{ witness: string; size: string }>>(
      `SELECT witness, max(size)::text AS size FROM checkpoint_cosignature GROUP BY witness`,
    );
    return new Map(rows.map((row) => [row.witness, Number(row.size)]));
  }

  /** Each witness's cosignature of the largest checkpoint at most `size` (for bundles). */
  async latestCosignatures(size: number): Promise<CosignatureRow[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT DISTINCT ON (c.witness) witness, size::text AS size, note, cosigned_at, received_at
         FROM checkpoint_cosignature c WHERE c.size <= $1 ORDER BY c.witness, c.size DESC`,
      [size],
    );
    return rows.map((row) => ({
      witness: row.witness as string,
      size: Number(row.size),
      note: row.note as string,
      cosignedAt: row.cosigned_at as Date,
      receivedAt: row.received_at as Date,
    }));
  }

  /** The latest checkpoint accepted of each peer's log. */
  async peerHeads(): Promise<PeerCheckpointRow[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT DISTINCT ON (p.state) state, size::text AS size, root, note, received_at
         FROM peer_checkpoint p ORDER BY p.state, p.size DESC`,
    );
    return rows.map(peerCheckpointOf);
  }

  /** Routing keys with a checkpoint announcement still waiting in the outbox. */
  async pendingAnnouncements(): Promise<Set<string>> {
    const rows = await this.database.query<Array<{ routing_key: string }>>(
      `SELECT DISTINCT routing_key FROM outbox WHERE payload_type = 'checkpoint'`,
    );
    return new Set(rows.map((row) => row.routing_key));
  }
}

function peerCheckpointOf(row: Record<string, unknown>): PeerCheckpointRow {
  return {
    state: row.state as string,
    size: Number(row.size),
    root: row.root as Buffer,
    note: row.note as string,
    receivedAt: row.received_at as Date,
  };
}
