import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The node's evidence log: every row added to `evidence` (message timelines) or `audit_event`
 * (refusals, operator actions, sign-ins) is queued, in the transaction that adds it, by a
 * statement trigger; the log's sequencer drains the queue in order into `evidence_leaf`
 * (contiguous leaf indexes of an RFC 6962 tree, leaves of metadata and digests only), keeps
 * the tree's right edge in `evidence_tree`, and signs checkpoints into `evidence_checkpoint`.
 * Leaves and checkpoints refuse UPDATE and DELETE.
 */
export class EvidenceLog1764570000000 implements MigrationInterface {
  name = 'EvidenceLog1764570000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      // One queue row per statement (a group commit writes many rows in one), not per row.
      `CREATE TABLE evidence_pending (
         seq bigserial PRIMARY KEY,
         source text NOT NULL CHECK (source IN ('evidence', 'audit')),
         source_ids bigint[] NOT NULL
       )`,
      `CREATE FUNCTION evidence_log_queue() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO evidence_pending (source, source_ids)
           SELECT TG_ARGV[0], array_agg(id ORDER BY id) FROM inserted HAVING count(*) > 0;
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER evidence_log_queue AFTER INSERT ON evidence
         REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
         EXECUTE FUNCTION evidence_log_queue('evidence')`,
      `CREATE TRIGGER evidence_log_queue AFTER INSERT ON audit_event
         REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
         EXECUTE FUNCTION evidence_log_queue('audit')`,
      `CREATE TABLE evidence_leaf (
         leaf_index bigint PRIMARY KEY,
         source text NOT NULL,
         source_id bigint NOT NULL,
         leaf bytea NOT NULL,
         leaf_hash bytea NOT NULL,
         logged_at timestamptz NOT NULL
       )`,
      `CREATE TABLE evidence_tree (
         id smallint PRIMARY KEY CHECK (id = 1),
         size bigint NOT NULL,
         frontier bytea[] NOT NULL
       )`,
      `INSERT INTO evidence_tree (id, size, frontier) VALUES (1, 0, '{}')`,
      `CREATE TABLE evidence_checkpoint (
         size bigint PRIMARY KEY,
         root bytea NOT NULL,
         note text NOT NULL,
         signed_at timestamptz NOT NULL
       )`,
      `CREATE FUNCTION evidence_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'the evidence log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
       END $$`,
      `CREATE TRIGGER evidence_leaf_append_only BEFORE UPDATE OR DELETE ON evidence_leaf
         FOR EACH ROW EXECUTE FUNCTION evidence_log_append_only()`,
      `CREATE TRIGGER evidence_checkpoint_append_only BEFORE UPDATE OR DELETE ON evidence_checkpoint
         FOR EACH ROW EXECUTE FUNCTION evidence_log_append_only()`,
      // Rows added before the log existed become its first leaves, in their order.
      `INSERT INTO evidence_pending (source, source_ids)
         SELECT 'evidence', array_agg(id ORDER BY id) FROM evidence HAVING count(*) > 0`,
      `INSERT INTO evidence_pending (source, source_ids)
         SELECT 'audit', array_agg(id ORDER BY id) FROM audit_event HAVING count(*) > 0`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `DROP TRIGGER evidence_log_queue ON evidence`,
      `DROP TRIGGER evidence_log_queue ON audit_event`,
      `DROP TABLE evidence_pending, evidence_leaf, evidence_tree, evidence_checkpoint`,
      `DROP FUNCTION evidence_log_queue()`,
      `DROP FUNCTION evidence_log_append_only()`,
    ]) {
      await queryRunner.query(statement);
    }
  }
}
