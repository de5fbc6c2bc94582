import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const EVIDENCE_TYPES = [
  'submitted',
  'sent',
  'delivered',
  'rejected',
  'failed',
  'received',
  'receipt-sent',
  'duplicate',
  'retransmitted',
  'retried',
  'content-purged',
  // Protocol §10.1: opened by the recipient authority, or not within the retrieval time frame.
  'retrieved',
  'not-retrieved',
] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

/** One event on a message's timeline. Rows are only ever added. */
@Entity({ name: 'evidence' })
export class EvidenceEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('text')
  direction!: 'outbound' | 'inbound';

  @Column('text')
  type!: EvidenceType;

  @Column('timestamptz')
  at!: Date;

  @Column('text', { nullable: true })
  reason!: string | null;

  @Column('text', { nullable: true })
  detail!: string | null;

  /** The signed document behind this evidence, where there is one (receipt, non-delivery evidence). */
  @Column('bytea', { nullable: true })
  signed!: Buffer | null;
}
