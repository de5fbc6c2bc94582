import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type OutboxPayloadType = 'envelope' | 'receipt' | 'evidence' | 'checkpoint' | 'cosignature';

/**
 * Transactional outbox: written in the same transaction as the message or receipt it carries,
 * deleted only after the broker confirmed the publish.
 */
@Entity({ name: 'outbox' })
export class OutboxEntryEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('text', { name: 'payload_type' })
  payloadType!: OutboxPayloadType;

  @Column('text', { name: 'routing_key' })
  routingKey!: string;

  /** The message to publish; NULL for an envelope, which is read from its `outbound_message` row. */
  @Column('bytea', { nullable: true })
  payload!: Buffer | null;

  @Column('timestamptz', { name: 'available_at' })
  availableAt!: Date;

  @Column('int')
  attempts!: number;
}
