import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A request delivered to this node: stored once per envelope id, content still encrypted. */
@Entity({ name: 'inbound_message' })
export class InboundMessageEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'thread_id' })
  threadId!: string;

  @Column('uuid', { name: 'in_reply_to', nullable: true })
  inReplyTo!: string | null;

  @Column('text')
  kind!: string;

  @Column('text', { name: 'from_state' })
  fromState!: string;

  @Column('text', { name: 'from_authority' })
  fromAuthority!: string;

  @Column('text', { name: 'to_authority' })
  toAuthority!: string;

  @Column('text')
  status!: 'delivered';

  /** The exact bytes received; null once the content was purged (`contentPurgedAt`). */
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

  @Column('uuid', { name: 'receipt_id' })
  receiptId!: string;

  @Column('bytea')
  receipt!: Buffer;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;
}
