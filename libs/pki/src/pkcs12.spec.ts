import { execFileSync } from 'node:child_process';
import { type KeyObject, type X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPkcs12,
  generateKeyPair,
  issueCertificate,
  loadPkcs12,
  PkiError,
  type CertificateAuthority,
  type CertificateProfile,
  type KeyKind,
} from './index';

const PERIOD = {
  notBefore: new Date(Date.now() - 60_000),
  notAfter: new Date(Date.now() + 86_400_000),
};
const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((path) => existsSync(path));

async function issue(
  profile: CertificateProfile,
  kind: KeyKind,
  commonName: string,
  issuer?: CertificateAuthority,
): Promise<CertificateAuthority> {
  const keys = await generateKeyPair(kind);
  const certificate = await issueCertificate({
    profile,
    subject: { country: 'FR', commonName },
    publicKey: keys.publicKey,
    ...(issuer ? { issuer } : { selfSigningKey: keys.privateKey }),
    ...PERIOD,
  });
  return { certificate, privateKey: keys.privateKey };
}

function samePrivateKey(a: KeyObject, b: KeyObject): boolean {
  const der = (key: KeyObject) => key.export({ format: 'der', type: 'pkcs8' });
  return der(a).equals(der(b));
}

function rawOf(chain: X509Certificate[]): Buffer[] {
  return chain.map((certificate) => certificate.raw);
}

describe('PKCS#12', () => {
  let stateCa: CertificateAuthority;
  const leaves: Partial<Record<KeyKind, CertificateAuthority>> = {};

  beforeAll(async () => {
    stateCa = await issue('state-ca', 'ed25519', 'CA FR');
    leaves.rsa = await issue('signing', 'rsa', 'FR rsa signing', stateCa);
    leaves.ed25519 = await issue('signing', 'ed25519', 'FR signing', stateCa);
    leaves.x25519 = await issue('encryption', 'x25519', 'FR encryption', stateCa);
  });

  it.each(['rsa', 'ed25519', 'x25519'] as const)('round-trips a %s key with its chain', (kind) => {
    const leaf = leaves[kind]!;
    const chain = [leaf.certificate, stateCa.certificate];
    const pfx = createPkcs12(leaf.privateKey, chain, 'correct horse');
    const loaded = loadPkcs12(pfx, 'correct horse');
    expect(samePrivateKey(loaded.privateKey, leaf.privateKey)).toBe(true);
    expect(loaded.privateKey.asymmetricKeyType).toBe(kind);
    expect(rawOf(loaded.chain)).toEqual(rawOf(chain));
  });

  it('refuses a wrong password and a damaged file with pkcs12-invalid', () => {
    const leaf = leaves.ed25519!;
    const pfx = createPkcs12(leaf.privateKey, [leaf.certificate, stateCa.certificate], 'right');
    expect(() => loadPkcs12(pfx, 'wrong')).toThrow(
      expect.objectContaining({ code: 'pkcs12-invalid' }) as PkiError,
    );
    expect(() => loadPkcs12(pfx.subarray(0, pfx.length - 40), 'right')).toThrow(PkiError);
    expect(() => loadPkcs12(Buffer.from('garbage'), 'right')).toThrow(PkiError);
  });

  it('refuses a non-ASCII password, which forge and OpenSSL would encode differently', () => {
    const leaf = leaves.ed25519!;
    expect(() => createPkcs12(leaf.privateKey, [leaf.certificate], 'mot de passe é')).toThrow(
      /ASCII/,
    );
  });

  it('refuses to write a key with a certificate that is not its own', () => {
    expect(() =>
      createPkcs12(leaves.ed25519!.privateKey, [leaves.x25519!.certificate], 'pw'),
    ).toThrow(expect.objectContaining({ code: 'pkcs12-invalid' }) as PkiError);
  });

  (OPENSSL ? describe : describe.skip)('with OpenSSL', () => {
    let directory: string;
    beforeAll(() => (directory = mkdtempSync(join(tmpdir(), 'comity-p12-'))));
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    it.each(['rsa', 'ed25519'] as const)('OpenSSL reads the %s PKCS#12 written here', (kind) => {
      const leaf = leaves[kind]!;
      const file = join(directory, `${kind}.p12`);
      writeFileSync(
        file,
        createPkcs12(leaf.privateKey, [leaf.certificate, stateCa.certificate], 'pw'),
      );
      const pem = execFileSync(OPENSSL!, ['pkcs12', '-in', file, '-passin', 'pass:pw', '-nodes'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(pem).toContain('BEGIN PRIVATE KEY');
      expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    });

    it.each(['rsa', 'ed25519'] as const)('reads a %s PKCS#12 written by OpenSSL', (kind) => {
      const leaf = leaves[kind]!;
      const keyFile = join(directory, `${kind}.key.pem`);
      const chainFile = join(directory, `${kind}.chain.pem`);
      const file = join(directory, `${kind}.openssl.p12`);
      writeFileSync(keyFile, leaf.privateKey.export({ format: 'pem', type: 'pkcs8' }));
      writeFileSync(chainFile, stateCa.certificate.toString() + leaf.certificate.toString());
      execFileSync(
        OPENSSL!,
        [
          'pkcs12',
          '-export',
          '-inkey',
          keyFile,
          '-in',
          chainFile,
          '-out',
          file,
          '-passout',
          'pass:pw',
        ],
        { stdio: 'ignore' },
      );
      const loaded = loadPkcs12(readFileSync(file), 'pw');
      expect(samePrivateKey(loaded.privateKey, leaf.privateKey)).toBe(true);
      expect(rawOf(loaded.chain)).toEqual([leaf.certificate.raw, stateCa.certificate.raw]);
    });
  });
});
