import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { Database, type Transaction } from './database';
import { InboundMessageEntity } from './entities/inbound-message.entity';
import { InboundRejectionEntity } from './entities/inbound-rejection.entity';
import { GroupCommit } from './group-commit';
import type { CaseOpeningRow } from './case.repository';
import { asciiText, columnOf, lookupById, requireAscii } from './sql-values';

/** A message as it is first stored: whole, its content not purged. */
export type NewInboundMessage = Omit<
  InboundMessageEntity,
  'envelope' | 'envelopeHeader' | 'contentPurgedAt'
> & { envelope: Buffer };

/** A delivered envelope to store once, with its `received` evidence and its receipt's outbox entry. */
export interface DeliveredInbound {
  row: NewInboundMessage;
  receiptRoutingKey: string;
  /** Until when the receipt's outbox entry is left to this process's relay. */
  leaseUntil: Date;
  /** A request opens its case in the same statement (null for other kinds). */
  caseOpening?: CaseOpeningRow | null;
}

export interface DeliveredReceipt {
  id: string;
  envelopeDigest: string;
  fromState: string;
  receipt: Buffer;
}

/**
 * The envelopes delivered to this node, each stored once with its receipt, and the refused
 * ones with the negative receipt they were answered with.
 */
@Injectable()
export class InboundMessageRepository {
  private readonly pool: Pool;
  private readonly inboundWrites = new GroupCommit<DeliveredInbound, string | null>((items) =>
    this.storeDeliveredBatch(items),
  );
  private readonly deliveredReceipts;

  constructor(private readonly database: Database) {
    this.pool = database.pool;
    this.deliveredReceipts = lookupById(
      this.pool,
      'delivered-receipts',
      `SELECT id, envelope_digest, from_state, receipt FROM inbound_message WHERE id = ANY($1::uuid[])`,
      (row: { id: string; envelope_digest: string; from_state: string; receipt: Buffer }) => ({
        id: row.id,
        envelopeDigest: row.envelope_digest,
        fromState: row.from_state,
        receipt: row.receipt,
      }),
    );
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

  /**
   * The same, in the caller's transaction: a case message, stored together with what it does
   * to its case.
   */
  async storeDeliveredIn(tx: Transaction, item: DeliveredInbound): Promise<string | null> {
    requireAscii(item.row.envelope, 'envelope');
    requireAscii(item.row.receipt, 'receipt');
    const [outboxId] = await this.storeDeliveredBatch([item], {
      query: async (config: { text: string; values: unknown[] }) => ({
        rows: (await tx.query(config.text, config.values)) as Array<{
          id: string;
          message_id: string;
        }>,
      }),
    });
    return outboxId ?? null;
  }

  private async storeDeliveredBatch(
    items: DeliveredInbound[],
    db: {
      query(config: {
        name?: string;
        text: string;
        values: unknown[];
      }): Promise<{ rows: Array<{ id: string; message_id: string }> }>;
    } = this.pool,
  ): Promise<Array<string | null>> {
    const column = columnOf(items);
    const { rows: inserted } = await db.query({
      name: 'store-delivered',
      text: `WITH input AS (
         -- The first copy of an id in the batch is the one stored: the same one whose caller is
         -- told it won (below), so the receipt published is the receipt stored.
         SELECT DISTINCT ON (id) * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                              $7::text[], $8::text[], $9::text[], $10::uuid[], $11::text[], $12::timestamptz[],
                              $13::timestamptz[], $14::timestamptz[], $15::text[], $16::timestamptz[],
                              $17::text[], $18::date[], $19::text[], $20::timestamptz[])
                WITH ORDINALITY
           AS t(id, thread_id, in_reply_to, kind, from_state, from_authority, to_authority, envelope, envelope_digest,
                receipt_id, receipt, created_at, expires_at, received_at, routing_key, lease_until,
                case_urgency, case_deadline, case_title, case_due, position)
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
       opened AS (
         INSERT INTO case_file (id, direction, kind, local_authority, counterpart_state, counterpart_authority,
                                urgency, deadline, title, state, next_step, next_due_at, opened_at, last_message_at)
         SELECT input.id, 'inbound', kind, to_authority, from_state, from_authority, case_urgency, case_deadline,
                case_title, 'awaiting_acknowledgement', 'acknowledge', case_due, created_at, created_at
           FROM stored JOIN input ON input.id = stored.id
          WHERE case_urgency IS NOT NULL),
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
        column((item) => item.caseOpening?.urgency ?? null),
        column((item) => item.caseOpening?.deadline ?? null),
        column((item) => item.caseOpening?.title ?? null),
        column((item) => item.caseOpening?.nextDueAt ?? null),
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

  /** What answering a repeated envelope needs: its digest, its sender and the receipt given. */
  findDeliveredReceipt(id: string): Promise<DeliveredReceipt | null> {
    return this.deliveredReceipts.submit(id);
  }

  findInbound(id: string): Promise<InboundMessageEntity | null> {
    return this.database.manager.findOneBy(InboundMessageEntity, { id });
  }

  listInbound(
    limit: number,
    before?: string,
    toAuthority?: string,
  ): Promise<InboundMessageEntity[]> {
    const query = this.database.manager
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

  /** The reason an envelope id was refused with before, if it was. */
  async refusalOf(tx: Transaction, envelopeId: string): Promise<string | null> {
    const rows = (await tx.query(
      `SELECT reason FROM inbound_rejection WHERE envelope_id = $1 ORDER BY id LIMIT 1`,
      [envelopeId],
    )) as Array<{ reason: string }>;
    return rows[0]?.reason ?? null;
  }

  async insertRejection(tx: Transaction, row: Omit<InboundRejectionEntity, 'id'>): Promise<void> {
    await tx.insert(InboundRejectionEntity, row);
  }
}
