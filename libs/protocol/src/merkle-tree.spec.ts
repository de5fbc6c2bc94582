import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  TreeFrontier,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle-tree';

/** The leaves of RFC 6962's reference tests (certificate-transparency), as hex. */
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((hex) => leafHash(Buffer.from(hex, 'hex')));

describe('RFC 6962 Merkle trees', () => {
  it('hashes the reference leaves to the known roots', () => {
    expect(emptyRoot().toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(rootOf(CT_LEAVES.slice(0, 1)).toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(rootOf(CT_LEAVES).toString('hex')).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
  });

  it('keeps the same root in a frontier as over all the leaves, at every size', () => {
    const leaves = Array.from({ length: 70 }, () => leafHash(randomBytes(16)));
    const frontier = TreeFrontier.empty();
    expect(frontier.root()).toEqual(emptyRoot());
    leaves.forEach((leaf, index) => {
      frontier.append(leaf);
      expect(frontier.root()).toEqual(rootOf(leaves, 0, index + 1));
      const restored = TreeFrontier.restore(frontier.treeSize, frontier.hashes);
      expect(restored.root()).toEqual(frontier.root());
    });
    expect(() => TreeFrontier.restore(5, frontier.hashes)).toThrow('holds 2 hashes');
  });

  it('proves every leaf of trees of 1 to 33 leaves, and nothing else', () => {
    const leaves = Array.from({ length: 33 }, () => leafHash(randomBytes(8)));
    for (let size = 1; size <= leaves.length; size++) {
      const root = rootOf(leaves, 0, size);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(leaves, index, size);
        expect(verifyInclusion(leaves[index]!, index, size, proof, root)).toBe(true);
        expect(verifyInclusion(leaves[(index + 1) % size]!, index, size, proof, root)).toBe(
          size === 1,
        );
        expect(verifyInclusion(leaves[index]!, index + size, size, proof, root)).toBe(false);
        if (proof.length > 0) {
          const bent = proof.map((node) => Buffer.from(node));
          bent[0] = Buffer.from(bent[0]!.map((byte, i) => (i === 0 ? byte ^ 1 : byte)));
          expect(verifyInclusion(leaves[index]!, index, size, bent, root)).toBe(false);
        }
      }
    }
  });

  it('proves every prefix consistent, and refuses a forked history', () => {
    const leaves = Array.from({ length: 33 }, () => leafHash(randomBytes(8)));
    const forked = leaves.map((leaf, index) => (index === 3 ? leafHash(Buffer.from('x')) : leaf));
    for (let size2 = 1; size2 <= leaves.length; size2++) {
      const root2 = rootOf(leaves, 0, size2);
      for (let size1 = 1; size1 <= size2; size1++) {
        const proof = consistencyProof(leaves, size1, size2);
        const root1 = rootOf(leaves, 0, size1);
        expect(verifyConsistency(size1, size2, root1, root2, proof)).toBe(true);
        if (size1 > 3) {
          const forkRoot = rootOf(forked, 0, size1);
          expect(verifyConsistency(size1, size2, forkRoot, root2, proof)).toBe(false);
        }
        if (size1 < size2) {
          expect(verifyConsistency(size1, size2, root1, rootOf(leaves, 0, size2 - 1), proof)).toBe(
            false,
          );
        }
      }
    }
  });

  const vectorsPath = join(
    __dirname,
    '../../../test/vectors/merkle/transparency-dev-testdata.json',
  );
  const vectors = existsSync(vectorsPath)
    ? (JSON.parse(readFileSync(vectorsPath, 'utf8')) as {
        inclusion: Array<Record<string, unknown>>;
        consistency: Array<Record<string, unknown>>;
      })
    : { inclusion: [], consistency: [] };
  const bytes = (value: unknown): Buffer => Buffer.from(String(value ?? ''), 'base64');
  const list = (value: unknown): Buffer[] => ((value as string[] | null) ?? []).map(bytes);

  it('has the published test vectors', () => {
    expect(vectors.inclusion.length).toBeGreaterThan(20);
    expect(vectors.consistency.length).toBeGreaterThan(10);
  });

  it.each(vectors.inclusion.map((vector) => [vector.name, vector] as const))(
    'inclusion vector %s',
    (_name, vector) => {
      const ok = verifyInclusion(
        bytes(vector.leafHash),
        Number(vector.leafIdx ?? vector.leafIndex),
        Number(vector.treeSize),
        list(vector.proof),
        bytes(vector.root),
      );
      expect(ok).toBe(!vector.wantErr);
    },
  );

  it.each(vectors.consistency.map((vector) => [vector.name, vector] as const))(
    'consistency vector %s',
    (_name, vector) => {
      const ok = verifyConsistency(
        Number(vector.size1),
        Number(vector.size2),
        bytes(vector.root1),
        bytes(vector.root2),
        list(vector.proof),
      );
      expect(ok).toBe(!vector.wantErr);
    },
  );
});
