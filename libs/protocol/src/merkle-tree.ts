import { createHash } from 'node:crypto';

/**
 * RFC 6962 (RFC 9162 §2.1) Merkle trees over SHA-256: leaf hash SHA-256(0x00 || data), interior
 * node SHA-256(0x01 || left || right), the tree of n leaves split at the largest power of two
 * smaller than n. Inclusion and consistency proofs are generated and verified as RFC 9162
 * §2.1.3-2.1.4 describe them (the algorithms of the C2SP tlog-proof and CT ecosystems).
 */

export const HASH_BYTES = 32;

export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(0)).update(data).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** The root of the empty tree: SHA-256 of nothing. */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root over leaf hashes [from, to). */
export function rootOf(
  leafHashes: readonly Uint8Array[],
  from = 0,
  to = leafHashes.length,
): Buffer {
  const n = to - from;
  if (n === 0) return emptyRoot();
  if (n === 1) return Buffer.from(leafHashes[from]!);
  const k = split(n);
  return nodeHash(rootOf(leafHashes, from, from + k), rootOf(leafHashes, from + k, to));
}

/** The audit path of leaf `index` in the tree of the first `size` leaf hashes. */
export function inclusionProof(
  leafHashes: readonly Uint8Array[],
  index: number,
  size = leafHashes.length,
): Buffer[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size || size > leafHashes.length) {
    throw new RangeError(`no leaf ${index} in a tree of ${size}`);
  }
  const path = (m: number, from: number, to: number): Buffer[] => {
    const n = to - from;
    if (n === 1) return [];
    const k = split(n);
    return m < k
      ? [...path(m, from, from + k), rootOf(leafHashes, from + k, to)]
      : [...path(m - k, from + k, to), rootOf(leafHashes, from, from + k)];
  };
  return path(index, 0, size);
}

/** The proof that the tree of `size1` leaves is a prefix of the tree of `size2` (RFC 9162 §2.1.4). */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  size1: number,
  size2 = leafHashes.length,
): Buffer[] {
  if (size1 < 0 || size1 > size2 || size2 > leafHashes.length) {
    throw new RangeError(`no consistency proof from ${size1} to ${size2}`);
  }
  if (size1 === 0 || size1 === size2) return [];
  const subproof = (m: number, from: number, to: number, complete: boolean): Buffer[] => {
    const n = to - from;
    if (m === n) return complete ? [] : [rootOf(leafHashes, from, to)];
    const k = split(n);
    return m <= k
      ? [...subproof(m, from, from + k, complete), rootOf(leafHashes, from + k, to)]
      : [...subproof(m - k, from + k, to, false), rootOf(leafHashes, from, from + k)];
  };
  return subproof(size1, 0, size2, true);
}

/** Whether `proof` shows leaf `index` with `leaf` (its leaf hash) in the tree of `size` with `root`. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return false;
  }
  if (leaf.length !== HASH_BYTES || proof.some((node) => node.length !== HASH_BYTES)) return false;
  let fn = index;
  let sn = size - 1;
  let hash: Buffer = Buffer.from(leaf);
  for (const node of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hash = nodeHash(node, hash);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      hash = nodeHash(hash, node);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hash.equals(root);
}

/** Whether `proof` shows the tree (`size1`, `root1`) to be a prefix of (`size2`, `root2`). */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2)) return false;
  if (size1 < 0 || size2 < size1) return false;
  if (proof.some((node) => node.length !== HASH_BYTES)) return false;
  if (size1 === size2) return proof.length === 0 && Buffer.from(root1).equals(root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [Buffer.from(root1), ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const node of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(node, fr);
      sr = nodeHash(node, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, node);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(root1) && sr.equals(root2) && sn === 0;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * The right edge of a tree: the roots of its perfect subtrees, largest first. Appending a leaf
 * and computing the root need only these (at most log2(n) hashes), so a log keeps this
 * "compact range" instead of re-reading every leaf.
 */
export class TreeFrontier {
  private constructor(
    private size: number,
    private readonly nodes: Buffer[],
  ) {}

  static empty(): TreeFrontier {
    return new TreeFrontier(0, []);
  }

  /** A frontier as stored: the tree size and its subtree roots, largest first. */
  static restore(size: number, nodes: readonly Uint8Array[]): TreeFrontier {
    const expected = size.toString(2).replace(/0/g, '').length;
    if (nodes.length !== expected) {
      throw new Error(
        `a frontier of a tree of ${size} holds ${expected} hashes, not ${nodes.length}`,
      );
    }
    return new TreeFrontier(
      size,
      nodes.map((node) => Buffer.from(node)),
    );
  }

  get treeSize(): number {
    return this.size;
  }

  /** The subtree roots, largest first (what to store). */
  get hashes(): Buffer[] {
    return this.nodes.map((node) => Buffer.from(node));
  }

  append(leaf: Uint8Array): void {
    let hash: Buffer = Buffer.from(leaf);
    let size = this.size;
    // Merge while the lowest subtree is as large as the new one (the bits of size).
    while (size % 2 === 1) {
      hash = nodeHash(this.nodes.pop()!, hash);
      size = Math.floor(size / 2);
    }
    this.nodes.push(hash);
    this.size += 1;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return emptyRoot();
    let hash = this.nodes[this.nodes.length - 1]!;
    for (let i = this.nodes.length - 2; i >= 0; i--) hash = nodeHash(this.nodes[i]!, hash);
    return hash;
  }
}
