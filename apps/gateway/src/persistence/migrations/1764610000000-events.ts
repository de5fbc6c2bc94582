import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events for national systems (docs/integration.md): written by triggers in the transaction of
 * the change they report (a timeline row, a case's state, an overdue step, a quarantined
 * message, a finished upload), numbered afterwards by the event sequencer (`seq`: gapless, in the order the
 * sequencer saw them commit, so a reader's cursor never skips an event that commits late).
 * Events hold ids and metadata, never content. Webhook subscriptions, each with its own cursor,
 * and the events given up after three days of failed deliveries (dead letters).
 */
export class Events1764610000000 implements MigrationInterface {
  name = 'Events1764610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `CREATE TABLE event (
         pos bigserial PRIMARY KEY,
         id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
         seq bigint UNIQUE,
         type text NOT NULL,
         at timestamptz NOT NULL,
         authority text,
         subject text,
         data jsonb NOT NULL)`,
      `CREATE INDEX event_unsequenced_idx ON event (pos) WHERE seq IS NULL`,
      `CREATE FUNCTION event_from_evidence() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE
         event_type text;
         owner text;
         body jsonb;
       BEGIN
         event_type := CASE
           WHEN NEW.direction = 'inbound' THEN 'message.received'
           WHEN NEW.type = 'delivered' THEN 'message.delivered'
           WHEN NEW.type = 'rejected' THEN 'message.rejected'
           WHEN NEW.type = 'failed' THEN 'message.failed'
           WHEN NEW.type = 'retrieved' THEN 'message.retrieved'
           ELSE 'message.not_retrieved' END;
         IF NEW.direction = 'inbound' THEN
           SELECT jsonb_build_object('messageId', m.id, 'kind', m.kind, 'thread', m.thread_id,
                    'from', jsonb_build_object('state', m.from_state, 'authority', m.from_authority),
                    'to', jsonb_build_object('authority', m.to_authority)),
                  m.to_authority
             INTO body, owner FROM inbound_message m WHERE m.id = NEW.message_id;
         ELSE
           SELECT jsonb_build_object('messageId', m.id, 'kind', m.kind, 'thread', m.thread_id,
                    'from', jsonb_build_object('authority', m.from_authority),
                    'to', jsonb_build_object('state', m.to_state, 'authority', m.to_authority),
                    'reason', NEW.reason),
                  m.from_authority
             INTO body, owner FROM outbound_message m WHERE m.id = NEW.message_id;
         END IF;
         INSERT INTO event (type, at, authority, subject, data)
         VALUES (event_type, NEW.at, owner, NEW.message_id::text,
                 coalesce(body, jsonb_build_object('messageId', NEW.message_id)));
         -- A received message's large attachments came first (chunks); now they can be read.
         IF NEW.direction = 'inbound' THEN
           INSERT INTO event (type, at, authority, subject, data)
           SELECT 'attachment.available', NEW.at, owner, NEW.message_id::text,
                  jsonb_build_object('origin', 'message', 'messageId', NEW.message_id,
                    'from', body -> 'from', 'chunks', s.chunks, 'bytes', s.bytes)
             FROM inbound_message m
             JOIN inbound_chunk_set s ON s.envelope_id = m.id AND s.from_state = m.from_state
            WHERE m.id = NEW.message_id AND s.chunks > 0;
         END IF;
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER event_from_evidence AFTER INSERT ON evidence FOR EACH ROW
         WHEN ((NEW.direction = 'inbound' AND NEW.type = 'received')
            OR (NEW.direction = 'outbound'
                AND NEW.type IN ('delivered', 'rejected', 'failed', 'retrieved', 'not-retrieved')))
         EXECUTE FUNCTION event_from_evidence()`,
      `CREATE FUNCTION event_from_upload() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO event (type, at, authority, subject, data)
         VALUES ('attachment.available', coalesce(NEW.completed_at, now()), NEW.authority,
                 NEW.id::text,
                 jsonb_build_object('origin', 'upload', 'attachmentId', NEW.id,
                   'mediaType', NEW.media_type, 'size', NEW.size, 'sha256', NEW.sha256));
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER event_from_upload AFTER UPDATE OF status ON attachment FOR EACH ROW
         WHEN (OLD.status = 'uploading' AND NEW.status = 'complete')
         EXECUTE FUNCTION event_from_upload()`,
      `CREATE FUNCTION event_from_case() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO event (type, at, authority, subject, data)
         VALUES ('case.state_changed', now(), NEW.local_authority, NEW.id::text,
                 jsonb_build_object('caseId', NEW.id, 'kind', NEW.kind, 'direction', NEW.direction,
                   'previousState', OLD.state, 'state', NEW.state,
                   'counterpart', jsonb_build_object('state', NEW.counterpart_state,
                                                     'authority', NEW.counterpart_authority)));
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER event_from_case AFTER UPDATE OF state ON case_file FOR EACH ROW
         WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION event_from_case()`,
      `CREATE FUNCTION event_from_case_event() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO event (type, at, authority, subject, data)
         SELECT 'case.overdue', NEW.at, c.local_authority, NEW.case_id::text,
                jsonb_build_object('caseId', NEW.case_id, 'kind', c.kind, 'direction', c.direction,
                  'step', NEW.step, 'dueAt', c.next_due_at,
                  'counterpart', jsonb_build_object('state', c.counterpart_state,
                                                    'authority', c.counterpart_authority))
           FROM case_file c WHERE c.id = NEW.case_id;
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER event_from_case_event AFTER INSERT ON case_event FOR EACH ROW
         WHEN (NEW.type = 'overdue') EXECUTE FUNCTION event_from_case_event()`,
      `CREATE FUNCTION event_from_quarantine() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO event (type, at, authority, subject, data)
         VALUES ('quarantine.held', now(), NULL, NEW.id::text,
                 jsonb_build_object('quarantineId', NEW.id::text, 'messageType', NEW.message_type,
                   'reason', NEW.reason, 'envelopeId', NEW.envelope_id,
                   'claimedFromState', NEW.claimed_from_state));
         RETURN NULL;
       END $$`,
      `CREATE TRIGGER event_from_quarantine AFTER INSERT ON quarantined_message FOR EACH ROW
         EXECUTE FUNCTION event_from_quarantine()`,
      `CREATE TABLE webhook_subscription (
         id uuid PRIMARY KEY,
         url text NOT NULL,
         event_types text[] NOT NULL,
         authority text,
         secrets text[] NOT NULL,
         active boolean NOT NULL DEFAULT true,
         disabled_reason text,
         cursor_seq bigint NOT NULL,
         attempts int NOT NULL DEFAULT 0,
         failing_since timestamptz,
         next_attempt_at timestamptz,
         last_error text,
         alerted boolean NOT NULL DEFAULT false,
         lease_until timestamptz,
         created_by text NOT NULL,
         created_at timestamptz NOT NULL,
         updated_at timestamptz NOT NULL)`,
      `CREATE TABLE webhook_dead_letter (
         id bigserial PRIMARY KEY,
         subscription_id uuid NOT NULL REFERENCES webhook_subscription (id) ON DELETE CASCADE,
         event_seq bigint NOT NULL,
         attempts int NOT NULL,
         last_error text,
         failed_at timestamptz NOT NULL,
         redelivered_at timestamptz,
         UNIQUE (subscription_id, event_seq))`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `DROP TABLE webhook_dead_letter`,
      `DROP TABLE webhook_subscription`,
      `DROP TRIGGER event_from_quarantine ON quarantined_message`,
      `DROP TRIGGER event_from_case_event ON case_event`,
      `DROP TRIGGER event_from_case ON case_file`,
      `DROP TRIGGER event_from_upload ON attachment`,
      `DROP FUNCTION event_from_upload()`,
      `DROP TRIGGER event_from_evidence ON evidence`,
      `DROP FUNCTION event_from_quarantine()`,
      `DROP FUNCTION event_from_case_event()`,
      `DROP FUNCTION event_from_case()`,
      `DROP FUNCTION event_from_evidence()`,
      `DROP TABLE event`,
    ]) {
      await queryRunner.query(statement);
    }
  }
}
