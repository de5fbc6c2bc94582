import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import * as jose from 'jose';
import {
  contextFor,
  createTestFederation,
  partsOf,
  routingFor,
  sampleContent,
  sealFor,
  type StateCode,
  type TestFederation,
} from '../test-support/federation';
import {
  CONTENT_TYPE,
  ENVELOPE_TYPE,
  RECEIPT_TYPE,
  authenticateEnvelope,
  issueReceipt,
  openEnvelope,
  uuidV7,
  verifyReceipt,
} from './index';

// The specification's key requirement: a peer implementing Comity with any standard JOSE
// library can verify and decrypt what Comity writes, and Comity accepts what it writes. The
// `jose` package and node:crypto stand in for that peer; nothing of @comity/jose is used to
// check the wire form here.

let f: TestFederation;

beforeAll(async () => {
  f = await createTestFederation();
});

afterAll(() => f.dispose());

const SUITE_ALGORITHMS = {
  AT: { signature: 'EdDSA', keyManagement: 'ECDH-ES+A256KW' },
  FR: { signature: 'EdDSA', keyManagement: 'ECDH-ES+A256KW' },
  KE: { signature: 'PS256', keyManagement: 'RSA-OAEP-256' },
} as const;

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}

function json(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
}

/** Checks an x5c chain up to the federation root with node:crypto alone. */
function leafOfTrustedChain(x5c: string[]): X509Certificate {
  const chain = x5c.map((entry) => new X509Certificate(Buffer.from(entry, 'base64')));
  const issuers = [...chain.slice(1), f.anchor];
  chain.forEach((certificate, index) => {
    expect(certificate.verify(issuers[index]!.publicKey)).toBe(true);
  });
  return chain[0]!;
}

describe('a peer with the jose package reads a Comity envelope', () => {
  test.each([
    ['AT', 'FR'],
    ['AT', 'KE'],
    ['KE', 'AT'],
  ] as const)('%s → %s', async (from: StateCode, to: StateCode) => {
    const content = sampleContent();
    const sealed = sealFor(f, from, to, {}, content);
    const wrapper = json(sealed.bytes);
    expect(wrapper.comity).toBe(1);
    const { headerJws, contentJwe } = partsOf(sealed.bytes);

    // 1. Outer signature, with the key of the certificate the header carries.
    const outerHeader = jose.decodeProtectedHeader(headerJws);
    expect(outerHeader.typ).toBe(ENVELOPE_TYPE);
    const leaf = leafOfTrustedChain(outerHeader.x5c!);
    const outer = await jose.compactVerify(headerJws, leaf.publicKey, {
      algorithms: [SUITE_ALGORITHMS[from].signature],
    });
    const routing = json(outer.payload);
    expect(routing).toMatchObject({
      v: 1,
      id: sealed.header.id,
      from: { state: from },
      to: { state: to },
    });

    // 2. The content digest covers the exact JWE string.
    expect(routing.contentDigest).toBe(sha256(contentJwe));

    // 3. Decryption with the recipient's private key.
    const recipientKey: KeyObject = f.states[to].credentials.encryptionKey;
    const decrypted = await jose.compactDecrypt(contentJwe, recipientKey, {
      keyManagementAlgorithms: [SUITE_ALGORITHMS[to].keyManagement],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    expect(decrypted.protectedHeader).toMatchObject({
      cty: CONTENT_TYPE,
      'x5t#S256': sha256(f.states[to].credentials.encryptionCertificate.raw),
    });

    // 4. The inner content signature, by the same certificate as the outer one.
    const innerJws = Buffer.from(decrypted.plaintext).toString('ascii');
    const inner = await jose.compactVerify(innerJws, leaf.publicKey, {
      algorithms: [SUITE_ALGORITHMS[from].signature],
    });
    expect(inner.protectedHeader).toEqual({
      alg: SUITE_ALGORITHMS[from].signature,
      typ: CONTENT_TYPE,
      'x5t#S256': sha256(leaf.raw),
    });

    // 5. The signed content binds the envelope id, kind, sender and recipient.
    expect(json(inner.payload)).toEqual({
      v: 1,
      envelopeId: routing.id,
      kind: routing.kind,
      from: routing.from,
      to: routing.to,
      content,
    });
  });

  test.each([
    ['FR', 'EdDSA'],
    ['KE', 'PS256'],
  ] as const)(
    "%s's receipt verifies with jose (%s) and binds the envelope bytes",
    async (state, alg) => {
      const sealed = sealFor(f, 'AT', state);
      const receipt = issueReceipt({
        signer: f.states[state].signer,
        envelopeId: sealed.header.id,
        envelopeDigest: sealed.digest,
        senderState: 'AT',
        status: 'delivered',
        now: f.now,
      });
      const token = receipt.bytes.toString('ascii');
      const header = jose.decodeProtectedHeader(token);
      expect(header.typ).toBe(RECEIPT_TYPE);
      const leaf = leafOfTrustedChain(header.x5c!);
      const verified = await jose.compactVerify(token, leaf.publicKey, { algorithms: [alg] });
      expect(json(verified.payload)).toMatchObject({
        envelopeId: sealed.header.id,
        envelopeDigest: sha256(sealed.bytes),
        status: 'delivered',
        reason: null,
        from: { state },
        to: { state: 'AT' },
      });
    },
  );
});

describe('Comity reads an envelope a peer wrote with the jose package', () => {
  test.each([
    ['AT', 'FR'],
    ['KE', 'AT'],
    ['AT', 'KE'],
  ] as const)('%s → %s', async (from: StateCode, to: StateCode) => {
    const sender = f.states[from];
    const recipient = f.states[to];
    const routing = routingFor(f, from, to);
    const content = sampleContent({ subject: 'Written by another implementation' });
    const statement = {
      v: 1,
      envelopeId: routing.id,
      kind: routing.kind,
      from: routing.from,
      to: routing.to,
      content,
    };
    const signatureAlg = SUITE_ALGORITHMS[from].signature;

    const innerJws = await new jose.CompactSign(Buffer.from(JSON.stringify(statement)))
      .setProtectedHeader({
        alg: signatureAlg,
        typ: CONTENT_TYPE,
        'x5t#S256': sha256(sender.credentials.signingChain[0]!.raw),
      })
      .sign(sender.credentials.signingKey);
    const contentJwe = await new jose.CompactEncrypt(Buffer.from(innerJws))
      .setProtectedHeader({
        alg: SUITE_ALGORITHMS[to].keyManagement,
        enc: 'A256GCM',
        cty: CONTENT_TYPE,
        'x5t#S256': sha256(recipient.credentials.encryptionCertificate.raw),
      })
      .encrypt(recipient.credentials.encryptionCertificate.publicKey);
    const header = { v: 1, ...routing, contentDigest: sha256(contentJwe) };
    const headerJws = await new jose.CompactSign(Buffer.from(JSON.stringify(header)))
      .setProtectedHeader({
        alg: signatureAlg,
        typ: ENVELOPE_TYPE,
        x5c: sender.credentials.signingChain.map((certificate) =>
          certificate.raw.toString('base64'),
        ),
      })
      .sign(sender.credentials.signingKey);
    const bytes = Buffer.from(
      JSON.stringify({ comity: 1, header: headerJws, content: contentJwe }),
    );

    const opened = openEnvelope(
      authenticateEnvelope(bytes, contextFor(f, to)),
      recipient.decryption,
    );
    expect(opened.header).toEqual(header);
    expect(opened.statement).toEqual(statement);
  });

  it('accepts a receipt a peer signed with jose for the exact bytes it received', async () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const statement = {
      v: 1,
      id: uuidV7(f.now.getTime()),
      envelopeId: sealed.header.id,
      envelopeDigest: sha256(sealed.bytes),
      status: 'rejected',
      reason: 'content-binding-mismatch',
      time: f.now.toISOString(),
      from: { state: 'FR' },
      to: { state: 'AT' },
    };
    const token = await new jose.CompactSign(Buffer.from(JSON.stringify(statement)))
      .setProtectedHeader({
        alg: 'EdDSA',
        typ: RECEIPT_TYPE,
        x5c: f.states.FR.credentials.signingChain.map((certificate) =>
          certificate.raw.toString('base64'),
        ),
      })
      .sign(f.states.FR.credentials.signingKey);
    const verified = verifyReceipt(Buffer.from(token), f.verifier, {
      envelopeId: sealed.header.id,
      envelopeDigest: sealed.digest,
      recipientState: 'FR',
      senderState: 'AT',
    });
    expect(verified.statement).toEqual(statement);
  });
});
