import { createCipheriv, createDecipheriv } from 'node:crypto';

// RFC 3394 §2.2.3.1 default initial value; node's id-aesNNN-wrap ciphers check it on unwrap.
const DEFAULT_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

function wrapCipher(kek: Buffer): string {
  return `id-aes${kek.length * 8}-wrap`;
}

export function aesKeyWrap(kek: Buffer, keyToWrap: Buffer): Buffer {
  const cipher = createCipheriv(wrapCipher(kek), kek, DEFAULT_IV);
  return Buffer.concat([cipher.update(keyToWrap), cipher.final()]);
}

/** Throws (any error) when the integrity check fails; the caller hides which step failed. */
export function aesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const decipher = createDecipheriv(wrapCipher(kek), kek, DEFAULT_IV);
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}
