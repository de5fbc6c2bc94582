import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { encodeBase64Url, encryptJweCompact, signJwsCompact } from '@comity/jose';
import { x5cOf } from '@comity/pki';
import {
  DAY_MS,
  HOUR_MS,
  contextFor,
  createTestFederation,
  envelopeWithContent,
  flipBase64UrlChar,
  issueSigningCertificate,
  partsOf,
  positionsIn,
  protocolErrorOf,
  rogueSigningChain,
  routingFor,
  sampleContent,
  sealFor,
  signRaw,
  wrapEnvelope,
  type StateCode,
  type TestFederation,
} from '../test-support/federation';
import {
  CONTENT_TYPE,
  ENVELOPE_TYPE,
  SIGNATURE_ALGORITHM,
  authenticateEnvelope,
  decryptFromCertificate,
  encryptToCertificate,
  openEnvelope,
  readUnverifiedHeader,
  sealEnvelope,
  sha256Base64Url,
  uuidV7,
  verifyContentStatement,
  verifyEnvelopeSignature,
  type ContentStatement,
  type ReasonCode,
  type RoutingHeader,
  type SealedEnvelope,
  type SigningIdentity,
} from './index';

let f: TestFederation;

beforeAll(async () => {
  f = await createTestFederation();
});

afterAll(() => f.dispose());

/** Authenticates as `self` and opens with `self`'s key: what a receiving gateway does. */
function receive(bytes: Buffer, self: StateCode = 'FR') {
  const authenticated = authenticateEnvelope(bytes, contextFor(f, self));
  return openEnvelope(authenticated, f.states[self].decryption);
}

function reasonOf(bytes: Buffer, self: StateCode = 'FR'): ReasonCode {
  return protocolErrorOf(() => receive(bytes, self)).reason;
}

function b64json(value: unknown): string {
  return encodeBase64Url(Buffer.from(JSON.stringify(value)));
}

/** A content JWS as `sealEnvelope` signs it, for any statement. */
function signContent(
  statement: ContentStatement | Record<string, unknown>,
  signer: SigningIdentity,
) {
  return signJwsCompact(Buffer.from(JSON.stringify(statement)), signer.key, {
    alg: SIGNATURE_ALGORITHM[signer.suite],
    typ: CONTENT_TYPE,
    'x5t#S256': signer.thumbprint,
  });
}

function statementOf(sealed: SealedEnvelope): ContentStatement {
  const { header } = sealed;
  return {
    v: 1,
    envelopeId: header.id,
    kind: header.kind,
    from: header.from,
    to: header.to,
    content: sampleContent(),
  };
}

/** An AT→FR envelope whose content JWE is replaced (and re-bound by a new header signature). */
function envelopeAtToFrWithJwe(contentJwe: string): Buffer {
  return envelopeWithContent(sealFor(f, 'AT', 'FR').header, contentJwe, f.states.AT.signer);
}

/** Encrypts an inner content JWS to FR with an arbitrary JWE protected header. */
function jweToFr(contentJws: string, header: Record<string, unknown> = {}): string {
  return encryptJweCompact(Buffer.from(contentJws), f.states.FR.encryptionCertificate.publicKey, {
    alg: 'ECDH-ES+A256KW',
    enc: 'A256GCM',
    cty: CONTENT_TYPE,
    'x5t#S256': f.states.FR.encryptionCertificate.sha256Thumbprint,
    ...header,
  } as { alg: string; enc: string });
}

describe('round trip: seal, authenticate, open', () => {
  test.each([
    ['AT', 'FR', 'Ed25519 → X25519'],
    ['AT', 'KE', 'Ed25519 sender → RSA recipient'],
    ['KE', 'AT', 'RSA sender → X25519 recipient'],
  ] as const)('%s → %s (%s)', (from, to, _suites) => {
    const content = sampleContent({ body: 'Ersuchen um Rechtshilfe — 🇦🇹→🇫🇷 ∑'.repeat(50) });
    const sealed = sealFor(f, from, to, { kind: 'extradition_request' }, content);

    const opened = receive(sealed.bytes, to);

    expect(opened.header).toEqual(sealed.header);
    expect(opened.sender.state).toBe(from);
    expect(opened.digest).toBe(sealed.digest);
    expect(opened.digest).toBe(sha256Base64Url(sealed.bytes));
    expect(opened.contentJws).toBe(sealed.contentJws);
    expect(opened.statement).toEqual({
      v: 1,
      envelopeId: sealed.header.id,
      kind: 'extradition_request',
      from: sealed.header.from,
      to: sealed.header.to,
      content,
    });
    expect(sealed.header.contentDigest).toBe(sha256Base64Url(partsOf(sealed.bytes).contentJwe));
  });

  it('writes exactly the wrapper members comity, header and content', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    expect(Object.keys(JSON.parse(sealed.bytes.toString('utf8')))).toEqual([
      'comity',
      'header',
      'content',
    ]);
  });

  test.each([
    ['AT', 'FR', 'EdDSA', 'ECDH-ES+A256KW'],
    ['KE', 'AT', 'PS256', 'ECDH-ES+A256KW'],
    ['AT', 'KE', 'EdDSA', 'RSA-OAEP-256'],
  ] as const)('%s → %s uses %s and %s with A256GCM', (from, to, signatureAlg, keyAlg) => {
    const { headerJws, contentJwe } = partsOf(sealFor(f, from, to).bytes);
    const outer = JSON.parse(Buffer.from(headerJws.split('.')[0]!, 'base64url').toString());
    const encryption = JSON.parse(Buffer.from(contentJwe.split('.')[0]!, 'base64url').toString());
    expect(outer).toEqual({
      alg: signatureAlg,
      typ: ENVELOPE_TYPE,
      x5c: f.states[from].signer.x5c,
    });
    expect(encryption).toMatchObject({
      alg: keyAlg,
      enc: 'A256GCM',
      cty: CONTENT_TYPE,
      'x5t#S256': f.states[to].encryptionCertificate.sha256Thumbprint,
    });
  });

  it('opens a reply that names the request it answers', () => {
    const request = sealFor(f, 'AT', 'FR');
    const reply = sealFor(f, 'FR', 'AT', {
      kind: 'reply',
      thread: request.header.thread,
      inReplyTo: request.header.id,
    });
    expect(receive(reply.bytes, 'AT').header.inReplyTo).toBe(request.header.id);
  });

  it('refuses to seal to an encryption certificate of another State, or a signing certificate', () => {
    const routing = routingFor(f, 'AT', 'FR');
    const seal = (recipient = f.states.KE.encryptionCertificate) =>
      sealEnvelope({ routing, content: sampleContent(), signer: f.states.AT.signer, recipient });
    expect(() => seal()).toThrow("the encryption certificate is not FR's");
    expect(() => seal(f.states.FR.signingCertificate)).toThrow(
      "the encryption certificate is not FR's",
    );
  });

  it('readUnverifiedHeader reads the claimed header without checking the signature', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const { headerJws, contentJwe } = partsOf(sealed.bytes);
    const forged = `${headerJws.slice(0, headerJws.lastIndexOf('.'))}.${encodeBase64Url(Buffer.alloc(64))}`;
    expect(readUnverifiedHeader(wrapEnvelope({ headerJws: forged, contentJwe }))).toEqual(
      sealed.header,
    );
  });

  it('verifyEnvelopeSignature checks the sender and the chain, not recipient or freshness', () => {
    const sealed = sealFor(f, 'AT', 'FR', {
      created: new Date(f.now.getTime() - 3 * DAY_MS).toISOString(),
      expires: new Date(f.now.getTime() - 2 * DAY_MS).toISOString(),
    });
    const signed = verifyEnvelopeSignature(sealed.bytes, f.verifier, f.now);
    expect(signed.sender.state).toBe('AT');
    expect(signed.header).toEqual(sealed.header);
  });
});

describe('tampering with the wire bytes', () => {
  let sealed: SealedEnvelope;
  let headerParts: string[];
  let jweParts: string[];

  beforeAll(() => {
    sealed = sealFor(f, 'AT', 'FR');
    const { headerJws, contentJwe } = partsOf(sealed.bytes);
    headerParts = headerJws.split('.');
    jweParts = contentJwe.split('.');
  });

  function withHeaderPart(index: number, value: string): Buffer {
    const parts = [...headerParts];
    parts[index] = value;
    return wrapEnvelope({ headerJws: parts.join('.'), contentJwe: jweParts.join('.') });
  }

  function withJwePart(index: number, value: string): Buffer {
    const parts = [...jweParts];
    parts[index] = value;
    return wrapEnvelope({ headerJws: headerParts.join('.'), contentJwe: parts.join('.') });
  }

  it('accepts the untampered envelope rebuilt from its parts (the helpers change nothing)', () => {
    expect(withHeaderPart(0, headerParts[0]!)).toEqual(sealed.bytes);
    expect(receive(withJwePart(0, jweParts[0]!)).header).toEqual(sealed.header);
  });

  it('outer protected header, same meaning in other bytes (members reordered) → invalid-signature', () => {
    const header = JSON.parse(Buffer.from(headerParts[0]!, 'base64url').toString()) as object;
    const reordered = Object.fromEntries(Object.entries(header).reverse());
    expect(reasonOf(withHeaderPart(0, b64json(reordered)))).toBe('invalid-signature');
  });

  it('outer protected header, any flipped character → rejected, never accepted', () => {
    // A flip may break the JSON, a member name, typ, alg or the x5c DER; each has its reason.
    const expected: ReasonCode[] = [
      'invalid-signature',
      'malformed-envelope',
      'forbidden-header',
      'algorithm-not-allowed',
      'certificate-untrusted',
    ];
    const unexpected = positionsIn(headerParts[0]!, 60)
      .map((position) => ({
        position,
        reason: reasonOf(withHeaderPart(0, flipBase64UrlChar(headerParts[0]!, position))),
      }))
      .filter(({ reason }) => !expected.includes(reason));
    expect(unexpected).toEqual([]);
  });

  it('outer payload (routing header), any flipped character → invalid-signature', () => {
    for (const position of positionsIn(headerParts[1]!, 40)) {
      const reason = reasonOf(withHeaderPart(1, flipBase64UrlChar(headerParts[1]!, position)));
      expect({ position, reason }).toEqual({ position, reason: 'invalid-signature' });
    }
  });

  it('outer payload re-encoded with a changed recipient authority → invalid-signature', () => {
    const changed = { ...sealed.header, to: { state: 'FR', authority: 'fr-other-authority' } };
    expect(reasonOf(withHeaderPart(1, b64json(changed)))).toBe('invalid-signature');
  });

  it('outer signature, any flipped character → invalid-signature', () => {
    for (const position of positionsIn(headerParts[2]!, 20)) {
      const reason = reasonOf(withHeaderPart(2, flipBase64UrlChar(headerParts[2]!, position)));
      expect({ position, reason }).toEqual({ position, reason: 'invalid-signature' });
    }
  });

  test.each([
    ['empty', ''],
    ['truncated by 3 bytes', 'TRUNC'],
    ['all zero', 'ZERO'],
  ])('outer signature %s → invalid-signature', (_name, kind) => {
    const signature = Buffer.from(headerParts[2]!, 'base64url');
    const replaced =
      kind === ''
        ? ''
        : encodeBase64Url(kind === 'TRUNC' ? signature.subarray(3) : Buffer.alloc(64));
    expect(reasonOf(withHeaderPart(2, replaced))).toBe('invalid-signature');
  });

  test.each([
    [0, 'JWE protected header'],
    [1, 'JWE encrypted key'],
    [2, 'JWE initialization vector'],
    [3, 'JWE ciphertext'],
    [4, 'JWE authentication tag'],
  ])('%s: %s, any flipped character → content-digest-mismatch', (index) => {
    for (const position of positionsIn(jweParts[index]!, 10)) {
      const reason = reasonOf(withJwePart(index, flipBase64UrlChar(jweParts[index]!, position)));
      expect({ position, reason }).toEqual({ position, reason: 'content-digest-mismatch' });
    }
  });

  test.each([
    [
      0,
      'JWE protected header',
      [
        'malformed-envelope',
        'forbidden-header',
        'wrong-recipient-key',
        'algorithm-not-allowed',
        'decryption-failed',
      ],
    ],
    [1, 'JWE encrypted key', ['decryption-failed']],
    [2, 'JWE initialization vector', ['decryption-failed']],
    [3, 'JWE ciphertext', ['decryption-failed']],
    [4, 'JWE authentication tag', ['decryption-failed']],
  ] as const)(
    '%s: %s flipped and the header re-signed to match the digest → decryption refuses it',
    (index, _part, expected) => {
      const unexpected = positionsIn(jweParts[index]!, 10)
        .map((position) => {
          const parts = [...jweParts];
          parts[index] = flipBase64UrlChar(jweParts[index]!, position);
          return { position, reason: reasonOf(envelopeAtToFrWithJwe(parts.join('.'))) };
        })
        .filter(({ reason }) => !(expected as readonly ReasonCode[]).includes(reason));
      expect(unexpected).toEqual([]);
    },
  );

  it('a JWE with its tag removed, or a part dropped, even re-signed → rejected', () => {
    const noTag = [...jweParts.slice(0, 4), ''].join('.');
    expect(reasonOf(envelopeAtToFrWithJwe(noTag))).toBe('malformed-envelope');
    const fourParts = jweParts.slice(0, 4).join('.');
    expect(reasonOf(envelopeAtToFrWithJwe(fourParts))).toBe('malformed-envelope');
  });

  test.each([
    ['the version', (text: string) => text.replace('"comity":1', '"comity":2')],
    ['the version as a string', (text: string) => text.replace('"comity":1', '"comity":"1"')],
    ['a member name', (text: string) => text.replace('"header"', '"Header"')],
    ['a closing brace', (text: string) => `${text.slice(0, -1)}]`],
    ['a quote', (text: string) => text.replace('"content":"', '"content":\'')],
    [
      'a space inside the header string',
      (text: string) => text.replace('"header":"ey', '"header":" ey'),
    ],
    ['padding appended to the content', (text: string) => text.replace(/"}$/, '="}')],
  ])('wrapper JSON, %s changed → malformed-envelope', (_name, change) => {
    const text = sealed.bytes.toString('utf8');
    const changed = change(text);
    expect(changed).not.toBe(text);
    expect(reasonOf(Buffer.from(changed))).toBe('malformed-envelope');
  });

  it('raw garbage → malformed-envelope', () => {
    const garbage = [
      Buffer.alloc(0),
      Buffer.from('garbage'),
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      Buffer.from('null'),
      Buffer.from('[]'),
      Buffer.from('"a.b.c"'),
      Buffer.from('{}'),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), sealed.bytes]),
      Buffer.from(sealed.bytes.toString('utf8').replace('{', '{\u0000')),
      Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 7919) % 256)),
    ];
    for (const bytes of garbage) {
      expect(reasonOf(bytes)).toBe('malformed-envelope');
    }
  });
});

describe('the wrapper', () => {
  function wrapperReason(wrapper: unknown): ReasonCode {
    return reasonOf(Buffer.from(JSON.stringify(wrapper)));
  }

  let header: string;
  let content: string;

  beforeAll(() => {
    ({ headerJws: header, contentJwe: content } = partsOf(sealFor(f, 'AT', 'FR').bytes));
  });

  test.each([
    ['an unknown member', () => ({ comity: 1, header, content, note: 'x' })],
    ['a second content', () => ({ comity: 1, header, content, contents: [content] })],
    ['no comity member', () => ({ header, content })],
    ['no header', () => ({ comity: 1, content })],
    ['no content', () => ({ comity: 1, header })],
    ['a header that is not a string', () => ({ comity: 1, header: header.split('.'), content })],
    ['a content that is null', () => ({ comity: 1, header, content: null })],
  ])('with %s → malformed-envelope', (_name, wrapper) => {
    expect(wrapperReason(wrapper())).toBe('malformed-envelope');
  });

  it('with a member given twice → malformed-envelope (no "last one wins" ambiguity)', () => {
    const other = partsOf(sealFor(f, 'AT', 'FR').bytes).contentJwe;
    const text = `{"comity":1,"header":"${header}","content":"${content}","content":"${other}"}`;
    expect(reasonOf(Buffer.from(text))).toBe('malformed-envelope');
  });

  it('names the unknown member in the message', () => {
    const error = protocolErrorOf(() =>
      receive(Buffer.from(JSON.stringify({ comity: 1, header, content, note: 'x' }))),
    );
    expect(error.message).toContain('"note"');
  });

  test.each([
    ['members reordered', () => `{"header":"${header}","content":"${content}","comity":1}`],
    ['a space after a colon', () => `{"comity": 1,"header":"${header}","content":"${content}"}`],
    ['a trailing newline', () => `{"comity":1,"header":"${header}","content":"${content}"}\n`],
    ['pretty-printed', () => JSON.stringify({ comity: 1, header, content }, null, 2)],
  ])(
    'with the same signed parts in other bytes (%s) → malformed-envelope, so no second digest exists',
    (_name, text) => {
      const error = protocolErrorOf(() => receive(Buffer.from(text())));
      expect(error.reason).toBe('malformed-envelope');
      expect(error.message).toContain('canonical form');
    },
  );

  it('with a header JWS over 64 KiB → malformed-envelope', () => {
    const huge = `${header.split('.')[0]}.${'A'.repeat(64 * 1024)}.${header.split('.')[2]}`;
    expect(wrapperReason({ comity: 1, header: huge, content })).toBe('malformed-envelope');
  });
});

describe('size', () => {
  it('over maxEnvelopeBytes → envelope-too-large, before anything is parsed', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const limit = sealed.bytes.length - 1;
    const context = contextFor(f, 'FR', { maxEnvelopeBytes: limit });
    expect(protocolErrorOf(() => authenticateEnvelope(sealed.bytes, context)).reason).toBe(
      'envelope-too-large',
    );
    const garbage = Buffer.alloc(limit + 1, 0x41);
    expect(protocolErrorOf(() => authenticateEnvelope(garbage, context)).reason).toBe(
      'envelope-too-large',
    );
  });

  it('exactly maxEnvelopeBytes is accepted', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const context = contextFor(f, 'FR', { maxEnvelopeBytes: sealed.bytes.length });
    expect(authenticateEnvelope(sealed.bytes, context).header).toEqual(sealed.header);
  });
});

describe('recipient and keys', () => {
  it("FR's envelope authenticated by KE → wrong-recipient", () => {
    expect(reasonOf(sealFor(f, 'AT', 'FR').bytes, 'KE')).toBe('wrong-recipient');
  });

  it("FR's envelope opened with KE's key → wrong-recipient-key", () => {
    const authenticated = authenticateEnvelope(sealFor(f, 'AT', 'FR').bytes, contextFor(f, 'FR'));
    const error = protocolErrorOf(() => openEnvelope(authenticated, f.states.KE.decryption));
    expect(error.reason).toBe('wrong-recipient-key');
  });

  it("FR's envelope opened with AT's X25519 key claiming FR's thumbprint → decryption-failed", () => {
    const authenticated = authenticateEnvelope(sealFor(f, 'AT', 'FR').bytes, contextFor(f, 'FR'));
    const impostor = { ...f.states.AT.decryption, thumbprint: f.states.FR.decryption.thumbprint };
    expect(protocolErrorOf(() => openEnvelope(authenticated, impostor)).reason).toBe(
      'decryption-failed',
    );
  });

  it("FR's envelope opened with KE's RSA key claiming FR's thumbprint → refused by the RSA policy", () => {
    const authenticated = authenticateEnvelope(sealFor(f, 'AT', 'FR').bytes, contextFor(f, 'FR'));
    const impostor = { ...f.states.KE.decryption, thumbprint: f.states.FR.decryption.thumbprint };
    expect(protocolErrorOf(() => openEnvelope(authenticated, impostor)).reason).toBe(
      'algorithm-not-allowed',
    );
  });

  it("KE's envelope opened with a fresh RSA key under KE's thumbprint → decryption-failed", () => {
    const authenticated = authenticateEnvelope(sealFor(f, 'AT', 'KE').bytes, contextFor(f, 'KE'));
    const impostor = {
      ...f.states.KE.decryption,
      key: generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
    };
    expect(protocolErrorOf(() => openEnvelope(authenticated, impostor)).reason).toBe(
      'decryption-failed',
    );
  });
});

describe('binding of content to header', () => {
  it('re-wrap: content signed AT→KE, encrypted to FR under a new AT→FR header → content-binding-mismatch', () => {
    const toKenya = sealFor(f, 'AT', 'KE');
    const rewrapped = encryptToCertificate(
      Buffer.from(toKenya.contentJws, 'ascii'),
      f.states.FR.encryptionCertificate,
    );
    const header: RoutingHeader = { ...sealFor(f, 'AT', 'FR').header, id: toKenya.header.id };
    const bytes = envelopeWithContent(header, rewrapped, f.states.AT.signer);
    expect(authenticateEnvelope(bytes, contextFor(f, 'FR')).sender.state).toBe('AT');
    expect(reasonOf(bytes)).toBe('content-binding-mismatch');
  });

  test.each([
    ['another envelope id (replayed content)', { envelopeId: uuidV7() }],
    ['another kind', { kind: 'asset_recovery_request' }],
    ['another sending authority', { from: { state: 'AT', authority: 'at-police' } }],
    ['another receiving authority', { to: { state: 'FR', authority: 'fr-other' } }],
  ])('content statement naming %s → content-binding-mismatch', (_name, change) => {
    const sealed = sealFor(f, 'AT', 'FR');
    const contentJws = signContent({ ...statementOf(sealed), ...change }, f.states.AT.signer);
    expect(
      reasonOf(envelopeWithContent(sealed.header, jweToFr(contentJws), f.states.AT.signer)),
    ).toBe('content-binding-mismatch');
  });

  it('content signed by another State (KE) inside an envelope signed by AT → invalid-content-signature', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const contentJws = signContent(statementOf(sealed), f.states.KE.signer);
    expect(
      reasonOf(envelopeWithContent(sealed.header, jweToFr(contentJws), f.states.AT.signer)),
    ).toBe('invalid-content-signature');
  });

  it("content naming AT's thumbprint but signed with KE's key → invalid-content-signature", () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const contentJws = signRaw(
      { alg: 'EdDSA', typ: CONTENT_TYPE, 'x5t#S256': f.states.AT.signer.thumbprint },
      JSON.stringify(statementOf(sealed)),
      f.states.FR.signer.key,
    );
    expect(
      reasonOf(envelopeWithContent(sealed.header, jweToFr(contentJws), f.states.AT.signer)),
    ).toBe('invalid-content-signature');
  });

  test.each([
    ['typ of an envelope', 'invalid-content-signature', { typ: ENVELOPE_TYPE }],
    ['no typ', 'invalid-content-signature', { typ: undefined }],
    ['an x5c instead of the thumbprint', 'forbidden-header', { x5c: ['AAAA'] }],
    ['a kid', 'forbidden-header', { kid: 'at' }],
    ['alg none', 'algorithm-not-allowed', { alg: 'none' }],
  ] as const)('content JWS with %s → %s', (_name, expected, change) => {
    const sealed = sealFor(f, 'AT', 'FR');
    const header: Record<string, unknown> = {
      alg: 'EdDSA',
      typ: CONTENT_TYPE,
      'x5t#S256': f.states.AT.signer.thumbprint,
      ...change,
    };
    if (header.typ === undefined) delete header.typ;
    const contentJws = signRaw(header, JSON.stringify(statementOf(sealed)), f.states.AT.signer.key);
    expect(
      reasonOf(envelopeWithContent(sealed.header, jweToFr(contentJws), f.states.AT.signer)),
    ).toBe(expected);
  });

  test.each([
    ['an unknown member', (s: ContentStatement) => ({ ...s, priority: 1 })],
    ['version 2', (s: ContentStatement) => ({ ...s, v: 2 })],
    [
      'content without a subject',
      (s: ContentStatement) => ({ ...s, content: { ...s.content, subject: undefined } }),
    ],
    [
      'content with an unknown member',
      (s: ContentStatement) => ({ ...s, content: { ...s.content, x: 1 } }),
    ],
  ])('content statement with %s → malformed-content', (_name, change) => {
    const sealed = sealFor(f, 'AT', 'FR');
    const contentJws = signContent(change(statementOf(sealed)), f.states.AT.signer);
    expect(
      reasonOf(envelopeWithContent(sealed.header, jweToFr(contentJws), f.states.AT.signer)),
    ).toBe('malformed-content');
  });

  it('an inner JWS whose signature was flipped before encryption → invalid-content-signature', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const parts = sealed.contentJws.split('.');
    parts[2] = flipBase64UrlChar(parts[2]!, 10);
    expect(
      reasonOf(envelopeWithContent(sealed.header, jweToFr(parts.join('.')), f.states.AT.signer)),
    ).toBe('invalid-content-signature');
  });

  it('verifyContentStatement reads the statement only for the certificate that signed it', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    expect(
      verifyContentStatement(sealed.contentJws, f.states.AT.signingCertificate).envelopeId,
    ).toBe(sealed.header.id);
    expect(
      protocolErrorOf(() =>
        verifyContentStatement(sealed.contentJws, f.states.FR.signingCertificate),
      ).reason,
    ).toBe('invalid-content-signature');
  });
});

describe('freshness', () => {
  const at = (offsetMs: number) => new Date(f.now.getTime() + offsetMs).toISOString();
  const skew = 5 * 60_000;

  it('expired → envelope-expired', () => {
    const sealed = sealFor(f, 'AT', 'FR', { created: at(-2 * DAY_MS), expires: at(-DAY_MS) });
    expect(reasonOf(sealed.bytes)).toBe('envelope-expired');
  });

  it('created in the future → envelope-not-yet-valid', () => {
    const sealed = sealFor(f, 'AT', 'FR', { created: at(HOUR_MS), expires: at(DAY_MS) });
    expect(reasonOf(sealed.bytes)).toBe('envelope-not-yet-valid');
  });

  it('tolerates the clock skew at both ends, and not a millisecond more', () => {
    const justExpired = sealFor(f, 'AT', 'FR', { created: at(-DAY_MS), expires: at(-skew) });
    expect(reasonOf(justExpired.bytes)).toBe('envelope-expired');
    const stillValid = sealFor(f, 'AT', 'FR', { created: at(-DAY_MS), expires: at(-skew + 1) });
    expect(receive(stillValid.bytes).header.id).toBe(stillValid.header.id);

    const earliestAccepted = sealFor(f, 'AT', 'FR', { created: at(skew), expires: at(DAY_MS) });
    expect(receive(earliestAccepted.bytes).header.id).toBe(earliestAccepted.header.id);
    const tooEarly = sealFor(f, 'AT', 'FR', { created: at(skew + 1), expires: at(DAY_MS) });
    expect(reasonOf(tooEarly.bytes)).toBe('envelope-not-yet-valid');
  });
});

describe('sender authentication', () => {
  it("header.from.state FR signed with AT's certificate → sender-mismatch", () => {
    const sealed = sealFor(f, 'AT', 'KE');
    const header = { ...sealed.header, from: { state: 'FR', authority: 'fr-central-authority' } };
    const bytes = envelopeWithContent(header, partsOf(sealed.bytes).contentJwe, f.states.AT.signer);
    expect(reasonOf(bytes, 'KE')).toBe('sender-mismatch');
  });

  it("AT's key with FR's certificate chain in x5c → invalid-signature", () => {
    const sealed = sealFor(f, 'AT', 'KE');
    const bytes = envelopeWithContent(
      sealed.header,
      partsOf(sealed.bytes).contentJwe,
      f.states.AT.signer,
      {
        x5c: f.states.FR.signer.x5c,
      },
    );
    expect(reasonOf(bytes, 'KE')).toBe('invalid-signature');
  });

  it('a chain to a rogue root → certificate-untrusted', async () => {
    const x5c = await rogueSigningChain(f.states.AT, f.now);
    const sealed = sealFor(f, 'AT', 'FR');
    const { contentJwe } = partsOf(sealed.bytes);
    expect(
      reasonOf(envelopeWithContent(sealed.header, contentJwe, f.states.AT.signer, { x5c })),
    ).toBe('certificate-untrusted');
    const withoutRoot = x5c.slice(0, 2);
    expect(
      reasonOf(
        envelopeWithContent(sealed.header, contentJwe, f.states.AT.signer, { x5c: withoutRoot }),
      ),
    ).toBe('certificate-untrusted');
  });

  it('an expired signing certificate → certificate-expired', async () => {
    const expired = await issueSigningCertificate(f.states.AT, {
      notBefore: new Date(f.now.getTime() - 10 * DAY_MS),
      notAfter: new Date(f.now.getTime() - DAY_MS),
    });
    const x5c = x5cOf([expired, f.states.AT.stateCa.certificate]);
    const sealed = sealFor(f, 'AT', 'FR');
    const bytes = envelopeWithContent(
      sealed.header,
      partsOf(sealed.bytes).contentJwe,
      f.states.AT.signer,
      {
        x5c,
      },
    );
    expect(reasonOf(bytes)).toBe('certificate-expired');
  });

  it('a signing certificate not yet valid → certificate-not-yet-valid', async () => {
    const future = await issueSigningCertificate(f.states.AT, {
      notBefore: new Date(f.now.getTime() + DAY_MS),
      notAfter: new Date(f.now.getTime() + 10 * DAY_MS),
    });
    const x5c = x5cOf([future, f.states.AT.stateCa.certificate]);
    const sealed = sealFor(f, 'AT', 'FR');
    const bytes = envelopeWithContent(
      sealed.header,
      partsOf(sealed.bytes).contentJwe,
      f.states.AT.signer,
      {
        x5c,
      },
    );
    expect(reasonOf(bytes)).toBe('certificate-not-yet-valid');
  });

  it("the sender's encryption certificate in x5c → certificate-untrusted", () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const x5c = x5cOf(f.states.AT.credentials.encryptionChain);
    const bytes = envelopeWithContent(
      sealed.header,
      partsOf(sealed.bytes).contentJwe,
      f.states.AT.signer,
      {
        x5c,
      },
    );
    expect(reasonOf(bytes)).toBe('certificate-untrusted');
  });

  it('a routing header failing validation, though signed → malformed-header naming the field', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const header = { ...sealed.header, kind: 'surveillance_request' };
    const bytes = envelopeWithContent(
      header as RoutingHeader,
      partsOf(sealed.bytes).contentJwe,
      f.states.AT.signer,
    );
    const error = protocolErrorOf(() => receive(bytes));
    expect(error.reason).toBe('malformed-header');
    expect(error.message).toContain('header.kind');
  });
});

describe('outer protected header', () => {
  let sealed: SealedEnvelope;
  let contentJwe: string;

  beforeAll(() => {
    sealed = sealFor(f, 'AT', 'FR');
    contentJwe = partsOf(sealed.bytes).contentJwe;
  });

  function withOuterHeader(
    protectedHeader: Record<string, unknown>,
    key: Parameters<typeof signRaw>[2],
  ) {
    return wrapEnvelope({
      headerJws: signRaw(protectedHeader, JSON.stringify(sealed.header), key),
      contentJwe,
    });
  }

  const base = () => ({ alg: 'EdDSA', typ: ENVELOPE_TYPE, x5c: f.states.AT.signer.x5c });

  test.each(['none', 'None', 'NONE'])(
    'alg %s with an empty signature → algorithm-not-allowed',
    (alg) => {
      expect(reasonOf(withOuterHeader({ ...base(), alg }, null))).toBe('algorithm-not-allowed');
    },
  );

  test.each([
    [
      'SPKI DER',
      () => f.states.AT.signingCertificate.publicKey.export({ format: 'der', type: 'spki' }),
    ],
    [
      'SPKI PEM',
      () =>
        Buffer.from(
          f.states.AT.signingCertificate.publicKey.export({ format: 'pem', type: 'spki' }),
        ),
    ],
    [
      'raw Ed25519 bytes',
      () =>
        f.states.AT.signingCertificate.publicKey
          .export({ format: 'der', type: 'spki' })
          .subarray(12),
    ],
    ['the leaf certificate DER', () => Buffer.from(f.states.AT.signer.x5c[0]!, 'base64')],
  ])("HS256 keyed with the sender's public key (%s) → algorithm-not-allowed", (_name, key) => {
    expect(reasonOf(withOuterHeader({ ...base(), alg: 'HS256' }, key() as Buffer))).toBe(
      'algorithm-not-allowed',
    );
  });

  it("PS256 over KE's certificate when the sender is Ed25519, and EdDSA over KE's RSA chain → algorithm-not-allowed", () => {
    expect(reasonOf(withOuterHeader({ ...base(), alg: 'PS256' }, f.states.KE.signer.key))).toBe(
      'algorithm-not-allowed',
    );
    const ke = sealFor(f, 'KE', 'AT');
    const keHeader = { alg: 'RS256', typ: ENVELOPE_TYPE, x5c: f.states.KE.signer.x5c };
    const rs256 = wrapEnvelope({
      headerJws: signRaw(keHeader, JSON.stringify(ke.header), f.states.KE.signer.key),
      contentJwe: partsOf(ke.bytes).contentJwe,
    });
    expect(reasonOf(rs256, 'AT')).toBe('algorithm-not-allowed');
  });

  test.each([
    ['jwk', () => ({ jwk: f.states.AT.signingCertificate.publicKey.export({ format: 'jwk' }) })],
    ['jku', () => ({ jku: 'https://attacker.example/jwks.json' })],
    ['x5u', () => ({ x5u: 'https://attacker.example/chain.pem' })],
    ['kid', () => ({ kid: 'at-signing' })],
    ['x5t#S256', () => ({ 'x5t#S256': f.states.AT.signer.thumbprint })],
    ['crit', () => ({ crit: ['exp'], exp: 1 })],
    ['b64', () => ({ b64: false, crit: ['b64'] })],
    ['cty', () => ({ cty: 'json' })],
    ['zip', () => ({ zip: 'DEF' })],
  ])('an extra %s member, properly signed → forbidden-header', (_name, extra) => {
    expect(reasonOf(withOuterHeader({ ...base(), ...extra() }, f.states.AT.signer.key))).toBe(
      'forbidden-header',
    );
  });

  test.each([
    ['no typ', { typ: undefined }],
    ['the content typ', { typ: CONTENT_TYPE }],
    ['typ JWT', { typ: 'JWT' }],
    ['no x5c', { x5c: undefined }],
    ['x5c as a string', { x5c: 'MIIB' }],
    ['x5c with a number', { x5c: [1] }],
  ])('%s → malformed-envelope', (_name, change) => {
    const header: Record<string, unknown> = { ...base(), ...change };
    for (const member of Object.keys(header))
      if (header[member] === undefined) delete header[member];
    expect(reasonOf(withOuterHeader(header, f.states.AT.signer.key))).toBe('malformed-envelope');
  });

  test.each([
    ['an empty x5c', []],
    ['an x5c entry that is not DER', ['bm90IGEgY2VydGlmaWNhdGU=']],
    ['an x5c of five certificates', ['A', 'B', 'C', 'D', 'E']],
  ])('%s → certificate-untrusted', (_name, x5c) => {
    expect(reasonOf(withOuterHeader({ ...base(), x5c }, f.states.AT.signer.key))).toBe(
      'certificate-untrusted',
    );
  });

  it('the same header signed the same way is accepted (the fixture is sound)', () => {
    expect(receive(withOuterHeader(base(), f.states.AT.signer.key)).header).toEqual(sealed.header);
  });
});

describe('content encryption header', () => {
  let sealed: SealedEnvelope;

  beforeAll(() => {
    sealed = sealFor(f, 'AT', 'FR');
  });

  function contentReason(contentJwe: string): ReasonCode {
    return reasonOf(envelopeWithContent(sealed.header, contentJwe, f.states.AT.signer));
  }

  it('a re-encryption with the same header is accepted (the fixture is sound)', () => {
    expect(
      receive(envelopeWithContent(sealed.header, jweToFr(sealed.contentJws), f.states.AT.signer))
        .statement.envelopeId,
    ).toBe(sealed.header.id);
  });

  it('zip → forbidden-header, before any decryption', () => {
    const parts = jweToFr(sealed.contentJws).split('.');
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as object;
    parts[0] = b64json({ ...header, zip: 'DEF' });
    expect(contentReason(parts.join('.'))).toBe('forbidden-header');
  });

  test.each([
    ['kid', { kid: 'fr-encryption' }],
    ['jku', { jku: 'https://attacker.example/jwks.json' }],
    ['x5c', { x5c: ['AAAA'] }],
    ['apu', { apu: encodeBase64Url(Buffer.from('AT')) }],
    ['crit', { crit: ['exp'], exp: 1 }],
  ])('an extra %s member → forbidden-header', (_name, extra) => {
    const parts = jweToFr(sealed.contentJws).split('.');
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as object;
    parts[0] = b64json({ ...header, ...extra });
    expect(contentReason(parts.join('.'))).toBe('forbidden-header');
  });

  it('a jwk member, properly encrypted → forbidden-header', () => {
    const parts = jweToFr(sealed.contentJws).split('.');
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as object;
    const jwk = createPublicKey(f.states.FR.decryption.key).export({ format: 'jwk' });
    parts[0] = b64json({ ...header, jwk });
    expect(contentReason(parts.join('.'))).toBe('forbidden-header');
  });

  test.each([
    ['no x5t#S256', 'wrong-recipient-key', { 'x5t#S256': undefined }],
    ["AT's thumbprint", 'wrong-recipient-key', { 'x5t#S256': 'AT' }],
    ['no cty', 'malformed-envelope', { cty: undefined }],
    ['cty of the envelope', 'malformed-envelope', { cty: ENVELOPE_TYPE }],
    // The key is looked for before the cty is read (docs/protocol.md, the receiver's steps).
    ['no cty and AT’s thumbprint', 'wrong-recipient-key', { cty: undefined, 'x5t#S256': 'AT' }],
    ['ECDH-ES (direct key agreement)', 'algorithm-not-allowed', { alg: 'ECDH-ES' }],
    ['ECDH-ES+A128KW', 'algorithm-not-allowed', { alg: 'ECDH-ES+A128KW' }],
    ['A128GCM', 'algorithm-not-allowed', { enc: 'A128GCM' }],
    ['A256CBC-HS512', 'algorithm-not-allowed', { enc: 'A256CBC-HS512' }],
  ] as const)('%s → %s', (_name, expected, change) => {
    const header: Record<string, unknown> = {
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      cty: CONTENT_TYPE,
      'x5t#S256': f.states.FR.decryption.thumbprint,
      ...change,
    };
    if (header['x5t#S256'] === 'AT') header['x5t#S256'] = f.states.AT.decryption.thumbprint;
    for (const member of Object.keys(header))
      if (header[member] === undefined) delete header[member];
    const jwe = encryptJweCompact(
      Buffer.from(sealed.contentJws),
      f.states.FR.encryptionCertificate.publicKey,
      header as { alg: string; enc: string },
    );
    expect(contentReason(jwe)).toBe(expected);
  });

  it('RSA-OAEP (SHA-1) to an RSA recipient → algorithm-not-allowed', () => {
    const toKenya = sealFor(f, 'AT', 'KE');
    const jwe = encryptJweCompact(
      Buffer.from(toKenya.contentJws),
      f.states.KE.encryptionCertificate.publicKey,
      {
        alg: 'RSA-OAEP',
        enc: 'A256GCM',
        cty: CONTENT_TYPE,
        'x5t#S256': f.states.KE.decryption.thumbprint,
      },
    );
    expect(reasonOf(envelopeWithContent(toKenya.header, jwe, f.states.AT.signer), 'KE')).toBe(
      'algorithm-not-allowed',
    );
  });

  it('a decrypted content that is not ASCII (one byte with its high bit set) is refused', () => {
    const plaintext = Buffer.from(sealed.contentJws, 'ascii');
    plaintext[5] = plaintext[5]! | 0x80;
    const jwe = encryptJweCompact(plaintext, f.states.FR.encryptionCertificate.publicKey, {
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      cty: CONTENT_TYPE,
      'x5t#S256': f.states.FR.decryption.thumbprint,
    });
    expect(contentReason(jwe)).toBe('malformed-content');
  });

  it('decryptFromCertificate turns every failure into a ProtocolError', () => {
    for (const token of ['', 'a.b.c.d.e', '....', 'x', `${'e30'}.AA.AA.AA.AA`]) {
      const error = protocolErrorOf(() => decryptFromCertificate(token, f.states.FR.decryption));
      expect(error.reason).toBe('malformed-envelope');
    }
  });
});
