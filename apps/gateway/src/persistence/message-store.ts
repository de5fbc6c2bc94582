import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { EvidenceEntity, type EvidenceType } from './entities/evidence.entity';
import { InboundMessageEntity } from './entities/inbound-message.entity';
import { InboundRejectionEntity } from './entities/inbound-rejection.entity';
import { OutboundMessageEntity, type OutboundStatus } from './entities/outbound-message.entity';
import { OutboxEntryEntity, type OutboxPayloadType } from './entities/outbox-entry.entity';

export interface NewEvidence {
  messageId: string;
  direction: 'outbound' | 'inbound';
  type: EvidenceType;
  at: Date;
  reason?: string | null;
  detail?: string | null;
  signed?: Buffer | null;
}

export interface NewOutboxEntry {
  messageId: string;
  payloadType: OutboxPayloadType;
  routingKey: string;
  payload: Buffer;
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
@Injectable()
export class MessageStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insertOutbound(manager: EntityManager, row: OutboundMessageEntity): Promise<void> {
    await manager.insert(OutboundMessageEntity, row);
  }

  async addEvidence(manager: EntityManager, evidence: NewEvidence): Promise<void> {
    await manager.insert(EvidenceEntity, { reason: null, detail: null, signed: null, ...evidence });
  }

  async enqueue(manager: EntityManager, entry: NewOutboxEntry): Promise<void> {
    await manager.insert(OutboxEntryEntity, { ...entry, attempts: 0 });
  }

  findOutboundByIdempotencyKey(key: string): Promise<OutboundMessageEntity | null> {
    return this.dataSource.manager.findOneBy(OutboundMessageEntity, { idempotencyKey: key });
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

  /** Stores an inbound message once; false when its id is already there (a duplicate). */
  async insertInboundOnce(manager: EntityManager, row: InboundMessageEntity): Promise<boolean> {
    const inserted = (await manager.query(
      `INSERT INTO inbound_message (id, thread_id, in_reply_to, kind, from_state, from_authority, to_authority,
                                    status, envelope, envelope_digest, receipt_id, receipt, created_at, expires_at, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        row.id,
        row.threadId,
        row.inReplyTo,
        row.kind,
        row.fromState,
        row.fromAuthority,
        row.toAuthority,
        row.status,
        row.envelope,
        row.envelopeDigest,
        row.receiptId,
        row.receipt,
        row.createdAt,
        row.expiresAt,
        row.receivedAt,
      ],
    )) as unknown[];
    return inserted.length > 0;
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
      `SELECT id, message_id, payload_type, routing_key, payload, attempts
         FROM outbox
        WHERE available_at <= now()
        ORDER BY id
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
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

  async deleteOutbox(manager: EntityManager, ids: string[]): Promise<void> {
    if (ids.length > 0)
      await manager.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [ids]);
  }

  async postponeOutbox(manager: EntityManager, ids: string[], delayMs: number): Promise<void> {
    if (ids.length === 0) return;
    await manager.query(
      `UPDATE outbox
          SET attempts = attempts + 1,
              available_at = now() + make_interval(secs => $2::double precision / 1000 * least(64, power(2, attempts)))
        WHERE id = ANY($1::bigint[])`,
      [ids, delayMs],
    );
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
      envelope: Buffer;
      transmissions: number;
      receiptTimeoutMs: number;
    }>
  > {
    const rows = (await manager.query(
      `SELECT id, to_state, envelope, transmissions, receipt_timeout_ms
         FROM outbound_message
        WHERE status = 'sent' AND receipt_due_at <= now() AND expires_at > now()
        ORDER BY receipt_due_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [limit],
    )) as Array<{
      id: string;
      to_state: string;
      envelope: Buffer;
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
      envelope: row.envelope,
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

  /** Records a verified receipt; false when the message already had its final receipt. */
  async applyReceipt(
    manager: EntityManager,
    input: {
      messageId: string;
      status: OutboundStatus;
      reason: string | null;
      receipt: Buffer;
      at: Date;
    },
  ): Promise<boolean> {
    const result = (await manager.query(
      `UPDATE outbound_message SET status = $2, status_reason = $3, receipt = $4, receipt_due_at = NULL, updated_at = $5
        WHERE id = $1 AND status IN ('submitted', 'sent', 'failed')
        RETURNING id`,
      [input.messageId, input.status, input.reason, input.receipt, input.at],
    )) as [unknown[], number];
    return result[1] > 0;
  }
}
