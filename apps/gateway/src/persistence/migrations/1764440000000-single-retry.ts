import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An operator's retry seals the request again under a new envelope id, which the receiver
 * cannot recognise as a repeat: two operators (or a double click) must not both retry one
 * message. At most one `retried` evidence row per message, enforced by the database.
 */
export class SingleRetry1764440000000 implements MigrationInterface {
  name = 'SingleRetry1764440000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE UNIQUE INDEX evidence_single_retry_idx ON evidence (message_id) WHERE type = 'retried'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX evidence_single_retry_idx`);
  }
}
