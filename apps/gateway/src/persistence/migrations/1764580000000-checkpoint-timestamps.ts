import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Beside each evidence checkpoint: the signing certificate chain that signed it (so that a
 * checkpoint stays verifiable after the gateway's key is rotated) and an RFC 3161 time-stamp
 * token, where a TSA is configured.
 */
export class CheckpointTimestamps1764580000000 implements MigrationInterface {
  name = 'CheckpointTimestamps1764580000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE evidence_checkpoint ADD COLUMN IF NOT EXISTS timestamp_token bytea,
         ADD COLUMN IF NOT EXISTS signer_chain text[]`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE evidence_checkpoint DROP COLUMN timestamp_token, DROP COLUMN signer_chain`,
    );
  }
}
