import { JoseError } from './jose-error';

// Only the unpadded URL-safe alphabet (RFC 7515 §2): padding, whitespace, '+' and '/'
// are all rejected, unlike Buffer.from(text, 'base64url') which silently skips them.
const ALPHABET = /^[A-Za-z0-9_-]*$/;

// Value of each base64url character, used to check the bits left over in the last one.
const CHAR_VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  .split('')
  .forEach((char, index) => {
    CHAR_VALUE[char.charCodeAt(0)] = index;
  });

export function encodeBase64Url(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64url');
}

/**
 * Decodes canonical base64url only. Two encodings of the same bytes would let an attacker
 * vary a signed token without breaking the signature (the receipt binds exact bytes), so
 * a length of 1 mod 4 and non-zero trailing bits are refused: re-encoding the result
 * always gives back the input.
 */
export function decodeBase64UrlStrict(text: string, what: string): Buffer {
  if (!ALPHABET.test(text)) {
    throw new JoseError(
      'malformed',
      `${what} is not base64url: only A-Z a-z 0-9 - _ are allowed, without padding or whitespace`,
    );
  }
  const remainder = text.length % 4;
  if (remainder === 1) {
    throw new JoseError('malformed', `${what} has an impossible base64url length (${text.length})`);
  }
  if (remainder !== 0) {
    // 2 chars carry 8 bits (4 spare), 3 chars carry 16 bits (2 spare); spare bits must be 0.
    const last = CHAR_VALUE[text.charCodeAt(text.length - 1)] ?? -1;
    const spareMask = remainder === 2 ? 0x0f : 0x03;
    if ((last & spareMask) !== 0) {
      throw new JoseError(
        'malformed',
        `${what} is not canonical base64url (non-zero trailing bits)`,
      );
    }
  }
  return Buffer.from(text, 'base64url');
}
