import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cases: a request and every message about it (protocol §8).
 * - `case_file`: one row per request sent or received, opened in the same statement that stores
 *   the request. Its state and next step are derived from the case's signed messages (a cache
 *   of `deriveCase`, re-derived when `stale`); `title` is the subject sealed under the node's
 *   data key, never plaintext.
 * - `case_message`: each case message of the case (either direction), with the structured
 *   details the state machine and the time frames need; content stays in the envelope.
 * - `case_event`: what happened to a case that no message says (a step became overdue).
 */
/** Must read exactly as the lists' ORDER BY in `case.repository.ts`. */
const QUEUE_ORDER = `(CASE urgency WHEN 'immediate' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END),
  (COALESCE(next_due_at, 'infinity'::timestamptz)), id`;

export class Cases1764460000000 implements MigrationInterface {
  name = 'Cases1764460000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [
      `CREATE TABLE case_file (
         id uuid PRIMARY KEY,
         direction text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
         kind text NOT NULL,
         local_authority text NOT NULL,
         counterpart_state text NOT NULL,
         counterpart_authority text NOT NULL,
         urgency text NOT NULL,
         deadline date,
         title text,
         state text NOT NULL,
         next_step text,
         next_due_at timestamptz,
         overdue_since timestamptz,
         reference text,
         estimated_completion date,
         opened_at timestamptz NOT NULL,
         acknowledged_at timestamptz,
         outcome text,
         outcome_at timestamptz,
         closed_at timestamptz,
         refusal_grounds text[] NOT NULL DEFAULT '{}',
         partial_executions int NOT NULL DEFAULT 0,
         messages int NOT NULL DEFAULT 0,
         last_message_at timestamptz NOT NULL,
         stale boolean NOT NULL DEFAULT false,
         has_failed_message boolean NOT NULL DEFAULT false
       )`,
      // The statistics read only this index (an index-only scan in grouping order).
      `CREATE INDEX case_file_statistics_idx ON case_file (direction, counterpart_state, kind)
         INCLUDE (opened_at, state, outcome, overdue_since, partial_executions, acknowledged_at,
                  outcome_at, local_authority)`,
      `CREATE INDEX case_file_refusals_idx ON case_file (direction)
         INCLUDE (refusal_grounds, opened_at, counterpart_state, kind, local_authority)
         WHERE outcome = 'refused'`,
      // The lists' order (most urgent, soonest due, then id): a page is read off the index.
      `CREATE INDEX case_file_queue_idx ON case_file (${QUEUE_ORDER})`,
      `CREATE INDEX case_file_authority_queue_idx ON case_file (local_authority, ${QUEUE_ORDER})`,
      `CREATE INDEX case_file_due_idx ON case_file (next_due_at) WHERE next_due_at IS NOT NULL`,
      // Index-only scans need the visibility map current: vacuum after 1-2 % of rows changed
      // rather than the default 20 %.
      `ALTER TABLE case_file SET (autovacuum_vacuum_scale_factor = 0.02,
         autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02)`,
      `CREATE INDEX case_file_stale_idx ON case_file (id) WHERE stale`,
      `CREATE INDEX case_file_overdue_idx ON case_file (counterpart_state, kind, next_step)
         WHERE overdue_since IS NOT NULL`,
      `CREATE TABLE case_message (
         envelope_id uuid PRIMARY KEY,
         case_id uuid NOT NULL REFERENCES case_file (id),
         direction text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
         kind text NOT NULL,
         side text NOT NULL CHECK (side IN ('requesting', 'requested')),
         created_at timestamptz NOT NULL,
         details jsonb
       )`,
      `CREATE INDEX case_message_case_idx ON case_message (case_id)`,
      `CREATE TABLE case_event (
         id bigserial PRIMARY KEY,
         case_id uuid NOT NULL REFERENCES case_file (id),
         type text NOT NULL,
         step text,
         at timestamptz NOT NULL,
         detail text
       )`,
      `CREATE INDEX case_event_case_idx ON case_event (case_id, id)`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE case_event`);
    await queryRunner.query(`DROP TABLE case_message`);
    await queryRunner.query(`DROP TABLE case_file`);
  }
}
