import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Large attachments by reference (docs/protocol.md §7).
 *
 * Sender side: `attachment` (one upload, its file key wrapped to this node's own encryption
 * certificate, never in clear), `attachment_chunk` (one sealed chunk per row: AES-256-GCM
 * ciphertext and tag, and its SHA-256) and `attachment_transfer` (per envelope: how many of its
 * chunks the broker confirmed, in order; a restarted node resumes from there).
 *
 * Receiver side: `inbound_chunk` (sealed chunks as they arrive, before and after their envelope)
 * and `inbound_chunk_set` (per sender and envelope: bytes held, for the quota and the expiry of
 * orphans, and since when the envelope has been waiting for missing chunks).
 *
 * An envelope whose chunks are still being published must not leave before them. Its outbox
 * row is held (available_at in the year 9999) by a trigger while a pending transfer exists for
 * it, whichever code inserts the row; the transfer releases it when every chunk is confirmed.
 * Sealed chunks do not compress: their bytea columns are stored EXTERNAL (out of line, no
 * compression attempt).
 */
export class LargeAttachments1764420000000 implements MigrationInterface {
  name = 'LargeAttachments1764420000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `CREATE TABLE attachment (
         id uuid PRIMARY KEY,
         authority text NOT NULL,
         created_by text NOT NULL,
         filename text NOT NULL,
         media_type text NOT NULL,
         size bigint NOT NULL,
         chunk_size int NOT NULL,
         chunks int NOT NULL,
         wrapped_key text NOT NULL,
         status text NOT NULL DEFAULT 'uploading',
         sha256 text,
         created_at timestamptz NOT NULL,
         updated_at timestamptz NOT NULL,
         completed_at timestamptz
       )`,
      `CREATE INDEX attachment_uploading_idx ON attachment (updated_at) WHERE status = 'uploading'`,
      `CREATE TABLE attachment_chunk (
         attachment_id uuid NOT NULL REFERENCES attachment (id) ON DELETE CASCADE,
         chunk_index int NOT NULL,
         sealed bytea NOT NULL,
         sha256 text NOT NULL,
         PRIMARY KEY (attachment_id, chunk_index)
       )`,
      `ALTER TABLE attachment_chunk ALTER COLUMN sealed SET STORAGE EXTERNAL`,
      `CREATE TABLE attachment_transfer (
         envelope_id uuid PRIMARY KEY,
         routing_key text NOT NULL,
         from_state text NOT NULL,
         attachments jsonb NOT NULL,
         total_chunks int NOT NULL,
         total_bytes bigint NOT NULL,
         confirmed_chunks int NOT NULL DEFAULT 0,
         runs int NOT NULL DEFAULT 0,
         resumed_from int,
         status text NOT NULL DEFAULT 'pending',
         detail text,
         created_at timestamptz NOT NULL,
         updated_at timestamptz NOT NULL,
         completed_at timestamptz
       )`,
      `CREATE INDEX attachment_transfer_pending_idx ON attachment_transfer (created_at) WHERE status = 'pending'`,
      `CREATE FUNCTION comity_hold_envelope_for_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM attachment_transfer
                     WHERE envelope_id = NEW.message_id AND status = 'pending') THEN
           NEW.available_at := '9999-12-31T00:00:00Z';
         END IF;
         RETURN NEW;
       END $$`,
      `CREATE TRIGGER outbox_hold_envelope_for_transfer BEFORE INSERT ON outbox
         FOR EACH ROW WHEN (NEW.payload_type = 'envelope')
         EXECUTE FUNCTION comity_hold_envelope_for_transfer()`,
      `CREATE TABLE inbound_chunk (
         from_state text NOT NULL,
         envelope_id uuid NOT NULL,
         attachment_index smallint NOT NULL,
         chunk_index int NOT NULL,
         sealed bytea NOT NULL,
         received_at timestamptz NOT NULL,
         PRIMARY KEY (from_state, envelope_id, attachment_index, chunk_index)
       )`,
      `ALTER TABLE inbound_chunk ALTER COLUMN sealed SET STORAGE EXTERNAL`,
      `CREATE TABLE inbound_chunk_set (
         from_state text NOT NULL,
         envelope_id uuid NOT NULL,
         chunks int NOT NULL DEFAULT 0,
         bytes bigint NOT NULL DEFAULT 0,
         first_at timestamptz NOT NULL,
         last_at timestamptz NOT NULL,
         envelope_waiting_since timestamptz,
         PRIMARY KEY (from_state, envelope_id)
       )`,
      `CREATE INDEX inbound_chunk_set_last_idx ON inbound_chunk_set (last_at)`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `DROP TRIGGER outbox_hold_envelope_for_transfer ON outbox`,
      `DROP FUNCTION comity_hold_envelope_for_transfer()`,
      `DROP TABLE inbound_chunk_set`,
      `DROP TABLE inbound_chunk`,
      `DROP TABLE attachment_transfer`,
      `DROP TABLE attachment_chunk`,
      `DROP TABLE attachment`,
    ]) {
      await queryRunner.query(statement);
    }
  }
}
