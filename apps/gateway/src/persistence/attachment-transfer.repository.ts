import { Injectable } from '@nestjs/common';
import { Database } from './database';

/** Advisory lock class of transfers (one run at a time per envelope across replicas). */
const TRANSFER_LOCK_CLASS = 0x636d7974;

/** A transfer: the chunks of one envelope's large attachments, in content order. */
export interface TransferRow {
  envelopeId: string;
  routingKey: string;
  fromState: string;
  attachments: Array<{ attachmentId: string; chunks: number }>;
  totalChunks: number;
  totalBytes: number;
  /** Chunks (in global order) the broker has confirmed, as recorded; the next run starts there. */
  confirmedChunks: number;
  runs: number;
  resumedFrom: number | null;
  status: 'pending' | 'done' | 'abandoned';
  detail: string | null;
  createdAt: Date;
  completedAt: Date | null;
  /** The outbound message's status (null when it does not exist). */
  messageStatus: string | null;
}

const HELD_UNTIL_TRANSFERRED = '9999-12-31T00:00:00Z';

export interface NewTransfer {
  envelopeId: string;
  routingKey: string;
  fromState: string;
  attachments: Array<{ attachmentId: string; chunks: number }>;
  totalBytes: number;
  at: Date;
}

/**
 * The statement registering a transfer, for the caller to commit in the same transaction as
 * its envelope (`OutboundMessageRepository.acceptOutbound`): a transfer never exists without its message.
 */
export function transferInsert(row: NewTransfer): { text: string; values: unknown[] } {
  return {
    text: `INSERT INTO attachment_transfer (envelope_id, routing_key, from_state, attachments, total_chunks, total_bytes,
                                           created_at, updated_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $7)`,
    values: [
      row.envelopeId,
      row.routingKey,
      row.fromState,
      JSON.stringify(row.attachments),
      row.attachments.reduce((sum, attachment) => sum + attachment.chunks, 0),
      row.totalBytes,
      row.at,
    ],
  };
}

/**
 * The SQL of large attachments (sender: uploads, chunks, transfers; receiver: inbound chunks).
/** The transfers of large attachments' chunks ahead of their envelopes, resumable after a crash. */
@Injectable()
export class AttachmentTransferRepository {
  constructor(private readonly database: Database) {}

  /**
   * Runs `work` holding the transfer's session advisory lock, so one replica at a time carries
   * it; false (and `work` not run) when another holds it.
   */
  async withTransferLock(envelopeId: string, work: () => Promise<void>): Promise<boolean> {
    const runner = this.database.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const rows = (await runner.query(`SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked`, [
        TRANSFER_LOCK_CLASS,
        envelopeId,
      ])) as Array<{ locked: boolean }>;
      if (rows[0]?.locked !== true) return false;
      try {
        await work();
      } finally {
        await runner
          .query(`SELECT pg_advisory_unlock($1, hashtext($2))`, [TRANSFER_LOCK_CLASS, envelopeId])
          .catch(() => undefined);
      }
      return true;
    } finally {
      await runner.release();
    }
  }

  /**
   * Registers the transfer of an envelope's chunks on its own (tests of the outbox trigger). The
   * node commits it with its message instead: `transferInsert` and `OutboundMessageRepository.acceptOutbound`.
   */
  async insertTransfer(row: NewTransfer): Promise<void> {
    const { text, values } = transferInsert(row);
    await this.database.query(text, values);
  }

  async pendingTransfers(limit: number): Promise<TransferRow[]> {
    return this.transfers(`WHERE t.status = 'pending' ORDER BY t.created_at LIMIT $1`, [limit]);
  }

  async findTransfer(envelopeId: string): Promise<TransferRow | null> {
    return (await this.transfers(`WHERE t.envelope_id = $1`, [envelopeId]))[0] ?? null;
  }

  private async transfers(where: string, parameters: unknown[]): Promise<TransferRow[]> {
    const rows = (await this.database.query(
      `SELECT t.envelope_id, t.routing_key, t.from_state, t.attachments, t.total_chunks, t.total_bytes,
              t.confirmed_chunks, t.runs, t.resumed_from, t.status, t.detail, t.created_at, t.completed_at,
              m.status AS message_status
         FROM attachment_transfer t LEFT JOIN outbound_message m ON m.id = t.envelope_id
        ${where}`,
      parameters,
    )) as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      envelopeId: row.envelope_id as string,
      routingKey: row.routing_key as string,
      fromState: row.from_state as string,
      attachments: row.attachments as TransferRow['attachments'],
      totalChunks: row.total_chunks as number,
      totalBytes: Number(row.total_bytes),
      confirmedChunks: row.confirmed_chunks as number,
      runs: row.runs as number,
      resumedFrom: row.resumed_from as number | null,
      status: row.status as TransferRow['status'],
      detail: row.detail as string | null,
      createdAt: row.created_at as Date,
      completedAt: row.completed_at as Date | null,
      messageStatus: row.message_status as string | null,
    }));
  }

  /** A new run starts from the recorded watermark; returns it (null when no longer pending). */
  async startRun(envelopeId: string): Promise<{ confirmed: number; runs: number } | null> {
    const [rows] = (await this.database.query(
      `UPDATE attachment_transfer SET runs = runs + 1, resumed_from = confirmed_chunks, updated_at = now()
        WHERE envelope_id = $1 AND status = 'pending'
        RETURNING confirmed_chunks, runs`,
      [envelopeId],
    )) as [Array<{ confirmed_chunks: number; runs: number }>, number];
    const row = rows[0];
    return row ? { confirmed: row.confirmed_chunks, runs: row.runs } : null;
  }

  async recordConfirmed(envelopeId: string, confirmed: number): Promise<void> {
    await this.database.query(
      `UPDATE attachment_transfer SET confirmed_chunks = greatest(confirmed_chunks, $2), updated_at = now()
        WHERE envelope_id = $1 AND status = 'pending'`,
      [envelopeId, confirmed],
    );
  }

  /** Every chunk confirmed: the transfer is done and its envelope may leave now (one statement). */
  async completeTransfer(envelopeId: string): Promise<boolean> {
    const rows = (await this.database.query(
      `WITH done AS (
         UPDATE attachment_transfer
            SET status = 'done', confirmed_chunks = total_chunks, completed_at = now(), updated_at = now()
          WHERE envelope_id = $1 AND status = 'pending'
          RETURNING envelope_id),
       released AS (
         UPDATE outbox SET available_at = now()
          WHERE message_id IN (SELECT envelope_id FROM done) AND payload_type = 'envelope'
            AND available_at >= $2::timestamptz)
       SELECT count(*)::int AS done FROM done`,
      [envelopeId, HELD_UNTIL_TRANSFERRED],
    )) as Array<{ done: number }>;
    return rows[0]?.done === 1;
  }

  /**
   * Given up (the message failed or vanished, or the recipient's inbox is unroutable). With
   * `releaseEnvelope` its held envelope is let go, so the outbox relay records the outcome.
   */
  async abandonTransfer(
    envelopeId: string,
    detail: string,
    releaseEnvelope: boolean,
  ): Promise<void> {
    await this.database.query(
      `WITH abandoned AS (
         UPDATE attachment_transfer SET status = 'abandoned', detail = $2, updated_at = now()
          WHERE envelope_id = $1 AND status = 'pending'
          RETURNING envelope_id)
       UPDATE outbox SET available_at = now()
        WHERE $3 AND message_id IN (SELECT envelope_id FROM abandoned) AND payload_type = 'envelope'
          AND available_at >= $4::timestamptz`,
      [envelopeId, detail.slice(0, 1000), releaseEnvelope, HELD_UNTIL_TRANSFERRED],
    );
  }

  // ---- receiver: inbound chunks -----------------------------------------------------------
}
