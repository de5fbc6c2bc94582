import { Injectable } from '@nestjs/common';
import type { EvidenceSource } from '@comity/protocol';
import { Database } from './database';

/** A leaf as the sequencer appends it. */
export interface NewLeaf {
  source: 'evidence' | 'audit';
  sourceId: string;
  leaf: Buffer;
  leafHash: Buffer;
}

/** The tree's right edge, as stored: its size and the roots of its perfect subtrees. */
export interface StoredTree {
  size: number;
  frontier: Buffer[];
}

export interface StoredLeaf {
  index: number;
  source: 'evidence' | 'audit';
  sourceId: string;
  leaf: Buffer;
  leafHash: Buffer;
}

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  note: string;
  signedAt: Date;
  /** An RFC 3161 time-stamp token over the note, where a TSA is configured. */
  timestamp: Buffer | null;
  /** The signing certificate chain (x5c) that signed it; null for checkpoints stored before. */
  signerChain: string[] | null;
}

/** What a bundle carries of one message, as this node holds it. */
export interface MessageDocuments {
  direction: 'outbound' | 'inbound';
  /** The authority of this node that is party to it (for scoping). */
  authority: string;
  /** The envelope, or, its content purged under the retention policy, what is kept of it. */
  envelope: Buffer | { header: string; envelopeDigest: string; purgedAt: Date };
  receipt: Buffer | null;
  nonDelivery: Buffer | null;
  /** Retrieval and non-retrieval evidence signed by the recipient's gateway (protocol §10.1). */
  retrieval: Buffer | null;
  nonRetrieval: Buffer | null;
}

/** Serialises the sequencers of all replicas of a node on one database. */
const SEQUENCER_LOCK = 0x636f6d69;

const EVIDENCE_SOURCE_SQL = `
  SELECT id::text AS id, message_id, direction, type,
         ((extract(epoch FROM at) * 1000000)::bigint)::text AS at_micros, reason, detail, signed
    FROM evidence WHERE id = ANY($1::bigint[])`;
const AUDIT_SOURCE_SQL = `
  SELECT id::text AS id, ((extract(epoch FROM at) * 1000000)::bigint)::text AS at_micros,
         principal, role, action, outcome, status, reason, client
    FROM audit_event WHERE id = ANY($1::bigint[])`;

/**
 * The evidence log's tables (migration `evidence-log`): the queue the triggers fill, the
 * leaves, the tree's right edge and the signed checkpoints.
 */
@Injectable()
export class EvidenceLogRepository {
  constructor(private readonly database: Database) {}

  /**
   * Drains up to `limit` queued rows into leaves, in queue order, in one transaction under the
   * sequencer lock: `extend` turns the source rows (a missing one is `null`) into leaves and
   * the new tree. Returns how many leaves were appended.
   */
  async sequence(
    limit: number,
    extend: (
      tree: StoredTree,
      sources: Array<{
        source: 'evidence' | 'audit';
        sourceId: string;
        row: EvidenceSource | null;
      }>,
    ) => { leaves: NewLeaf[]; tree: StoredTree },
    now: Date,
  ): Promise<number> {
    const client = await this.database.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
      // Whole queue rows (one per statement that added rows) until about `limit` rows.
      const queued = await client.query<{
        seq: string;
        source: 'evidence' | 'audit';
        ids: string[];
      }>(
        `SELECT seq::text AS seq, source, source_ids::text[] AS ids FROM (
           SELECT seq, source, source_ids,
                  sum(cardinality(source_ids)) OVER (ORDER BY seq) - cardinality(source_ids) AS before
             FROM evidence_pending ORDER BY seq LIMIT $1) AS q
          WHERE q.before < $1 ORDER BY q.seq`,
        [limit],
      );
      const pending = {
        rows: queued.rows.flatMap((row) =>
          row.ids.map((id) => ({ seq: row.seq, source: row.source, source_id: id })),
        ),
      };
      if (pending.rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const found = await readSources(
        (sql, values) => client.query<Record<string, unknown>>(sql, values).then((r) => r.rows),
        pending.rows.map((row) => ({ source: row.source, sourceId: row.source_id })),
      );
      const treeRow = await client.query<{ size: string; frontier: Buffer[] }>(
        `SELECT size::text AS size, frontier FROM evidence_tree WHERE id = 1 FOR UPDATE`,
      );
      const stored = treeRow.rows[0]!;
      const { leaves, tree } = extend(
        { size: Number(stored.size), frontier: stored.frontier },
        pending.rows.map((row) => ({
          source: row.source,
          sourceId: row.source_id,
          row: found.get(`${row.source}:${row.source_id}`) ?? null,
        })),
      );
      await client.query(
        `INSERT INTO evidence_leaf (leaf_index, source, source_id, leaf, leaf_hash, logged_at)
         SELECT $1::bigint + t.position - 1, t.source, t.source_id, t.leaf, t.leaf_hash, $6
           FROM unnest($2::text[], $3::bigint[], $4::bytea[], $5::bytea[])
                WITH ORDINALITY AS t(source, source_id, leaf, leaf_hash, position)`,
        [
          stored.size,
          leaves.map((leaf) => leaf.source),
          leaves.map((leaf) => leaf.sourceId),
          leaves.map((leaf) => leaf.leaf),
          leaves.map((leaf) => leaf.leafHash),
          now,
        ],
      );
      await client.query(`UPDATE evidence_tree SET size = $1, frontier = $2 WHERE id = 1`, [
        tree.size,
        tree.frontier,
      ]);
      await client.query(`DELETE FROM evidence_pending WHERE seq = ANY($1::bigint[])`, [
        queued.rows.map((row) => row.seq),
      ]);
      await client.query('COMMIT');
      return leaves.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async tree(): Promise<StoredTree> {
    const rows = await this.database.query<Array<{ size: string; frontier: Buffer[] }>>(
      `SELECT size::text AS size, frontier FROM evidence_tree WHERE id = 1`,
    );
    return { size: Number(rows[0]!.size), frontier: rows[0]!.frontier };
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      // Ordered by the table's bigint columns, never by their text aliases ('10' < '9').
      `SELECT size::text AS size, root, note, signed_at, timestamp_token, signer_chain FROM evidence_checkpoint c ORDER BY c.size DESC LIMIT 1`,
    );
    return rows[0] ? checkpointOf(rows[0]) : null;
  }

  /** The checkpoint of exactly this size, if the log signed one. */
  async checkpointAt(size: number): Promise<StoredCheckpoint | null> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT size::text AS size, root, note, signed_at, timestamp_token, signer_chain FROM evidence_checkpoint WHERE size = $1`,
      [size],
    );
    return rows[0] ? checkpointOf(rows[0]) : null;
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT size::text AS size, root, note, signed_at, timestamp_token, signer_chain FROM evidence_checkpoint c ORDER BY c.size`,
    );
    return rows.map(checkpointOf);
  }

  /** Stores a checkpoint; false when one of that size exists already. */
  async addCheckpoint(checkpoint: StoredCheckpoint): Promise<boolean> {
    const rows = await this.database.query<unknown[]>(
      `INSERT INTO evidence_checkpoint (size, root, note, signed_at, timestamp_token, signer_chain)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (size) DO NOTHING RETURNING size`,
      [
        checkpoint.size,
        checkpoint.root,
        checkpoint.note,
        checkpoint.signedAt,
        checkpoint.timestamp,
        checkpoint.signerChain,
      ],
    );
    return rows.length > 0;
  }

  /** Leaves [from, from + limit), in order. */
  async leaves(from: number, limit: number): Promise<StoredLeaf[]> {
    const rows = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT leaf_index::text AS leaf_index, source, source_id::text AS source_id, leaf, leaf_hash
         FROM evidence_leaf l WHERE l.leaf_index >= $1 ORDER BY l.leaf_index LIMIT $2`,
      [from, limit],
    );
    return rows.map((row) => ({
      index: Number(row.leaf_index),
      source: row.source as 'evidence' | 'audit',
      sourceId: String(row.source_id),
      leaf: row.leaf as Buffer,
      leafHash: row.leaf_hash as Buffer,
    }));
  }

  /** A message this node sent or received: its envelope and signed documents. */
  async messageDocuments(id: string): Promise<MessageDocuments | null> {
    const sent = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT from_authority AS authority, envelope, envelope_header, envelope_digest,
              content_purged_at, receipt,
              (SELECT signed FROM evidence WHERE message_id = $1 AND direction = 'outbound'
                  AND type = 'failed' AND signed IS NOT NULL ORDER BY id DESC LIMIT 1) AS non_delivery
         FROM outbound_message WHERE id = $1`,
      [id],
    );
    if (sent[0]) {
      return {
        direction: 'outbound',
        authority: String(sent[0].authority),
        envelope: envelopeOf(sent[0]),
        receipt: (sent[0].receipt as Buffer | null) ?? null,
        nonDelivery: (sent[0].non_delivery as Buffer | null) ?? null,
        ...(await this.retrievalEvidence(id, 'outbound')),
      };
    }
    const received = await this.database.query<Array<Record<string, unknown>>>(
      `SELECT to_authority AS authority, envelope, envelope_header, envelope_digest,
              content_purged_at, receipt
         FROM inbound_message WHERE id = $1`,
      [id],
    );
    if (!received[0]) return null;
    return {
      direction: 'inbound',
      authority: String(received[0].authority),
      envelope: envelopeOf(received[0]),
      receipt: (received[0].receipt as Buffer | null) ?? null,
      nonDelivery: null,
      ...(await this.retrievalEvidence(id, 'inbound')),
    };
  }

  /** The first signed retrieval and non-retrieval evidence on a message's timeline. */
  private async retrievalEvidence(
    id: string,
    direction: 'outbound' | 'inbound',
  ): Promise<{ retrieval: Buffer | null; nonRetrieval: Buffer | null }> {
    const rows = await this.database.query<Array<{ type: string; signed: Buffer }>>(
      `SELECT DISTINCT ON (e.type) type, signed FROM evidence e
        WHERE e.message_id = $1 AND e.direction = $2 AND e.type IN ('retrieved', 'not-retrieved')
          AND e.signed IS NOT NULL
        ORDER BY e.type, e.id`,
      [id, direction],
    );
    const signed = (type: string) => rows.find((row) => row.type === type)?.signed ?? null;
    return { retrieval: signed('retrieved'), nonRetrieval: signed('not-retrieved') };
  }

  /** A case held at this node: its state and its messages (the request first), or null. */
  async caseMessages(id: string): Promise<{ state: string; messages: string[] } | null> {
    const cases = await this.database.query<Array<{ state: string }>>(
      `SELECT state FROM case_file WHERE id = $1`,
      [id],
    );
    if (!cases[0]) return null;
    const rows = await this.database.query<Array<{ envelope_id: string }>>(
      `SELECT envelope_id FROM case_message WHERE case_id = $1 ORDER BY envelope_id`,
      [id],
    );
    return { state: cases[0].state, messages: [id, ...rows.map((row) => row.envelope_id)] };
  }

  /** The leaves about one message below `size`, in order. */
  async messageLeaves(
    id: string,
    direction: 'outbound' | 'inbound',
    size: number,
  ): Promise<Array<{ index: number; leaf: Buffer }>> {
    const rows = await this.database.query<Array<{ leaf_index: string; leaf: Buffer }>>(
      `SELECT l.leaf_index::text AS leaf_index, l.leaf
         FROM evidence_leaf l JOIN evidence e ON l.source = 'evidence' AND e.id = l.source_id
        WHERE e.message_id = $1 AND e.direction = $2 AND l.leaf_index < $3
        ORDER BY l.leaf_index`,
      [id, direction, size],
    );
    return rows.map((row) => ({ index: Number(row.leaf_index), leaf: row.leaf }));
  }

  /** Every leaf hash below `size`, in order (for proofs). */
  async leafHashes(size: number): Promise<Buffer[]> {
    const rows = await this.database.query<Array<{ leaf_hash: Buffer }>>(
      `SELECT l.leaf_hash FROM evidence_leaf l WHERE l.leaf_index < $1 ORDER BY l.leaf_index`,
      [size],
    );
    return rows.map((row) => row.leaf_hash);
  }

  /** The source rows of some leaves, as they are now (a deleted row is absent). */
  async sources(
    refs: Array<{ source: 'evidence' | 'audit'; sourceId: string }>,
  ): Promise<Map<string, EvidenceSource>> {
    return readSources(
      (sql, values) => this.database.query<Array<Record<string, unknown>>>(sql, values),
      refs,
    );
  }
}

/** The rows behind some leaves, keyed `<source>:<id>`, through the caller's connection. */
async function readSources(
  query: (sql: string, values: unknown[]) => Promise<Array<Record<string, unknown>>>,
  refs: Array<{ source: 'evidence' | 'audit'; sourceId: string }>,
): Promise<Map<string, EvidenceSource>> {
  const ids = (source: string) =>
    refs.filter((ref) => ref.source === source).map((ref) => ref.sourceId);
  const found = new Map<string, EvidenceSource>();
  for (const row of await query(EVIDENCE_SOURCE_SQL, [ids('evidence')])) {
    found.set(`evidence:${String(row.id)}`, messageSource(row));
  }
  for (const row of await query(AUDIT_SOURCE_SQL, [ids('audit')])) {
    found.set(`audit:${String(row.id)}`, auditSource(row));
  }
  return found;
}

function envelopeOf(row: Record<string, unknown>): MessageDocuments['envelope'] {
  if (row.content_purged_at === null) return row.envelope as Buffer;
  return {
    header: String(row.envelope_header),
    envelopeDigest: String(row.envelope_digest),
    purgedAt: row.content_purged_at as Date,
  };
}

function messageSource(row: Record<string, unknown>): EvidenceSource {
  return {
    log: 'message',
    id: String(row.id),
    messageId: String(row.message_id),
    direction: row.direction as 'outbound' | 'inbound',
    type: String(row.type),
    atMicros: String(row.at_micros),
    reason: (row.reason as string | null) ?? null,
    detail: (row.detail as string | null) ?? null,
    signed: (row.signed as Buffer | null) ?? null,
  };
}

function auditSource(row: Record<string, unknown>): EvidenceSource {
  return {
    log: 'audit',
    id: String(row.id),
    atMicros: String(row.at_micros),
    principal: (row.principal as string | null) ?? null,
    role: (row.role as string | null) ?? null,
    action: String(row.action),
    outcome: String(row.outcome),
    status: Number(row.status),
    reason: String(row.reason),
    client: (row.client as string | null) ?? null,
  };
}

function checkpointOf(row: Record<string, unknown>): StoredCheckpoint {
  return {
    size: Number(row.size),
    root: row.root as Buffer,
    note: String(row.note),
    signedAt: row.signed_at as Date,
    timestamp: (row.timestamp_token as Buffer | null) ?? null,
    signerChain: (row.signer_chain as string[] | null) ?? null,
  };
}
