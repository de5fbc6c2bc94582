import { generateKeyPairSync } from 'node:crypto';
import * as jose from 'jose';
import { decryptJweCompact, encryptJweCompact, signJwsCompact, verifyJwsCompact } from './index';

// The wire format must be plain JOSE: the `jose` package (WebCrypto) reads what we write
// and we read what it writes.

const payload = Buffer.from(
  JSON.stringify({ request: 'extradition', requestingState: 'A', pages: 212 }),
);

describe('JWS interop with jose', () => {
  const ed25519 = generateKeyPairSync('ed25519');
  const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const cases = [
    ['EdDSA', 'Ed25519', ed25519],
    ['PS256', 'RSA 3072', rsa3072],
  ] as const;

  test.each(cases)('%s (%s): ours signs, jose verifies', async (alg, _keyName, pair) => {
    const token = signJwsCompact(payload, pair.privateKey, { alg, kid: 'state-a-2026' });
    const result = await jose.compactVerify(token, pair.publicKey, { algorithms: [alg] });
    expect(Buffer.from(result.payload)).toEqual(payload);
    expect(result.protectedHeader).toEqual({ alg, kid: 'state-a-2026' });
  });

  test.each(cases)('%s (%s): jose signs, ours verifies', async (alg, _keyName, pair) => {
    const token = await new jose.CompactSign(payload)
      .setProtectedHeader({ alg, kid: 'state-b-2026' })
      .sign(pair.privateKey);
    const parsed = verifyJwsCompact(token, pair.publicKey, { algorithms: [alg] });
    expect(parsed.payload).toEqual(payload);
    expect(parsed.header).toEqual({ alg, kid: 'state-b-2026' });
  });
});

describe('JWE interop with jose', () => {
  const x25519 = generateKeyPairSync('x25519');
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const cases = [
    ['ECDH-ES+A256KW', 'X25519', x25519],
    ['ECDH-ES+A256KW', 'P-256', p256],
    ['RSA-OAEP-256', 'RSA 3072', rsa3072],
  ] as const;

  test.each(cases)(
    '%s (%s) with A256GCM: ours encrypts, jose decrypts',
    async (alg, _keyName, pair) => {
      const token = encryptJweCompact(payload, pair.publicKey, {
        alg,
        enc: 'A256GCM',
        kid: 'state-b-enc',
      });
      const result = await jose.compactDecrypt(token, pair.privateKey, {
        keyManagementAlgorithms: [alg],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      expect(Buffer.from(result.plaintext)).toEqual(payload);
      expect(result.protectedHeader).toMatchObject({ alg, enc: 'A256GCM', kid: 'state-b-enc' });
    },
  );

  test.each(cases)(
    '%s (%s) with A256GCM: jose encrypts, ours decrypts',
    async (alg, _keyName, pair) => {
      const token = await new jose.CompactEncrypt(payload)
        .setProtectedHeader({ alg, enc: 'A256GCM', kid: 'state-a-enc' })
        .encrypt(pair.publicKey);
      const { header, plaintext } = decryptJweCompact(token, pair.privateKey, {
        keyManagementAlgorithms: [alg],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      expect(plaintext).toEqual(payload);
      expect(header).toMatchObject({ alg, enc: 'A256GCM', kid: 'state-a-enc' });
    },
  );

  test('apu/apv from jose feed our Concat KDF identically', async () => {
    const token = await new jose.CompactEncrypt(payload)
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' })
      .setKeyManagementParameters({ apu: Buffer.from('State A'), apv: Buffer.from('State B') })
      .encrypt(x25519.publicKey);
    const { plaintext } = decryptJweCompact(token, x25519.privateKey, {
      keyManagementAlgorithms: ['ECDH-ES'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    expect(plaintext).toEqual(payload);
  });
});
