import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encodeBase64Url } from '@comity/jose';
import { devFederationLayout } from '@comity/pki';
import { createTestFederation, type TestFederation } from '../test-support/federation';
import { DirectoryError, type DirectoryDocument } from './directory';
import { signDirectory, verifySignedDirectory } from './signed-directory';

let f: TestFederation;
let signer: {
  key: ReturnType<typeof createPrivateKey>;
  certificate: X509Certificate;
  suite: 'ed25519-x25519';
};

beforeAll(async () => {
  f = await createTestFederation(['AT', 'FR']);
  const layout = devFederationLayout(f.directory, ['AT', 'FR']);
  signer = {
    key: createPrivateKey(readFileSync(layout.directorySigner.key)),
    certificate: new X509Certificate(readFileSync(layout.directorySigner.certificate)),
    suite: 'ed25519-x25519',
  };
});

afterAll(() => f.dispose());

function document(overrides: Partial<DirectoryDocument> = {}): DirectoryDocument {
  return {
    federation: 'comity-test',
    version: 7,
    issued: new Date(f.now.getTime() - 60_000).toISOString(),
    expires: new Date(f.now.getTime() + 86_400_000).toISOString(),
    revokedCertificates: [],
    states: (['AT', 'FR'] as const).map((code) => ({
      code,
      name: code,
      routingKey: code,
      caCertificates: [f.states[code].credentials.signingChain[1]!.toString()],
      signingCertificates: [f.states[code].credentials.signingChain[0]!.toString()],
      encryptionCertificates: [f.states[code].credentials.encryptionCertificate.toString()],
      authorities: [],
    })),
    ...overrides,
  };
}

const reasonOf = (action: () => unknown): string => {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DirectoryError);
    return (error as Error).message;
  }
  return 'accepted';
};

describe('the signed directory', () => {
  it('is accepted when the directory signer under the anchor signed it, in force now', () => {
    const directory = verifySignedDirectory(signDirectory(document(), signer), f.verifier, f.now);
    expect(directory.validity.version).toBe(7);
    expect(directory.state('FR')?.routingKey).toBe('FR');
  });

  it('refuses an unsigned directory', () => {
    expect(
      reasonOf(() => verifySignedDirectory(JSON.stringify(document()), f.verifier, f.now)),
    ).toMatch(/not signed/);
  });

  it('refuses a directory whose content was changed after signing', () => {
    const [h, , s] = signDirectory(document(), signer).split('.');
    const forged = `${h}.${encodeBase64Url(Buffer.from(JSON.stringify(document({ version: 8 }))))}.${s}`;
    expect(reasonOf(() => verifySignedDirectory(forged, f.verifier, f.now))).toMatch(/not signed/);
  });

  it('refuses a directory signed by a gateway key instead of the directory signer', () => {
    const gateway = {
      key: f.states.AT.signer.key,
      certificate: f.states.AT.credentials.signingChain[0]!,
      suite: 'ed25519-x25519' as const,
    };
    expect(
      reasonOf(() => verifySignedDirectory(signDirectory(document(), gateway), f.verifier, f.now)),
    ).toMatch(/directory signer/);
  });

  it('refuses an expired edition and one issued in the future', () => {
    const expired = document({
      issued: new Date(f.now.getTime() - 2 * 86_400_000).toISOString(),
      expires: new Date(f.now.getTime() - 1000).toISOString(),
    });
    expect(
      reasonOf(() => verifySignedDirectory(signDirectory(expired, signer), f.verifier, f.now)),
    ).toMatch(/expired/);
    const future = document({ issued: new Date(f.now.getTime() + 3_600_000).toISOString() });
    expect(
      reasonOf(() => verifySignedDirectory(signDirectory(future, signer), f.verifier, f.now)),
    ).toMatch(/future/);
  });

  it('refuses an edition that is not newer than the one held (no rollback to resurrect revoked keys)', () => {
    const held = verifySignedDirectory(
      signDirectory(document({ version: 9 }), signer),
      f.verifier,
      f.now,
    );
    expect(
      reasonOf(() =>
        verifySignedDirectory(
          signDirectory(document({ version: 9 }), signer),
          f.verifier,
          f.now,
          held,
        ),
      ),
    ).toMatch(/not newer/);
    expect(
      reasonOf(() =>
        verifySignedDirectory(
          signDirectory(document({ version: 3 }), signer),
          f.verifier,
          f.now,
          held,
        ),
      ),
    ).toMatch(/not newer/);
    expect(
      verifySignedDirectory(
        signDirectory(document({ version: 10 }), signer),
        f.verifier,
        f.now,
        held,
      ).validity.version,
    ).toBe(10);
  });

  it('carries the revocation list, looked up by certificate thumbprint', () => {
    const revoked = f.states.FR.signingCertificate.sha256Thumbprint;
    const directory = verifySignedDirectory(
      signDirectory(
        document({
          revokedCertificates: [
            { sha256: revoked, revokedAt: f.now.toISOString(), reason: 'key compromise' },
          ],
        }),
        signer,
      ),
      f.verifier,
      f.now,
    );
    expect(directory.revocationOf(revoked)?.reason).toBe('key compromise');
    expect(directory.revocationOf(f.states.AT.signingCertificate.sha256Thumbprint)).toBeUndefined();
  });

  it('carries the federation policy, and refuses an unreasonable one', () => {
    const withPolicy = verifySignedDirectory(
      signDirectory(
        document({ policy: { maxEnvelopeBytes: 1_048_576, clockSkewSeconds: 60 } }),
        signer,
      ),
      f.verifier,
      f.now,
    );
    expect(withPolicy.policy).toEqual({
      maxEnvelopeBytes: 1_048_576,
      clockSkewSeconds: 60,
      maxAttachmentBytes: null,
      timeFrames: { defaults: {}, kinds: {}, authorities: {} },
      retrievalTimeoutSeconds: {},
    });
    expect(
      reasonOf(() =>
        verifySignedDirectory(
          signDirectory(document({ policy: { clockSkewSeconds: -5 } }), signer),
          f.verifier,
          f.now,
        ),
      ),
    ).toMatch(/policy.clockSkewSeconds/);
  });

  it('carries retrieval time frames per message kind, and refuses a kind or a time out of range', () => {
    const withTimeouts = verifySignedDirectory(
      signDirectory(
        document({ policy: { retrievalTimeoutSeconds: { mla_request: 864_000 } } }),
        signer,
      ),
      f.verifier,
      f.now,
    );
    expect(withTimeouts.policy.retrievalTimeoutSeconds).toEqual({ mla_request: 864_000 });
    for (const [bad, message] of [
      [{ letter: 60 }, /policy.retrievalTimeoutSeconds.letter is not a message kind/],
      [{ mla_request: 0 }, /policy.retrievalTimeoutSeconds.mla_request must be an integer from 1/],
      [{ mla_request: '60' }, /must be an integer/],
      [[60], /policy.retrievalTimeoutSeconds must be an object/],
    ] as const) {
      expect(
        reasonOf(() =>
          verifySignedDirectory(
            signDirectory(
              document({
                policy: { retrievalTimeoutSeconds: bad as unknown as Record<string, number> },
              }),
              signer,
            ),
            f.verifier,
            f.now,
          ),
        ),
      ).toMatch(message);
    }
  });

  it('carries the maximum size of large attachments, and refuses one out of range', () => {
    const withLimit = verifySignedDirectory(
      signDirectory(document({ policy: { maxAttachmentBytes: 1024 ** 3 } }), signer),
      f.verifier,
      f.now,
    );
    expect(withLimit.policy.maxAttachmentBytes).toBe(1024 ** 3);
    for (const bad of [0, 1024, 1048576.5, 2 ** 60, '1073741824', -1]) {
      expect(
        reasonOf(() =>
          verifySignedDirectory(
            signDirectory(document({ policy: { maxAttachmentBytes: bad as number } }), signer),
            f.verifier,
            f.now,
          ),
        ),
      ).toMatch(/policy.maxAttachmentBytes must be an integer from 1048576 to 549755813888/);
    }
  });

  it('refuses extra protected-header members (jku, jwk, ...)', () => {
    const signed = signDirectory(document(), signer);
    const header = JSON.parse(Buffer.from(signed.split('.')[0]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const withJku = `${encodeBase64Url(Buffer.from(JSON.stringify({ ...header, jku: 'https://x.example' })))}.${signed.split('.').slice(1).join('.')}`;
    expect(reasonOf(() => verifySignedDirectory(withJku, f.verifier, f.now))).toMatch(
      /exactly alg, typ/,
    );
  });
});
