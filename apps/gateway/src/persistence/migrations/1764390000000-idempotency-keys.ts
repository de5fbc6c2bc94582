import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Client idempotency keys: a submit retried after a lost answer finds the request it already made. */
export class IdempotencyKeys1764390000000 implements MigrationInterface {
  name = 'IdempotencyKeys1764390000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE outbound_message ADD COLUMN idempotency_key text, ADD COLUMN request_digest text`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX outbound_message_idempotency_key_idx ON outbound_message (idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX outbound_message_idempotency_key_idx`);
    await queryRunner.query(
      `ALTER TABLE outbound_message DROP COLUMN request_digest, DROP COLUMN idempotency_key`,
    );
  }
}
