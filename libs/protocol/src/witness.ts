import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseJsonObjectStrict } from '@comity/jose';
import type { KeySuite } from '@comity/pki';
import {
  CheckpointError,
  noteKeyIdOfType,
  notePublicKeyBytes,
  parseSignedCheckpoint,
  signNoteBytes,
  verifyNoteBytes,
  type Checkpoint,
} from './checkpoint';
import { HASH_BYTES, verifyConsistency } from './merkle-tree';

/**
 * Witnessing between peers (protocol §10.2). Each node announces its latest evidence checkpoint
 * to its peers with a consistency proof from the last size the peer cosigned; the peer, as a
 * witness, keeps a consistency-proven history of every peer's checkpoints, cosigns each one it
 * accepts (C2SP tlog-cosignature) and answers with its latest cosigned checkpoint. A log that
 * signs two inconsistent checkpoints is caught by every witness that saw one of them.
 */

export const CHECKPOINT_MEDIA_TYPE = 'application/comity-checkpoint+json';
export const COSIGNATURE_MEDIA_TYPE = 'application/comity-cosignature+json';

/** Ed25519 cosignatures are C2SP cosignature/v1 (type 0x04); RSA ones a type of this protocol. */
const ED25519_COSIGNATURE_TYPE = Buffer.of(0x04);
const RSA_COSIGNATURE_TYPE = Buffer.concat([
  Buffer.of(0xff),
  Buffer.from('comity-rsa-pss-sha256-cosignature/v1', 'ascii'),
]);
const DASH = '\u2014 ';
const MAX_NOTE_BYTES = 8192;
const MAX_PROOF_HASHES = 64;

/** The federation's name as it appears in note names: no white space, no plus sign. */
function federationSegment(federation: string): string {
  return federation.replace(/[\s+]+/g, '-');
}

/** The name of a State's evidence log: its checkpoints' origin and log key name. */
export function evidenceLogName(federation: string, state: string): string {
  return `${federationSegment(federation)}/${state}/evidence`;
}

/** The key name a State's gateway cosigns its peers' checkpoints under. */
export function witnessName(federation: string, state: string): string {
  return `${federationSegment(federation)}/${state}/witness`;
}

/** The State a log or witness name belongs to in this federation, or null. */
export function stateOfName(
  federation: string,
  name: string,
  role: 'evidence' | 'witness',
): string | null {
  const match = /^(.+)\/([A-Z]{2})\/(evidence|witness)$/.exec(name);
  if (!match || match[1] !== federationSegment(federation) || match[3] !== role) return null;
  return match[2]!;
}

export interface WitnessKey {
  keyName: string;
  suite: KeySuite;
  key: KeyObject;
}

function cosignatureType(suite: KeySuite): Buffer {
  return suite === 'rsa' ? RSA_COSIGNATURE_TYPE : ED25519_COSIGNATURE_TYPE;
}

function cosignedMessage(text: string, seconds: bigint): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${seconds}\n${text}`, 'utf8');
}

function noteTextOf(note: string): string {
  return note.slice(0, note.lastIndexOf('\n\n') + 1);
}

/** The witness's key id over its public key (type 0x04 for Ed25519, as C2SP specifies). */
export function cosignatureKeyId(witness: WitnessKey): Buffer {
  return noteKeyIdOfType(
    witness.keyName,
    cosignatureType(witness.suite),
    notePublicKeyBytes(witness.suite, witness.key),
  );
}

/**
 * Adds the witness's cosignature line to a signed checkpoint (the line of an earlier
 * cosignature by the same witness is replaced). The timestamp is in whole seconds.
 */
export function cosignCheckpoint(note: string, witness: WitnessKey, at: Date): string {
  const parsed = parseSignedCheckpoint(note);
  const seconds = BigInt(Math.floor(at.getTime() / 1000));
  const text = noteTextOf(note);
  const signature = signNoteBytes(witness.suite, witness.key, cosignedMessage(text, seconds));
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(seconds);
  const blob = Buffer.concat([cosignatureKeyId(witness), time, signature]);
  const others = parsed.signatures
    .filter((line) => line.keyName !== witness.keyName)
    .map(
      (line) =>
        `${DASH}${line.keyName} ${Buffer.concat([line.keyId, line.signature]).toString('base64')}\n`,
    );
  return `${text}\n${others.join('')}${DASH}${witness.keyName} ${blob.toString('base64')}\n`;
}

/** Checks the witness's cosignature on a note; returns the checkpoint and when it was cosigned. */
export function verifyCosignature(
  note: string,
  witness: WitnessKey,
): { checkpoint: Checkpoint; cosignedAt: Date } {
  const parsed = parseSignedCheckpoint(note);
  const publicKey = witness.key.type === 'private' ? createPublicKey(witness.key) : witness.key;
  const keyId = cosignatureKeyId({ ...witness, key: publicKey });
  const line = parsed.signatures.find(
    (candidate) => candidate.keyName === witness.keyName && candidate.keyId.equals(keyId),
  );
  if (!line || line.signature.length < 9) {
    throw new CheckpointError(`the checkpoint carries no cosignature of ${witness.keyName}`);
  }
  const seconds = line.signature.readBigUInt64BE(0);
  const signed = cosignedMessage(noteTextOf(note), seconds);
  if (!verifyNoteBytes(witness.suite, publicKey, signed, line.signature.subarray(8))) {
    throw new CheckpointError(`the cosignature of ${witness.keyName} does not verify`);
  }
  return { checkpoint: parsed.checkpoint, cosignedAt: new Date(Number(seconds) * 1000) };
}

/** A log's announcement of its latest checkpoint to a peer. */
export interface CheckpointAnnouncement {
  v: 1;
  /** The log's signed note. */
  checkpoint: string;
  /** The size the consistency proof starts from: the last size this peer cosigned, or 0. */
  oldSize: number;
  /** RFC 9162 consistency proof from oldSize to the checkpoint's size (base64 hashes). */
  consistency: Buffer[];
}

/** A witness's answer: its latest checkpoint of the log, cosigned. */
export interface CosignatureReply {
  v: 1;
  checkpoint: string;
}

export class WitnessMessageError extends Error {
  override readonly name = 'WitnessMessageError';
}

export function encodeCheckpointAnnouncement(announcement: CheckpointAnnouncement): Buffer {
  return Buffer.from(
    JSON.stringify({
      v: 1,
      checkpoint: announcement.checkpoint,
      oldSize: announcement.oldSize,
      consistency: announcement.consistency.map((hash) => hash.toString('base64')),
    }),
    'utf8',
  );
}

function readNote(source: Record<string, unknown>): string {
  const note = source.checkpoint;
  if (typeof note !== 'string' || Buffer.byteLength(note) > MAX_NOTE_BYTES) {
    throw new WitnessMessageError(
      `checkpoint must be a signed note of at most ${MAX_NOTE_BYTES} bytes`,
    );
  }
  try {
    parseSignedCheckpoint(note);
  } catch (error) {
    throw new WitnessMessageError(`checkpoint: ${(error as Error).message}`);
  }
  return note;
}

function readMembers(bytes: Uint8Array, what: string, members: string[]): Record<string, unknown> {
  let source: Record<string, unknown>;
  try {
    source = parseJsonObjectStrict(bytes, what);
  } catch (error) {
    throw new WitnessMessageError((error as Error).message);
  }
  const extra = Object.keys(source).filter((name) => !members.includes(name));
  if (extra.length > 0) throw new WitnessMessageError(`${what}: unknown member ${extra[0]}`);
  if (source.v !== 1) throw new WitnessMessageError(`${what}: v must be 1`);
  return source;
}

export function readCheckpointAnnouncement(bytes: Uint8Array): CheckpointAnnouncement {
  const source = readMembers(bytes, 'checkpoint announcement', [
    'v',
    'checkpoint',
    'oldSize',
    'consistency',
  ]);
  const checkpoint = readNote(source);
  const { oldSize, consistency } = source;
  if (typeof oldSize !== 'number' || !Number.isSafeInteger(oldSize) || oldSize < 0) {
    throw new WitnessMessageError('oldSize must be a non-negative integer');
  }
  if (!Array.isArray(consistency) || consistency.length > MAX_PROOF_HASHES) {
    throw new WitnessMessageError(
      `consistency must be a list of at most ${MAX_PROOF_HASHES} hashes`,
    );
  }
  const hashes = consistency.map((entry) => {
    const hash = typeof entry === 'string' ? Buffer.from(entry, 'base64') : Buffer.alloc(0);
    if (hash.length !== HASH_BYTES || hash.toString('base64') !== entry) {
      throw new WitnessMessageError('consistency holds base64 SHA-256 hashes only');
    }
    return hash;
  });
  return { v: 1, checkpoint, oldSize, consistency: hashes };
}

export function encodeCosignatureReply(note: string): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, checkpoint: note }), 'utf8');
}

export function readCosignatureReply(bytes: Uint8Array): CosignatureReply {
  const source = readMembers(bytes, 'cosignature', ['v', 'checkpoint']);
  return { v: 1, checkpoint: readNote(source) };
}

/** What a witness knows of one log: its latest accepted checkpoint and earlier roots by size. */
export interface WitnessedLog {
  latest: Checkpoint | null;
  rootAt(size: number): Buffer | undefined;
}

export type WitnessVerdict =
  /** Consistent with everything seen: store it and cosign it. */
  | { verdict: 'accept' }
  /** Already seen (the same size and root). */
  | { verdict: 'known' }
  /** Cannot be checked against what the witness holds (the proof starts elsewhere): answer with the latest. */
  | { verdict: 'stale'; detail: string }
  /** Proven inconsistent with a checkpoint the log signed before: a forked log. */
  | { verdict: 'fork'; detail: string; conflicting: Checkpoint };

/**
 * The witness's decision on an announced checkpoint whose signature was already verified.
 * A checkpoint is accepted only with a valid consistency proof from the latest one accepted;
 * the same size with another root, or a proof that fails, is a fork.
 */
export function judgeCheckpoint(
  known: WitnessedLog,
  announced: { checkpoint: Checkpoint; oldSize: number; consistency: Buffer[] },
): WitnessVerdict {
  const { checkpoint } = announced;
  const latest = known.latest;
  if (latest === null) return { verdict: 'accept' };
  if (checkpoint.size <= latest.size) {
    const seen = checkpoint.size === latest.size ? latest.root : known.rootAt(checkpoint.size);
    if (seen === undefined) {
      return {
        verdict: 'stale',
        detail: `size ${checkpoint.size} is older than the latest seen (${latest.size})`,
      };
    }
    if (seen.equals(checkpoint.root)) return { verdict: 'known' };
    return {
      verdict: 'fork',
      detail: `two checkpoints of size ${checkpoint.size} with different roots`,
      conflicting: { ...checkpoint, root: seen },
    };
  }
  if (announced.oldSize !== latest.size) {
    return {
      verdict: 'stale',
      detail: `the proof starts at size ${announced.oldSize}, the latest seen is ${latest.size}`,
    };
  }
  const consistent = verifyConsistency(
    latest.size,
    checkpoint.size,
    latest.root,
    checkpoint.root,
    announced.consistency,
  );
  if (consistent) return { verdict: 'accept' };
  return {
    verdict: 'fork',
    detail: `size ${checkpoint.size} is not an extension of the checkpoint of size ${latest.size} seen before`,
    conflicting: latest,
  };
}
