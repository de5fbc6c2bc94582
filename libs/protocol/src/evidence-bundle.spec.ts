import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { certificatesToPem, devFederationLayout, sha256Thumbprint } from '@comity/pki';
import { createTestFederation, sealFor, type TestFederation } from '../test-support/federation';
import { signCheckpoint } from './checkpoint';
import { CONTENT_PURGED, contentPurgedDetail } from './content-retention';
import type { DirectoryDocument } from './directory';
import { readEnvelopeParts } from './envelope';
import { BundleError, writeEvidenceBundle, type BundleMessage } from './evidence-bundle';
import { verifyEvidenceBundle } from './evidence-bundle-verifier';
import { evidenceLeaf, type EvidenceSource } from './evidence-leaf';
import { inclusionProof, leafHash, rootOf } from './merkle-tree';
import { issueNonDeliveryEvidence } from './non-delivery-evidence';
import { issueReceipt } from './receipt';
import { signDirectory } from './signed-directory';

let f: TestFederation;
let directorySigner: Parameters<typeof signDirectory>[1];

beforeAll(async () => {
  f = await createTestFederation(['AT', 'FR']);
  const layout = devFederationLayout(f.directory, ['AT', 'FR']);
  directorySigner = {
    key: createPrivateKey(readFileSync(layout.directorySigner.key)),
    certificate: new X509Certificate(readFileSync(layout.directorySigner.certificate)),
    suite: 'ed25519-x25519',
  };
});

afterAll(() => f.dispose());

const ORIGIN = 'comity-test/AT/evidence';
const micros = (date: Date) => String(date.getTime() * 1000);

function directory(revoked: DirectoryDocument['revokedCertificates'] = []): string {
  const document: DirectoryDocument = {
    federation: 'comity-test',
    version: 1,
    issued: new Date(f.now.getTime() - 60_000).toISOString(),
    expires: new Date(f.now.getTime() + 86_400_000).toISOString(),
    revokedCertificates: revoked,
    states: (['AT', 'FR'] as const).map((code) => ({
      code,
      name: code,
      routingKey: code,
      caCertificates: [f.states[code].credentials.signingChain[1]!.toString()],
      signingCertificates: [f.states[code].credentials.signingChain[0]!.toString()],
      encryptionCertificates: [f.states[code].credentials.encryptionCertificate.toString()],
      authorities: [],
    })),
  };
  return signDirectory(document, directorySigner);
}

/**
 * A bundle of one request AT sent to FR, delivered, as AT's node would export it: whole, or
 * with its content purged (`purge`), its case state stated in the signed manifest.
 */
function bundle(
  options: {
    purge?: boolean;
    claimedDigest?: string;
    revoked?: DirectoryDocument['revokedCertificates'];
    /** Not delivered: no receipt, the sender's non-delivery evidence (for this envelope or another). */
    undelivered?: 'this envelope' | 'another envelope';
  } = {},
): { bytes: Buffer; id: string; receiptAt: Date } {
  const sealed = sealFor(f, 'AT', 'FR');
  const id = sealed.header.id;
  const receiptAt = new Date(f.now.getTime() + 1000);
  const receipt = issueReceipt({
    signer: f.states.FR.signer,
    envelopeId: id,
    envelopeDigest: sealed.digest,
    senderState: 'AT',
    status: 'delivered',
    now: receiptAt,
  }).bytes;
  const row = (n: number, type: string, at: Date, more: Partial<EvidenceSource> = {}) =>
    ({
      log: 'message',
      id: String(n),
      messageId: id,
      direction: 'outbound',
      type,
      atMicros: micros(at),
      reason: null,
      detail: null,
      signed: null,
      ...more,
    }) as EvidenceSource;
  const purgedAt = new Date(f.now.getTime() + 5000);
  const nonDelivery = options.undelivered
    ? issueNonDeliveryEvidence({
        signer: f.states.AT.signer,
        envelopeId: options.undelivered === 'this envelope' ? id : sealFor(f, 'AT', 'FR').header.id,
        envelopeDigest: sealed.digest,
        reason: 'expired-undelivered',
        transmissions: 4,
        from: sealed.header.from,
        to: sealed.header.to,
        now: receiptAt,
      }).bytes
    : null;
  const sources = [
    row(1, 'submitted', f.now, { detail: 'by at-central-clerk' }),
    nonDelivery
      ? row(2, 'failed', receiptAt, { reason: 'expired-undelivered', signed: nonDelivery })
      : row(2, 'delivered', receiptAt, { signed: receipt }),
    ...(options.purge
      ? [row(3, CONTENT_PURGED, purgedAt, { detail: contentPurgedDetail(sealed.digest) })]
      : []),
  ];
  const leaves = sources.map(evidenceLeaf);
  const hashes = leaves.map(leafHash);
  const checkpoint = signCheckpoint(
    { origin: ORIGIN, size: leaves.length, root: rootOf(hashes) },
    { keyName: ORIGIN, suite: f.states.AT.suite, key: f.states.AT.signer.key },
  );
  const message: BundleMessage = {
    id,
    direction: 'outbound',
    envelope: options.purge
      ? {
          header: readEnvelopeParts(sealed.bytes).headerJws,
          envelopeDigest: options.claimedDigest ?? sealed.digest,
          purgedAt,
        }
      : sealed.bytes,
    receipt: nonDelivery ? null : receipt,
    nonDelivery,
    leaves: leaves.map((leaf, index) => ({
      index,
      leaf,
      proof: inclusionProof(hashes, index, leaves.length),
    })),
  };
  const bytes = writeEvidenceBundle({
    node: 'AT',
    origin: ORIGIN,
    case: { id, state: 'awaiting_acknowledgement' },
    messages: [message],
    checkpoint: { note: checkpoint.note, signedAt: f.now, timestamp: null },
    directory: directory(options.revoked),
    signingChainPem: certificatesToPem(f.states.AT.credentials.signingChain),
    signer: f.states.AT.signer,
    exportedAt: new Date(f.now.getTime() + 10_000),
  });
  return { bytes, id, receiptAt };
}

const verify = (bytes: Uint8Array) => verifyEvidenceBundle(bytes, f.verifier).account.join('\n');
const refusal = (bytes: Uint8Array): string => {
  try {
    verifyEvidenceBundle(bytes, f.verifier);
  } catch (error) {
    expect(error).toBeInstanceOf(BundleError);
    return (error as Error).message;
  }
  return 'accepted';
};
const frSigning = () => sha256Thumbprint(f.states.FR.credentials.signingChain[0]!);

describe('evidence bundles', () => {
  it("verify, and state the case state as the exporting node's signed statement", () => {
    const { bytes, id } = bundle();
    const account = verify(bytes);
    expect(account).toContain(`sent mla_request ${id}`);
    expect(account).toMatch(/delivered at .* signed by FR's gateway/);
    expect(account).toContain(
      `case ${id}: 1 messages; its state, as stated by AT's gateway at ${new Date(f.now.getTime() + 10_000).toISOString()}: awaiting_acknowledgement`,
    );
    expect(account).toContain("manifest signed by AT's gateway");
  });

  it('verify with the content purged: header, recorded digest and receipt, and say when', () => {
    const { bytes, id } = bundle({ purge: true });
    const names = Object.keys(unzipSync(bytes));
    expect(names).toContain(`messages/${id}/envelope-header.jws`);
    expect(names).not.toContain(`messages/${id}/envelope.json`);
    const account = verify(bytes);
    expect(account).toContain(`header signed by AT's gateway (verified)`);
    expect(account).toContain(
      `content purged under AT's retention policy on ${new Date(f.now.getTime() + 5000).toISOString().slice(0, 23)}`,
    );
  });

  it("verify the sender's non-delivery evidence, and refuse one for another envelope", () => {
    expect(verify(bundle({ undelivered: 'this envelope' }).bytes)).toMatch(
      /not delivered \(expired-undelivered, 4 transmissions\): non-delivery evidence \S+ signed by AT's gateway at \S+ \(verified\)/,
    );
    const { bytes, id } = bundle({ undelivered: 'another envelope' });
    expect(refusal(bytes)).toBe(
      `messages/${id}/non-delivery.jws: it is not about this envelope (id, digest or parties differ)`,
    );
  });

  it('refuse a purged message whose claimed digest is not the one the log recorded', () => {
    const { bytes } = bundle({ purge: true, claimedDigest: 'A'.repeat(43) });
    expect(refusal(bytes)).toMatch(
      /no leaf of the log records the purge of .* with the envelope SHA-256 A{43}/,
    );
  });

  it('refuse a manifest whose signature or content was altered', () => {
    const files = unzipSync(bundle().bytes);
    const jws = strFromU8(files['manifest.jws']!);
    const flipped = `${jws.slice(0, -5)}${jws.at(-5) === 'A' ? 'B' : 'A'}${jws.slice(-4)}`;
    expect(refusal(zipSync({ ...files, 'manifest.jws': strToU8(flipped) }))).toMatch(
      /^manifest\.jws: .*signature/,
    );
    const closed = strFromU8(files['manifest.json']!).replace('awaiting_acknowledgement', 'closed');
    expect(refusal(zipSync({ ...files, 'manifest.json': strToU8(closed) }))).toBe(
      'manifest.jws: it signs another manifest than manifest.json',
    );
    const unsigned = { ...files };
    delete unsigned['manifest.jws'];
    expect(refusal(zipSync(unsigned))).toBe(
      'the bundle has no manifest.jws (the manifest is not signed)',
    );
  });

  it('still verify a bundle of the unsigned format, saying its case state is not signed', () => {
    const files = unzipSync(bundle().bytes);
    const manifest = strFromU8(files['manifest.json']!).replace(
      'comity-evidence-bundle/2',
      'comity-evidence-bundle/1',
    );
    const rest = { ...files };
    delete rest['manifest.jws'];
    expect(verify(zipSync({ ...rest, 'manifest.json': strToU8(manifest) }))).toMatch(
      /its state as AT derived it \(not signed: .*\): awaiting_acknowledgement/,
    );
  });

  it('refuse a receipt whose signing certificate was revoked before it signed', () => {
    const revokedAt = new Date(f.now.getTime()).toISOString();
    const { bytes, id } = bundle({
      revoked: [{ sha256: frSigning(), revokedAt, reason: 'key compromise' }],
    });
    expect(refusal(bytes)).toBe(
      `messages/${id}/receipt.jws was signed at ${new Date(f.now.getTime() + 1000).toISOString()} by FR's certificate x5t#S256 ${frSigning()}, revoked at ${revokedAt} (key compromise), before it signed`,
    );
  });

  it('keep a signature made before its certificate was revoked valid', () => {
    const { bytes } = bundle({
      revoked: [
        {
          sha256: frSigning(),
          revokedAt: new Date(f.now.getTime() + 2000).toISOString(),
          reason: 'key compromise',
        },
      ],
    });
    expect(verify(bytes)).toMatch(/delivered at .* signed by FR's gateway/);
  });

  it("refuse a bundle whose exporting node's key was revoked before it signed the manifest", () => {
    const at = sha256Thumbprint(f.states.AT.credentials.signingChain[0]!);
    const revokedAt = new Date(f.now.getTime() + 7000).toISOString();
    const { bytes } = bundle({ revoked: [{ sha256: at, revokedAt, reason: 'superseded' }] });
    expect(refusal(bytes)).toMatch(
      /^manifest\.jws was signed at .* revoked at .*, before it signed$/,
    );
  });
});
