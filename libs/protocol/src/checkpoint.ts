import { createHash, createPublicKey, sign, verify, constants, type KeyObject } from 'node:crypto';
import type { KeySuite } from '@comity/pki';
import { HASH_BYTES } from './merkle-tree';

/**
 * Checkpoints of a node's evidence log: C2SP tlog-checkpoint bodies in C2SP signed notes.
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n          (the note text)
 *   \n
 *   — <key name> <base64(key id[4] || signature)>\n     (one line per signer)
 *
 * Ed25519 keys sign as signed-note type 0x01 (key id: SHA-256(name || 0x0A || 0x01 || public
 * key)[:4]). RSA gateway keys sign RSASSA-PSS with SHA-256 (salt 32 bytes) under the type
 * 0xff || "comity-rsa-pss-sha256" (key id: SHA-256(name || 0x0A || type || SPKI DER)[:4]),
 * an identifier of this protocol's own, outside the types C2SP assigns.
 */

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export interface NoteSignature {
  keyName: string;
  keyId: Buffer;
  signature: Buffer;
}

export interface SignedCheckpoint {
  checkpoint: Checkpoint;
  /** The whole signed note, as stored and exchanged. */
  note: string;
  signatures: NoteSignature[];
}

const DASH = '\u2014 ';
const RSA_TYPE = Buffer.concat([Buffer.of(0xff), Buffer.from('comity-rsa-pss-sha256', 'ascii')]);
const KEY_NAME = /^[^\s+\u2014][^\s+]*$/u;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL = /[\x00-\x1f]/;
// eslint-disable-next-line no-control-regex -- a note may hold newlines and nothing else below U+0020
const CONTROL_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f]/;

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/** The note text of a checkpoint (what the signatures cover). */
export function checkpointText(checkpoint: Checkpoint): string {
  if (!/^[^\s][^\n]*$/.test(checkpoint.origin) || CONTROL.test(checkpoint.origin)) {
    throw new CheckpointError('a checkpoint origin is one line of text');
  }
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) {
    throw new CheckpointError('a checkpoint size is a non-negative integer');
  }
  if (checkpoint.root.length !== HASH_BYTES) {
    throw new CheckpointError('a checkpoint root is a SHA-256 hash');
  }
  return `${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.root.toString('base64')}\n`;
}

function signatureType(suite: KeySuite): Buffer {
  return suite === 'rsa' ? RSA_TYPE : Buffer.of(0x01);
}

/** A note key's public bytes: the raw 32 bytes for Ed25519, the SPKI DER for RSA. */
export function notePublicKeyBytes(suite: KeySuite, key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (suite === 'rsa') return publicKey.export({ type: 'spki', format: 'der' });
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url');
}

/** The 4-byte key id binding a signature line to (name, signature type, public key). */
export function noteKeyId(keyName: string, suite: KeySuite, key: KeyObject): Buffer {
  return noteKeyIdOfType(keyName, signatureType(suite), notePublicKeyBytes(suite, key));
}

/** SHA-256(name || 0x0A || signature type || public key bytes)[:4]. */
export function noteKeyIdOfType(keyName: string, type: Buffer, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(keyName, 'utf8')
    .update(Buffer.of(0x0a))
    .update(type)
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** Signs note bytes with a gateway key: Ed25519, or RSASSA-PSS SHA-256 with a 32-byte salt. */
export function signNoteBytes(suite: KeySuite, key: KeyObject, text: Buffer): Buffer {
  return suite === 'rsa'
    ? sign('sha256', text, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    : sign(null, text, key);
}

/** Verifies what signNoteBytes signed; false on any failure. */
export function verifyNoteBytes(
  suite: KeySuite,
  key: KeyObject,
  text: Buffer,
  signature: Buffer,
): boolean {
  try {
    return suite === 'rsa'
      ? verify(
          'sha256',
          text,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
          signature,
        )
      : verify(null, text, key, signature);
  } catch {
    return false;
  }
}

/** Signs a checkpoint as `keyName` (a node: its State's gateway signing key). */
export function signCheckpoint(
  checkpoint: Checkpoint,
  signer: { keyName: string; suite: KeySuite; key: KeyObject },
): SignedCheckpoint {
  if (!KEY_NAME.test(signer.keyName)) throw new CheckpointError('a key name is one word');
  const text = checkpointText(checkpoint);
  const keyId = noteKeyId(signer.keyName, signer.suite, signer.key);
  const signature = signNoteBytes(signer.suite, signer.key, Buffer.from(text, 'utf8'));
  const note = `${text}\n${DASH}${signer.keyName} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
  return { checkpoint, note, signatures: [{ keyName: signer.keyName, keyId, signature }] };
}

/** Splits a signed note and reads its checkpoint; signatures are not checked here. */
export function parseSignedCheckpoint(note: string): SignedCheckpoint {
  if (CONTROL_BUT_NEWLINE.test(note))
    throw new CheckpointError('a note holds no control characters');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n'))
    throw new CheckpointError('a signed note ends with signature lines');
  const text = note.slice(0, split + 1);
  const lines = text.split('\n');
  if (lines.length < 4) throw new CheckpointError('a checkpoint has an origin, a size and a root');
  const [origin, sizeText, rootText] = lines;
  if (!/^(0|[1-9]\d{0,15})$/.test(sizeText ?? ''))
    throw new CheckpointError('the checkpoint size is not a decimal number');
  const root = Buffer.from(rootText ?? '', 'base64');
  if (root.length !== HASH_BYTES || root.toString('base64') !== rootText) {
    throw new CheckpointError('the checkpoint root is not a base64 SHA-256 hash');
  }
  const signatures = note
    .slice(split + 2, -1)
    .split('\n')
    .map((line): NoteSignature => {
      if (!line.startsWith(DASH))
        throw new CheckpointError('a signature line starts with an em dash');
      const [keyName, encoded, extra] = line.slice(DASH.length).split(' ');
      const bytes = Buffer.from(encoded ?? '', 'base64');
      if (
        !keyName ||
        extra !== undefined ||
        bytes.length < 5 ||
        bytes.toString('base64') !== encoded
      ) {
        throw new CheckpointError('a signature line is "— <name> <base64>"');
      }
      return { keyName, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
    });
  const checkpoint = { origin: origin!, size: Number(sizeText), root };
  return { checkpoint, note, signatures };
}

/**
 * Reads a signed checkpoint and checks the signature of `keyName` with `key`: the one line of
 * that name and key id must verify (a line of another key is ignored, as C2SP requires).
 */
export function verifySignedCheckpoint(
  note: string,
  verifier: { keyName: string; suite: KeySuite; key: KeyObject },
): Checkpoint {
  const parsed = parseSignedCheckpoint(note);
  const keyId = noteKeyId(verifier.keyName, verifier.suite, verifier.key);
  const line = parsed.signatures.find(
    (candidate) => candidate.keyName === verifier.keyName && candidate.keyId.equals(keyId),
  );
  if (!line)
    throw new CheckpointError(
      `the checkpoint carries no signature of ${verifier.keyName} with this key`,
    );
  const text = Buffer.from(note.slice(0, note.lastIndexOf('\n\n') + 1), 'utf8');
  if (!verifyNoteBytes(verifier.suite, verifier.key, text, line.signature)) {
    throw new CheckpointError(
      `the signature of ${verifier.keyName} on the checkpoint does not verify`,
    );
  }
  return parsed.checkpoint;
}
