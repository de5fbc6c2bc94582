import { Injectable } from '@nestjs/common';
import { Database } from './database';

/** Advisory lock class for quarantine entries (the migrator uses its own key). */
const QUARANTINE_LOCK_CLASS = 0x51a7;

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

const QUARANTINE_COLUMNS = `id::text, message_type, amqp_message_id, broker_user, reason, detail, envelope_id,
  claimed_from_state, claimed_from_authority, kind, octet_length(payload) AS bytes, quarantined_at, status,
  resolved_at, resolved_by, resolution_reason, outcome`;

/** The quarantined broker messages this node holds for an operator to release or discard. */
@Injectable()
export class QuarantineRepository {
  constructor(private readonly database: Database) {}

  /**
   * Runs `work` on one entry, one caller at a time across replicas: a transaction-scoped
   * advisory lock on its id, so a discard cannot slip in while a release is processing it.
   */
  exclusively<T>(id: string, work: () => Promise<T>): Promise<T> {
    return this.database.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [
        QUARANTINE_LOCK_CLASS,
        Number(BigInt(id) % 2_147_483_647n),
      ]);
      return work();
    });
  }

  /** Stores one quarantined broker message; a redelivered copy (same fingerprint) is ignored. */
  async holdQuarantined(record: NewQuarantineRecord): Promise<void> {
    await this.database.query(
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
    const rows = (await this.database.query(
      `SELECT ${QUARANTINE_COLUMNS} FROM quarantined_message
        WHERE ($1::text = 'all' OR status = $1) AND ($2::bigint IS NULL OR id < $2::bigint)
        ORDER BY id DESC LIMIT $3`,
      [status, before ?? null, limit],
    )) as Array<Record<string, unknown>>;
    return rows.map(toQuarantineRecord);
  }

  async findQuarantined(id: string): Promise<{ record: QuarantineRecord; payload: Buffer } | null> {
    const rows = (await this.database.query(
      `SELECT ${QUARANTINE_COLUMNS}, payload FROM quarantined_message WHERE id = $1`,
      [id],
    )) as Array<Record<string, unknown>>;
    const row = rows[0];
    return row ? { record: toQuarantineRecord(row), payload: row.payload as Buffer } : null;
  }

  async countQuarantined(): Promise<number> {
    const [row] = (await this.database.query(
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
    const rows = (await this.database.query(
      `UPDATE quarantined_message
          SET status = $2, resolved_by = $3, resolution_reason = $4, outcome = $5, resolved_at = $6
        WHERE id = $1 AND status = 'held' RETURNING id`,
      [id, resolution.status, resolution.by, resolution.reason, resolution.outcome, resolution.at],
    )) as [unknown[], number] | unknown[];
    return (Array.isArray(rows[0]) ? (rows[0] as unknown[]) : rows).length > 0;
  }

  /** A release that was refused again: the entry stays held with the new reason. */
  async requalifyQuarantined(id: string, reason: string, detail: string): Promise<void> {
    await this.database.query(
      `UPDATE quarantined_message SET reason = $2, detail = $3 WHERE id = $1 AND status = 'held'`,
      [id, reason, detail],
    );
  }
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
