import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764370000000 implements MigrationInterface {
  name = 'InitialSchema1764370000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outbound_message (
        id uuid PRIMARY KEY,
        thread_id uuid NOT NULL,
        in_reply_to uuid,
        kind text NOT NULL,
        from_authority text NOT NULL,
        to_state text NOT NULL,
        to_authority text NOT NULL,
        status text NOT NULL CHECK (status IN ('submitted', 'sent', 'delivered', 'rejected', 'failed')),
        status_reason text,
        envelope bytea NOT NULL,
        envelope_digest text NOT NULL,
        sender_copy text NOT NULL,
        receipt bytea,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX outbound_message_created_idx ON outbound_message (created_at DESC, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX outbound_message_status_idx ON outbound_message (status, created_at DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE inbound_message (
        id uuid PRIMARY KEY,
        thread_id uuid NOT NULL,
        in_reply_to uuid,
        kind text NOT NULL,
        from_state text NOT NULL,
        from_authority text NOT NULL,
        to_authority text NOT NULL,
        status text NOT NULL CHECK (status IN ('delivered')),
        envelope bytea NOT NULL,
        envelope_digest text NOT NULL,
        receipt_id uuid NOT NULL,
        receipt bytea NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX inbound_message_received_idx ON inbound_message (received_at DESC, id DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE inbound_rejection (
        id bigserial PRIMARY KEY,
        envelope_id uuid NOT NULL,
        from_state text NOT NULL,
        reason text NOT NULL,
        envelope_digest text NOT NULL,
        envelope bytea NOT NULL,
        receipt bytea NOT NULL,
        received_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX inbound_rejection_envelope_idx ON inbound_rejection (envelope_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE evidence (
        id bigserial PRIMARY KEY,
        message_id uuid NOT NULL,
        direction text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
        type text NOT NULL,
        at timestamptz NOT NULL,
        reason text,
        detail text
      )`);
    await queryRunner.query(`CREATE INDEX evidence_message_idx ON evidence (message_id, id)`);
    await queryRunner.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        message_id uuid NOT NULL,
        payload_type text NOT NULL CHECK (payload_type IN ('envelope', 'receipt')),
        routing_key text NOT NULL,
        payload bytea NOT NULL,
        available_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0
      )`);
    await queryRunner.query(`CREATE INDEX outbox_available_idx ON outbox (available_at, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'outbox',
      'evidence',
      'inbound_rejection',
      'inbound_message',
      'outbound_message',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
