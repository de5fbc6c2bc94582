import { type KeyObject, createSecretKey, randomBytes } from 'node:crypto';
import { decryptJweCompact, encryptJweCompact, parseJweCompact } from '@comity/jose';
import type { VerifiedCertificate } from '@comity/pki';
import { decryptFromCertificate, decryptWithContentKey, encryptToCertificate } from './envelope';
import { requireOnlyHeaderMembers, toProtocolError } from './error-mapping';
import type { DecryptionIdentity } from './gateway-identity';
import { ProtocolError } from './protocol-error';

/**
 * How a sending node reads its own request later although the envelope is encrypted to the
 * recipient only: it keeps the envelope's content encryption key (`SealedEnvelope.contentKey`),
 * sealed under a data key of its own as a compact JWE (`alg: dir`, `enc: A256GCM`, the data
 * key's id in `kid`). The data key is stored wrapped to the node's own encryption certificate
 * (`wrapDataKey`), so a copy of the database alone opens nothing. A sealed copy is under 200
 * bytes whatever the request's size, and costs no key agreement.
 *
 * Copies written before this (the content JWS encrypted to the node's own certificate) still
 * open. Not part of the wire protocol: nothing received from a peer is ever opened this way.
 */
export interface SenderCopyKey {
  id: string;
  secret: KeyObject;
}

const COPY_POLICY = {
  keyManagementAlgorithms: ['dir'],
  contentEncryptionAlgorithms: ['A256GCM'],
} as const;

const CONTENT_KEY_BYTES = 32;

export function newSenderCopyKey(id: string): SenderCopyKey {
  return { id, secret: createSecretKey(randomBytes(32)) };
}

/** The data key, encrypted to the node's own encryption certificate (a content JWE, as on the wire). */
export function wrapDataKey(key: SenderCopyKey, own: VerifiedCertificate): string {
  return encryptToCertificate(Buffer.from(key.secret.export().toString('base64url')), own);
}

export function unwrapDataKey(
  id: string,
  wrapped: string,
  self: DecryptionIdentity | readonly DecryptionIdentity[],
): SenderCopyKey {
  const encoded = decryptFromCertificate(wrapped, self);
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.length !== 32 || bytes.toString('base64url') !== encoded) {
    throw new ProtocolError('malformed-content', `data key ${id} does not unwrap to 32 bytes`);
  }
  return { id, secret: createSecretKey(bytes) };
}

/** Seals the content key of an envelope this node sends (`SealedEnvelope.contentKey`). */
export function sealSenderCopy(contentKey: Buffer, key: SenderCopyKey): string {
  if (contentKey.length !== CONTENT_KEY_BYTES) {
    throw new Error(`a content key is ${CONTENT_KEY_BYTES} bytes, not ${contentKey.length}`);
  }
  return encryptJweCompact(contentKey, key.secret, { alg: 'dir', enc: 'A256GCM', kid: key.id });
}

/**
 * The data key a copy was sealed under, or null for a copy of the earlier form (the content JWS
 * encrypted to the node's own certificate).
 */
export function senderCopyKeyId(copy: string): string | null {
  try {
    const { header } = parseJweCompact(copy);
    if (header.alg !== 'dir') return null;
    if (typeof header['kid'] !== 'string' || header['kid'].length === 0) {
      throw new ProtocolError('malformed-content', 'the sealed copy names no data key (kid)');
    }
    return header['kid'];
  } catch (error) {
    throw toProtocolError(error, 'sealed copy', 'malformed-content');
  }
}

/**
 * The signed content (compact JWS) of a request this node sent: the content key from the copy
 * and the data key it names, then the envelope's content JWE; or, for a copy of the earlier
 * form (`dataKey` null), the copy itself with the node's decryption keys.
 */
export function decryptSenderCopy(
  copy: string,
  keys: {
    dataKey: SenderCopyKey | null;
    self: DecryptionIdentity | readonly DecryptionIdentity[];
  },
  contentJwe: string,
): string {
  const { dataKey } = keys;
  if (dataKey === null) return decryptFromCertificate(copy, keys.self);
  let contentKey: Buffer;
  try {
    const parsed = parseJweCompact(copy);
    requireOnlyHeaderMembers(parsed.header, ['alg', 'enc', 'kid'], 'the sealed copy');
    if (parsed.header['kid'] !== dataKey.id) {
      throw new ProtocolError(
        'wrong-recipient-key',
        `the sealed copy names data key ${String(parsed.header['kid'])}, not ${dataKey.id}`,
      );
    }
    contentKey = decryptJweCompact(parsed, dataKey.secret, COPY_POLICY).plaintext;
    if (contentKey.length !== CONTENT_KEY_BYTES) {
      throw new ProtocolError('malformed-content', 'the sealed copy does not hold a content key');
    }
  } catch (error) {
    throw toProtocolError(error, 'sealed copy', 'malformed-content');
  }
  return decryptWithContentKey(contentJwe, contentKey);
}

/**
 * A short text the node keeps about its own cases (a case's subject, so that its clerks can
 * list and search cases without opening every envelope), sealed under a data key like a copy.
 */
export function sealNote(text: string, key: SenderCopyKey): string {
  return encryptJweCompact(Buffer.from(text, 'utf8'), key.secret, {
    alg: 'dir',
    enc: 'A256GCM',
    kid: key.id,
  });
}

/** The data key a sealed note names (`kid`). */
export function sealedNoteKeyId(note: string): string | null {
  return senderCopyKeyId(note);
}

export function openNote(note: string, key: SenderCopyKey): string {
  try {
    const parsed = parseJweCompact(note);
    requireOnlyHeaderMembers(parsed.header, ['alg', 'enc', 'kid'], 'the sealed note');
    if (parsed.header['kid'] !== key.id) {
      throw new ProtocolError('wrong-recipient-key', `the sealed note names another data key`);
    }
    return decryptJweCompact(parsed, key.secret, COPY_POLICY).plaintext.toString('utf8');
  } catch (error) {
    throw toProtocolError(error, 'sealed note', 'malformed-content');
  }
}
