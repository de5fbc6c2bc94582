import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit log: every refused API call (and what else the auditor must see), append-only. */
export class AuditEvents1764400000000 implements MigrationInterface {
  name = 'AuditEvents1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_event (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        principal text,
        role text,
        action text NOT NULL,
        outcome text NOT NULL,
        status integer NOT NULL,
        reason text NOT NULL,
        client text
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_event`);
  }
}
