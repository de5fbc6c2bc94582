import { Injectable } from '@nestjs/common';
import { Database } from './database';

export interface PersonSessionRecord {
  tokenSha256: string;
  username: string;
  role: string;
  authority: string | null;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** Sessions of people signed in to the workspace, and the failed sign-ins that lock an account. */
@Injectable()
export class PersonSessionRepository {
  constructor(private readonly database: Database) {}

  async create(session: PersonSessionRecord): Promise<void> {
    await this.database.query(
      `INSERT INTO person_session (token_sha256, username, role, authority, csrf_token, created_at,
                                   last_seen_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        session.tokenSha256,
        session.username,
        session.role,
        session.authority,
        session.csrfToken,
        session.createdAt,
        session.lastSeenAt,
        session.expiresAt,
      ],
    );
  }

  async find(tokenSha256: string): Promise<PersonSessionRecord | null> {
    const rows = await this.database.query<
      Array<{
        token_sha256: string;
        username: string;
        role: string;
        authority: string | null;
        csrf_token: string;
        created_at: Date;
        last_seen_at: Date;
        expires_at: Date;
      }>
    >(`SELECT * FROM person_session WHERE token_sha256 = $1`, [tokenSha256]);
    const row = rows[0];
    return row
      ? {
          tokenSha256: row.token_sha256,
          username: row.username,
          role: row.role,
          authority: row.authority,
          csrfToken: row.csrf_token,
          createdAt: row.created_at,
          lastSeenAt: row.last_seen_at,
          expiresAt: row.expires_at,
        }
      : null;
  }

  async touch(tokenSha256: string, at: Date): Promise<void> {
    await this.database.query(
      `UPDATE person_session SET last_seen_at = $2 WHERE token_sha256 = $1`,
      [tokenSha256, at],
    );
  }

  async remove(tokenSha256: string): Promise<void> {
    await this.database.query(`DELETE FROM person_session WHERE token_sha256 = $1`, [tokenSha256]);
  }

  /** Sessions past their end, and failures older than `failuresBefore`, are dropped. */
  async removeExpired(now: Date, failuresBefore: Date): Promise<void> {
    await this.database.query(`DELETE FROM person_session WHERE expires_at <= $1`, [now]);
    await this.database.query(`DELETE FROM sign_in_failure WHERE at < $1`, [failuresBefore]);
  }

  async recordFailure(username: string, at: Date): Promise<void> {
    await this.database.query(`INSERT INTO sign_in_failure (username, at) VALUES ($1, $2)`, [
      username,
      at,
    ]);
  }

  /** Failed sign-ins of an account since `since`, and the latest of them. */
  async failuresSince(
    username: string,
    since: Date,
  ): Promise<{ count: number; last: Date | null }> {
    const rows = await this.database.query<Array<{ count: number; last: Date | null }>>(
      `SELECT count(*)::int AS count, max(at) AS last FROM sign_in_failure WHERE username = $1 AND at >= $2`,
      [username, since],
    );
    return rows[0] ?? { count: 0, last: null };
  }

  async clearFailures(username: string): Promise<void> {
    await this.database.query(`DELETE FROM sign_in_failure WHERE username = $1`, [username]);
  }
}
