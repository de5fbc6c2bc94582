import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Receipt deadlines and retransmission counts, and signed documents on the timeline. */
export class DeliveryTracking1764380000000 implements MigrationInterface {
  name = 'DeliveryTracking1764380000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE outbound_message
        ADD COLUMN transmissions integer NOT NULL DEFAULT 0,
        ADD COLUMN receipt_timeout_ms integer NOT NULL DEFAULT 30000,
        ADD COLUMN receipt_due_at timestamptz`);
    await queryRunner.query(
      `CREATE INDEX outbound_message_receipt_due_idx ON outbound_message (receipt_due_at) WHERE status = 'sent'`,
    );
    await queryRunner.query(
      `CREATE INDEX outbound_message_expiry_idx ON outbound_message (expires_at) WHERE status IN ('submitted', 'sent')`,
    );
    await queryRunner.query(`ALTER TABLE evidence ADD COLUMN signed bytea`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE evidence DROP COLUMN signed`);
    await queryRunner.query(`DROP INDEX outbound_message_expiry_idx`);
    await queryRunner.query(`DROP INDEX outbound_message_receipt_due_idx`);
    await queryRunner.query(`
      ALTER TABLE outbound_message
        DROP COLUMN receipt_due_at, DROP COLUMN receipt_timeout_ms, DROP COLUMN transmissions`);
  }
}
