import { createHash, X509Certificate } from 'node:crypto';
import * as jose from 'jose';
import nodeJose from 'node-jose';
import {
  contextFor,
  createTestFederation,
  partsOf,
  sealFor,
  type TestFederation,
} from '../test-support/federation';
import {
  CONTENT_TYPE,
  ENVELOPE_TYPE,
  RECEIPT_TYPE,
  authenticateEnvelope,
  decryptFromCertificate,
  issueReceipt,
  openEnvelope,
} from './index';

// A second, independent JOSE implementation: node-jose (Cisco's, on node-forge and WebCrypto).
// It has no Ed25519/X25519 (OKP) keys, so it checks the RSA suite that KE uses — PS256
// signatures, RSA-OAEP-256 key wrapping, A256GCM — in both directions. The OKP suite is
// checked against the `jose` package in envelope-interop.spec.ts.

let f: TestFederation;

beforeAll(async () => {
  f = await createTestFederation();
});

afterAll(() => f.dispose());

const sha256 = (data: string | Uint8Array): string =>
  createHash('sha256').update(data).digest('base64url');

async function publicKeyOf(certificate: X509Certificate): Promise<nodeJose.JWK.Key> {
  return nodeJose.JWK.asKey(
    certificate.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    'pem',
  );
}

async function kenyaDecryptionKey(): Promise<nodeJose.JWK.Key> {
  return nodeJose.JWK.asKey(
    f.states.KE.credentials.encryptionKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    'pem',
  );
}

describe('node-jose reads what Comity writes with the RSA suite', () => {
  it("verifies KE's envelope signature (PS256) and the content signature inside it", async () => {
    const sealed = sealFor(f, 'KE', 'AT');
    const { headerJws, contentJwe } = partsOf(sealed.bytes);
    const signer = await publicKeyOf(f.states.KE.credentials.signingChain[0]!);
    const outer = await nodeJose.JWS.createVerify(signer, { algorithms: ['PS256'] }).verify(
      headerJws,
    );
    expect(outer.header).toMatchObject({ alg: 'PS256', typ: ENVELOPE_TYPE });
    const routing = JSON.parse(outer.payload.toString('utf8')) as Record<string, unknown>;
    expect(routing).toMatchObject({ id: sealed.header.id, from: { state: 'KE' } });
    expect(routing.contentDigest).toBe(sha256(contentJwe));

    // AT's key is X25519, which node-jose cannot use: open the JWE with Comity, then check
    // the inner signature with node-jose.
    const innerJws = decryptFromCertificate(contentJwe, f.states.AT.decryption);
    const inner = await nodeJose.JWS.createVerify(signer, { algorithms: ['PS256'] }).verify(
      innerJws,
    );
    expect(inner.header).toMatchObject({ alg: 'PS256', typ: CONTENT_TYPE });
    expect(JSON.parse(inner.payload.toString('utf8'))).toMatchObject({
      envelopeId: sealed.header.id,
    });
  });

  it('decrypts content sealed to KE (RSA-OAEP-256, A256GCM) to the exact inner JWS', async () => {
    const sealed = sealFor(f, 'AT', 'KE');
    const { contentJwe } = partsOf(sealed.bytes);
    const decrypted = await nodeJose.JWE.createDecrypt(await kenyaDecryptionKey(), {
      algorithms: ['RSA-OAEP-256', 'A256GCM'],
    }).decrypt(contentJwe);
    expect(decrypted.header).toMatchObject({
      alg: 'RSA-OAEP-256',
      enc: 'A256GCM',
      cty: CONTENT_TYPE,
    });
    expect(decrypted.plaintext.toString('ascii')).toBe(
      decryptFromCertificate(contentJwe, f.states.KE.decryption),
    );
  });

  it("verifies KE's signed receipt and what it binds", async () => {
    const sealed = sealFor(f, 'AT', 'KE');
    const receipt = issueReceipt({
      signer: f.states.KE.signer,
      envelopeId: sealed.header.id,
      envelopeDigest: sealed.digest,
      senderState: 'AT',
      status: 'delivered',
      now: f.now,
    });
    const verified = await nodeJose.JWS.createVerify(
      await publicKeyOf(f.states.KE.credentials.signingChain[0]!),
      { algorithms: ['PS256'] },
    ).verify(receipt.bytes.toString('ascii'));
    expect(verified.header).toMatchObject({ alg: 'PS256', typ: RECEIPT_TYPE });
    expect(JSON.parse(verified.payload.toString('utf8'))).toMatchObject({
      envelopeId: sealed.header.id,
      envelopeDigest: sha256(sealed.bytes),
      status: 'delivered',
    });
  });
});

describe('Comity reads content a peer encrypted with node-jose', () => {
  it('opens an envelope to KE whose JWE node-jose wrote', async () => {
    // A peer's envelope AT → KE: the content JWE produced by node-jose, the signatures by AT.
    const original = sealFor(f, 'AT', 'KE');
    const innerJws = decryptFromCertificate(
      partsOf(original.bytes).contentJwe,
      f.states.KE.decryption,
    );
    const recipient = await publicKeyOf(f.states.KE.credentials.encryptionCertificate);
    const contentJwe = (await nodeJose.JWE.createEncrypt(
      {
        format: 'compact',
        contentAlg: 'A256GCM',
        fields: {
          alg: 'RSA-OAEP-256',
          cty: CONTENT_TYPE,
          'x5t#S256': sha256(f.states.KE.credentials.encryptionCertificate.raw),
        },
      },
      // reference: false — no `kid`, which Comity's strict header rules refuse.
      { key: recipient, reference: false } as unknown as nodeJose.JWK.Key,
    )
      .update(Buffer.from(innerJws, 'ascii'))
      .final()) as unknown as string;
    const header = { ...original.header, contentDigest: sha256(contentJwe) };
    const headerJws = await new jose.CompactSign(Buffer.from(JSON.stringify(header)))
      .setProtectedHeader({
        alg: 'EdDSA',
        typ: ENVELOPE_TYPE,
        x5c: f.states.AT.credentials.signingChain.map((certificate) =>
          certificate.raw.toString('base64'),
        ),
      })
      .sign(f.states.AT.credentials.signingKey);
    const bytes = Buffer.from(
      JSON.stringify({ comity: 1, header: headerJws, content: contentJwe }),
    );

    const opened = openEnvelope(
      authenticateEnvelope(bytes, contextFor(f, 'KE')),
      f.states.KE.decryption,
    );
    expect(opened.header.id).toBe(original.header.id);
    expect(opened.statement.envelopeId).toBe(original.header.id);
  });
});
