import { isAscii } from 'node:buffer';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { EvidenceEntity, type EvidenceType } from './entities/evidence.entity';
import { InboundMessageEntity } from './entities/inbound-message.entity';
import { InboundRejectionEntity } from './entities/inbound-rejection.entity';
import { OutboundMessageEntity, type OutboundStatus } from './entities/outbound-message.entity';
import { OutboxEntryEntity, type OutboxPayloadType } from './entities/outbox-entry.entity';
import { GroupCommit } from './group-commit';

export interface NewEvidence {
  messageId: string;
  direction: 'outbound' | 'inbound';
  type: EvidenceType;
  at: Date;
  reason?: string | null;
  detail?: string | null;
  signed?: Buffer | null;
}

/**
 * Sealed envelopes and receipts are compact JWS, ASCII by construction. They travel to the
 * database as text (`convert_to(…, 'UTF8')` gives back the same bytes), which is half the size
 * of the driver's hex encoding of bytea and costs no hex work on either side. Checked per item
 * before it joins a batch, so that one bad item can only fail itself.
 */
function requireAscii(bytes: Buffer, what: string): void {
  // PostgreSQL text cannot hold NUL; a compact JWS has none.
  if (!isAscii(bytes) || bytes.includes(0)) {
    throw new Error(`the ${what} to store is not ASCII (a compact JWS is)`);
  }
}

const asciiText = (bytes: Buffer): string => bytes.toString('latin1');

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
 * All SQL of the node in one place. Methods that take an EntityManager run inside the
 * caller's transaction; that is how a message, its evidence and its outbox entry commit together.
 */
/** A sealed request to store with its first evidence and its outbox entry (one group commit). */
export interface AcceptedOutbound {
  row: OutboundMessageEntity;
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
}

/** A delivered envelope to store once, with its `received` evidence and its receipt's outbox entry. */
export interface DeliveredInbound {
  row: InboundMessageEntity;
  receiptRoutingKey: string;
  /** Until when the receipt's outbox entry is left to this process's relay. */
  leaseUntil: Date;
}

export interface DeliveredReceipt {
  id: string;
  envelopeDigest: string;
  fromState: string;
  receipt: Buffer;
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

@Injectable()
export class MessageStore {
  /**
   * The hot path's writes, each a single statement (atomic by itself: no BEGIN/COMMIT round
   * trips) shared by every request that arrives while the previous one is being written.
   */
  private readonly outboundWrites = new GroupCommit<AcceptedOutbound, string>((items) =>
    this.acceptOutboundBatch(items),
  );
  private readonly inboundWrites = new GroupCommit<DeliveredInbound, string | null>((items) =>
    this.storeDeliveredBatch(items),
  );
  private readonly receiptWrites = new GroupCommit<RecordedReceipt, boolean>((items) =>
    this.recordReceiptBatch(items),
  );

  /**
   * The driver's own connection pool, for the hot path's few statements: straight to `pg`,
   * without TypeORM's per-query runner (measured at ~9 % of the receiving node's CPU).
   */
  private readonly pool: Pool;

  /** Lookups made for every message, batched the same way: one query for all that are waiting. */
  private readonly receiptExpectations = this.lookupById(
    'receipt-expectations',
    `SELECT id, envelope_digest, to_state, created_at FROM outbound_message WHERE id = ANY($1::uuid[])`,
    (row: { id: string; envelope_digest: string; to_state: string; created_at: Date }) => ({
      id: row.id,
      envelopeDigest: row.envelope_digest,
      toState: row.to_state,
      createdAt: row.created_at,
    }),
  );
  private readonly deliveredReceipts = this.lookupById(
    'delivered-receipts',
    `SELECT id, envelope_digest, from_state, receipt FROM inbound_message WHERE id = ANY($1::uuid[])`,
    (row: { id: string; envelope_digest: string; from_state: string; receipt: Buffer }) => ({
      id: row.id,
      envelopeDigest: row.envelope_digest,
      fromState: row.from_state,
      receipt: row.receipt,
    }),
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
  }

  /** A lookup by id whose callers share one `id = ANY($1)` query; null for an id not found. */
  private lookupById<Row extends { id: string }, T>(
    name: string,
    sql: string,
    view: (row: Row) => T,
  ): GroupCommit<string, T | null> {
    return new GroupCommit<string, T | null>(async (ids) => {
      const { rows } = await this.pool.query<Row>({ name, text: sql, values: [ids] });
      const found = new Map(rows.map((row) => [row.id, view(row)]));
      return ids.map((id) => found.get(id) ?? null);
    });
  }

  /**
   * Stores a sealed request durably: when this resolves the relay will publish it, even after
   * a crash. Resolves to the outbox entry's id, leased until `leaseUntil` to the caller's relay.
   */
  async acceptOutbound(item: AcceptedOutbound): Promise<string> {
    requireAscii(item.row.envelope, 'envelope');
    if (item.together) return this.acceptOutboundTogether(item, item.together);
    return this.outboundWrites.submit(item);
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
   * Stores a delivered envelope once, with its receipt's outbox entry leased until
   * `leaseUntil`; resolves to that entry's id, or null when the envelope id was already there
   * (a duplicate).
   */
  async storeDelivered(item: DeliveredInbound): Promise<string | null> {
    requireAscii(item.row.envelope, 'envelope');
    requireAscii(item.row.receipt, 'receipt');
    return this.inboundWrites.submit(item);
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
    const column = <T>(pick: (item: AcceptedOutbound) => T): T[] => items.map(pick);
    const { rows } = await db.query<{ id: string; message_id: string }>({
      name: 'accept-outbound',
      text: `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[], $10::text[], $11::int[], $12::text[], $13::text[],
                              $14::timestamptz[], $15::timestamptz[], $16::text[], $17::text[], $18::uuid[],
                              $19::timestamptz[])
           AS t(id, thread_id, in_reply_to, kind, from_authority, to_state, to_authority, envelope, envelope_digest,
                sender_copy, receipt_timeout_ms, idempotency_key, request_digest, created_at, expires_at,
                routing_key, detail, retry_of, lease_until)),
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
      ],
    });
    const outboxIds = new Map(rows.map((row) => [row.message_id, row.id]));
    return items.map((item) => outboxIds.get(item.row.id)!);
  }

  private async storeDeliveredBatch(items: DeliveredInbound[]): Promise<Array<string | null>> {
    const column = <T>(pick: (item: DeliveredInbound) => T): T[] => items.map(pick);
    const { rows: inserted } = await this.pool.query<{ id: string; message_id: string }>({
      name: 'store-delivered',
      text: `WITH input AS (
         -- The first copy of an id in the batch is the one stored: the same one whose caller is
         -- told it won (below), so the receipt published is the receipt stored.
         SELECT DISTINCT ON (id) * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                              $7::text[], $8::text[], $9::text[], $10::uuid[], $11::text[], $12::timestamptz[],
                              $13::timestamptz[], $14::timestamptz[], $15::text[], $16::timestamptz[])
                WITH ORDINALITY
           AS t(id, thread_id, in_reply_to, kind, from_state, from_authority, to_authority, envelope, envelope_digest,
                receipt_id, receipt, created_at, expires_at, received_at, routing_key, lease_until, position)
          ORDER BY id, position),
       stored AS (
         INSERT INTO inbound_message (id, thread_id, in_reply_to, kind, from_state, from_authority, to_authority, status,
                                      envelope, envelope_digest, receipt_id, receipt, created_at, expires_at, received_at)
         SELECT id, thread_id, in_reply_to, kind, from_state, from_authority, to_authority, 'delivered',
                convert_to(envelope, 'UTF8'), envelope_digest, receipt_id, convert_to(receipt, 'UTF8'), created_at,
                expires_at, received_at
           FROM input
         ON CONFLICT (id) DO NOTHING
         RETURNING id, received_at),
       received AS (
         INSERT INTO evidence (message_id, direction, type, at)
         SELECT id, 'inbound', 'received', received_at FROM stored),
       queued AS (
         INSERT INTO outbox (message_id, payload_type, routing_key, payload, available_at, attempts)
         SELECT stored.id, 'receipt', input.routing_key, convert_to(input.receipt, 'UTF8'), input.lease_until, 0
           FROM stored JOIN input ON input.id = stored.id
         RETURNING id, message_id)
       SELECT id, message_id FROM queued`,
      values: [
        column((item) => item.row.id),
        column((item) => item.row.threadId),
        column((item) => item.row.inReplyTo),
        column((item) => item.row.kind),
        column((item) => item.row.fromState),
        column((item) => item.row.fromAuthority),
        column((item) => item.row.toAuthority),
        column((item) => asciiText(item.row.envelope)),
        column((item) => item.row.envelopeDigest),
        column((item) => item.row.receiptId),
        column((item) => asciiText(item.row.receipt)),
        column((item) => item.row.createdAt),
        column((item) => item.row.expiresAt),
        column((item) => item.row.receivedAt),
        column((item) => item.receiptRoutingKey),
        column((item) => item.leaseUntil),
      ],
    });
    // Each id once: a second copy of the same envelope in one batch is a duplicate, answered as such.
    const fresh = new Map(inserted.map((row) => [row.message_id, row.id]));
    return items.map((item) => {
      const outboxId = fresh.get(item.row.id) ?? null;
      fresh.delete(item.row.id);
      return outboxId;
    });
  }

  private async recordReceiptBatch(items: RecordedReceipt[]): Promise<boolean[]> {
    const column = <T>(pick: (item: RecordedReceipt) => T): T[] => items.map(pick);
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
         RETURNING m.id),
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

  async insertOutbound(manager: EntityManager, row: OutboundMessageEntity): Promise<void> {
    await manager.insert(OutboundMessageEntity, row);
  }

  async addEvidence(manager: EntityManager, evidence: NewEvidence): Promise<void> {
    await manager.insert(EvidenceEntity, { reason: null, detail: null, signed: null, ...evidence });
  }

  async enqueue(manager: EntityManager, entry: NewOutboxEntry): Promise<void> {
    await manager.insert(OutboxEntryEntity, { ...entry, attempts: 0 });
  }

  /** A data key for the node's sealed copies, wrapped to its own encryption certificate. */
  async insertSenderCopyKey(id: string, wrapped: string, createdAt: Date): Promise<void> {
    await this.pool.query(
      `INSERT INTO sender_copy_key (id, wrapped, created_at) VALUES ($1, $2, $3)`,
      [id, wrapped, createdAt],
    );
  }

  async findSenderCopyKey(id: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ wrapped: string }>(
      `SELECT wrapped FROM sender_copy_key WHERE id = $1`,
      [id],
    );
    return rows[0]?.wrapped ?? null;
  }

  findOutboundByIdempotencyKey(key: string): Promise<OutboundMessageEntity | null> {
    return this.dataSource.manager.findOneBy(OutboundMessageEntity, { idempotencyKey: key });
  }

  /** What checking a receipt needs of the message it answers: not its envelope or sender copy. */
  findOutboundForReceipt(id: string): Promise<ReceiptExpectation | null> {
    return this.receiptExpectations.submit(id);
  }

  findOutbound(id: string): Promise<OutboundMessageEntity | null> {
    return this.dataSource.manager.findOneBy(OutboundMessageEntity, { id });
  }

  /** Newest first, keyset-paginated on the time-ordered id. */
  listOutbound(
    limit: number,
    before?: string,
    fromAuthority?: string,
  ): Promise<OutboundMessageEntity[]> {
    const query = this.dataSource.manager
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

  timeline(messageId: string, direction: 'outbound' | 'inbound'): Promise<EvidenceEntity[]> {
    return this.dataSource.manager.find(EvidenceEntity, {
      where: { messageId, direction },
      order: { id: 'ASC' },
    });
  }

  /** The newest signed document of one type on a message's timeline (e.g. non-delivery evidence). */
  async signedEvidence(messageId: string, type: EvidenceType): Promise<Buffer | null> {
    const rows = (await this.dataSource.query(
      `SELECT signed FROM evidence WHERE message_id = $1 AND type = $2 AND signed IS NOT NULL ORDER BY id DESC LIMIT 1`,
      [messageId, type],
    )) as Array<{ signed: Buffer }>;
    return rows[0]?.signed ?? null;
  }

  /** What answering a repeated envelope needs: its digest, its sender and the receipt given. */
  findDeliveredReceipt(id: string): Promise<DeliveredReceipt | null> {
    return this.deliveredReceipts.submit(id);
  }

  findInbound(id: string): Promise<InboundMessageEntity | null> {
    return this.dataSource.manager.findOneBy(InboundMessageEntity, { id });
  }

  listInbound(
    limit: number,
    before?: string,
    toAuthority?: string,
  ): Promise<InboundMessageEntity[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(InboundMessageEntity, 'message')
      .select([
        'message.id',
        'message.threadId',
        'message.inReplyTo',
        'message.kind',
        'message.fromState',
        'message.fromAuthority',
        'message.toAuthority',
        'message.status',
        'message.envelopeDigest',
        'message.createdAt',
        'message.expiresAt',
        'message.receivedAt',
      ])
      .orderBy('message.id', 'DESC')
      .limit(limit);
    if (before) query.andWhere('message.id < :before', { before });
    if (toAuthority) query.andWhere('message.toAuthority = :toAuthority', { toAuthority });
    return query.getMany();
  }

  async insertRejection(
    manager: EntityManager,
    row: Omit<InboundRejectionEntity, 'id'>,
  ): Promise<void> {
    await manager.insert(InboundRejectionEntity, row);
  }

  /** Claims due outbox entries; other replicas skip the locked rows instead of waiting for them. */
  async claimOutbox(manager: EntityManager, limit: number): Promise<ClaimedOutboxEntry[]> {
    const rows = (await manager.query(
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
    manager: EntityManager | null,
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
    if (manager) await manager.query(text, values);
    else await this.pool.query({ name: 'settle-relayed', text, values });
  }

  /**
   * Broker-confirmed: submitted → sent, and the receipt is now due. Each transmission doubles the
   * wait for the next (capped, with ±20% jitter so retransmissions from many messages spread
   * out). A receipt may have overtaken the confirm: a settled message never goes backwards.
   */
  async markSent(
    manager: EntityManager,
    messageIds: string[],
    at: Date,
    maxIntervalMs: number,
  ): Promise<void> {
    if (messageIds.length === 0) return;
    // Evidence only for the messages that were still waiting: a late confirm after a receipt
    // (or after expiry) changes nothing and adds nothing.
    await manager.query(
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
    manager: EntityManager,
    limit: number,
  ): Promise<
    Array<{
      id: string;
      toState: string;
      transmissions: number;
      receiptTimeoutMs: number;
    }>
  > {
    const rows = (await manager.query(
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
      await manager.query(
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
    manager: EntityManager,
    limit: number,
  ): Promise<
    Array<
      Pick<
        OutboundMessageEntity,
        'id' | 'envelopeDigest' | 'fromAuthority' | 'toState' | 'toAuthority' | 'transmissions'
      >
    >
  > {
    const rows = (await manager.query(
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

  /** Receipt outbox entries that failed to publish `attempts` times: given up, returned for the record. */
  async dropExhaustedReceipts(manager: EntityManager, attempts: number): Promise<string[]> {
    const rows = (await manager.query(
      `DELETE FROM outbox WHERE payload_type = 'receipt' AND attempts >= $1 RETURNING message_id`,
      [attempts],
    )) as [Array<{ message_id: string }>, number];
    return rows[0].map((row) => row.message_id);
  }

  async dropPendingEnvelopes(manager: EntityManager, messageId: string): Promise<void> {
    await manager.query(`DELETE FROM outbox WHERE message_id = $1 AND payload_type = 'envelope'`, [
      messageId,
    ]);
  }

  async markFailed(
    manager: EntityManager,
    input: { messageId: string; reason: string; detail: string; signed: Buffer | null; at: Date },
  ): Promise<void> {
    const { messageId, reason, detail, signed, at } = input;
    const [rows] = (await manager.query(
      `UPDATE outbound_message SET status = 'failed', status_reason = $2, receipt_due_at = NULL, updated_at = $3
        WHERE id = $1 AND status IN ('submitted', 'sent')
        RETURNING id`,
      [messageId, reason, at],
    )) as [unknown[], number];
    if (rows.length === 0) return;
    await this.addEvidence(manager, {
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
