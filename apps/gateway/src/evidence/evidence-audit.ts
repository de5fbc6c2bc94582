import type { KeyObject } from 'node:crypto';
import {
  CheckpointError,
  TreeFrontier,
  evidenceLeaf,
  leafHash,
  verifySignedCheckpoint,
  type EvidenceSource,
} from '@comity/protocol';
import { PkiError, type KeySuite } from '@comity/pki';
import type {
  StoredCheckpoint,
  StoredLeaf,
  StoredTree,
} from '../persistence/evidence-log.repository';

export interface EvidenceAuditReport {
  ok: boolean;
  /** Leaves checked. */
  leaves: number;
  /** Checkpoints whose signature and root were checked. */
  checkpoints: number;
  /** The first leaf found wrong, or null. */
  firstBadLeaf: number | null;
  /** What is wrong, in words (ids and codes only), or null. */
  problem: string | null;
}

/** What the audit reads, a page at a time. */
export interface EvidenceAuditSource {
  tree(): Promise<StoredTree>;
  checkpoints(): Promise<StoredCheckpoint[]>;
  leaves(from: number, limit: number): Promise<StoredLeaf[]>;
  sources(
    refs: Array<{ source: 'evidence' | 'audit'; sourceId: string }>,
  ): Promise<Map<string, EvidenceSource>>;
}

const PAGE = 5000;

/**
 * Recomputes the log from the database as it is now: every leaf from its source row (a row
 * changed or deleted after it was logged shows), every leaf hash, the tree, each signed
 * checkpoint's signature and root, and the stored right edge. Stops at the first problem and
 * names the leaf.
 */
export async function auditEvidenceLog(
  source: EvidenceAuditSource,
  signerOf: (checkpoint: StoredCheckpoint) => { keyName: string; suite: KeySuite; key: KeyObject },
): Promise<EvidenceAuditReport> {
  const checkpoints = await source.checkpoints();
  const tree = await source.tree();
  const frontier = TreeFrontier.empty();
  let checked = 0;
  let next = 0;
  const logged = new Map<string, number>();
  const bad = (leaf: number | null, problem: string): EvidenceAuditReport => ({
    ok: false,
    leaves: next,
    checkpoints: checked,
    firstBadLeaf: leaf,
    problem,
  });
  const checkCheckpointsUpTo = (size: number): EvidenceAuditReport | null => {
    while (checked < checkpoints.length && checkpoints[checked]!.size <= size) {
      const stored = checkpoints[checked]!;
      if (stored.size !== frontier.treeSize) break;
      try {
        const signed = verifySignedCheckpoint(stored.note, signerOf(stored));
        if (signed.size !== stored.size || !signed.root.equals(stored.root)) {
          return bad(
            null,
            `checkpoint ${stored.size}: the stored size or root differs from the signed note`,
          );
        }
      } catch (error) {
        if (error instanceof CheckpointError || error instanceof PkiError) {
          return bad(null, `checkpoint ${stored.size}: ${error.message}`);
        }
        throw error;
      }
      if (!frontier.root().equals(stored.root)) {
        return bad(
          Math.max(0, checkpoints[checked - 1]?.size ?? 0),
          `checkpoint ${stored.size}: the leaves no longer hash to its signed root (a leaf from ${checkpoints[checked - 1]?.size ?? 0} to ${stored.size - 1} was changed)`,
        );
      }
      checked += 1;
    }
    return null;
  };
  const early = checkCheckpointsUpTo(0);
  if (early) return early;
  for (;;) {
    const page = await source.leaves(next, PAGE);
    if (page.length === 0) break;
    const rows = await source.sources(page);
    for (const stored of page) {
      if (stored.index !== next) return bad(next, `leaf ${next} is missing`);
      const key = `${stored.source}:${stored.sourceId}`;
      const earlier = logged.get(key);
      if (earlier !== undefined) {
        return bad(
          next,
          `leaf ${next}: its ${stored.source} row ${stored.sourceId} is leaf ${earlier} already`,
        );
      }
      logged.set(key, next);
      const row = rows.get(key);
      if (!row) {
        return bad(next, `leaf ${next}: its ${stored.source} row ${stored.sourceId} was deleted`);
      }
      if (!evidenceLeaf(row).equals(stored.leaf)) {
        return bad(next, `leaf ${next}: its ${stored.source} row ${stored.sourceId} was changed`);
      }
      if (!leafHash(stored.leaf).equals(stored.leafHash)) {
        return bad(next, `leaf ${next}: its stored hash is not the hash of the leaf`);
      }
      frontier.append(stored.leafHash);
      next += 1;
      const problem = checkCheckpointsUpTo(next);
      if (problem) return problem;
    }
  }
  if (next !== tree.size) {
    return bad(next, `the tree holds ${tree.size} leaves, but leaves stop at ${next}`);
  }
  if (checked < checkpoints.length) {
    return bad(null, `checkpoint ${checkpoints[checked]!.size} is beyond the ${next} leaves`);
  }
  const edge = TreeFrontier.restore(tree.size, tree.frontier);
  if (!edge.root().equals(frontier.root())) {
    return bad(null, 'the stored right edge of the tree does not match its leaves');
  }
  return { ok: true, leaves: next, checkpoints: checked, firstBadLeaf: null, problem: null };
}
