import {
  type KeyObject,
  constants,
  createDecipheriv,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import { aesKeyUnwrap } from './aes-key-wrap';
import { decodeBase64UrlStrict } from './base64url';
import {
  type JweContentEncryptionAlgorithm,
  contentSpec,
  gcmCipher,
  isContentEncryptionAlgorithm,
} from './content-encryption';
import { concatKdf, deriveEcdhSharedSecret, importEpk } from './ecdh';
import { optionalString } from './header-rules';
import { JoseError } from './jose-error';
import { describeKey, describeKeyForMessage, requireRsaKey } from './key-types';

/** The key management half of JWE: which algorithm recovers the content key, and how. */

export type JweKeyManagementAlgorithm =
  | 'ECDH-ES'
  | 'ECDH-ES+A128KW'
  | 'ECDH-ES+A192KW'
  | 'ECDH-ES+A256KW'
  | 'RSA-OAEP'
  | 'RSA-OAEP-256'
  | 'A128KW'
  | 'A192KW'
  | 'A256KW'
  | 'A128GCMKW'
  | 'A192GCMKW'
  | 'A256GCMKW'
  | 'dir';

export interface JweHeader {
  alg: string;
  enc: string;
  [member: string]: unknown;
}

export interface ParsedJwe {
  header: JweHeader;
  encodedHeader: string;
  encryptedKey: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export type KeyManagement =
  | { kind: 'ecdh-direct' }
  | { kind: 'ecdh-kw' | 'aes-kw' | 'aes-gcm-kw'; kekBytes: number }
  | { kind: 'rsa-oaep'; hash: 'sha1' | 'sha256' }
  | { kind: 'dir' };

export const KEY_MANAGEMENT: Readonly<Record<JweKeyManagementAlgorithm, KeyManagement>> = {
  'ECDH-ES': { kind: 'ecdh-direct' },
  'ECDH-ES+A128KW': { kind: 'ecdh-kw', kekBytes: 16 },
  'ECDH-ES+A192KW': { kind: 'ecdh-kw', kekBytes: 24 },
  'ECDH-ES+A256KW': { kind: 'ecdh-kw', kekBytes: 32 },
  'RSA-OAEP': { kind: 'rsa-oaep', hash: 'sha1' },
  'RSA-OAEP-256': { kind: 'rsa-oaep', hash: 'sha256' },
  A128KW: { kind: 'aes-kw', kekBytes: 16 },
  A192KW: { kind: 'aes-kw', kekBytes: 24 },
  A256KW: { kind: 'aes-kw', kekBytes: 32 },
  A128GCMKW: { kind: 'aes-gcm-kw', kekBytes: 16 },
  A192GCMKW: { kind: 'aes-gcm-kw', kekBytes: 24 },
  A256GCMKW: { kind: 'aes-gcm-kw', kekBytes: 32 },
  dir: { kind: 'dir' },
};

export const GCM_KW_IV_BYTES = 12;
export const GCM_KW_TAG_BYTES = 16;

export function recoverContentKey(
  alg: JweKeyManagementAlgorithm,
  enc: JweContentEncryptionAlgorithm,
  parsed: ParsedJwe,
  key: KeyObject,
  minRsaModulusBits: number,
): Buffer {
  const keyBytes = contentSpec(enc).keyBytes;
  const management = KEY_MANAGEMENT[alg];
  const encryptedKey = parsed.encryptedKey;
  const expectEncryptedKeyLength = (length: number): void => {
    if (encryptedKey.length !== length) {
      throw new JoseError(
        'malformed',
        `JWE encrypted key for ${alg} must be ${length} bytes, got ${encryptedKey.length}`,
      );
    }
  };

  switch (management.kind) {
    case 'dir':
      expectEncryptedKeyLength(0);
      return requireSecret(key, keyBytes, alg).export();
    case 'ecdh-direct':
    case 'ecdh-kw': {
      if (key.type !== 'private') {
        throw new JoseError(
          'key-mismatch',
          `${alg} decryption needs a private key, got ${describeKeyForMessage(describeKey(key))}`,
        );
      }
      const ephemeral = importEpk(parsed.header['epk'], key);
      const { apu, apv } = readPartyInfo(parsed.header);
      const shared = deriveEcdhSharedSecret(key, ephemeral);
      if (management.kind === 'ecdh-direct') {
        expectEncryptedKeyLength(0);
        return concatKdf(shared, keyBytes, enc, apu, apv);
      }
      expectEncryptedKeyLength(keyBytes + 8);
      const kek = concatKdf(shared, management.kekBytes, alg, apu, apv);
      return unwrapOrRandom(keyBytes, () => aesKeyUnwrap(kek, encryptedKey));
    }
    case 'aes-kw': {
      const kek = requireSecret(key, management.kekBytes, alg).export();
      expectEncryptedKeyLength(keyBytes + 8);
      return unwrapOrRandom(keyBytes, () => aesKeyUnwrap(kek, encryptedKey));
    }
    case 'aes-gcm-kw': {
      const kek = requireSecret(key, management.kekBytes, alg);
      const iv = decodeHeaderBytes(parsed.header, 'iv', GCM_KW_IV_BYTES);
      const tag = decodeHeaderBytes(parsed.header, 'tag', GCM_KW_TAG_BYTES);
      expectEncryptedKeyLength(keyBytes);
      return unwrapOrRandom(keyBytes, () => {
        const decipher = createDecipheriv(gcmCipher(management.kekBytes), kek, iv, {
          authTagLength: GCM_KW_TAG_BYTES,
        });
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(encryptedKey), decipher.final()]);
      });
    }
    case 'rsa-oaep': {
      const modulusBits = requireRsaKey(key, minRsaModulusBits, true, alg);
      expectEncryptedKeyLength(Math.ceil(modulusBits / 8));
      return unwrapOrRandom(keyBytes, () =>
        privateDecrypt(
          { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: management.hash },
          encryptedKey,
        ),
      );
    }
  }
}

// A failed or wrong-sized unwrap yields a random key: the content tag check then fails
// exactly as it would for a tampered ciphertext.
export function unwrapOrRandom(keyBytes: number, unwrap: () => Buffer): Buffer {
  try {
    const cek = unwrap();
    if (cek.length === keyBytes) return cek;
  } catch {
    // Deliberately indistinguishable from a wrong CEK; see the function comment.
  }
  return randomBytes(keyBytes);
}

export function checkAlgorithms(header: JweHeader): {
  alg: JweKeyManagementAlgorithm;
  enc: JweContentEncryptionAlgorithm;
} {
  const { alg, enc } = header;
  if (typeof alg !== 'string' || typeof enc !== 'string') {
    throw new JoseError('malformed', 'JWE header must have string "alg" and "enc"');
  }
  if (alg === 'RSA1_5') {
    throw new JoseError(
      'unsupported-algorithm',
      'JWE algorithm RSA1_5 is never supported: PKCS#1 v1.5 decryption is open to Bleichenbacher attacks',
    );
  }
  if (!Object.hasOwn(KEY_MANAGEMENT, alg)) {
    throw new JoseError(
      'unsupported-algorithm',
      `JWE key management algorithm "${alg}" is not supported`,
    );
  }
  if (!isContentEncryptionAlgorithm(enc)) {
    throw new JoseError(
      'unsupported-algorithm',
      `JWE content encryption algorithm "${enc}" is not supported`,
    );
  }
  // Compressing before encrypting leaks content through ciphertext length (CRIME-style).
  if (Object.hasOwn(header, 'zip')) {
    throw new JoseError(
      'unsupported-algorithm',
      'JWE header "zip" is refused: compression is never used',
    );
  }
  return { alg: alg as JweKeyManagementAlgorithm, enc };
}

export function requireSecret(key: KeyObject, bytes: number, alg: string): KeyObject {
  const description = describeKey(key);
  if (description.kind !== 'secret' || description.bytes !== bytes) {
    throw new JoseError(
      'key-mismatch',
      `${alg} needs a ${bytes}-byte secret key, got ${describeKeyForMessage(description)}`,
    );
  }
  return key;
}

export function readPartyInfo(header: Record<string, unknown>): { apu: Buffer; apv: Buffer } {
  const apu = optionalString(header, 'apu');
  const apv = optionalString(header, 'apv');
  return {
    apu: apu === undefined ? Buffer.alloc(0) : decodeBase64UrlStrict(apu, 'header "apu"'),
    apv: apv === undefined ? Buffer.alloc(0) : decodeBase64UrlStrict(apv, 'header "apv"'),
  };
}

export function decodeHeaderBytes(
  header: Record<string, unknown>,
  name: string,
  bytes: number,
): Buffer {
  const text = optionalString(header, name);
  if (text === undefined) throw new JoseError('malformed', `JWE header "${name}" is required`);
  const value = decodeBase64UrlStrict(text, `header "${name}"`);
  if (value.length !== bytes) {
    throw new JoseError(
      'malformed',
      `JWE header "${name}" must be ${bytes} bytes, got ${value.length}`,
    );
  }
  return value;
}

// A producer may mark its own extension headers critical; they are by definition understood.
