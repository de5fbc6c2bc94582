import { Injectable } from '@nestjs/common';
import { Database, type Transaction } from './database';
import { EvidenceEntity, type EvidenceType } from './entities/evidence.entity';

export interface NewEvidence {
  messageId: string;
  direction: 'outbound' | 'inbound';
  type: EvidenceType;
  at: Date;
  reason?: string | null;
  detail?: string | null;
  signed?: Buffer | null;
}

/** Adds one evidence to a message's timeline, in the caller's transaction. */
export async function insertEvidence(tx: Transaction, evidence: NewEvidence): Promise<void> {
  await tx.insert(EvidenceEntity, { reason: null, detail: null, signed: null, ...evidence });
}

/** Each message's timeline: what happened to it, when, and the signed documents that prove it. */
@Injectable()
export class EvidenceRepository {
  constructor(private readonly database: Database) {}

  addEvidence(tx: Transaction, evidence: NewEvidence): Promise<void> {
    return insertEvidence(tx, evidence);
  }

  timeline(messageId: string, direction: 'outbound' | 'inbound'): Promise<EvidenceEntity[]> {
    return this.database.manager.find(EvidenceEntity, {
      where: { messageId, direction },
      order: { id: 'ASC' },
    });
  }

  /** The newest signed document of one type on a message's timeline (e.g. non-delivery evidence). */
  async signedEvidence(messageId: string, type: EvidenceType): Promise<Buffer | null> {
    const rows = (await this.database.query(
      `SELECT signed FROM evidence WHERE message_id = $1 AND type = $2 AND signed IS NOT NULL ORDER BY id DESC LIMIT 1`,
      [messageId, type],
    )) as Array<{ signed: Buffer }>;
    return rows[0]?.signed ?? null;
  }
}
