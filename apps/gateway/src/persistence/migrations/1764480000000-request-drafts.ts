import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drafts of requests and the authorities' templates, written in the workspace. Everything a
 * clerk typed is sealed (like the node's copies of sent content); only who, which authority,
 * which kind and when stay readable, for listing.
 */
export class RequestDrafts1764480000000 implements MigrationInterface {
  name = 'RequestDrafts1764480000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `CREATE TABLE request_draft (
         id uuid PRIMARY KEY,
         purpose text NOT NULL CHECK (purpose IN ('draft', 'template')),
         owner text NOT NULL,
         authority text NOT NULL,
         kind text NOT NULL,
         sealed text NOT NULL,
         revision integer NOT NULL DEFAULT 1,
         created_at timestamptz NOT NULL,
         updated_at timestamptz NOT NULL
       )`,
      `CREATE INDEX request_draft_owner_idx ON request_draft (authority, purpose, owner, updated_at DESC)`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE request_draft`);
  }
}
