import { Injectable } from '@nestjs/common';
import type { EventType } from '@comity/protocol';
import { Database } from './database';

export interface WebhookSubscriptionRow {
  id: string;
  url: string;
  eventTypes: EventType[];
  /** Null: every event (an operator's subscription); else one authority's. */
  authority: string | null;
  /** The secrets, sealed at rest; the newest first. */
  sealedSecrets: string[];
  active: boolean;
  disabledReason: string | null;
  /** The last event sequence number delivered (or skipped as not matching). */
  cursorSeq: number;
  attempts: number;
  failingSince: Date | null;
  nextAttemptAt: Date | null;
  lastError: string | null;
  alerted: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeadLetterRow {
  id: string;
  subscriptionId: string;
  eventSeq: number;
  attempts: number;
  lastError: string | null;
  failedAt: Date;
  redeliveredAt: Date | null;
}

const COLUMNS = `id, url, event_types, authority, secrets, active, disabled_reason,
  cursor_seq::text AS cursor_seq, attempts, failing_since, next_attempt_at, last_error, alerted,
  created_by, created_at, updated_at`;

/** Webhook subscriptions with their delivery cursor, and the dead letters (docs/integration.md). */
@Injectable()
export class WebhookRepository {
  constructor(private readonly database: Database) {}

  async create(
    row: Omit<
      WebhookSubscriptionRow,
      | 'attempts'
      | 'failingSince'
      | 'nextAttemptAt'
      | 'lastError'
      | 'alerted'
      | 'disabledReason'
      | 'active'
    >,
  ): Promise<void> {
    await this.database.query(
      `INSERT INTO webhook_subscription (id, url, event_types, authority, secrets, cursor_seq,
         created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        row.id,
        row.url,
        row.eventTypes,
        row.authority,
        row.sealedSecrets,
        row.cursorSeq,
        row.createdBy,
        row.createdAt,
        row.updatedAt,
      ],
    );
  }

  async get(id: string): Promise<WebhookSubscriptionRow | null> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT ${COLUMNS} FROM webhook_subscription WHERE id = $1`,
      [id],
    );
    return rows[0] ? subscriptionOf(rows[0]) : null;
  }

  async list(authority: string | null): Promise<WebhookSubscriptionRow[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT ${COLUMNS} FROM webhook_subscription w
        WHERE $1::text IS NULL OR w.authority = $1 ORDER BY w.created_at`,
      [authority],
    );
    return rows.map(subscriptionOf);
  }

  /** Changes what a subscription receives; taken by the dispatcher at its next pass. */
  async update(
    id: string,
    change: { url?: string; eventTypes?: EventType[]; sealedSecrets?: string[]; active?: boolean },
    at: Date,
  ): Promise<void> {
    await this.database.query(
      `UPDATE webhook_subscription SET url = coalesce($2, url), event_types = coalesce($3, event_types),
         secrets = coalesce($4, secrets),
         active = coalesce($5, active),
         disabled_reason = CASE WHEN $5 IS TRUE THEN NULL ELSE disabled_reason END,
         attempts = CASE WHEN $5 IS TRUE THEN 0 ELSE attempts END,
         next_attempt_at = CASE WHEN $5 IS TRUE THEN NULL ELSE next_attempt_at END,
         updated_at = $6
       WHERE id = $1`,
      [
        id,
        change.url ?? null,
        change.eventTypes ?? null,
        change.sealedSecrets ?? null,
        change.active ?? null,
        at,
      ],
    );
  }

  async remove(id: string): Promise<void> {
    await this.database.query(`DELETE FROM webhook_subscription WHERE id = $1`, [id]);
  }

  /** Active subscriptions whose next attempt is due. */
  async due(at: Date): Promise<WebhookSubscriptionRow[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT ${COLUMNS} FROM webhook_subscription w
        WHERE w.active AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= $1)
        ORDER BY w.created_at`,
      [at],
    );
    return rows.map(subscriptionOf);
  }

  /**
   * Moves the cursor past `seq` (delivered, or given up as a dead letter), only if it was still
   * at `from`: a subscription edited or handled by another replica meanwhile is left alone.
   */
  async advance(id: string, from: number, seq: number): Promise<boolean> {
    const rows = await this.database.query<unknown[]>(
      `WITH moved AS (
         UPDATE webhook_subscription SET cursor_seq = $3, attempts = 0, failing_since = NULL,
           next_attempt_at = NULL, last_error = NULL, alerted = false
         WHERE id = $1 AND cursor_seq = $2 RETURNING id)
       SELECT id FROM moved`,
      [id, from, seq],
    );
    return rows.length > 0;
  }

  async recordFailure(
    id: string,
    failure: {
      attempts: number;
      failingSince: Date;
      nextAttemptAt: Date;
      error: string;
      alerted: boolean;
    },
  ): Promise<void> {
    await this.database.query(
      `UPDATE webhook_subscription SET attempts = $2, failing_since = $3, next_attempt_at = $4,
         last_error = $5, alerted = $6 WHERE id = $1`,
      [
        id,
        failure.attempts,
        failure.failingSince,
        failure.nextAttemptAt,
        failure.error,
        failure.alerted,
      ],
    );
  }

  /**
   * Takes the subscription for one delivery pass (up to `leaseMs`): replicas sharing the database
   * never deliver to the same endpoint at once, so its events keep their order.
   */
  async lease(id: string, at: Date, leaseMs: number): Promise<boolean> {
    const rows = await this.database.query<unknown[]>(
      `WITH taken AS (
         UPDATE webhook_subscription SET lease_until = $2::timestamptz + make_interval(secs => $3::double precision / 1000)
          WHERE id = $1 AND active AND (lease_until IS NULL OR lease_until < $2) RETURNING id)
       SELECT id FROM taken`,
      [id, at, leaseMs],
    );
    return rows.length > 0;
  }

  async release(id: string): Promise<void> {
    await this.database.query(`UPDATE webhook_subscription SET lease_until = NULL WHERE id = $1`, [
      id,
    ]);
  }

  async disable(id: string, reason: string, at: Date): Promise<void> {
    await this.database.query(
      `UPDATE webhook_subscription SET active = false, disabled_reason = $2, updated_at = $3 WHERE id = $1`,
      [id, reason, at],
    );
  }

  async addDeadLetter(row: Omit<DeadLetterRow, 'id' | 'redeliveredAt'>): Promise<void> {
    await this.database.query(
      `INSERT INTO webhook_dead_letter (subscription_id, event_seq, attempts, last_error, failed_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subscription_id, event_seq) DO NOTHING`,
      [row.subscriptionId, row.eventSeq, row.attempts, row.lastError, row.failedAt],
    );
  }

  async deadLetters(authority: string | null): Promise<DeadLetterRow[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT d.id::text AS id, d.subscription_id, d.event_seq::text AS event_seq, d.attempts,
              d.last_error, d.failed_at, d.redelivered_at
         FROM webhook_dead_letter d JOIN webhook_subscription w ON w.id = d.subscription_id
        WHERE $1::text IS NULL OR w.authority = $1
        ORDER BY d.id DESC LIMIT 500`,
      [authority],
    );
    return rows.map(deadLetterOf);
  }

  async deadLetter(id: string): Promise<DeadLetterRow | null> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT id::text AS id, subscription_id, event_seq::text AS event_seq, attempts, last_error,
              failed_at, redelivered_at FROM webhook_dead_letter WHERE id = $1`,
      [id],
    );
    return rows[0] ? deadLetterOf(rows[0]) : null;
  }

  /** For the operator's alerts: endpoints failing (and alerted), disabled, and undelivered dead letters. */
  async deliveryHealth(): Promise<{
    failing: number;
    alerted: number;
    disabled: number;
    deadLetters: number;
  }> {
    const rows = await this.database.query<Array<Record<string, string>>>(
      `SELECT (SELECT count(*) FROM webhook_subscription WHERE active AND attempts > 0)::int AS failing,
              (SELECT count(*) FROM webhook_subscription WHERE active AND alerted)::int AS alerted,
              (SELECT count(*) FROM webhook_subscription WHERE NOT active AND disabled_reason IS NOT NULL)::int AS disabled,
              (SELECT count(*) FROM webhook_dead_letter WHERE redelivered_at IS NULL)::int AS dead_letters`,
    );
    const row = rows[0] ?? {};
    return {
      failing: Number(row.failing ?? 0),
      alerted: Number(row.alerted ?? 0),
      disabled: Number(row.disabled ?? 0),
      deadLetters: Number(row.dead_letters ?? 0),
    };
  }

  async markRedelivered(id: string, at: Date): Promise<void> {
    await this.database.query(`UPDATE webhook_dead_letter SET redelivered_at = $2 WHERE id = $1`, [
      id,
      at,
    ]);
  }
}

function subscriptionOf(row: Record<string, unknown>): WebhookSubscriptionRow {
  return {
    id: row.id as string,
    url: row.url as string,
    eventTypes: row.event_types as EventType[],
    authority: row.authority as string | null,
    sealedSecrets: row.secrets as string[],
    active: row.active as boolean,
    disabledReason: row.disabled_reason as string | null,
    cursorSeq: Number(row.cursor_seq),
    attempts: row.attempts as number,
    failingSince: row.failing_since as Date | null,
    nextAttemptAt: row.next_attempt_at as Date | null,
    lastError: row.last_error as string | null,
    alerted: row.alerted as boolean,
    createdBy: row.created_by as string,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

function deadLetterOf(row: Record<string, unknown>): DeadLetterRow {
  return {
    id: row.id as string,
    subscriptionId: row.subscription_id as string,
    eventSeq: Number(row.event_seq),
    attempts: row.attempts as number,
    lastError: row.last_error as string | null,
    failedAt: row.failed_at as Date,
    redeliveredAt: row.redelivered_at as Date | null,
  };
}
