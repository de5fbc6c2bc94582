import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { BinaryCopyOut, copyLiteral, type PgClient } from './binary-copy';

/** One upload on the sending node. The file key is stored only wrapped to this node's own encryption certificate. */
export interface AttachmentRow {
  id: string;
  authority: string;
  createdBy: string;
  filename: string;
  mediaType: string;
  size: number;
  chunkSize: number;
  chunks: number;
  /** Compact JWE of the base64url file key, to this node's encryption certificate. */
  wrappedKey: string;
  status: 'uploading' | 'complete';
  /** base64url SHA-256 of the plaintext, once complete. */
  sha256: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

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

export interface SealedChunk {
  index: number;
  sealed: Buffer;
}

/** A received chunk, as the broker delivered it (not yet authenticated). */
export interface InboundChunk {
  fromState: string;
  envelopeId: string;
  attachmentIndex: number;
  chunkIndex: number;
  sealed: Buffer;
  at: Date;
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
 * its envelope (`MessageStore.acceptOutbound`): a transfer never exists without its message.
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
 * Chunks are read a few at a time by index range, never a whole file at once.
 */
@Injectable()
export class AttachmentStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  // ---- sender: uploads ------------------------------------------------------------------

  async insertAttachment(row: AttachmentRow): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO attachment (id, authority, created_by, filename, media_type, size, chunk_size, chunks,
                               wrapped_key, status, sha256, created_at, updated_at, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        row.id,
        row.authority,
        row.createdBy,
        row.filename,
        row.mediaType,
        row.size,
        row.chunkSize,
        row.chunks,
        row.wrappedKey,
        row.status,
        row.sha256,
        row.createdAt,
        row.updatedAt,
        row.completedAt,
      ],
    );
  }

  async findAttachment(id: string): Promise<AttachmentRow | null> {
    const rows = (await this.dataSource.query(
      `SELECT id, authority, created_by, filename, media_type, size, chunk_size, chunks, wrapped_key, status,
              sha256, created_at, updated_at, completed_at
         FROM attachment WHERE id = $1`,
      [id],
    )) as Array<Record<string, unknown>>;
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id as string,
      authority: row.authority as string,
      createdBy: row.created_by as string,
      filename: row.filename as string,
      mediaType: row.media_type as string,
      size: Number(row.size),
      chunkSize: row.chunk_size as number,
      chunks: row.chunks as number,
      wrappedKey: row.wrapped_key as string,
      status: row.status as AttachmentRow['status'],
      sha256: row.sha256 as string | null,
      createdAt: row.created_at as Date,
      updatedAt: row.updated_at as Date,
      completedAt: row.completed_at as Date | null,
    };
  }

  /**
   * Stores a sealed chunk once. Returns null when it was stored now, or the SHA-256 of the chunk
   * already stored at that index (a repeated upload: the caller compares).
   */
  async insertChunk(
    attachmentId: string,
    index: number,
    sealed: Buffer,
    sha256: string,
    at: Date,
  ): Promise<string | null> {
    const rows = (await this.dataSource.query(
      `WITH stored AS (
         INSERT INTO attachment_chunk (attachment_id, chunk_index, sealed, sha256)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (attachment_id, chunk_index) DO NOTHING
         RETURNING chunk_index),
       touched AS (
         UPDATE attachment SET updated_at = $5 WHERE id = $1 AND EXISTS (SELECT 1 FROM stored))
       SELECT (SELECT count(*) FROM stored)::int AS stored`,
      [attachmentId, index, sealed, sha256, at],
    )) as Array<{ stored: number }>;
    if (rows[0]?.stored === 1) return null;
    const existing = (await this.dataSource.query(
      `SELECT sha256 FROM attachment_chunk WHERE attachment_id = $1 AND chunk_index = $2`,
      [attachmentId, index],
    )) as Array<{ sha256: string }>;
    return existing[0]?.sha256 ?? '';
  }

  async chunkIndexes(attachmentId: string): Promise<number[]> {
    const rows = (await this.dataSource.query(
      `SELECT chunk_index FROM attachment_chunk WHERE attachment_id = $1 ORDER BY chunk_index`,
      [attachmentId],
    )) as Array<{ chunk_index: number }>;
    return rows.map((row) => row.chunk_index);
  }

  async chunkDigests(attachmentId: string): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT sha256 FROM attachment_chunk WHERE attachment_id = $1 ORDER BY chunk_index`,
      [attachmentId],
    )) as Array<{ sha256: string }>;
    return rows.map((row) => row.sha256);
  }

  /** Sealed chunks `from` ≤ index < `from + count`, in order. */
  readChunks(attachmentId: string, from: number, count: number): Promise<SealedChunk[]> {
    return this.readSealed(
      `SELECT chunk_index, sealed FROM attachment_chunk
        WHERE attachment_id = ${copyLiteral(attachmentId)}
          AND chunk_index >= ${copyLiteral(from)} AND chunk_index < ${copyLiteral(from + count)}
        ORDER BY chunk_index`,
    );
  }

  /** Sealed chunks through a binary COPY (see BinaryCopyOut): raw bytes, not hex text. */
  private async readSealed(select: string): Promise<SealedChunk[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PgClient;
      const copy = new BinaryCopyOut(`COPY (${select}) TO STDOUT (FORMAT binary)`);
      client.query(copy);
      return await copy.promise;
    } finally {
      await runner.release();
    }
  }

  /** uploading → complete, once; false when it was not uploading any more. */
  async completeAttachment(id: string, sha256: string, at: Date): Promise<boolean> {
    const [, affected] = (await this.dataSource.query(
      `UPDATE attachment SET status = 'complete', sha256 = $2, completed_at = $3, updated_at = $3
        WHERE id = $1 AND status = 'uploading'`,
      [id, sha256, at],
    )) as [unknown, number];
    return affected > 0;
  }

  /** Uploads never completed and untouched since `before`, with their chunks. */
  async deleteStaleUploads(before: Date): Promise<number> {
    const [, affected] = (await this.dataSource.query(
      `DELETE FROM attachment WHERE status = 'uploading' AND updated_at < $1`,
      [before],
    )) as [unknown, number];
    return affected;
  }

  // ---- sender: transfers ----------------------------------------------------------------

  /**
   * Registers the transfer of an envelope's chunks on its own (tests of the outbox trigger). The
   * node commits it with its message instead: `transferInsert` and `MessageStore.acceptOutbound`.
   */
  async insertTransfer(row: NewTransfer): Promise<void> {
    const { text, values } = transferInsert(row);
    await this.dataSource.query(text, values);
  }

  async pendingTransfers(limit: number): Promise<TransferRow[]> {
    return this.transfers(`WHERE t.status = 'pending' ORDER BY t.created_at LIMIT $1`, [limit]);
  }

  async findTransfer(envelopeId: string): Promise<TransferRow | null> {
    return (await this.transfers(`WHERE t.envelope_id = $1`, [envelopeId]))[0] ?? null;
  }

  private async transfers(where: string, parameters: unknown[]): Promise<TransferRow[]> {
    const rows = (await this.dataSource.query(
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
    const [rows] = (await this.dataSource.query(
      `UPDATE attachment_transfer SET runs = runs + 1, resumed_from = confirmed_chunks, updated_at = now()
        WHERE envelope_id = $1 AND status = 'pending'
        RETURNING confirmed_chunks, runs`,
      [envelopeId],
    )) as [Array<{ confirmed_chunks: number; runs: number }>, number];
    const row = rows[0];
    return row ? { confirmed: row.confirmed_chunks, runs: row.runs } : null;
  }

  async recordConfirmed(envelopeId: string, confirmed: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE attachment_transfer SET confirmed_chunks = greatest(confirmed_chunks, $2), updated_at = now()
        WHERE envelope_id = $1 AND status = 'pending'`,
      [envelopeId, confirmed],
    );
  }

  /** Every chunk confirmed: the transfer is done and its envelope may leave now (one statement). */
  async completeTransfer(envelopeId: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
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
    await this.dataSource.query(
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

  /** Sealed bytes held for a sender State whose envelopes have not been accepted (yet). */
  async pendingBytes(fromState: string): Promise<number> {
    const rows = (await this.dataSource.query(
      `SELECT coalesce(sum(s.bytes), 0)::bigint AS bytes FROM inbound_chunk_set s
        WHERE s.from_state = $1
          AND NOT EXISTS (SELECT 1 FROM inbound_message m WHERE m.id = s.envelope_id AND m.from_state = s.from_state)`,
      [fromState],
    )) as Array<{ bytes: string }>;
    return Number(rows[0]?.bytes ?? 0);
  }

  /** Stores a chunk once (keyed by sender, envelope, attachment and chunk index); false for a duplicate. */
  async storeInboundChunk(chunk: InboundChunk): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `WITH stored AS (
         INSERT INTO inbound_chunk (from_state, envelope_id, attachment_index, chunk_index, sealed, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING
         RETURNING octet_length(sealed) AS bytes),
       counted AS (
         INSERT INTO inbound_chunk_set (from_state, envelope_id, chunks, bytes, first_at, last_at)
         SELECT $1, $2, 1, bytes, $6, $6 FROM stored
         ON CONFLICT (from_state, envelope_id) DO UPDATE
           SET chunks = inbound_chunk_set.chunks + 1, bytes = inbound_chunk_set.bytes + excluded.bytes,
               last_at = excluded.last_at)
       SELECT count(*)::int AS stored FROM stored`,
      [
        chunk.fromState,
        chunk.envelopeId,
        chunk.attachmentIndex,
        chunk.chunkIndex,
        chunk.sealed,
        chunk.at,
      ],
    )) as Array<{ stored: number }>;
    return rows[0]?.stored === 1;
  }

  /** How many of chunks 0..chunks-1 of each attachment are here, and the first one missing. */
  async presentChunks(
    fromState: string,
    envelopeId: string,
    expected: number[],
  ): Promise<Array<{ present: number; firstMissing: number | null }>> {
    const counts = (await this.dataSource.query(
      `SELECT attachment_index, count(*)::int AS present FROM inbound_chunk
        WHERE from_state = $1 AND envelope_id = $2
          AND chunk_index < (($3::int[])[attachment_index + 1])
        GROUP BY attachment_index`,
      [fromState, envelopeId, expected],
    )) as Array<{ attachment_index: number; present: number }>;
    return Promise.all(
      expected.map(async (chunks, attachmentIndex) => {
        const present =
          counts.find((row) => row.attachment_index === attachmentIndex)?.present ?? 0;
        if (present >= chunks) return { present, firstMissing: null };
        const rows = (await this.dataSource.query(
          `SELECT min(i)::int AS first_missing FROM generate_series(0, $4::int - 1) AS i
            WHERE NOT EXISTS (SELECT 1 FROM inbound_chunk c
                               WHERE c.from_state = $1 AND c.envelope_id = $2
                                 AND c.attachment_index = $3 AND c.chunk_index = i)`,
          [fromState, envelopeId, attachmentIndex, chunks],
        )) as Array<{ first_missing: number | null }>;
        return { present, firstMissing: rows[0]?.first_missing ?? null };
      }),
    );
  }

  readInboundChunks(
    fromState: string,
    envelopeId: string,
    attachmentIndex: number,
    from: number,
    count: number,
  ): Promise<SealedChunk[]> {
    return this.readSealed(
      `SELECT chunk_index, sealed FROM inbound_chunk
        WHERE from_state = ${copyLiteral(fromState)} AND envelope_id = ${copyLiteral(envelopeId)}
          AND attachment_index = ${copyLiteral(attachmentIndex)}
          AND chunk_index >= ${copyLiteral(from)} AND chunk_index < ${copyLiteral(from + count)}
        ORDER BY chunk_index`,
    );
  }

  /** The envelope is here but chunks are missing: since when it has been waiting (set once). */
  async envelopeWaitingSince(fromState: string, envelopeId: string, now: Date): Promise<Date> {
    const rows = (await this.dataSource.query(
      `INSERT INTO inbound_chunk_set (from_state, envelope_id, chunks, bytes, first_at, last_at, envelope_waiting_since)
       VALUES ($1, $2, 0, 0, $3, $3, $3)
       ON CONFLICT (from_state, envelope_id) DO UPDATE
         SET envelope_waiting_since = coalesce(inbound_chunk_set.envelope_waiting_since, excluded.envelope_waiting_since)
       RETURNING envelope_waiting_since`,
      [fromState, envelopeId, now],
    )) as Array<{ envelope_waiting_since: Date }>;
    return rows[0]?.envelope_waiting_since ?? now;
  }

  /**
   * Deletes chunks nobody will verify: those of envelopes refused with a negative receipt, and
   * orphans (no accepted envelope) that received nothing since `orphansBefore`. A batch at a time.
   */
  async sweepInbound(orphansBefore: Date): Promise<{ sets: number; chunks: number }> {
    const rows = (await this.dataSource.query(
      `WITH doomed AS (
         SELECT s.from_state, s.envelope_id FROM inbound_chunk_set s
          WHERE NOT EXISTS (SELECT 1 FROM inbound_message m
                             WHERE m.id = s.envelope_id AND m.from_state = s.from_state)
            AND (s.last_at < $1
                 OR EXISTS (SELECT 1 FROM inbound_rejection r
                             WHERE r.envelope_id = s.envelope_id AND r.from_state = s.from_state))
          LIMIT 50),
       chunks AS (
         DELETE FROM inbound_chunk c USING doomed d
          WHERE c.from_state = d.from_state AND c.envelope_id = d.envelope_id
          RETURNING 1),
       sets AS (
         DELETE FROM inbound_chunk_set s USING doomed d
          WHERE s.from_state = d.from_state AND s.envelope_id = d.envelope_id
          RETURNING 1)
       SELECT (SELECT count(*) FROM sets)::int AS sets, (SELECT count(*) FROM chunks)::int AS chunks`,
      [orphansBefore],
    )) as Array<{ sets: number; chunks: number }>;
    return { sets: rows[0]?.sets ?? 0, chunks: rows[0]?.chunks ?? 0 };
  }
}
