import { Injectable } from '@nestjs/common';
import { Database } from './database';
import { copyLiteral, readSealedChunks, type SealedChunk } from './binary-copy';

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

/** Large files uploaded on the sending node: their rows and sealed chunks, read a few at a time by index range. */
@Injectable()
export class AttachmentUploadRepository {
  constructor(private readonly database: Database) {}

  async insertAttachment(row: AttachmentRow): Promise<void> {
    await this.database.query(
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
    const rows = (await this.database.query(
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
    const rows = (await this.database.query(
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
    const existing = (await this.database.query(
      `SELECT sha256 FROM attachment_chunk WHERE attachment_id = $1 AND chunk_index = $2`,
      [attachmentId, index],
    )) as Array<{ sha256: string }>;
    return existing[0]?.sha256 ?? '';
  }

  async chunkIndexes(attachmentId: string): Promise<number[]> {
    const rows = (await this.database.query(
      `SELECT chunk_index FROM attachment_chunk WHERE attachment_id = $1 ORDER BY chunk_index`,
      [attachmentId],
    )) as Array<{ chunk_index: number }>;
    return rows.map((row) => row.chunk_index);
  }

  async chunkDigests(attachmentId: string): Promise<string[]> {
    const rows = (await this.database.query(
      `SELECT sha256 FROM attachment_chunk WHERE attachment_id = $1 ORDER BY chunk_index`,
      [attachmentId],
    )) as Array<{ sha256: string }>;
    return rows.map((row) => row.sha256);
  }

  /** Sealed chunks `from` ≤ index < `from + count`, in order. */
  readChunks(attachmentId: string, from: number, count: number): Promise<SealedChunk[]> {
    return readSealedChunks(
      this.database.dataSource,
      `SELECT chunk_index, sealed FROM attachment_chunk
        WHERE attachment_id = ${copyLiteral(attachmentId)}
          AND chunk_index >= ${copyLiteral(from)} AND chunk_index < ${copyLiteral(from + count)}
        ORDER BY chunk_index`,
    );
  }

  /** uploading → complete, once; false when it was not uploading any more. */
  async completeAttachment(id: string, sha256: string, at: Date): Promise<boolean> {
    const [, affected] = (await this.database.query(
      `UPDATE attachment SET status = 'complete', sha256 = $2, completed_at = $3, updated_at = $3
        WHERE id = $1 AND status = 'uploading'`,
      [id, sha256, at],
    )) as [unknown, number];
    return affected > 0;
  }

  /** Uploads never completed and untouched since `before`, with their chunks. */
  async deleteStaleUploads(before: Date): Promise<number> {
    const [, affected] = (await this.database.query(
      `DELETE FROM attachment WHERE status = 'uploading' AND updated_at < $1`,
      [before],
    )) as [unknown, number];
    return affected;
  }

  // ---- sender: transfers ----------------------------------------------------------------
}
