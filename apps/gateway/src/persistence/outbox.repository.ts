import { Injectable } from '@nestjs/common';
import { Database, type Transaction } from './database';
import { OutboxEntryEntity, type OutboxPayloadType } from './entities/outbox-entry.entity';

export interface NewOutboxEntry {
  messageId: string;
  payloadType: OutboxPayloadType;
  routingKey: string;
  /** NULL for an envelope: the relay reads it from its `outbound_message` row. */
  payload: Buffer | null;
  availableAt: Date;
}

export interface ClaimedOutboxEntry {
  id: string;
  messageId: string;
  payloadType: OutboxPayloadType;
  routingKey: string;
  payload: Buffer;
  attempts: number;
}

/**
 * The outbox: what must still be published, written in the transaction of the change that
 * produced it, and removed only once the broker confirmed it.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly database: Database) {}

  async enqueue(tx: Transaction, entry: NewOutboxEntry): Promise<void> {
    await tx.insert(OutboxEntryEntity, { ...entry, attempts: 0 });
  }

  /** Claims due outbox entries; other replicas skip the locked rows instead of waiting for them. */
  async claimOutbox(tx: Transaction, limit: number): Promise<ClaimedOutboxEntry[]> {
    const rows = (await tx.query(
      `SELECT o.id, o.message_id, o.payload_type, o.routing_key, coalesce(o.payload, m.envelope) AS payload,
              o.attempts
         FROM outbox o
         LEFT JOIN outbound_message m ON o.payload IS NULL AND m.id = o.message_id
        -- An envelope entry always has its message row (messages are never deleted).
        WHERE o.available_at <= now() AND (o.payload IS NOT NULL OR m.id IS NOT NULL)
        ORDER BY o.id
        LIMIT $1
        FOR UPDATE OF o SKIP LOCKED`,
      [limit],
    )) as Array<{
      id: string;
      message_id: string;
      payload_type: OutboxPayloadType;
      routing_key: string;
      payload: Buffer;
      attempts: number;
    }>;
    return rows.map((row) => ({
      id: row.id,
      messageId: row.message_id,
      payloadType: row.payload_type,
      routingKey: row.routing_key,
      payload: row.payload,
      attempts: row.attempts,
    }));
  }

  /**
   * After a relay batch, in one statement: published entries leave the outbox, envelopes become
   * `sent` (with their receipt deadline and evidence, unless already settled), published
   * receipts get their `receipt-sent` evidence, and entries that failed are postponed.
   */
  async settleRelayed(
    /** The caller's transaction, or null: the statement alone is atomic (autocommit, prepared). */
    tx: Transaction | null,
    batch: {
      published: string[];
      sentEnvelopes: string[];
      sentReceipts: string[];
      retry: string[];
      retryDelayMs: number;
      at: Date;
      maxRetransmitIntervalMs: number;
    },
  ): Promise<void> {
    const text = `WITH published AS (
         DELETE FROM outbox WHERE id = ANY($1::bigint[])),
       sent AS (
         UPDATE outbound_message
            SET status = 'sent',
                transmissions = transmissions + 1,
                receipt_due_at = $5::timestamptz + make_interval(secs =>
                  least($6::double precision, receipt_timeout_ms * power(2, transmissions)) / 1000 * (0.8 + random() * 0.4)),
                updated_at = $5
          WHERE id = ANY($2::uuid[]) AND status IN ('submitted', 'sent')
          RETURNING id),
       sent_evidence AS (
         INSERT INTO evidence (message_id, direction, type, at)
         SELECT id, 'outbound', 'sent', $5 FROM sent),
       receipt_evidence AS (
         INSERT INTO evidence (message_id, direction, type, at)
         SELECT id, 'inbound', 'receipt-sent', $5 FROM unnest($3::uuid[]) AS r(id))
       UPDATE outbox
          SET attempts = attempts + 1,
              available_at = now() + make_interval(secs => $7::double precision / 1000 * least(64, power(2, attempts)))
        WHERE id = ANY($4::bigint[])`;
    const values = [
      batch.published,
      batch.sentEnvelopes,
      batch.sentReceipts,
      batch.retry,
      batch.at,
      batch.maxRetransmitIntervalMs,
      batch.retryDelayMs,
    ];
    if (tx) await tx.query(text, values);
    else await this.database.pool.query({ name: 'settle-relayed', text, values });
  }

  /** Receipt outbox entries that failed to publish `attempts` times: given up, returned for the record. */
  async dropExhaustedReceipts(tx: Transaction, attempts: number): Promise<string[]> {
    const rows = (await tx.query(
      `DELETE FROM outbox WHERE payload_type = 'receipt' AND attempts >= $1 RETURNING message_id`,
      [attempts],
    )) as [Array<{ message_id: string }>, number];
    return rows[0].map((row) => row.message_id);
  }

  async dropPendingEnvelopes(tx: Transaction, messageId: string): Promise<void> {
    await tx.query(`DELETE FROM outbox WHERE message_id = $1 AND payload_type = 'envelope'`, [
      messageId,
    ]);
  }
}
