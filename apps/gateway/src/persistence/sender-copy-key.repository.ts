import { Injectable } from '@nestjs/common';
import { Database } from './database';

/** The data keys under which the node seals its own copies of what it sends, each wrapped to its own certificate. */
@Injectable()
export class SenderCopyKeyRepository {
  constructor(private readonly database: Database) {}

  /** A data key for the node's sealed copies, wrapped to its own encryption certificate. */
  async insertSenderCopyKey(id: string, wrapped: string, createdAt: Date): Promise<void> {
    await this.database.pool.query(
      `INSERT INTO sender_copy_key (id, wrapped, created_at) VALUES ($1, $2, $3)`,
      [id, wrapped, createdAt],
    );
  }

  async findSenderCopyKey(id: string): Promise<string | null> {
    const { rows } = await this.database.pool.query<{ wrapped: string }>(
      `SELECT wrapped FROM sender_copy_key WHERE id = $1`,
      [id],
    );
    return rows[0]?.wrapped ?? null;
  }
}
