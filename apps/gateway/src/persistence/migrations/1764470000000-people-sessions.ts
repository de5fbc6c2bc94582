import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * People signed in to the workspace: one row per session, keyed by the SHA-256 of the session
 * token (the token itself is only in the person's cookie), with its CSRF token and its limits;
 * and the failed sign-ins that lock an account for a while.
 */
export class PeopleSessions1764470000000 implements MigrationInterface {
  name = 'PeopleSessions1764470000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `CREATE TABLE person_session (
         token_sha256 text PRIMARY KEY,
         username text NOT NULL,
         role text NOT NULL,
         authority text,
         csrf_token text NOT NULL,
         created_at timestamptz NOT NULL,
         last_seen_at timestamptz NOT NULL,
         expires_at timestamptz NOT NULL
       )`,
      `CREATE INDEX person_session_expires_idx ON person_session (expires_at)`,
      `CREATE TABLE sign_in_failure (
         id bigserial PRIMARY KEY,
         username text NOT NULL,
         at timestamptz NOT NULL
       )`,
      `CREATE INDEX sign_in_failure_username_idx ON sign_in_failure (username, at)`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE sign_in_failure`);
    await queryRunner.query(`DROP TABLE person_session`);
  }
}
