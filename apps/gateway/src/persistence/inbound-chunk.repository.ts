import { Injectable } from '@nestjs/common';
import { Database } from './database';
import { copyLiteral, readSealedChunks, type SealedChunk } from './binary-copy';

/** A received chunk, as the broker delivered it (not yet authenticated). */
export interface InboundChunk {
  fromState: string;
  envelopeId: string;
  attachmentIndex: number;
  chunkIndex: number;
  sealed: Buffer;
  at: Date;
}

/**
 * Chunks received ahead of their envelope, not yet authenticated: bounded per sender State,
 * verified when the envelope arrives, swept when refused or orphaned.
 */
@Injectable()
export class InboundChunkRepository {
  constructor(private readonly database: Database) {}

  /** Sealed bytes held for a sender State whose envelopes have not been accepted (yet). */
  async pendingBytes(fromState: string): Promise<number> {
    const rows = (await this.database.query(
      `SELECT coalesce(sum(s.bytes), 0)::bigint AS bytes FROM inbound_chunk_set s
        WHERE s.from_state = $1
          AND NOT EXISTS (SELECT 1 FROM inbound_message m WHERE m.id = s.envelope_id AND m.from_state = s.from_state)`,
      [fromState],
    )) as Array<{ bytes: string }>;
    return Number(rows[0]?.bytes ?? 0);
  }

  /** Stores a chunk once (keyed by sender, envelope, attachment and chunk index); false for a duplicate. */
  async storeInboundChunk(chunk: InboundChunk): Promise<boolean> {
    const rows = (await this.database.query(
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
    const counts = (await this.database.query(
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
        const rows = (await this.database.query(
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
    return readSealedChunks(
      this.database.dataSource,
      `SELECT chunk_index, sealed FROM inbound_chunk
        WHERE from_state = ${copyLiteral(fromState)} AND envelope_id = ${copyLiteral(envelopeId)}
          AND attachment_index = ${copyLiteral(attachmentIndex)}
          AND chunk_index >= ${copyLiteral(from)} AND chunk_index < ${copyLiteral(from + count)}
        ORDER BY chunk_index`,
    );
  }

  /** The envelope is here but chunks are missing: since when it has been waiting (set once). */
  async envelopeWaitingSince(fromState: string, envelopeId: string, now: Date): Promise<Date> {
    const rows = (await this.database.query(
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
    const rows = (await this.database.query(
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
