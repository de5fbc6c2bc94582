import { randomBytes } from 'node:crypto';
import { decodeBase64UrlStrict, encodeBase64Url } from './index';

describe('base64url', () => {
  test('round-trips every length from 0 to 64', () => {
    for (let length = 0; length <= 64; length++) {
      const bytes = randomBytes(length);
      const text = encodeBase64Url(bytes);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(decodeBase64UrlStrict(text, 'part')).toEqual(bytes);
    }
  });

  test('encodes a subarray without its neighbours', () => {
    expect(encodeBase64Url(Buffer.from('xabcx').subarray(1, 4))).toBe('YWJj');
  });

  test.each([
    ['padding', 'YQ=='],
    ['a single padding character', 'YWI='],
    ['a space', 'YW Jj'],
    ['a newline', 'YWJj\n'],
    ['a "+"', 'a+bc'],
    ['a "/"', 'a/bc'],
    ['a "?"', 'YW?Jj'],
    ['length 1 mod 4', 'YWJjZ'],
    ['non-zero trailing bits (2 chars)', 'YR'],
    ['non-zero trailing bits (3 chars)', 'YWJ'],
  ])('rejects %s as malformed, naming the part', (_what, text) => {
    expect(() => decodeBase64UrlStrict(text, 'JWS payload')).toThrow(
      expect.objectContaining({
        code: 'malformed',
        message: expect.stringContaining('JWS payload'),
      }),
    );
  });

  test('accepts the canonical forms next to them', () => {
    expect(decodeBase64UrlStrict('YQ', 'x').toString()).toBe('a');
    expect(decodeBase64UrlStrict('YWI', 'x').toString()).toBe('ab');
    expect(decodeBase64UrlStrict('', 'x').length).toBe(0);
  });
});
