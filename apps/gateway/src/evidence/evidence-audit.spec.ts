import { generateKeyPairSync } from 'node:crypto';
import {
  TreeFrontier,
  evidenceLeaf,
  leafHash,
  signCheckpoint,
  type EvidenceSource,
  type MessageEvidenceSource,
} from '@comity/protocol';
import type { StoredCheckpoint, StoredLeaf } from '../persistence/evidence-log.repository';
import { auditEvidenceLog, type EvidenceAuditSource } from './evidence-audit';

const keys = generateKeyPairSync('ed25519');
const signer = {
  keyName: 'test/AT/evidence',
  suite: 'ed25519-x25519',
  key: keys.privateKey,
} as const;
const verifier = { ...signer, key: keys.publicKey };

function row(id: number): MessageEvidenceSource {
  return {
    log: 'message',
    id: String(id),
    messageId: '01900000-0000-7000-8000-000000000000',
    direction: 'outbound',
    type: id % 2 ? 'sent' : 'submitted',
    atMicros: String(1_764_000_000_000_000 + id),
    reason: null,
    detail: null,
    signed: null,
  };
}

/** A log of `n` leaves with checkpoints at `at`, held in memory like the tables hold it. */
function world(n: number, at: number[]) {
  const rows = new Map<string, EvidenceSource>();
  const leaves: StoredLeaf[] = [];
  const checkpoints: StoredCheckpoint[] = [];
  const frontier = TreeFrontier.empty();
  for (let i = 0; i < n; i++) {
    const source = row(i + 1);
    rows.set(`evidence:${source.id}`, source);
    const leaf = evidenceLeaf(source);
    leaves.push({
      index: i,
      source: 'evidence',
      sourceId: source.id,
      leaf,
      leafHash: leafHash(leaf),
    });
    frontier.append(leafHash(leaf));
    if (at.includes(i + 1)) {
      const root = frontier.root();
      const { note } = signCheckpoint({ origin: signer.keyName, size: i + 1, root }, signer);
      checkpoints.push({
        size: i + 1,
        root,
        note,
        signedAt: new Date(),
        timestamp: null,
        signerChain: null,
      });
    }
  }
  const tree = { size: frontier.treeSize, frontier: frontier.hashes };
  const source: EvidenceAuditSource = {
    tree: async () => tree,
    checkpoints: async () => checkpoints,
    leaves: async (from, limit) => leaves.filter((l) => l.index >= from).slice(0, limit),
    sources: async () => rows,
  };
  return { rows, leaves, checkpoints, tree, source };
}

describe('auditing the evidence log', () => {
  it('passes an untouched log', async () => {
    const { source } = world(20, [5, 12, 20]);
    expect(await auditEvidenceLog(source, () => verifier)).toEqual({
      ok: true,
      leaves: 20,
      checkpoints: 3,
      firstBadLeaf: null,
      problem: null,
    });
  });

  it('finds a leaf rewritten with its hash (the signed checkpoint no longer matches)', async () => {
    const { leaves, source } = world(20, [5, 12, 20]);
    const forged = evidenceLeaf({ ...row(8), type: 'delivered' });
    leaves[7] = { ...leaves[7]!, leaf: forged, leafHash: leafHash(forged) };
    const report = await auditEvidenceLog(source, () => verifier);
    // The row itself still says "submitted": the leaf no longer matches it.
    expect(report.problem).toBe('leaf 7: its evidence row 8 was changed');
    expect(report.firstBadLeaf).toBe(7);
  });

  it('finds leaves and rows rewritten together, by the checkpoint that covers them', async () => {
    const { leaves, rows, source } = world(20, [5, 12, 20]);
    const changed = { ...row(8), type: 'delivered' };
    rows.set('evidence:8', changed);
    leaves[7] = {
      ...leaves[7]!,
      leaf: evidenceLeaf(changed),
      leafHash: leafHash(evidenceLeaf(changed)),
    };
    const report = await auditEvidenceLog(source, () => verifier);
    expect(report.ok).toBe(false);
    expect(report.problem).toContain('checkpoint 12: the leaves no longer hash to its signed root');
    expect(report.firstBadLeaf).toBe(5);
  });

  it('finds a missing leaf, a hash that is not the leaf’s, and a checkpoint of another key', async () => {
    const gap = world(10, [10]);
    gap.leaves.splice(4, 1);
    expect((await auditEvidenceLog(gap.source, () => verifier)).problem).toBe('leaf 4 is missing');

    const hash = world(10, [10]);
    hash.leaves[3] = { ...hash.leaves[3]!, leafHash: Buffer.alloc(32) };
    expect((await auditEvidenceLog(hash.source, () => verifier)).problem).toBe(
      'leaf 3: its stored hash is not the hash of the leaf',
    );

    const twice = world(10, []);
    twice.leaves[6] = { ...twice.leaves[2]!, index: 6 };
    twice.tree.size = 10;
    expect((await auditEvidenceLog(twice.source, () => verifier)).problem).toBe(
      'leaf 6: its evidence row 3 is leaf 2 already',
    );

    const other = world(10, [10]);
    const stranger = generateKeyPairSync('ed25519');
    expect(
      (await auditEvidenceLog(other.source, () => ({ ...verifier, key: stranger.publicKey })))
        .problem,
    ).toBe('checkpoint 10: the checkpoint carries no signature of test/AT/evidence with this key');
  });
});
