import { Column, Entity, PrimaryColumn } from 'typeorm';

export const OUTBOUND_STATUSES = ['submitted', 'sent', 'delivered', 'rejected', 'failed'] as const;
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];

/** A request this node sealed and sends; its id is the envelope id. */
@Entity({ name: 'outbound_message' })
export class OutboundMessageEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'thread_id' })
  threadId!: string;

  @Column('uuid', { name: 'in_reply_to', nullable: true })
  inReplyTo!: string | null;

  @Column('text')
  kind!: string;

  @Column('text', { name: 'from_authority' })
  fromAuthority!: string;

  @Column('text', { name: 'to_state' })
  toState!: string;

  @Column('text', { name: 'to_authority' })
  toAuthority!: string;

  @Column('text')
  status!: OutboundStatus;

  @Column('text', { name: 'status_reason', nullable: true })
  statusReason!: string | null;

  /**
   * The exact sealed bytes: what was sent and what the receipt's digest binds. Null once the
   * content was purged under the retention policy (`contentPurgedAt`).
   */
  @Column('bytea', { nullable: true })
  envelope!: Buffer | null;

  /** What is kept of a purged envelope: its signed routing header (the `header` JWS). */
  @Column('text', { name: 'envelope_header', nullable: true })
  envelopeHeader!: string | null;

  /** When the content was purged under the retention policy; null while it is kept. */
  @Column('timestamptz', { name: 'content_purged_at', nullable: true })
  contentPurgedAt!: Date | null;

  @Column('text', { name: 'envelope_digest' })
  envelopeDigest!: string;

  /**
   * What lets this node read its own request (see `SenderCopies`): the envelope's content key
   * sealed under a data key, or, for rows written before, the signed content encrypted to the
   * node's own encryption certificate. Content at rest stays sealed either way. Null once purged.
   */
  @Column('text', { name: 'sender_copy', nullable: true })
  senderCopy!: string | null;

  @Column('bytea', { nullable: true })
  receipt!: Buffer | null;

  /** How many times the envelope was confirmed by the broker (1 + retransmissions). */
  @Column('int')
  transmissions!: number;

  @Column('int', { name: 'receipt_timeout_ms' })
  receiptTimeoutMs!: number;

  /** When a missing receipt triggers the next retransmission (status sent only). */
  @Column('timestamptz', { name: 'receipt_due_at', nullable: true })
  receiptDueAt!: Date | null;

  /** The submitter's Idempotency-Key, if it sent one: a retried submit finds this message. */
  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey!: string | null;

  /** SHA-256 of the submitted request, to refuse a key reused for a different request. */
  @Column('text', { name: 'request_digest', nullable: true })
  requestDigest!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
