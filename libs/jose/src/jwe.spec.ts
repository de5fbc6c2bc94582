import { type KeyObject, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  type JweContentEncryptionAlgorithm,
  type JweDecryptPolicy,
  type JweKeyManagementAlgorithm,
  JoseError,
  decryptJweCompact,
  decryptJweCompactWithContentKey,
  encodeBase64Url,
  encryptJweCompact,
  encryptJweCompactKeepingKey,
  parseJweCompact,
} from './index';

const plaintext = Buffer.from('Request for mutual legal assistance, file 2026/117');
const x25519 = generateKeyPairSync('x25519');
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const ENCS: JweContentEncryptionAlgorithm[] = [
  'A128GCM',
  'A192GCM',
  'A256GCM',
  'A128CBC-HS256',
  'A192CBC-HS384',
  'A256CBC-HS512',
];
const CEK_BYTES: Record<JweContentEncryptionAlgorithm, number> = {
  A128GCM: 16,
  A192GCM: 24,
  A256GCM: 32,
  'A128CBC-HS256': 32,
  'A192CBC-HS384': 48,
  'A256CBC-HS512': 64,
};

function policy(
  alg: JweKeyManagementAlgorithm,
  enc: JweContentEncryptionAlgorithm = 'A256GCM',
): JweDecryptPolicy {
  return { keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: [enc] };
}

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code ?? `untyped: ${String(error)}`;
  }
  return 'accepted';
}

/** Re-encodes a token with its protected header replaced (so the AAD no longer matches). */
function withHeader(token: string, header: Record<string, unknown>): string {
  const parts = token.split('.');
  parts[0] = encodeBase64Url(Buffer.from(JSON.stringify(header)));
  return parts.join('.');
}

describe('encryptJweCompact / decryptJweCompact round trip', () => {
  const recipients: [
    JweKeyManagementAlgorithm,
    string,
    KeyObject,
    KeyObject | ((enc: JweContentEncryptionAlgorithm) => KeyObject),
  ][] = [
    ['ECDH-ES', 'X25519', x25519.privateKey, x25519.publicKey],
    ['ECDH-ES', 'P-256', p256.privateKey, p256.publicKey],
    ['ECDH-ES+A128KW', 'P-384', p384.privateKey, p384.publicKey],
    ['ECDH-ES+A192KW', 'P-521', p521.privateKey, p521.publicKey],
    ['ECDH-ES+A256KW', 'X25519', x25519.privateKey, x25519.publicKey],
    ['ECDH-ES+A256KW', 'P-256', p256.privateKey, p256.publicKey],
    ['RSA-OAEP', 'RSA 2048', rsa.privateKey, rsa.publicKey],
    ['RSA-OAEP-256', 'RSA 2048', rsa.privateKey, rsa.publicKey],
  ];
  const cases = recipients.flatMap(([alg, keyName, privateKey, publicKey]) =>
    ENCS.map((enc) => [alg, enc, keyName, privateKey, publicKey] as const),
  );

  test.each(cases)('%s with %s (%s)', (alg, enc, _keyName, privateKey, publicKey) => {
    const token = encryptJweCompact(plaintext, publicKey as KeyObject, { alg, enc, kid: 'k1' });
    const { header, plaintext: opened } = decryptJweCompact(token, privateKey, policy(alg, enc));
    expect(opened).toEqual(plaintext);
    expect(header).toMatchObject({ alg, enc, kid: 'k1' });
  });

  const symmetric = (
    ['A128KW', 'A192KW', 'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW'] as const
  ).flatMap((alg) => ENCS.map((enc) => [alg, enc] as const));
  test.each(symmetric)('%s with %s', (alg, enc) => {
    const kek = createSecretKey(randomBytes(Number(alg.slice(1, 4)) / 8));
    const token = encryptJweCompact(plaintext, kek, { alg, enc });
    expect(decryptJweCompact(token, kek, policy(alg, enc)).plaintext).toEqual(plaintext);
  });

  test.each(ENCS.map((enc) => [enc]))('dir with %s', (enc) => {
    const cek = createSecretKey(randomBytes(CEK_BYTES[enc]));
    const token = encryptJweCompact(plaintext, cek, { alg: 'dir', enc });
    expect(token.split('.')[1]).toBe('');
    expect(decryptJweCompact(token, cek, policy('dir', enc)).plaintext).toEqual(plaintext);
  });

  test('apu and apv take part in the key derivation', () => {
    const token = encryptJweCompact(plaintext, x25519.publicKey, {
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      apu: encodeBase64Url(Buffer.from('State A')),
      apv: encodeBase64Url(Buffer.from('State B')),
    });
    expect(decryptJweCompact(token, x25519.privateKey, policy('ECDH-ES+A256KW')).plaintext).toEqual(
      plaintext,
    );
  });

  test('bytes, strings and parsed tokens decrypt alike; an empty plaintext works', () => {
    const token = encryptJweCompact(Buffer.alloc(0), x25519.publicKey, {
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
    });
    expect(
      decryptJweCompact(Buffer.from(token), x25519.privateKey, policy('ECDH-ES+A256KW')).plaintext
        .length,
    ).toBe(0);
    expect(
      decryptJweCompact(parseJweCompact(token), x25519.privateKey, policy('ECDH-ES+A256KW'))
        .plaintext.length,
    ).toBe(0);
  });
});

describe('the sender keeping the content key', () => {
  it.each([
    ['ECDH-ES+A256KW', x25519.publicKey],
    ['ECDH-ES', x25519.publicKey],
    ['RSA-OAEP-256', rsa.publicKey],
  ] as const)('%s: the key handed back opens the JWE, as the recipient does', (alg, key) => {
    const { token, cek } = encryptJweCompactKeepingKey(plaintext, key, { alg, enc: 'A256GCM' });
    expect(cek).toHaveLength(32);
    const allowed = policy(alg);
    expect(decryptJweCompactWithContentKey(token, cek, allowed).plaintext).toEqual(plaintext);
    const privateKey = alg === 'RSA-OAEP-256' ? rsa.privateKey : x25519.privateKey;
    expect(decryptJweCompact(token, privateKey, allowed).plaintext).toEqual(plaintext);
  });

  it('refuses a wrong, short or disallowed content key with the same errors as a recipient', () => {
    const { token, cek } = encryptJweCompactKeepingKey(plaintext, x25519.publicKey, {
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
    });
    const allowed = policy('ECDH-ES+A256KW');
    const codeOf = (action: () => unknown): string => {
      try {
        action();
      } catch (error) {
        if (error instanceof JoseError) return error.code;
        throw error;
      }
      return 'accepted';
    };
    expect(codeOf(() => decryptJweCompactWithContentKey(token, randomBytes(32), allowed))).toBe(
      'decryption-failed',
    );
    expect(codeOf(() => decryptJweCompactWithContentKey(token, cek.subarray(0, 16), allowed))).toBe(
      'key-mismatch',
    );
    expect(codeOf(() => decryptJweCompactWithContentKey(token, cek, policy('RSA-OAEP-256')))).toBe(
      'algorithm-not-allowed',
    );
  });

  it('checks the key-management part a recipient would, though it does not use it', () => {
    const { token, cek } = encryptJweCompactKeepingKey(plaintext, x25519.publicKey, {
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
    });
    const allowed = policy('ECDH-ES+A256KW');
    const parts = token.split('.');
    const withEncryptedKey = (bytes: number) =>
      [parts[0], encodeBase64Url(randomBytes(bytes)), ...parts.slice(2)].join('.');
    expect(() => decryptJweCompactWithContentKey(withEncryptedKey(39), cek, allowed)).toThrow(
      'JWE encrypted key for ECDH-ES+A256KW must be 40 bytes, got 39',
    );
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    delete header['epk'];
    const withoutEpk = [encodeBase64Url(Buffer.from(JSON.stringify(header))), ...parts.slice(1)];
    expect(() => decryptJweCompactWithContentKey(withoutEpk.join('.'), cek, allowed)).toThrow(
      'JWE header "epk" must be a JSON object for ECDH-ES+A256KW',
    );
  });
});

describe('tampering with a valid JWE', () => {
  const partNames = ['header', 'encrypted key', 'IV', 'ciphertext', 'tag'];
  const tokens: [string, string, KeyObject, JweDecryptPolicy][] = [
    ['ECDH-ES+A256KW X25519', encryptJweCompact(plaintext, x25519.publicKey, { alg: 'ECDH-ES+A256KW', enc: 'A256GCM' }), x25519.privateKey, policy('ECDH-ES+A256KW')],
    ['RSA-OAEP-256', encryptJweCompact(plaintext, rsa.publicKey, { alg: 'RSA-OAEP-256', enc: 'A256GCM' }), rsa.privateKey, policy('RSA-OAEP-256')],
    ['A256KW CBC-HS512', encryptJweCompact(plaintext, createSecretKey(Buffer.alloc(32, 7)), { alg: 'A256KW', enc: 'A256CBC-HS512' }), createSecretKey(Buffer.alloc(32, 7)), policy('A256KW', 'A256CBC-HS512')],
  ]; // prettier-ignore
  const flips = tokens.flatMap(([name, token, key, decryptPolicy]) =>
    token
      .split('.')
      .flatMap((part, index) =>
        [...Buffer.from(part, 'base64url').keys()].map(
          (byte) => [name, partNames[index], byte, token, index, key, decryptPolicy] as const,
        ),
      ),
  );

  test.each(flips)(
    '%s: flipping %s byte %i is rejected',
    (_name, _part, byte, token, index, key, decryptPolicy) => {
      const parts = token.split('.');
      const bytes = Buffer.from(parts[index] ?? '', 'base64url');
      bytes[byte] = (bytes[byte] ?? 0) ^ 0x01;
      parts[index] = encodeBase64Url(bytes);
      expect(codeOf(() => decryptJweCompact(parts.join('.'), key, decryptPolicy))).toMatch(
        /^(malformed|decryption-failed|invalid-key|unsupported-algorithm|algorithm-not-allowed)$/,
      );
    },
  );

  test.each(tokens)(
    '%s: the untouched token decrypts (control)',
    (_name, token, key, decryptPolicy) => {
      expect(decryptJweCompact(token, key, decryptPolicy).plaintext).toEqual(plaintext);
    },
  );

  test('a wrong key of the right type fails with decryption-failed', () => {
    const [, x25519Token] = tokens[0] ?? [];
    const [, rsaToken] = tokens[1] ?? [];
    const otherX = generateKeyPairSync('x25519').privateKey;
    const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(
      codeOf(() => decryptJweCompact(x25519Token ?? '', otherX, policy('ECDH-ES+A256KW'))),
    ).toBe('decryption-failed');
    expect(codeOf(() => decryptJweCompact(rsaToken ?? '', otherRsa, policy('RSA-OAEP-256')))).toBe(
      'decryption-failed',
    );
  });

  test('a bad tag and a bad encrypted key fail identically (no oracle)', () => {
    const [, token = ''] = tokens[1] ?? [];
    const messages = [1, 4].map((index) => {
      const parts = token.split('.');
      const bytes = Buffer.from(parts[index] ?? '', 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 0x01;
      parts[index] = encodeBase64Url(bytes);
      try {
        decryptJweCompact(parts.join('.'), rsa.privateKey, policy('RSA-OAEP-256'));
      } catch (error) {
        return [(error as { code: string }).code, (error as Error).message];
      }
      return ['accepted', ''];
    });
    expect(messages[0]).toEqual(['decryption-failed', 'JWE decryption failed']);
    expect(messages[1]).toEqual(messages[0]);
  });
});

describe('algorithm and header rules', () => {
  const good = encryptJweCompact(plaintext, x25519.publicKey, {
    alg: 'ECDH-ES+A256KW',
    enc: 'A256GCM',
  });
  const goodHeader = parseJweCompact(good).header;

  test('zip is refused', () => {
    expect(
      codeOf(() =>
        decryptJweCompact(
          withHeader(good, { ...goodHeader, zip: 'DEF' }),
          x25519.privateKey,
          policy('ECDH-ES+A256KW'),
        ),
      ),
    ).toBe('unsupported-algorithm');
    expect(
      codeOf(() =>
        encryptJweCompact(plaintext, x25519.publicKey, {
          alg: 'ECDH-ES+A256KW',
          enc: 'A256GCM',
          zip: 'DEF',
        }),
      ),
    ).toBe('unsupported-algorithm');
  });

  test('RSA1_5 is never supported, whatever the policy says', () => {
    const token = withHeader(
      encryptJweCompact(plaintext, rsa.publicKey, { alg: 'RSA-OAEP', enc: 'A256GCM' }),
      { alg: 'RSA1_5', enc: 'A256GCM' },
    );
    const lenient = {
      keyManagementAlgorithms: ['RSA1_5'],
      contentEncryptionAlgorithms: ['A256GCM'],
    } as unknown as JweDecryptPolicy;
    expect(codeOf(() => decryptJweCompact(token, rsa.privateKey, lenient))).toBe(
      'unsupported-algorithm',
    );
    expect(
      codeOf(() => encryptJweCompact(plaintext, rsa.publicKey, { alg: 'RSA1_5', enc: 'A256GCM' })),
    ).toBe('unsupported-algorithm');
  });

  test.each([
    ['an unknown alg', { alg: 'PBES2-HS256+A128KW', enc: 'A256GCM' }],
    ['an unknown enc', { alg: 'ECDH-ES+A256KW', enc: 'A256CTR' }],
  ])('%s is unsupported', (_what, header) => {
    expect(
      codeOf(() =>
        decryptJweCompact(
          withHeader(good, { ...goodHeader, ...header }),
          x25519.privateKey,
          policy('ECDH-ES+A256KW'),
        ),
      ),
    ).toBe('unsupported-algorithm');
  });

  test('alg or enc outside the policy is not allowed', () => {
    expect(codeOf(() => decryptJweCompact(good, x25519.privateKey, policy('ECDH-ES')))).toBe(
      'algorithm-not-allowed',
    );
    expect(
      codeOf(() => decryptJweCompact(good, x25519.privateKey, policy('ECDH-ES+A256KW', 'A128GCM'))),
    ).toBe('algorithm-not-allowed');
  });

  test.each(['jku', 'x5u', 'jwk'])('"%s" is forbidden', (name) => {
    expect(
      codeOf(() =>
        decryptJweCompact(
          withHeader(good, { ...goodHeader, [name]: 'https://attacker.example' }),
          x25519.privateKey,
          policy('ECDH-ES+A256KW'),
        ),
      ),
    ).toBe('forbidden-header');
  });

  test('crit must name understood headers', () => {
    const token = withHeader(good, { ...goodHeader, crit: ['exp'], exp: 1 });
    expect(
      codeOf(() => decryptJweCompact(token, x25519.privateKey, policy('ECDH-ES+A256KW'))),
    ).toBe('unknown-critical-header');
    // Understood and present: header checks pass, and the changed header then fails the AAD check.
    expect(
      codeOf(() =>
        decryptJweCompact(token, x25519.privateKey, {
          ...policy('ECDH-ES+A256KW'),
          understoodCriticalHeaders: ['exp'],
        }),
      ),
    ).toBe('decryption-failed');
  });

  test('the key must fit the algorithm', () => {
    expect(codeOf(() => decryptJweCompact(good, p256.privateKey, policy('ECDH-ES+A256KW')))).toBe(
      'invalid-key',
    );
    expect(codeOf(() => decryptJweCompact(good, x25519.publicKey, policy('ECDH-ES+A256KW')))).toBe(
      'key-mismatch',
    );
    expect(codeOf(() => decryptJweCompact(good, rsa.privateKey, policy('ECDH-ES+A256KW')))).toBe(
      'key-mismatch',
    );
    const rsaToken = encryptJweCompact(plaintext, rsa.publicKey, {
      alg: 'RSA-OAEP-256',
      enc: 'A256GCM',
    });
    expect(codeOf(() => decryptJweCompact(rsaToken, p256.privateKey, policy('RSA-OAEP-256')))).toBe(
      'key-mismatch',
    );
    expect(
      codeOf(() =>
        decryptJweCompact(rsaToken, rsa.privateKey, {
          ...policy('RSA-OAEP-256'),
          minRsaModulusBits: 3072,
        }),
      ),
    ).toBe('key-mismatch');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(
      codeOf(() =>
        encryptJweCompact(plaintext, small.publicKey, { alg: 'RSA-OAEP-256', enc: 'A256GCM' }),
      ),
    ).toBe('key-mismatch');
    expect(
      codeOf(() =>
        encryptJweCompact(plaintext, createSecretKey(randomBytes(16)), {
          alg: 'A256KW',
          enc: 'A256GCM',
        }),
      ),
    ).toBe('key-mismatch');
    expect(
      codeOf(() =>
        encryptJweCompact(plaintext, createSecretKey(randomBytes(16)), {
          alg: 'dir',
          enc: 'A256GCM',
        }),
      ),
    ).toBe('key-mismatch');
  });

  test('members computed by the library cannot be supplied', () => {
    for (const name of ['epk', 'iv', 'tag']) {
      expect(
        codeOf(() =>
          encryptJweCompact(plaintext, x25519.publicKey, {
            alg: 'ECDH-ES+A256KW',
            enc: 'A256GCM',
            [name]: 'x',
          }),
        ),
      ).toBe('malformed');
    }
  });
});

describe('epk rules (ECDH-ES)', () => {
  const good = encryptJweCompact(plaintext, x25519.publicKey, {
    alg: 'ECDH-ES+A256KW',
    enc: 'A256GCM',
  });
  const header = parseJweCompact(good).header;
  const epk = header['epk'] as Record<string, string>;
  const p256Good = encryptJweCompact(plaintext, p256.publicKey, {
    alg: 'ECDH-ES+A256KW',
    enc: 'A256GCM',
  });
  const p256Header = parseJweCompact(p256Good).header;
  const p256Epk = p256Header['epk'] as Record<string, string>;
  const zero = encodeBase64Url(Buffer.alloc(32));
  const one = encodeBase64Url(Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]));
  const fieldPrime = encodeBase64Url(
    Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'),
  );

  const x25519Cases: [string, unknown][] = [
    ['missing', undefined],
    ['not an object', 'epk'],
    ['an EC key for an X25519 recipient', p256Epk],
    ['kty EC with crv X25519', { ...epk, kty: 'EC' }],
    ['crv X448', { ...epk, crv: 'X448' }],
    ['a private member "d"', { ...epk, d: zero }],
    ['an extra member', { ...epk, kid: 'x' }],
    ['x with padding', { ...epk, x: `${epk['x']}=` }],
    ['x of 31 bytes', { ...epk, x: encodeBase64Url(Buffer.alloc(31, 9)) }],
    [
      'x of 33 bytes',
      {
        ...epk,
        x: encodeBase64Url(
          Buffer.concat([Buffer.from(epk['x'] ?? '', 'base64url'), Buffer.alloc(1)]),
        ),
      },
    ],
    ['x equal to the field prime (non-canonical)', { ...epk, x: fieldPrime }],
    ['the all-zero point (low order)', { ...epk, x: zero }],
    ['the point u=1 (low order)', { ...epk, x: one }],
  ];
  test.each(x25519Cases)('X25519 recipient, epk %s: invalid-key', (_what, badEpk) => {
    const token = withHeader(good, { ...header, epk: badEpk });
    expect(
      codeOf(() => decryptJweCompact(token, x25519.privateKey, policy('ECDH-ES+A256KW'))),
    ).toBe('invalid-key');
  });

  const flippedY = Buffer.from(p256Epk['y'] ?? '', 'base64url');
  flippedY[31] = (flippedY[31] ?? 0) ^ 0x01;
  const p256Cases: [string, unknown][] = [
    ['an X25519 key for a P-256 recipient', epk],
    ['a P-384 curve name', { ...p256Epk, crv: 'P-384' }],
    ['a point off the curve', { ...p256Epk, y: encodeBase64Url(flippedY) }],
    ['a missing y', { kty: 'EC', crv: 'P-256', x: p256Epk['x'] }],
    [
      'a 33-byte x with a leading zero',
      {
        ...p256Epk,
        x: encodeBase64Url(
          Buffer.concat([Buffer.alloc(1), Buffer.from(p256Epk['x'] ?? '', 'base64url')]),
        ),
      },
    ],
  ];
  test.each(p256Cases)('P-256 recipient, epk with %s: invalid-key', (_what, badEpk) => {
    const token = withHeader(p256Good, { ...p256Header, epk: badEpk });
    expect(codeOf(() => decryptJweCompact(token, p256.privateKey, policy('ECDH-ES+A256KW')))).toBe(
      'invalid-key',
    );
  });

  test('non-canonical apu is malformed', () => {
    const token = withHeader(good, { ...header, apu: 'QR' });
    expect(
      codeOf(() => decryptJweCompact(token, x25519.privateKey, policy('ECDH-ES+A256KW'))),
    ).toBe('malformed');
  });
});

describe('structure', () => {
  const good = encryptJweCompact(plaintext, x25519.publicKey, {
    alg: 'ECDH-ES+A256KW',
    enc: 'A256GCM',
  });
  const direct = encryptJweCompact(plaintext, x25519.publicKey, { alg: 'ECDH-ES', enc: 'A256GCM' });
  const parts = good.split('.');
  const replace = (token: string, index: number, bytes: Buffer): string =>
    token
      .split('.')
      .map((part, i) => (i === index ? encodeBase64Url(bytes) : part))
      .join('.');

  const cases: [string, string, JweKeyManagementAlgorithm][] = [
    ['four parts', parts.slice(0, 4).join('.'), 'ECDH-ES+A256KW'],
    ['six parts', `${good}.`, 'ECDH-ES+A256KW'],
    ['padding', `${good}=`, 'ECDH-ES+A256KW'],
    ['whitespace', ` ${good}`, 'ECDH-ES+A256KW'],
    ['a 16-byte GCM IV', replace(good, 2, randomBytes(16)), 'ECDH-ES+A256KW'],
    ['a 12-byte GCM tag', replace(good, 4, randomBytes(12)), 'ECDH-ES+A256KW'],
    ['a 17-byte GCM tag', replace(good, 4, randomBytes(17)), 'ECDH-ES+A256KW'],
    ['a truncated wrapped key', replace(good, 1, randomBytes(32)), 'ECDH-ES+A256KW'],
    ['an encrypted key with direct ECDH-ES', replace(direct, 1, randomBytes(40)), 'ECDH-ES'],
    [
      'a duplicate header member',
      replace(good, 0, Buffer.from('{"alg":"ECDH-ES+A256KW","enc":"A256GCM","enc":"A128GCM"}')),
      'ECDH-ES+A256KW',
    ],
  ];
  test.each(cases)('%s is malformed', (_what, token, alg) => {
    expect(codeOf(() => decryptJweCompact(token, x25519.privateKey, policy(alg)))).toBe(
      'malformed',
    );
  });
});
