import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { Database, type Transaction } from './database';
import { asDuplicateError } from './duplicate-error';
import { OutboundMessageEntity, type OutboundStatus } from './entities/outbound-message.entity';
import { insertEvidence } from './evidence.repository';
import { GroupCommit } from './group-commit';
import type { CaseOpeningRow } from './case.repository';
import { asciiText, columnOf, lookupById, requireAscii } from './sql-values';

/** A message as it is first stored: whole, its content not purged. */
export type NewOutboundMessage = Omit<
  OutboundMessageEntity,
  'envelope' | 'senderCopy' | 'envelopeHeader' | 'contentPurgedAt'
> & { envelope: Buffer; senderCopy: string };

/** A sealed request to store with its first evidence and its outbox entry (one group commit). */
export interface AcceptedOutbound {
  row: NewOutboundMessage;
  routingKey: string;
  /** Detail of the `submitted` evidence (e.g. "retry of …"). */
  detail: string | null;
  /** For a retry: the message this one replaces, which gets a `retried` evidence row. */
  retryOf: string | null;
  /** Until when the outbox entry is left to this process's relay (in memory) before any relay may claim it. */
  leaseUntil: Date;
  /**
   * A statement to commit in the same transaction, before the message (a large attachment's
   * transfer, which must never exist without its message nor the message without it).
   */
  together?: { text: string; values: unknown[] } | null;
  /** A request opens its case in the same statement (null for other kinds). */
  caseOpening?: CaseOpeningRow | null;
}

export interface ReceiptExpectation {
  id: string;
  envelopeDigest: string;
  toState: string;
  createdAt: Date;
}

/** A verified receipt to record against the message it answers. */
export interface RecordedReceipt {
  messageId: string;
  status: OutboundStatus;
  reason: string | null;
  receipt: Buffer;
  detail: string;
  at: Date;
}

/**
 * The requests this node sends, from acceptance to their final receipt or non-delivery. The hot
 * path's writes are each a single statement (atomic by itself: no BEGIN/COMMIT round trips)
 * shared by every request that arrives while the previous one is being written.
 */
@Injectable()
export class OutboundMessageRepository {
  private readonly pool: Pool;
  private readonly outboundWrites = new GroupCommit<AcceptedOutbound, string>((items) =>
    this.acceptOutboundBatch(items),
  );
  private readonly receiptWrites = new GroupCommit<RecordedReceipt, boolean>((items) =>
    this.recordReceiptBatch(items),
  );
  private readonly receiptExpectations;

  constructor(private readonly database: Database) {
    this.pool = database.pool;
    this.receiptExpectations = lookupById(
      this.pool,
      'receipt-expectations',
      `SELECT id, envelope_digest, to_state, created_at FROM outbound_message WHERE id = ANY($1::uuid[])`,
      (row: { id: string; envelope_digest: string; to_state: string; created_at: Date }) => ({
        id: row.id,
        envelopeDigest: row.envelope_digest,
        toState: row.to_state,
        createdAt: row.created_at,
      }),
    );
  }

  /**
   * Stores a sealed request durably: when this resolves the relay will publish it, even after
   * a crash. Resolves to the outbox entry's id, leased until `leaseUntil` to the caller's relay.
   */
  async acceptOutbound(item: AcceptedOutbound): Promise<string> {
    requireAscii(item.row.envelope, 'envelope');
    // A unique key already taken (the same Idempotency-Key, a second retry of one message).
    const accepted = item.together
      ? this.acceptOutboundTogether(item, item.together)
      : this.outboundWrites.submit(item);
    return accepted.catch((error: unknown) => {
      throw asDuplicateError(error);
    });
  }

  /** One message with another statement in one transaction (rare: large attachments). */
  private async acceptOutboundTogether(
    item: AcceptedOutbound,
    together: { text: string; values: unknown[] },
  ): Promise<string> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(together.text, together.values);
      const [outboxId] = await this.acceptOutboundBatch([item], client);
      await client.query('COMMIT');
      client.release();
      return outboxId!;
    } catch (error) {
      // A connection that cannot even roll back is dropped, not returned to the pool.
      const broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: unknown) => rollbackError as Error,
      );
      client.release(broken);
      throw error;
    }
  }

  /**
   * The same, in the caller's transaction: a case message, stored together with what it does
   * to its case. Resolves to the outbox entry's id.
   */
  async acceptOutboundIn(tx: Transaction, item: AcceptedOutbound): Promise<string> {
    requireAscii(item.row.envelope, 'envelope');
    const db = {
      query: async <R>(config: { text: string; values: unknown[] }) => ({
        rows: (await tx.query(config.text, config.values)) as R[],
      }),
    };
    try {
      if (item.together) await tx.query(item.together.text, item.together.values);
      const [outboxId] = await this.acceptOutboundBatch(
        [item],
        db as unknown as Pick<Pool, 'query'>,
      );
      return outboxId!;
    } catch (error) {
      throw asDuplicateError(error);
    }
  }

  /** Records a verified receipt; false when the message already had its final receipt. */
  async recordReceipt(item: RecordedReceipt): Promise<boolean> {
    requireAscii(item.receipt, 'receipt');
    return this.receiptWrites.submit(item);
  }

  private async acceptOutboundBatch(
    items: AcceptedOutbound[],
    db: Pick<Pool, 'query'> = this.pool,
  ): Promise<string[]> {
    const column = columnOf(items);
    const { rows } = await db.query<{ id: string; message_id: string }>({
      name: 'accept-outbound',
      text: `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[], $10::text[], $11::int[], $12::text[], $13::text[],
                              $14::timestamptz[], $15::timestamptz[], $16::text[], $17::text[], $18::uuid[],
                              $19::timestamptz[], $20::text[], $21::date[], $22::text[], $23::timestamptz[])
           AS t(id, thread_id, in_reply_to, kind, from_authority, to_state, to_authority, envelope, envelope_digest,
                sender_copy, receipt_timeout_ms, idempotency_key, request_digest, created_at, expires_at,
                routing_key, detail, retry_of, lease_until, case_urgency, case_deadline, case_title, case_due)),
       opened AS (
         INSERT INTO case_file (id, direction, kind, local_authority, counterpart_state, counterpart_authority,
                                urgency, deadline, title, state, next_step, next_due_at, opened_at, last_message_at)
         SELECT id, 'outbound', kind, from_authority, to_state, to_authority, case_urgency, case_deadline, case_title,
                'awaiting_acknowledgement', 'acknowledge', case_due, created_at, created_at
           FROM input WHERE case_urgency IS NOT NULL),
       message AS (
         INSERT INTO outbound_message (id, thread_id, in_reply_to, kind, from_authority, to_state, to_authority, status,
                                       envelope, envelope_digest, sender_copy, transmissions, receipt_timeout_ms,
                                       idempotency_key, request_digest, created_at, expires_at, updated_at)
         SELECT id, thread_id, in_reply_to, kind, from_authority, to_state, to_authority, 'submitted',
                convert_to(envelope, 'UTF8'), envelope_digest, sender_copy, 0, receipt_timeout_ms, idempotency_key, request_digest, created_at,
                expires_at, created_at
           FROM input),
       submitted AS (
         INSERT INTO evidence (message_id, direction, type, at, detail)
         SELECT id, 'outbound', 'submitted', created_at, detail FROM input),
       retried AS (
         INSERT INTO evidence (message_id, direction, type, at, detail)
         SELECT retry_of, 'outbound', 'retried', created_at, detail || '; sent again as ' || id
           FROM input WHERE retry_of IS NOT NULL)
       -- No second copy of the envelope in the outbox: the relay reads it from outbound_message.
       INSERT INTO outbox (message_id, payload_type, routing_key, payload, available_at, attempts)
       SELECT id, 'envelope', routing_key, NULL, lease_until, 0 FROM input
       RETURNING id, message_id`,
      values: [
        column((item) => item.row.id),
        column((item) => item.row.threadId),
        column((item) => item.row.inReplyTo),
        column((item) => item.row.kind),
        column((item) => item.row.fromAuthority),
        column((item) => item.row.toState),
        column((item) => item.row.toAuthority),
        column((item) => asciiText(item.row.envelope)),
        column((item) => item.row.envelopeDigest),
        column((item) => item.row.senderCopy),
        column((item) => item.row.receiptTimeoutMs),
        column((item) => item.row.idempotencyKey),
        column((item) => item.row.requestDigest),
        column((item) => item.row.createdAt),
        column((item) => item.row.expiresAt),
        column((item) => item.routingKey),
        column((item) => item.detail),
        column((item) => item.retryOf),
        column((item) => item.leaseUntil),
        column((item) => item.caseOpening?.urgency ?? null),
        column((item) => item.caseOpening?.deadline ?? null),
        column((item) => item.caseOpening?.title ?? null),
        column((item) => item.caseOpening?.nextDueAt ?? null),
      ],
    });
    const outboxIds = new Map(rows.map((row) => [row.message_id, row.id]));
    return items.map((item) => outboxIds.get(item.row.id)!);
  }

  private async recordReceiptBatch(items: RecordedReceipt[]): Promise<boolean[]> {
    const column = columnOf(items);
    const { rows: applied } = await this.pool.query<{ id: string }>({
      name: 'record-receipts',
      text: `WITH input AS (
         SELECT DISTINCT ON (message_id) * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
                WITH ORDINALITY AS t(message_id, status, reason, receipt, detail, at, position)
          ORDER BY message_id, position),
       settled AS (
         UPDATE outbound_message m
            SET status = input.status, status_reason = input.reason, receipt = convert_to(input.receipt, 'UTF8'),
                receipt_due_at = NULL, updated_at = input.at
           FROM input
          WHERE m.id = input.message_id AND m.status IN ('submitted', 'sent', 'failed')
         RETURNING m.id, m.thread_id),
       -- A refused case message (or request), or a late receipt after non-delivery, changes
       -- what the case's messages say: its state is derived again (a request's case has the
       -- request's id; a case message's, its thread).
       unsettled AS (
         UPDATE case_file c SET stale = true
           FROM settled JOIN input ON input.message_id = settled.id
          WHERE c.id IN (settled.id, settled.thread_id)
            AND (input.status = 'rejected' OR c.state = 'not_delivered' OR c.has_failed_message)),
       recorded AS (
         INSERT INTO evidence (message_id, direction, type, at, reason, detail, signed)
         SELECT input.message_id, 'outbound', input.status, input.at, input.reason, input.detail,
                convert_to(input.receipt, 'UTF8')
           FROM input JOIN settled ON settled.id = input.message_id)
       SELECT id FROM settled`,
      values: [
        column((item) => item.messageId),
        column((item) => item.status),
        column((item) => item.reason),
        column((item) => asciiText(item.receipt)),
        column((item) => item.detail),
        column((item) => item.at),
      ],
    });
    const fresh = new Set(applied.map((row) => row.id));
    return items.map((item) => fresh.delete(item.messageId));
  }

  async insertOutbound(tx: Transaction, row: NewOutboundMessage): Promise<void> {
    await tx.insert(OutboundMessageEntity, row);
  }

  findOutboundByIdempotencyKey(key: string): Promise<OutboundMessageEntity | null> {
    return this.database.manager.findOneBy(OutboundMessageEntity, { idempotencyKey: key });
  }

  /** What checking a receipt needs of the message it answers: not its envelope or sender copy. */
  findOutboundForReceipt(id: string): Promise<ReceiptExpectation | null> {
    return this.receiptExpectations.submit(id);
  }

  /** With `tx`: read inside that transaction. */
  findOutbound(id: string, tx?: Transaction): Promise<OutboundMessageEntity | null> {
    return (tx ?? this.database.manager).findOneBy(OutboundMessageEntity, { id });
  }

  /** Newest first, keyset-paginated on the time-ordered id. */
  listOutbound(
    limit: number,
    before?: string,
    fromAuthority?: string,
  ): Promise<OutboundMessageEntity[]> {
    const query = this.database.manager
      .createQueryBuilder(OutboundMessageEntity, 'message')
      .select([
        'message.id',
        'message.threadId',
        'message.inReplyTo',
        'message.kind',
        'message.fromAuthority',
        'message.toState',
        'message.toAuthority',
        'message.status',
        'message.statusReason',
        'message.envelopeDigest',
        'message.createdAt',
        'message.expiresAt',
        'message.updatedAt',
      ])
      .orderBy('message.id', 'DESC')
      .limit(limit);
    if (before) query.andWhere('message.id < :before', { before });
    if (fromAuthority) query.andWhere('message.fromAuthority = :fromAuthority', { fromAuthority });
    return query.getMany();
  }

  /**
   * Broker-confirmed: submitted → sent, and the receipt is now due. Each transmission doubles the
   * wait for the next (capped, with ±20% jitter so retransmissions from many messages spread
   * out). A receipt may have overtaken the confirm: a settled message never goes backwards.
   */
  async markSent(
    tx: Transaction,
    messageIds: string[],
    at: Date,
    maxIntervalMs: number,
  ): Promise<void> {
    if (messageIds.length === 0) return;
    // Evidence only for the messages that were still waiting: a late confirm after a receipt
    // (or after expiry) changes nothing and adds nothing.
    await tx.query(
      `WITH sent AS (
         UPDATE outbound_message
            SET status = 'sent',
                transmissions = transmissions + 1,
                receipt_due_at = $2::timestamptz + make_interval(secs =>
                  least($3::double precision, receipt_timeout_ms * power(2, transmissions)) / 1000 * (0.8 + random() * 0.4)),
                updated_at = $2
          WHERE id = ANY($1::uuid[]) AND status IN ('submitted', 'sent')
          RETURNING id)
       INSERT INTO evidence (message_id, direction, type, at)
       SELECT id, 'outbound', 'sent', $2 FROM sent`,
      [messageIds, at, maxIntervalMs],
    );
  }

  /**
   * Sent messages whose receipt is overdue and that have not expired: claimed for
   * retransmission. Their deadline is cleared until the broker confirms the new transmission.
   */
  async claimOverdue(
    tx: Transaction,
    limit: number,
  ): Promise<
    Array<{
      id: string;
      toState: string;
      transmissions: number;
      receiptTimeoutMs: number;
    }>
  > {
    const rows = (await tx.query(
      `SELECT id, to_state, transmissions, receipt_timeout_ms
         FROM outbound_message
        WHERE status = 'sent' AND receipt_due_at <= now() AND expires_at > now()
        ORDER BY receipt_due_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [limit],
    )) as Array<{
      id: string;
      to_state: string;
      transmissions: number;
      receipt_timeout_ms: number;
    }>;
    if (rows.length > 0) {
      await tx.query(
        `UPDATE outbound_message SET receipt_due_at = NULL WHERE id = ANY($1::uuid[])`,
        [rows.map((row) => row.id)],
      );
    }
    return rows.map((row) => ({
      id: row.id,
      toState: row.to_state,
      transmissions: row.transmissions,
      receiptTimeoutMs: row.receipt_timeout_ms,
    }));
  }

  /** Unsettled messages past their expiry: claimed to be closed with non-delivery evidence. */
  async claimExpired(
    tx: Transaction,
    limit: number,
  ): Promise<
    Array<
      Pick<
        OutboundMessageEntity,
        'id' | 'envelopeDigest' | 'fromAuthority' | 'toState' | 'toAuthority' | 'transmissions'
      >
    >
  > {
    const rows = (await tx.query(
      `SELECT id, envelope_digest, from_authority, to_state, to_authority, transmissions
         FROM outbound_message
        WHERE status IN ('submitted', 'sent') AND expires_at <= now()
        ORDER BY expires_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [limit],
    )) as Array<{
      id: string;
      envelope_digest: string;
      from_authority: string;
      to_state: string;
      to_authority: string;
      transmissions: number;
    }>;
    return rows.map((row) => ({
      id: row.id,
      envelopeDigest: row.envelope_digest,
      fromAuthority: row.from_authority,
      toState: row.to_state,
      toAuthority: row.to_authority,
      transmissions: row.transmissions,
    }));
  }

  async markFailed(
    tx: Transaction,
    input: { messageId: string; reason: string; detail: string; signed: Buffer | null; at: Date },
  ): Promise<void> {
    const { messageId, reason, detail, signed, at } = input;
    const [rows] = (await tx.query(
      `UPDATE outbound_message SET status = 'failed', status_reason = $2, receipt_due_at = NULL, updated_at = $3
        WHERE id = $1 AND status IN ('submitted', 'sent')
        RETURNING id`,
      [messageId, reason, at],
    )) as [unknown[], number];
    if (rows.length === 0) return;
    // Its case (if any) no longer counts this message: derived again.
    await tx.query(
      `UPDATE case_file c SET stale = true, has_failed_message = true
         FROM outbound_message m WHERE m.id = $1 AND c.id IN (m.id, m.thread_id)`,
      [messageId],
    );
    await insertEvidence(tx, {
      messageId,
      direction: 'outbound',
      type: 'failed',
      at,
      reason,
      detail,
      signed,
    });
  }
}
