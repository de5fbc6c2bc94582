import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An outbound message changes status twice (sent, then delivered or rejected), and each change
 * writes an entry into every index of the table. Measured under load, those index writes were
 * a large share of PostgreSQL's CPU per message; keep only the indexes the console's searches
 * need to stay under a second at 100,000s of messages (peer and status, each with the id
 * order). Kind and authority searches walk the id index and filter: those values are few and
 * common, so a page fills quickly.
 */
export class LeanOutboundIndexes1764430000000 implements MigrationInterface {
  name = 'LeanOutboundIndexes1764430000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const index of [
      'outbound_message_created_idx',
      'outbound_message_status_idx',
      'outbound_message_kind_idx',
      'outbound_message_from_authority_idx',
      'outbound_message_to_authority_idx',
    ]) {
      await queryRunner.query(`DROP INDEX IF EXISTS ${index}`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX outbound_message_created_idx ON outbound_message (created_at DESC, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX outbound_message_status_idx ON outbound_message (status, created_at DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX outbound_message_kind_idx ON outbound_message (kind, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX outbound_message_from_authority_idx ON outbound_message (from_authority, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX outbound_message_to_authority_idx ON outbound_message (to_authority, id DESC)`,
    );
  }
}
