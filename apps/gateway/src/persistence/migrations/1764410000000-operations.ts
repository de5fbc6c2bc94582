import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the operator console needs: the quarantine kept in the database (so it can be searched,
 * released and discarded with a reason), and indexes for searching 100,000s of messages by
 * peer, status, kind and authority in the time order of their UUIDv7 ids (keyset pagination).
 */
export class Operations1764410000000 implements MigrationInterface {
  name = 'Operations1764410000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE quarantined_message (
        id bigserial PRIMARY KEY,
        fingerprint text NOT NULL UNIQUE,
        message_type text NOT NULL,
        amqp_message_id text,
        broker_user text,
        reason text NOT NULL,
        detail text NOT NULL,
        envelope_id text,
        claimed_from_state text,
        claimed_from_authority text,
        kind text,
        payload bytea NOT NULL,
        quarantined_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'held',
        resolved_at timestamptz,
        resolved_by text,
        resolution_reason text,
        outcome text
      )`);
    await queryRunner.query(
      `CREATE INDEX quarantined_message_status_idx ON quarantined_message (status, id DESC)`,
    );
    for (const statement of [
      `CREATE INDEX outbound_message_peer_idx ON outbound_message (to_state, id DESC)`,
      `CREATE INDEX outbound_message_status_id_idx ON outbound_message (status, id DESC)`,
      `CREATE INDEX outbound_message_kind_idx ON outbound_message (kind, id DESC)`,
      `CREATE INDEX outbound_message_from_authority_idx ON outbound_message (from_authority, id DESC)`,
      `CREATE INDEX outbound_message_to_authority_idx ON outbound_message (to_authority, id DESC)`,
      `CREATE INDEX inbound_message_peer_idx ON inbound_message (from_state, id DESC)`,
      `CREATE INDEX inbound_message_kind_idx ON inbound_message (kind, id DESC)`,
      `CREATE INDEX inbound_message_from_authority_idx ON inbound_message (from_authority, id DESC)`,
      `CREATE INDEX inbound_message_to_authority_idx ON inbound_message (to_authority, id DESC)`,
      `CREATE INDEX inbound_rejection_peer_idx ON inbound_rejection (from_state, envelope_id DESC)`,
      `CREATE INDEX evidence_recent_idx ON evidence (at, type)`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE quarantined_message`);
    for (const index of [
      'outbound_message_peer_idx',
      'outbound_message_status_id_idx',
      'outbound_message_kind_idx',
      'outbound_message_from_authority_idx',
      'outbound_message_to_authority_idx',
      'inbound_message_peer_idx',
      'inbound_message_kind_idx',
      'inbound_message_from_authority_idx',
      'inbound_message_to_authority_idx',
      'inbound_rejection_peer_idx',
      'evidence_recent_idx',
    ]) {
      await queryRunner.query(`DROP INDEX ${index}`);
    }
  }
}
