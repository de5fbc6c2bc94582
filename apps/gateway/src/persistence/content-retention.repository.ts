import { Injectable } from '@nestjs/common';
import { CONTENT_PURGED, contentPurgedDetail, readEnvelopeParts } from '@comity/protocol';
import { Database } from './database';
import { insertEvidence } from './evidence.repository';

/** A message whose content is past its kind's retention. */
export interface DueMessage {
  id: string;
  direction: 'outbound' | 'inbound';
}

/** Per message kind: content stored before this instant is due. */
export interface RetentionCutoff {
  kind: string;
  before: Date;
}

/**
 * Purging content under the retention policy (docs/evidence.md, "Retention"). What holds
 * content goes: the envelope's encrypted part (the node could decrypt it), the sender's sealed
 * copy, the sealed chunks of large attachments, a case's sealed subject. What the evidence
 * stands on stays: metadata, the signed routing header, the envelope digest, the receipt, the
 * timeline rows the log's leaves are recomputed from, and a new timeline row that records the
 * purge (and so becomes a leaf itself).
 */
@Injectable()
export class ContentRetentionRepository {
  constructor(private readonly database: Database) {}

  /**
   * Up to `limit` messages due, oldest first. Outbound messages only once final (delivered,
   * rejected, failed): content still travelling or waiting for its receipt is never purged.
   */
  async due(cutoffs: readonly RetentionCutoff[], limit: number): Promise<DueMessage[]> {
    if (cutoffs.length === 0) return [];
    const kinds = cutoffs.map((cutoff) => cutoff.kind);
    const before = cutoffs.map((cutoff) => cutoff.before);
    const rows = await this.database.query<Array<{ id: string; direction: string }>>(
      `(SELECT m.id, 'outbound' AS direction, m.created_at AS at FROM outbound_message m
          JOIN unnest($1::text[], $2::timestamptz[]) AS c(kind, before) ON c.kind = m.kind
         WHERE m.content_purged_at IS NULL AND m.created_at < c.before
           AND m.status IN ('delivered', 'rejected', 'failed')
         ORDER BY m.created_at LIMIT $3)
       UNION ALL
       (SELECT m.id, 'inbound' AS direction, m.received_at AS at FROM inbound_message m
          JOIN unnest($1::text[], $2::timestamptz[]) AS c(kind, before) ON c.kind = m.kind
         WHERE m.content_purged_at IS NULL AND m.received_at < c.before
         ORDER BY m.received_at LIMIT $3)
       ORDER BY at LIMIT $3`,
      [kinds, before, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      direction: row.direction as DueMessage['direction'],
    }));
  }

  /** Purges one message's content in one transaction; false when it was purged already. */
  async purge(message: DueMessage, now: Date): Promise<boolean> {
    return this.database.dataSource.transaction(async (tx) => {
      const table = message.direction === 'outbound' ? 'outbound_message' : 'inbound_message';
      const rows = (await tx.query(
        `SELECT envelope, envelope_digest, ${message.direction === 'inbound' ? 'from_state' : 'NULL AS from_state'}
           FROM ${table} WHERE id = $1 AND content_purged_at IS NULL FOR UPDATE`,
        [message.id],
      )) as Array<{ envelope: Buffer; envelope_digest: string; from_state: string | null }>;
      const row = rows[0];
      if (!row) return false;
      // The signed routing header stays: it still proves who sent what kind to whom, when.
      const { headerJws } = readEnvelopeParts(row.envelope);
      await tx.query(
        message.direction === 'outbound'
          ? `UPDATE outbound_message SET envelope = NULL, sender_copy = NULL, envelope_header = $2,
                content_purged_at = $3 WHERE id = $1`
          : `UPDATE inbound_message SET envelope = NULL, envelope_header = $2,
                content_purged_at = $3 WHERE id = $1`,
        [message.id, headerJws, now],
      );
      if (message.direction === 'outbound') {
        // The uploaded files of this message, unless a message not purged yet (a retry of it)
        // still refers to them.
        await tx.query(
          `DELETE FROM attachment a
            WHERE a.id IN (SELECT (x ->> 'attachmentId')::uuid FROM attachment_transfer t,
                                  jsonb_array_elements(t.attachments) x WHERE t.envelope_id = $1)
              AND NOT EXISTS (
                SELECT 1 FROM attachment_transfer t
                  JOIN outbound_message m ON m.id = t.envelope_id,
                       jsonb_array_elements(t.attachments) x
                 WHERE t.envelope_id <> $1 AND m.content_purged_at IS NULL
                   AND (x ->> 'attachmentId')::uuid = a.id)`,
          [message.id],
        );
      } else {
        await tx.query(`DELETE FROM inbound_chunk WHERE from_state = $1 AND envelope_id = $2`, [
          row.from_state,
          message.id,
        ]);
      }
      // A request's case keeps its state and time frames; its sealed subject goes.
      await tx.query(`UPDATE case_file SET title = NULL WHERE id = $1`, [message.id]);
      await insertEvidence(tx, {
        messageId: message.id,
        direction: message.direction,
        type: CONTENT_PURGED,
        at: now,
        detail: contentPurgedDetail(row.envelope_digest),
      });
      return true;
    });
  }
}
