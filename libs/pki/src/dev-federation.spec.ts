import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateVerifier,
  createDevFederation,
  devFederationLayout,
  loadGatewayCredentials,
  PkiError,
  readCertificatesPem,
  type DevFederationLayout,
  type DevStateSpec,
} from './index';

const STATES: DevStateSpec[] = [
  { code: 'FR', suite: 'ed25519-x25519' },
  { code: 'DE', suite: 'ed25519-x25519' },
  { code: 'GR', suite: 'rsa' },
];

describe('createDevFederation', () => {
  let directory: string;
  let layout: DevFederationLayout;
  let verifier: CertificateVerifier;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'comity-pki-'));
    layout = await createDevFederation({ directory, states: STATES });
    verifier = new CertificateVerifier([new X509Certificate(readFileSync(layout.trustAnchor))]);
  });

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('writes the documented layout, keys readable by the owner only', () => {
    expect(layout).toEqual(devFederationLayout(directory, ['FR', 'DE', 'GR']));
    expect(readdirSync(directory).sort()).toEqual([
      'README.md',
      'directory-signer.crt.pem',
      'directory-signer.key.pem',
      'federation-root.crt.pem',
      'federation-root.key.pem',
      'states',
      'tls-server.crt.pem',
      'tls-server.key.pem',
    ]);
    expect(readFileSync(join(directory, 'README.md'), 'utf8')).toMatch(/DEVELOPMENT ONLY/);
    expect(modeOf(join(directory, 'federation-root.key.pem'))).toBe(0o600);
    expect(modeOf(join(directory, 'directory-signer.key.pem'))).toBe(0o600);
    for (const code of ['FR', 'DE', 'GR']) {
      expect(readdirSync(join(directory, 'states', code)).sort()).toEqual([
        'gateway-encryption.crt.pem',
        'gateway-encryption.key.pem',
        'gateway-signing.crt.pem',
        'gateway-signing.key.pem',
        'state-ca.crt.pem',
        'state-ca.key.pem',
      ]);
      for (const key of ['state-ca', 'gateway-signing', 'gateway-encryption']) {
        const file = join(directory, 'states', code, `${key}.key.pem`);
        expect(modeOf(file)).toBe(0o600);
        expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      }
    }
  });

  it('changes nothing on a second run', async () => {
    const before = snapshot(directory);
    const again = await createDevFederation({ directory, states: STATES });
    expect(again).toEqual(layout);
    expect(snapshot(directory)).toEqual(before);
  });

  it('issues a State added later under the existing root', async () => {
    const before = snapshot(directory);
    const more = await createDevFederation({
      directory,
      states: [...STATES, { code: 'IT', suite: 'ed25519-x25519' }],
    });
    const after = snapshot(directory);
    for (const [file, bytes] of Object.entries(before)) expect(after[file]).toEqual(bytes);
    const italy = loadGatewayCredentials(more.states.IT!);
    expect(verifier.verifyChain(italy.signingChain, 'signing', new Date()).state).toBe('IT');
  });

  it.each(STATES)('gives $code gateway certificates that verify for their purpose', (spec) => {
    const credentials = loadGatewayCredentials(layout.states[spec.code]!);
    expect(credentials).toMatchObject({ state: spec.code, suite: spec.suite });
    const now = new Date();
    const signing = verifier.verifyChain(credentials.signingChain, 'signing', now);
    const encryption = verifier.verifyChain(credentials.encryptionChain, 'encryption', now);
    for (const verified of [signing, encryption]) {
      expect(verified).toMatchObject({ state: spec.code, suite: spec.suite });
    }
    expect(signing.publicKey.asymmetricKeyType).toBe(spec.suite === 'rsa' ? 'rsa' : 'ed25519');
    expect(encryption.publicKey.asymmetricKeyType).toBe(spec.suite === 'rsa' ? 'rsa' : 'x25519');
    if (spec.suite === 'rsa') {
      expect(signing.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
      expect(encryption.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    }
    expect(verifier.verifyChain(credentials.signingChain, 'signing', now)).toBe(signing);
  });

  it.each(STATES)('refuses $code gateway certificates used for the other purpose', (spec) => {
    const credentials = loadGatewayCredentials(layout.states[spec.code]!);
    const now = new Date();
    expect(codeOf(() => verifier.verifyChain(credentials.signingChain, 'encryption', now))).toBe(
      'wrong-key-usage',
    );
    expect(codeOf(() => verifier.verifyChain(credentials.encryptionChain, 'signing', now))).toBe(
      'wrong-key-usage',
    );
  });

  it('names the file when a private key does not match its certificate', () => {
    const paths = layout.states.FR!;
    expect(() =>
      loadGatewayCredentials({ ...paths, signingKey: layout.states.DE!.signingKey }),
    ).toThrow(layout.states.DE!.signingKey);
  });

  it.each([
    [[{ code: 'fr', suite: 'rsa' }], /not an upper-case ISO 3166 alpha-2 code/],
    [[{ code: 'FRA', suite: 'rsa' }], /not an upper-case ISO 3166 alpha-2 code/],
    [
      [
        { code: 'FR', suite: 'rsa' },
        { code: 'FR', suite: 'rsa' },
      ],
      /listed twice/,
    ],
    [[{ code: 'FR', suite: 'ecdsa' }], /must be "ed25519-x25519" or "rsa"/],
  ])('rejects invalid States %j', async (states, message) => {
    await expect(
      createDevFederation({ directory, states: states as DevStateSpec[] }),
    ).rejects.toThrow(message);
  });

  it('refuses to change the key suite of an existing State', async () => {
    await expect(
      createDevFederation({ directory, states: [{ code: 'GR', suite: 'ed25519-x25519' }] }),
    ).rejects.toThrow(/another key suite/);
  });
});

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

function snapshot(directory: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = join(entry.parentPath, entry.name);
      files[file] = readFileSync(file);
    }
  }
  return files;
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof PkiError) return error.code;
    throw error;
  }
  return undefined;
}

describe('the development directory signer', () => {
  it('is issued by the root, names no State, and verifies only as a directory signer', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'comity-directory-signer-'));
    try {
      const layout = await createDevFederation({
        directory,
        states: [{ code: 'FR', suite: 'ed25519-x25519' }],
      });
      const verifier = new CertificateVerifier(
        readCertificatesPem(readFileSync(layout.trustAnchor, 'utf8')),
      );
      const signer = readCertificatesPem(readFileSync(layout.directorySigner.certificate, 'utf8'));
      expect(verifier.verifyDirectorySigner(signer, new Date()).suite).toBe('ed25519-x25519');
      expect(() => verifier.verifyChain(signer, 'signing', new Date())).toThrow(PkiError);
      const gateway = readCertificatesPem(
        readFileSync(layout.states.FR!.signingCertificate, 'utf8'),
      );
      expect(() => verifier.verifyDirectorySigner(gateway, new Date())).toThrow(PkiError);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
