import { Injectable } from '@nestjs/common';
import { Database } from './database';

export type DraftPurpose = 'draft' | 'template';

export interface RequestDraftRecord {
  id: string;
  purpose: DraftPurpose;
  /** The clerk who wrote it. */
  owner: string;
  authority: string;
  kind: string;
  /** The form, sealed under the node's data key. */
  sealed: string;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  purpose: DraftPurpose;
  owner: string;
  authority: string;
  kind: string;
  sealed: string;
  revision: number;
  created_at: Date;
  updated_at: Date;
}

function recordOf(row: Row): RequestDraftRecord {
  return {
    id: row.id,
    purpose: row.purpose,
    owner: row.owner,
    authority: row.authority,
    kind: row.kind,
    sealed: row.sealed,
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Drafts (each clerk's own) and templates (shared by the clerks of one authority). Every query
 * is scoped by authority, and drafts by owner too: a row of another scope is simply not found.
 */
@Injectable()
export class RequestDraftRepository {
  constructor(private readonly database: Database) {}

  async insert(record: Omit<RequestDraftRecord, 'revision'>): Promise<RequestDraftRecord> {
    const rows = await this.database.query<Row[]>(
      `INSERT INTO request_draft (id, purpose, owner, authority, kind, sealed, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        record.id,
        record.purpose,
        record.owner,
        record.authority,
        record.kind,
        record.sealed,
        record.createdAt,
        record.updatedAt,
      ],
    );
    return recordOf(rows[0]!);
  }

  /** Those one clerk may see: their own drafts, or their authority's templates. */
  async list(scope: {
    purpose: DraftPurpose;
    authority: string;
    owner: string;
  }): Promise<RequestDraftRecord[]> {
    const rows = await this.database.query<Row[]>(
      `SELECT * FROM request_draft
        WHERE purpose = $1 AND authority = $2 AND ($1 = 'template' OR owner = $3)
        ORDER BY updated_at DESC LIMIT 200`,
      [scope.purpose, scope.authority, scope.owner],
    );
    return rows.map(recordOf);
  }

  async find(
    id: string,
    scope: { purpose: DraftPurpose; authority: string; owner: string },
  ): Promise<RequestDraftRecord | null> {
    const rows = await this.database.query<Row[]>(
      `SELECT * FROM request_draft
        WHERE id = $1 AND purpose = $2 AND authority = $3 AND ($2 = 'template' OR owner = $4)`,
      [id, scope.purpose, scope.authority, scope.owner],
    );
    return rows[0] ? recordOf(rows[0]) : null;
  }

  /**
   * Replaces the sealed form when the row is still at `revision` (optimistic concurrency: a
   * save from a stale page does not overwrite a newer one); null when it is not.
   */
  async update(
    id: string,
    revision: number,
    change: { kind: string; sealed: string; updatedAt: Date },
  ): Promise<RequestDraftRecord | null> {
    const rows = await this.database.query<[Row[], number]>(
      `UPDATE request_draft SET kind = $3, sealed = $4, updated_at = $5, revision = revision + 1
        WHERE id = $1 AND revision = $2 RETURNING *`,
      [id, revision, change.kind, change.sealed, change.updatedAt],
    );
    const row = rows[0]?.[0];
    return row ? recordOf(row) : null;
  }

  async delete(id: string): Promise<void> {
    await this.database.query(`DELETE FROM request_draft WHERE id = $1`, [id]);
  }
}
