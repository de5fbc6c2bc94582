import {
  type KeyObject,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  sign,
} from 'node:crypto';
import {
  JWS_ALGORITHMS,
  type JwsAlgorithm,
  type JwsVerifyPolicy,
  encodeBase64Url,
  parseJwsCompact,
  signJwsCompact,
  verifyJwsCompact,
} from './index';

const payload = Buffer.from('{"request":"extradition","id":42}');
const ed25519 = generateKeyPairSync('ed25519');
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const hmacKeys: Record<string, KeyObject> = {
  HS256: createSecretKey(randomBytes(32)),
  HS384: createSecretKey(randomBytes(48)),
  HS512: createSecretKey(randomBytes(64)),
};

function keysFor(alg: JwsAlgorithm): { signing: KeyObject; verifying: KeyObject } {
  const secret = hmacKeys[alg];
  if (secret !== undefined) return { signing: secret, verifying: secret };
  const pair =
    alg === 'EdDSA'
      ? ed25519
      : alg === 'ES256'
        ? p256
        : alg === 'ES384'
          ? p384
          : alg === 'ES512'
            ? p521
            : rsa;
  return { signing: pair.privateKey, verifying: pair.publicKey };
}

const edPolicy: JwsVerifyPolicy = { algorithms: ['EdDSA'] };

/** A token with the given header, signed correctly with the Ed25519 key. */
function edToken(header: Record<string, unknown>, body: Uint8Array = payload): string {
  const input = `${encodeBase64Url(Buffer.from(JSON.stringify(header)))}.${encodeBase64Url(body)}`;
  return `${input}.${encodeBase64Url(sign(null, Buffer.from(input), ed25519.privateKey))}`;
}

/** A token whose header is the given raw JSON text, signed correctly with the Ed25519 key. */
function edTokenWithRawHeader(headerJson: string | Buffer): string {
  const input = `${encodeBase64Url(Buffer.from(headerJson))}.${encodeBase64Url(payload)}`;
  return `${input}.${encodeBase64Url(sign(null, Buffer.from(input), ed25519.privateKey))}`;
}

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code ?? `untyped: ${String(error)}`;
  }
  return 'accepted';
}

describe('signJwsCompact / verifyJwsCompact round trip', () => {
  test.each(JWS_ALGORITHMS.map((alg) => [alg]))('%s', (alg) => {
    const { signing, verifying } = keysFor(alg);
    const token = signJwsCompact(payload, signing, { alg, kid: 'k1' });
    const parsed = verifyJwsCompact(token, verifying, { algorithms: [alg] });
    expect(parsed.payload).toEqual(payload);
    expect(parsed.header).toEqual({ alg, kid: 'k1' });
    expect(parsed.signingInput.toString('latin1')).toBe(token.slice(0, token.lastIndexOf('.')));
    // Bytes and an already parsed token give the same result.
    expect(verifyJwsCompact(Buffer.from(token), verifying, { algorithms: [alg] }).payload).toEqual(
      payload,
    );
    expect(
      verifyJwsCompact(parseJwsCompact(token), verifying, { algorithms: [alg] }).payload,
    ).toEqual(payload);
  });

  test('ES signatures are raw r||s of exactly the curve size', () => {
    for (const [alg, bytes] of [
      ['ES256', 64],
      ['ES384', 96],
      ['ES512', 132],
    ] as const) {
      const { signing } = keysFor(alg);
      expect(parseJwsCompact(signJwsCompact(payload, signing, { alg })).signature.length).toBe(
        bytes,
      );
    }
  });

  test('an empty payload round-trips', () => {
    const token = signJwsCompact(Buffer.alloc(0), ed25519.privateKey, { alg: 'EdDSA' });
    expect(verifyJwsCompact(token, ed25519.publicKey, edPolicy).payload.length).toBe(0);
  });
});

describe('tampering with a valid JWS', () => {
  const token = signJwsCompact(payload, ed25519.privateKey, { alg: 'EdDSA', kid: 'state-a' });
  const parts = token.split('.');
  const partNames = ['header', 'payload', 'signature'];
  const flips = parts.flatMap((part, index) =>
    [...Buffer.from(part, 'base64url').keys()].map(
      (byte) => [partNames[index], byte, index] as const,
    ),
  );

  test.each(flips)('flipping %s byte %i is rejected', (_name, byte, index) => {
    const bytes = Buffer.from(parts[index] ?? '', 'base64url');
    bytes[byte] = (bytes[byte] ?? 0) ^ 0x01;
    const tampered = parts
      .map((part, i) => (i === index ? encodeBase64Url(bytes) : part))
      .join('.');
    expect(codeOf(() => verifyJwsCompact(tampered, ed25519.publicKey, edPolicy))).toMatch(
      /^(malformed|invalid-signature|unsupported-algorithm|algorithm-not-allowed)$/,
    );
  });

  test('the untouched token verifies (control)', () => {
    expect(codeOf(() => verifyJwsCompact(token, ed25519.publicKey, edPolicy))).toBe('accepted');
  });

  test('another Ed25519 key is rejected', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(codeOf(() => verifyJwsCompact(token, other, edPolicy))).toBe('invalid-signature');
  });
});

describe('algorithm rules', () => {
  test.each(['none', 'NONE', 'None'])('alg %s is never accepted', (alg) => {
    const token = `${encodeBase64Url(Buffer.from(JSON.stringify({ alg })))}.${encodeBase64Url(payload)}.`;
    expect(codeOf(() => verifyJwsCompact(token, ed25519.publicKey, edPolicy))).toBe(
      'unsupported-algorithm',
    );
    expect(codeOf(() => signJwsCompact(payload, ed25519.privateKey, { alg }))).toBe(
      'unsupported-algorithm',
    );
  });

  test('an unknown alg is unsupported', () => {
    expect(
      codeOf(() => verifyJwsCompact(edToken({ alg: 'Ed448' }), ed25519.publicKey, edPolicy)),
    ).toBe('unsupported-algorithm');
  });

  test('an alg outside the policy is not allowed', () => {
    const token = signJwsCompact(payload, p256.privateKey, { alg: 'ES256' });
    expect(codeOf(() => verifyJwsCompact(token, p256.publicKey, edPolicy))).toBe(
      'algorithm-not-allowed',
    );
  });

  test('HMAC with a public key as the secret fails (algorithm confusion)', () => {
    // The attacker MACs with the bytes of our published key and claims HS256.
    const encodings = [
      Buffer.from(p256.publicKey.export({ format: 'pem', type: 'spki' })),
      p256.publicKey.export({ format: 'der', type: 'spki' }),
    ];
    for (const keyBytes of encodings) {
      const forged = signJwsCompact(payload, createSecretKey(keyBytes), { alg: 'HS256' });
      expect(
        codeOf(() => verifyJwsCompact(forged, p256.publicKey, { algorithms: ['ES256', 'HS256'] })),
      ).toBe('key-mismatch');
    }
  });

  const mismatches: [JwsAlgorithm, KeyObject, string][] = [
    ['HS256', rsa.publicKey, 'RSA public key for HS256'],
    ['RS256', hmacKeys['HS256'] as KeyObject, 'secret key for RS256'],
    ['PS256', p256.publicKey, 'EC key for PS256'],
    ['ES256', p384.publicKey, 'P-384 key for ES256'],
    ['ES384', p256.publicKey, 'P-256 key for ES384'],
    ['ES512', rsa.publicKey, 'RSA key for ES512'],
    ['EdDSA', generateKeyPairSync('ed448').publicKey, 'Ed448 key for EdDSA'],
    ['EdDSA', generateKeyPairSync('x25519').publicKey, 'X25519 key for EdDSA'],
    ['HS384', hmacKeys['HS256'] as KeyObject, '32-byte secret for HS384 (shorter than the hash)'],
  ];
  test.each(mismatches)('%s with a %#: %s is a key mismatch', (alg, key) => {
    const token = edToken({ alg });
    expect(codeOf(() => verifyJwsCompact(token, key, { algorithms: [alg] }))).toBe('key-mismatch');
  });

  test('RSA keys below the minimum modulus are a key mismatch; the minimum is configurable', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const token = signJwsCompact(payload, rsa.privateKey, { alg: 'PS256' });
    const smallToken = edToken({ alg: 'PS256' });
    expect(
      codeOf(() => verifyJwsCompact(smallToken, small.publicKey, { algorithms: ['PS256'] })),
    ).toBe('key-mismatch');
    expect(
      codeOf(() =>
        verifyJwsCompact(token, rsa.publicKey, { algorithms: ['PS256'], minRsaModulusBits: 3072 }),
      ),
    ).toBe('key-mismatch');
    expect(codeOf(() => signJwsCompact(payload, small.privateKey, { alg: 'RS256' }))).toBe(
      'key-mismatch',
    );
  });

  test('signing needs a private key', () => {
    expect(codeOf(() => signJwsCompact(payload, ed25519.publicKey, { alg: 'EdDSA' }))).toBe(
      'key-mismatch',
    );
  });

  test('an ES256 signature in DER form instead of r||s is rejected', () => {
    const input = `${encodeBase64Url(Buffer.from('{"alg":"ES256"}'))}.${encodeBase64Url(payload)}`;
    const der = sign('sha256', Buffer.from(input), p256.privateKey);
    expect(
      codeOf(() =>
        verifyJwsCompact(`${input}.${encodeBase64Url(der)}`, p256.publicKey, {
          algorithms: ['ES256'],
        }),
      ),
    ).toBe('invalid-signature');
  });

  test('an RSA signature with a leading zero byte added is rejected', () => {
    const token = signJwsCompact(payload, rsa.privateKey, { alg: 'RS256' });
    const parsed = parseJwsCompact(token);
    const padded = `${parsed.encodedHeader}.${parsed.encodedPayload}.${encodeBase64Url(Buffer.concat([Buffer.alloc(1), parsed.signature]))}`;
    expect(codeOf(() => verifyJwsCompact(padded, rsa.publicKey, { algorithms: ['RS256'] }))).toBe(
      'invalid-signature',
    );
  });

  test('PS256 with another salt length is rejected', () => {
    const input = `${encodeBase64Url(Buffer.from('{"alg":"PS256"}'))}.${encodeBase64Url(payload)}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: rsa.privateKey,
      padding: 6,
      saltLength: 20,
    });
    expect(
      codeOf(() =>
        verifyJwsCompact(`${input}.${encodeBase64Url(signature)}`, rsa.publicKey, {
          algorithms: ['PS256'],
        }),
      ),
    ).toBe('invalid-signature');
  });
});

describe('header rules', () => {
  test.each(['jku', 'x5u', 'jwk'])('"%s" is forbidden, even when validly signed', (name) => {
    const value =
      name === 'jwk'
        ? ed25519.publicKey.export({ format: 'jwk' })
        : 'https://attacker.example/keys';
    expect(
      codeOf(() =>
        verifyJwsCompact(edToken({ alg: 'EdDSA', [name]: value }), ed25519.publicKey, edPolicy),
      ),
    ).toBe('forbidden-header');
    expect(
      codeOf(() => signJwsCompact(payload, ed25519.privateKey, { alg: 'EdDSA', [name]: value })),
    ).toBe('forbidden-header');
  });

  const critCases: [string, unknown, Record<string, unknown>, string[]][] = [
    ['an empty array', [], {}, ['exp']],
    ['not an array', 'exp', { exp: 1 }, ['exp']],
    ['a non-string entry', [7], {}, ['exp']],
    ['an empty string', [''], {}, ['']],
    ['a duplicate', ['exp', 'exp'], { exp: 1 }, ['exp']],
    ['an unknown name', ['exp'], { exp: 1 }, []],
    ['a name absent from the header', ['exp'], {}, ['exp']],
    ['a registered name', ['kid'], { kid: 'x' }, ['kid']],
  ];
  test.each(critCases)('crit with %s is rejected', (_what, crit, extra, understood) => {
    const token = edToken({ alg: 'EdDSA', crit, ...extra });
    expect(
      codeOf(() =>
        verifyJwsCompact(token, ed25519.publicKey, {
          ...edPolicy,
          understoodCriticalHeaders: understood,
        }),
      ),
    ).toBe('unknown-critical-header');
  });

  test('crit naming an understood, present header is accepted', () => {
    const token = signJwsCompact(payload, ed25519.privateKey, {
      alg: 'EdDSA',
      crit: ['exp'],
      exp: 1,
    });
    expect(
      verifyJwsCompact(token, ed25519.publicKey, {
        ...edPolicy,
        understoodCriticalHeaders: ['exp'],
      }).header,
    ).toEqual({
      alg: 'EdDSA',
      crit: ['exp'],
      exp: 1,
    });
  });

  test('b64 (unencoded payload) is unsupported', () => {
    const token = edToken({ alg: 'EdDSA', b64: false, crit: ['b64'] });
    expect(
      codeOf(() =>
        verifyJwsCompact(token, ed25519.publicKey, {
          ...edPolicy,
          understoodCriticalHeaders: ['b64'],
        }),
      ),
    ).toBe('unsupported-algorithm');
  });

  test.each(['kid', 'typ', 'cty'])('a non-string "%s" is malformed', (name) => {
    expect(
      codeOf(() =>
        verifyJwsCompact(edToken({ alg: 'EdDSA', [name]: 1 }), ed25519.publicKey, edPolicy),
      ),
    ).toBe('malformed');
  });
});

describe('strict parsing', () => {
  const good = signJwsCompact(payload, ed25519.privateKey, { alg: 'EdDSA' });
  const [h = '', p = '', s = ''] = good.split('.');
  const cases: [string, string | Buffer][] = [
    ['two parts', `${h}.${p}`],
    ['four parts', `${good}.`],
    ['an empty header', `.${p}.${s}`],
    ['padding in the signature', `${h}.${p}.${s}==`],
    ['a space in the payload', `${h}. ${p}.${s}`],
    ['a trailing newline', `${good}\n`],
    ['standard base64 characters', `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}+`],
    ['a non-ASCII character', `${h}.${p}é.${s}`],
    [
      'non-ASCII bytes',
      Buffer.concat([Buffer.from(`${h}.${p}`), Buffer.from([0xc3, 0xa9]), Buffer.from(`.${s}`)]),
    ],
    ['a part of length 1 mod 4', `${h}.${p}A.${s}`],
    [
      'non-zero trailing bits',
      edToken({ alg: 'EdDSA' }, Buffer.from('a')).replace(/\.YQ\./, '.YR.'),
    ],
    ['a JSON serialization', JSON.stringify({ protected: h, payload: p, signature: s })],
    ['an empty string', ''],
  ];
  test.each(cases)('%s is malformed', (_what, token) => {
    expect(codeOf(() => verifyJwsCompact(token, ed25519.publicKey, edPolicy))).toBe('malformed');
  });

  const headers: [string, string | Buffer][] = [
    ['duplicate "alg"', '{"alg":"HS256","alg":"EdDSA"}'],
    ['duplicate names differing only by escapes', '{"alg":"EdDSA","kid":"a","\\u006bid":"b"}'],
    ['a duplicate inside a nested object', '{"alg":"EdDSA","ext":{"a":1,"a":2}}'],
    ['an array', '["alg","EdDSA"]'],
    ['a string', '"EdDSA"'],
    ['trailing garbage', '{"alg":"EdDSA"}x'],
    ['a trailing comma', '{"alg":"EdDSA",}'],
    ['a single-quoted string', "{'alg':'EdDSA'}"],
    [
      'a leading byte-order mark',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"alg":"EdDSA"}')]),
    ],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from('{"alg":"EdDSA","kid":"'),
        Buffer.from([0xff]),
        Buffer.from('"}'),
      ]),
    ],
    ['an unpaired surrogate escape', '{"alg":"EdDSA","kid":"\\ud800"}'],
    ['a raw control character', '{"alg":"EdDSA","kid":"a\u0001"}'],
    ['no alg', '{"kid":"a"}'],
    ['a non-string alg', '{"alg":1}'],
    ['deep nesting', `{"alg":"EdDSA","x":${'['.repeat(100)}${']'.repeat(100)}}`],
  ];
  test.each(headers)('a protected header with %s is malformed', (_what, header) => {
    expect(
      codeOf(() => verifyJwsCompact(edTokenWithRawHeader(header), ed25519.publicKey, edPolicy)),
    ).toBe('malformed');
  });

  test('insignificant whitespace in the header JSON is accepted', () => {
    const token = edTokenWithRawHeader(' {\n\t"alg" : "EdDSA" ,\r\n "kid":"a" } ');
    expect(verifyJwsCompact(token, ed25519.publicKey, edPolicy).header).toEqual({
      alg: 'EdDSA',
      kid: 'a',
    });
  });

  test('a "__proto__" member stays an own data member', () => {
    const token = edTokenWithRawHeader('{"alg":"EdDSA","__proto__":{"polluted":true}}');
    const header = verifyJwsCompact(token, ed25519.publicKey, edPolicy).header;
    expect(Object.getPrototypeOf(header)).toBe(Object.prototype);
    expect(Object.hasOwn(header, '__proto__')).toBe(true);
    expect((header as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
