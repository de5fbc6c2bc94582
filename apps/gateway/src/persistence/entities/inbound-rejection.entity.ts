import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An envelope from an authenticated sender that was refused, with the negative receipt sent
 * back. Kept apart from inbound_message so a tampered copy can never occupy a genuine
 * envelope's id.
 */
@Entity({ name: 'inbound_rejection' })
export class InboundRejectionEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid', { name: 'envelope_id' })
  envelopeId!: string;

  @Column('text', { name: 'from_state' })
  fromState!: string;

  @Column('text')
  reason!: string;

  @Column('text', { name: 'envelope_digest' })
  envelopeDigest!: string;

  @Column('bytea')
  envelope!: Buffer;

  @Column('bytea')
  receipt!: Buffer;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;
}
