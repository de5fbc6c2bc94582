import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Protocol version 4 (evidence exchange):
 * - the outbox also carries retrieval evidence, checkpoint announcements and cosignatures;
 * - an inbound message remembers when its recipient first opened it, or when non-retrieval
 *   evidence was signed for it;
 * - as a witness, the node keeps every peer checkpoint it accepted (append-only), and as a log,
 *   the cosignatures its peers returned; forks seen are kept as alerts.
 */
export class EvidenceExchange1764600000000 implements MigrationInterface {
  name = 'EvidenceExchange1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_payload_type_check`,
      `ALTER TABLE outbox ADD CONSTRAINT outbox_payload_type_check
         CHECK (payload_type IN ('envelope', 'receipt', 'evidence', 'checkpoint', 'cosignature'))`,
      `ALTER TABLE inbound_message ADD COLUMN retrieved_at timestamptz,
         ADD COLUMN non_retrieval_at timestamptz`,
      `CREATE INDEX inbound_message_unretrieved_idx ON inbound_message (kind, received_at)
         WHERE retrieved_at IS NULL AND non_retrieval_at IS NULL`,
      `CREATE TABLE peer_checkpoint (
         state text NOT NULL,
         size bigint NOT NULL,
         root bytea NOT NULL,
         note text NOT NULL,
         received_at timestamptz NOT NULL,
         PRIMARY KEY (state, size))`,
      `CREATE TRIGGER peer_checkpoint_append_only BEFORE UPDATE OR DELETE ON peer_checkpoint
         FOR EACH ROW EXECUTE FUNCTION evidence_log_append_only()`,
      `CREATE TABLE checkpoint_cosignature (
         witness text NOT NULL,
         size bigint NOT NULL,
         note text NOT NULL,
         cosigned_at timestamptz NOT NULL,
         received_at timestamptz NOT NULL,
         PRIMARY KEY (witness, size))`,
      `CREATE TABLE witness_alert (
         id bigserial PRIMARY KEY,
         state text NOT NULL,
         kind text NOT NULL CHECK (kind IN ('peer-fork', 'own-fork')),
         detail text NOT NULL,
         note text NOT NULL,
         conflicting_note text,
         at timestamptz NOT NULL)`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `DROP TABLE witness_alert`,
      `DROP TABLE checkpoint_cosignature`,
      `DROP TABLE peer_checkpoint`,
      `DROP INDEX inbound_message_unretrieved_idx`,
      `ALTER TABLE inbound_message DROP COLUMN retrieved_at, DROP COLUMN non_retrieval_at`,
      `ALTER TABLE outbox DROP CONSTRAINT outbox_payload_type_check`,
      `ALTER TABLE outbox ADD CONSTRAINT outbox_payload_type_check
         CHECK (payload_type IN ('envelope', 'receipt'))`,
    ]) {
      await queryRunner.query(statement);
    }
  }
}
