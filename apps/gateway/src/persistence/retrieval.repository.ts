import { Injectable } from '@nestjs/common';
import { Database, type Transaction } from './database';

/** What retrieval evidence needs of an inbound message. */
export interface RetrievalSubject {
  id: string;
  kind: string;
  envelopeDigest: string;
  fromState: string;
  fromAuthority: string;
  toAuthority: string;
  receivedAt: Date;
}

interface SubjectRow {
  id: string;
  kind: string;
  envelope_digest: string;
  from_state: string;
  from_authority: string;
  to_authority: string;
  received_at: Date;
}

const SUBJECT_COLUMNS = `id, kind, envelope_digest, from_state, from_authority, to_authority, received_at`;

const subjectOf = (row: SubjectRow): RetrievalSubject => ({
  id: row.id,
  kind: row.kind,
  envelopeDigest: row.envelope_digest,
  fromState: row.from_state,
  fromAuthority: row.from_authority,
  toAuthority: row.to_authority,
  receivedAt: row.received_at,
});

/** When delivered messages were first opened, or given up on (protocol §10.1). */
@Injectable()
export class RetrievalRepository {
  constructor(private readonly database: Database) {}

  /** Marks the message opened, once: the subject if this was the first opening, else null. */
  async markOpened(tx: Transaction, id: string, at: Date): Promise<RetrievalSubject | null> {
    const rows = (await tx.query(
      `WITH opened AS (
         UPDATE inbound_message SET retrieved_at = $2
          WHERE id = $1 AND retrieved_at IS NULL
          RETURNING ${SUBJECT_COLUMNS})
       SELECT * FROM opened`,
      [id, at],
    )) as SubjectRow[];
    return rows[0] ? subjectOf(rows[0]) : null;
  }

  /**
   * Delivered messages of `kind` received before `receivedBefore`, never opened and not yet
   * given up on; marked as given up on at `at` in the caller's transaction (other replicas skip
   * the rows this one holds).
   */
  async claimUnretrieved(
    tx: Transaction,
    kind: string,
    receivedBefore: Date,
    at: Date,
    limit: number,
  ): Promise<RetrievalSubject[]> {
    const rows = (await tx.query(
      `WITH due AS (
         SELECT id FROM inbound_message
          WHERE kind = $1 AND retrieved_at IS NULL AND non_retrieval_at IS NULL AND received_at < $2
          ORDER BY received_at
          LIMIT $4
          FOR UPDATE SKIP LOCKED),
       given_up AS (
         UPDATE inbound_message m SET non_retrieval_at = $3
           FROM due WHERE m.id = due.id
         RETURNING m.${SUBJECT_COLUMNS.split(', ').join(', m.')})
       SELECT * FROM given_up`,
      [kind, receivedBefore, at, limit],
    )) as SubjectRow[];
    return rows.map(subjectOf);
  }

  /** When the message was opened and when non-retrieval was declared (null: not yet). */
  async retrievalOf(
    id: string,
  ): Promise<{ retrievedAt: Date | null; nonRetrievalAt: Date | null }> {
    const rows = (await this.database.query(
      `SELECT retrieved_at, non_retrieval_at FROM inbound_message WHERE id = $1`,
      [id],
    )) as Array<{ retrieved_at: Date | null; non_retrieval_at: Date | null }>;
    return {
      retrievedAt: rows[0]?.retrieved_at ?? null,
      nonRetrievalAt: rows[0]?.non_retrieval_at ?? null,
    };
  }

  /** The retrieval evidence the recipient sent for a message this node sent (signed bytes). */
  async peerEvidence(
    messageId: string,
  ): Promise<{ retrieval: Buffer | null; nonRetrieval: Buffer | null }> {
    const rows = (await this.database.query(
      `SELECT type, signed FROM evidence
        WHERE message_id = $1 AND direction = 'outbound' AND type IN ('retrieved', 'not-retrieved')`,
      [messageId],
    )) as Array<{ type: string; signed: Buffer }>;
    const of = (type: string) => rows.find((row) => row.type === type)?.signed ?? null;
    return { retrieval: of('retrieved'), nonRetrieval: of('not-retrieved') };
  }

  /** Adds an evidence of the sender's retrieval type once per message (a repeat changes nothing). */
  async recordPeerEvidence(
    tx: Transaction,
    evidence: {
      messageId: string;
      type: 'retrieved' | 'not-retrieved';
      at: Date;
      detail: string;
      signed: Buffer;
    },
  ): Promise<boolean> {
    const rows = (await tx.query(
      `WITH added AS (
         INSERT INTO evidence (message_id, direction, type, at, detail, signed)
         SELECT $1, 'outbound', $2, $3, $4, $5
          WHERE NOT EXISTS (
            SELECT 1 FROM evidence WHERE message_id = $1 AND direction = 'outbound' AND type = $2)
         RETURNING id)
       SELECT id FROM added`,
      [evidence.messageId, evidence.type, evidence.at, evidence.detail, evidence.signed],
    )) as unknown[];
    return rows.length > 0;
  }
}
