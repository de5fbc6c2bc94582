import { type JsonWebKey, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { JoseError, deriveX25519SharedSecret, verifyEd25519 } from './index';

/*
 * The raw primitives under EdDSA and ECDH-ES, against Wycheproof's ed25519_test.json and
 * x25519_test.json. Node's OpenSSL 3 already rejects non-canonical Ed25519 S (malleability)
 * and non-canonical R, and refuses an all-zero X25519 result.
 */

const VECTOR_DIR = path.resolve(__dirname, '../../../test/vectors/wycheproof');

interface EddsaGroup {
  publicKeyJwk: JsonWebKey;
  tests: {
    tcId: number;
    comment: string;
    msg: string;
    sig: string;
    result: 'valid' | 'invalid' | 'acceptable';
  }[];
}
interface XdhTest {
  tcId: number;
  comment: string;
  flags: string[];
  public: string;
  private: string;
  shared: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

function load<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(VECTOR_DIR, file), 'utf8')) as T;
}

describe('Wycheproof ed25519_test.json through verifyEd25519', () => {
  const { testGroups } = load<{ testGroups: EddsaGroup[] }>('ed25519_test.json');
  const cases = testGroups.flatMap((group) =>
    group.tests.map(
      (test) => [test.tcId, test.result, test.comment, group.publicKeyJwk, test] as const,
    ),
  );

  test('the file has no "acceptable" cases to decide on', () => {
    expect(cases.filter(([, result]) => result === 'acceptable')).toEqual([]);
  });

  test.each(cases)('tcId %i (%s: %s)', (_tcId, result, _comment, jwk, test) => {
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    const verified = verifyEd25519(
      publicKey,
      Buffer.from(test.msg, 'hex'),
      Buffer.from(test.sig, 'hex'),
    );
    expect(verified).toBe(result === 'valid');
  });
});

// RFC 8410 DER wrappers around raw 32-byte X25519 keys.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

describe('Wycheproof x25519_test.json through deriveX25519SharedSecret', () => {
  const { testGroups } = load<{ testGroups: { tests: XdhTest[] }[] }>('x25519_test.json');
  const tests = testGroups.flatMap((group) => group.tests);
  const cases = tests.map((test) => [test.tcId, test.result, test.comment, test] as const);

  /*
   * "acceptable" cases, our choice: twist points and non-canonical public values are
   * computed as RFC 7748 says (the result is what Wycheproof gives); low-order public
   * values whose shared secret is all zeros are rejected with invalid-key, because such a
   * secret is known to everyone (RFC 7748 §6.1 permits the check; Comity requires it).
   */
  test.each(cases)('tcId %i (%s: %s)', (_tcId, result, _comment, test) => {
    const privateKey = createPrivateKey({
      key: Buffer.concat([X25519_PKCS8_PREFIX, Buffer.from(test.private, 'hex')]),
      format: 'der',
      type: 'pkcs8',
    });
    const publicKey = createPublicKey({
      key: Buffer.concat([X25519_SPKI_PREFIX, Buffer.from(test.public, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    const zeroShared = /^0+$/.test(test.shared);
    if (zeroShared) {
      expect(result).not.toBe('valid');
      expect(() => deriveX25519SharedSecret(privateKey, publicKey)).toThrow(JoseError);
      expect(() => deriveX25519SharedSecret(privateKey, publicKey)).toThrow(
        expect.objectContaining({ code: 'invalid-key' }),
      );
      return;
    }
    expect(result).not.toBe('invalid');
    expect(deriveX25519SharedSecret(privateKey, publicKey).toString('hex')).toBe(test.shared);
  });

  test('every all-zero shared secret in the file is flagged ZeroSharedSecret (our rejections are exactly those)', () => {
    const zero = tests.filter((test) => /^0+$/.test(test.shared)).map((test) => test.tcId);
    const flagged = tests
      .filter((test) => test.flags.includes('ZeroSharedSecret'))
      .map((test) => test.tcId);
    expect(zero).toEqual(flagged);
    expect(zero.length).toBeGreaterThan(0);
  });
});
