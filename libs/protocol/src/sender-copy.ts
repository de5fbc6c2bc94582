import { type KeyObject, createSecretKey, randomBytes } from 'node:crypto';
import { decryptJweCompact, encryptJweCompact, parseJweCompact } from '@comity/jose';
import { decryptFromCertificate, encryptToCertificate } from './envelope';
import { requireOnlyHeaderMembers, toProtocolError } from './error-mapping';
import type { VerifiedCertificate } from '@comity/pki';
import type { DecryptionIdentity } from './gateway-identity';
import { ProtocolError } from './protocol-error';

/**
 * The sending node's own copy of what it sent, sealed at rest: the signed content (a compact
 * JWS) encrypted under a data key the node holds, as a standard compact JWE with `alg: dir`,
 * `enc: A256GCM` and the data key's id in `kid`. The data key itself is kept wrapped to the
 * node's own encryption certificate (see `wrapDataKey`), so a copy of the database alone opens
 * nothing. One key agreement per data key instead of one per request.
 *
 * Not part of the wire protocol: nothing received from a peer is ever opened this way.
 */
export interface SenderCopyKey {
  id: string;
  secret: KeyObject;
}

const COPY_POLICY = {
  keyManagementAlgorithms: ['dir'],
  contentEncryptionAlgorithms: ['A256GCM'],
} as const;

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

export function sealSenderCopy(contentJws: string, key: SenderCopyKey): string {
  return encryptJweCompact(Buffer.from(contentJws, 'ascii'), key.secret, {
    alg: 'dir',
    enc: 'A256GCM',
    kid: key.id,
  });
}

/**
 * The data key a copy was sealed under, or null for a copy sealed to the node's certificate
 * (the form used before data keys, still opened by `decryptSenderCopy` with the node's decryption keys).
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

/** The signed content (compact JWS) of a copy: from its data key, or from the node's certificate. */
export function decryptSenderCopy(
  copy: string,
  keys: {
    dataKey: SenderCopyKey | null;
    self: DecryptionIdentity | readonly DecryptionIdentity[];
  },
): string {
  const { dataKey } = keys;
  if (dataKey === null) return decryptFromCertificate(copy, keys.self);
  try {
    const parsed = parseJweCompact(copy);
    requireOnlyHeaderMembers(parsed.header, ['alg', 'enc', 'kid'], 'the sealed copy');
    if (parsed.header['kid'] !== dataKey.id) {
      throw new ProtocolError(
        'wrong-recipient-key',
        `the sealed copy names data key ${String(parsed.header['kid'])}, not ${dataKey.id}`,
      );
    }
    const { plaintext } = decryptJweCompact(parsed, dataKey.secret, COPY_POLICY);
    if (!/^[\x21-\x7e]*$/.test(plaintext.toString('latin1'))) {
      throw new ProtocolError('malformed-content', 'the sealed copy is not a compact JWS');
    }
    return plaintext.toString('ascii');
  } catch (error) {
    throw toProtocolError(error, 'sealed copy', 'malformed-content');
  }
}
