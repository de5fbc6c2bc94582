import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHmac,
  timingSafeEqual,
} from 'node:crypto';

export type JweContentEncryptionAlgorithm =
  'A128GCM' | 'A192GCM' | 'A256GCM' | 'A128CBC-HS256' | 'A192CBC-HS384' | 'A256CBC-HS512';

interface ContentSpec {
  mode: 'gcm' | 'cbc-hmac';
  /** Length of the whole content encryption key (MAC key + AES key for CBC-HS). */
  keyBytes: number;
  ivBytes: number;
  tagBytes: number;
  hash?: string;
}

const SPECS: Readonly<Record<JweContentEncryptionAlgorithm, ContentSpec>> = {
  A128GCM: { mode: 'gcm', keyBytes: 16, ivBytes: 12, tagBytes: 16 },
  A192GCM: { mode: 'gcm', keyBytes: 24, ivBytes: 12, tagBytes: 16 },
  A256GCM: { mode: 'gcm', keyBytes: 32, ivBytes: 12, tagBytes: 16 },
  'A128CBC-HS256': { mode: 'cbc-hmac', keyBytes: 32, ivBytes: 16, tagBytes: 16, hash: 'sha256' },
  'A192CBC-HS384': { mode: 'cbc-hmac', keyBytes: 48, ivBytes: 16, tagBytes: 24, hash: 'sha384' },
  'A256CBC-HS512': { mode: 'cbc-hmac', keyBytes: 64, ivBytes: 16, tagBytes: 32, hash: 'sha512' },
};

/** Node's name for AES-GCM with a key of `keyBytes` (16, 24 or 32). */
export function gcmCipher(keyBytes: number): CipherGCMTypes {
  return `aes-${keyBytes * 8}-gcm` as CipherGCMTypes;
}

export function isContentEncryptionAlgorithm(enc: string): enc is JweContentEncryptionAlgorithm {
  return Object.hasOwn(SPECS, enc);
}

export function contentSpec(enc: JweContentEncryptionAlgorithm): Readonly<ContentSpec> {
  return SPECS[enc];
}

export function encryptContent(
  enc: JweContentEncryptionAlgorithm,
  cek: Buffer,
  iv: Buffer,
  plaintext: Uint8Array,
  aad: Buffer,
): { ciphertext: Buffer; tag: Buffer } {
  const spec = SPECS[enc];
  if (spec.mode === 'gcm') {
    const cipher = createCipheriv(gcmCipher(spec.keyBytes), cek, iv, {
      authTagLength: spec.tagBytes,
    });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext, tag: cipher.getAuthTag() };
  }
  const half = spec.keyBytes / 2;
  const cipher = createCipheriv(`aes-${half * 8}-cbc`, cek.subarray(half), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cbcHmacTag(spec, cek.subarray(0, half), aad, iv, ciphertext) };
}

/** Throws (any error) on failure; the caller reports one undifferentiated error. */
export function decryptContent(
  enc: JweContentEncryptionAlgorithm,
  cek: Buffer,
  iv: Buffer,
  ciphertext: Buffer,
  tag: Buffer,
  aad: Buffer,
): Buffer {
  const spec = SPECS[enc];
  if (spec.mode === 'gcm') {
    const decipher = createDecipheriv(gcmCipher(spec.keyBytes), cek, iv, {
      authTagLength: spec.tagBytes,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  }
  // RFC 7518 §5.2.2.2: authenticate before touching the padding (no padding oracle).
  const half = spec.keyBytes / 2;
  const expected = cbcHmacTag(spec, cek.subarray(0, half), aad, iv, ciphertext);
  if (tag.length !== expected.length || !timingSafeEqual(tag, expected)) {
    throw new Error('authentication tag mismatch');
  }
  const decipher = createDecipheriv(`aes-${half * 8}-cbc`, cek.subarray(half), iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

// RFC 7518 §5.2.2.1: HMAC(MAC_KEY, AAD || IV || ciphertext || AL), truncated to half.
function cbcHmacTag(
  spec: ContentSpec,
  macKey: Buffer,
  aad: Buffer,
  iv: Buffer,
  ciphertext: Buffer,
): Buffer {
  const aadBits = Buffer.alloc(8);
  aadBits.writeBigUInt64BE(BigInt(aad.length) * 8n, 0);
  return createHmac(spec.hash ?? 'sha256', macKey)
    .update(aad)
    .update(iv)
    .update(ciphertext)
    .update(aadBits)
    .digest()
    .subarray(0, spec.tagBytes);
}
