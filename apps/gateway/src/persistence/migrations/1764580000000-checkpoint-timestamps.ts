import type { MigrationInterface, QueryRunner } from 'typeorm';

/** An RFC 3161 time-stamp token beside each evidence checkpoint, where a TSA is configured. */
export class CheckpointTimestamps1764580000000 implements MigrationInterface {
  name = 'CheckpointTimestamps1764580000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE evidence_checkpoint ADD COLUMN IF NOT EXISTS timestamp_token bytea`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE evidence_checkpoint DROP COLUMN timestamp_token`);
  }
}
