import { createHash, type X509Certificate } from 'node:crypto';
import {
  CertificateVerifier,
  generateKeyPair,
  issueCertificate,
  PkiError,
  sha256Thumbprint,
  x5cOf,
  type CertificateAuthority,
  type CertificateProfile,
  type KeyKind,
  type PkiErrorCode,
} from './index';

const DAY = 86_400_000;
const NOW = new Date('2027-03-01T12:00:00Z');
const VALID = { notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + DAY) };

interface Fixtures {
  root: CertificateAuthority;
  rogueRoot: CertificateAuthority;
  france: CertificateAuthority;
  germany: CertificateAuthority;
  signing: X509Certificate;
  encryption: X509Certificate;
}

/** Issues a certificate for a fresh key of `kind`; self-signed when `issuer` is undefined. */
async function issue(
  profile: CertificateProfile,
  kind: KeyKind,
  subject: { country?: string; commonName: string },
  issuer: CertificateAuthority | undefined,
  period = VALID,
  rsaBits?: number,
): Promise<CertificateAuthority> {
  const keys = await generateKeyPair(kind, rsaBits);
  const certificate = await issueCertificate({
    profile,
    subject,
    publicKey: keys.publicKey,
    ...(issuer ? { issuer } : { selfSigningKey: keys.privateKey }),
    ...period,
  });
  return { certificate, privateKey: keys.privateKey };
}

function codeOf(action: () => unknown): PkiErrorCode | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof PkiError) return error.code;
    throw error;
  }
  return undefined;
}

describe('CertificateVerifier', () => {
  let f: Fixtures;
  let verifier: CertificateVerifier;

  beforeAll(async () => {
    const root = await issue('federation-root', 'ed25519', { commonName: 'Root' }, undefined);
    const rogueRoot = await issue('federation-root', 'ed25519', { commonName: 'Root' }, undefined);
    const france = await issue('state-ca', 'ed25519', { country: 'FR', commonName: 'CA FR' }, root);
    const germany = await issue(
      'state-ca',
      'ed25519',
      { country: 'DE', commonName: 'CA DE' },
      root,
    );
    const signing = await issue(
      'signing',
      'ed25519',
      { country: 'FR', commonName: 'FR sig' },
      france,
    );
    const encryption = await issue(
      'encryption',
      'x25519',
      { country: 'FR', commonName: 'FR enc' },
      france,
    );
    f = {
      root,
      rogueRoot,
      france,
      germany,
      signing: signing.certificate,
      encryption: encryption.certificate,
    };
    verifier = new CertificateVerifier([root.certificate]);
  });

  const verify = (
    chain: readonly X509Certificate[] | readonly string[],
    purpose = 'signing' as const,
  ) => codeOf(() => new CertificateVerifier([f.root.certificate]).verifyChain(chain, purpose, NOW));

  describe('accepts', () => {
    it('a signing chain, as certificates or as x5c', () => {
      const chain = [f.signing, f.france.certificate];
      const verified = verifier.verifyChain(chain, 'signing', NOW);
      expect(verified).toMatchObject({
        certificate: f.signing,
        state: 'FR',
        suite: 'ed25519-x25519',
        purpose: 'signing',
        sha256Thumbprint: createHash('sha256').update(f.signing.raw).digest('base64url'),
        notAfter: VALID.notAfter,
      });
      expect(verified.publicKey.equals(f.signing.publicKey)).toBe(true);
      expect(verifier.verifyChain(x5cOf(chain), 'signing', NOW)).toMatchObject({ state: 'FR' });
    });

    it('an encryption chain with the trust anchor appended', () => {
      const chain = [f.encryption, f.france.certificate, f.root.certificate];
      expect(verifier.verifyChain(x5cOf(chain), 'encryption', NOW)).toMatchObject({
        state: 'FR',
        suite: 'ed25519-x25519',
        purpose: 'encryption',
      });
    });

    it('from the cache with one lookup, re-checking time on every call', () => {
      const x5c = x5cOf([f.signing, f.france.certificate]);
      const first = verifier.verifyChain(x5c, 'signing', NOW);
      const started = process.hrtime.bigint();
      for (let i = 0; i < 10_000; i++) verifier.verifyChain(x5c, 'signing', NOW);
      const perCallNs = Number(process.hrtime.bigint() - started) / 10_000;
      expect(verifier.verifyChain([...x5c], 'signing', NOW)).toBe(first);
      expect(perCallNs).toBeLessThan(20_000);
      const later = new Date(VALID.notAfter.getTime() + 1000);
      expect(codeOf(() => verifier.verifyChain(x5c, 'signing', later))).toBe('certificate-expired');
    });

    it('gives x5c as standard base64 DER and x5t#S256 as base64url', () => {
      expect(x5cOf([f.signing])).toEqual([f.signing.raw.toString('base64')]);
      expect(sha256Thumbprint(f.signing)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });
  });

  describe('rejects', () => {
    it('a chain from a rogue root', async () => {
      const rogueCa = await issue(
        'state-ca',
        'ed25519',
        { country: 'FR', commonName: 'CA FR' },
        f.rogueRoot,
      );
      const leaf = await issue(
        'signing',
        'ed25519',
        { country: 'FR', commonName: 'FR sig' },
        rogueCa,
      );
      expect(verify([leaf.certificate, rogueCa.certificate])).toBe('chain-untrusted');
      expect(verify([leaf.certificate, rogueCa.certificate, f.rogueRoot.certificate])).toBe(
        'chain-untrusted',
      );
    });

    it('a self-signed leaf', async () => {
      const leaf = await issue(
        'signing',
        'ed25519',
        { country: 'FR', commonName: 'me' },
        undefined,
      );
      expect(verify([leaf.certificate])).toBe('self-signed');
      expect(verify([leaf.certificate, f.france.certificate])).toBe('self-signed');
    });

    it('an expired leaf and an expired State CA', async () => {
      const past = {
        notBefore: new Date(NOW.getTime() - 3 * DAY),
        notAfter: new Date(NOW.getTime() - DAY),
      };
      const leaf = await issue(
        'signing',
        'ed25519',
        { country: 'FR', commonName: 'old' },
        f.france,
        past,
      );
      expect(verify([leaf.certificate, f.france.certificate])).toBe('certificate-expired');
      const oldCa = await issue(
        'state-ca',
        'ed25519',
        { country: 'FR', commonName: 'old CA' },
        f.root,
        past,
      );
      const fresh = await issue('signing', 'ed25519', { country: 'FR', commonName: 'new' }, oldCa);
      expect(verify([fresh.certificate, oldCa.certificate])).toBe('certificate-expired');
    });

    it('a leaf not yet valid', async () => {
      const future = {
        notBefore: new Date(NOW.getTime() + DAY),
        notAfter: new Date(NOW.getTime() + 3 * DAY),
      };
      const leaf = await issue(
        'signing',
        'ed25519',
        { country: 'FR', commonName: 'soon' },
        f.france,
        future,
      );
      expect(verify([leaf.certificate, f.france.certificate])).toBe('certificate-not-yet-valid');
    });

    it('a signing certificate used for encryption and the reverse', () => {
      expect(verify([f.signing, f.france.certificate], 'encryption' as 'signing')).toBe(
        'wrong-key-usage',
      );
      expect(verify([f.encryption, f.france.certificate])).toBe('wrong-key-usage');
    });

    it('an Ed25519 leaf carrying the encryption key usage', async () => {
      const leaf = await issue(
        'encryption',
        'ed25519',
        { country: 'FR', commonName: 'odd' },
        f.france,
      );
      expect(verify([leaf.certificate, f.france.certificate], 'encryption' as 'signing')).toBe(
        'wrong-key-usage',
      );
    });

    it('a CA certificate presented as the leaf', () => {
      expect(verify([f.france.certificate])).toBe('wrong-key-usage');
    });

    it('a leaf issued by the root directly, without a State CA', async () => {
      const leaf = await issue(
        'signing',
        'ed25519',
        { country: 'FR', commonName: 'direct' },
        f.root,
      );
      expect(verify([leaf.certificate])).toBe('chain-untrusted');
    });

    it('a leaf used as a CA', async () => {
      const signer = await issue(
        'signing',
        'ed25519',
        { country: 'FR', commonName: 'sig' },
        f.france,
      );
      const below = await issue(
        'signing',
        'ed25519',
        { country: 'FR', commonName: 'below' },
        signer,
      );
      expect(verify([below.certificate, signer.certificate, f.france.certificate])).toBe(
        'chain-untrusted',
      );
    });

    it('a CA below a State CA (pathLen 0)', async () => {
      const subCa = await issue(
        'state-ca',
        'ed25519',
        { country: 'FR', commonName: 'sub' },
        f.france,
      );
      const leaf = await issue('signing', 'ed25519', { country: 'FR', commonName: 'deep' }, subCa);
      expect(verify([leaf.certificate, subCa.certificate, f.france.certificate])).toBe(
        'chain-untrusted',
      );
    });

    it('a leaf whose C differs from its State CA', async () => {
      const leaf = await issue(
        'signing',
        'ed25519',
        { country: 'DE', commonName: 'DE sig' },
        f.france,
      );
      expect(verify([leaf.certificate, f.france.certificate])).toBe('state-mismatch');
    });

    it("a leaf issued by another State's CA claiming this State", async () => {
      const leaf = await issue(
        'signing',
        'ed25519',
        { country: 'FR', commonName: 'FR sig' },
        f.germany,
      );
      expect(verify([leaf.certificate, f.germany.certificate])).toBe('state-mismatch');
      // Presenting this State's CA instead does not help: it did not sign the leaf.
      expect(verify([leaf.certificate, f.france.certificate])).toBe('chain-untrusted');
    });

    it('a leaf without a State in its subject', async () => {
      const leaf = await issue('signing', 'ed25519', { commonName: 'nowhere' }, f.france);
      expect(verify([leaf.certificate, f.france.certificate])).toBe('state-mismatch');
    });

    it('truncated and garbage x5c entries', () => {
      const [leaf, ca] = x5cOf([f.signing, f.france.certificate]) as [string, string];
      const truncated = Buffer.from(leaf, 'base64').subarray(0, 100).toString('base64');
      expect(verify([truncated, ca])).toBe('malformed-certificate');
      expect(verify([Buffer.from('not a certificate').toString('base64'), ca])).toBe(
        'malformed-certificate',
      );
      const trailing = Buffer.concat([f.signing.raw, Buffer.from([0])]).toString('base64');
      expect(verify([trailing, ca])).toBe('malformed-certificate');
      expect(verify([])).toBe('malformed-certificate');
      expect(verify([''])).toBe('malformed-certificate');
    });

    it('non-canonical base64 in x5c', () => {
      const [leaf, ca] = x5cOf([f.signing, f.france.certificate]) as [string, string];
      const variants = [
        Buffer.from(leaf, 'base64').toString('base64url'), // url-safe alphabet, no padding
        `${leaf.slice(0, 64)}\n${leaf.slice(64)}`, // line break
        ` ${leaf}`,
        `${leaf}=`,
        leaf.replace(/=+$/, ''), // padding dropped
      ];
      // Same bytes, different spelling: set unused low bits of the last character.
      const padded = ca.match(/^(.*)([A-Za-z0-9+/])(=+)$/);
      if (padded) {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
        const last = alphabet[alphabet.indexOf(padded[2]!) + 1]!;
        variants.push(`${padded[1]}${last}${padded[3]}`);
      }
      expect(variants.some((variant) => variant !== leaf)).toBe(true);
      for (const variant of variants) {
        expect(verify([variant, ca])).toBe('malformed-certificate');
      }
      if (padded)
        expect(verify([leaf, variants[variants.length - 1]!])).toBe('malformed-certificate');
    });

    it('a chain longer than 4 certificates', () => {
      const ca = f.france.certificate;
      expect(verify([f.signing, ca, ca, ca, ca])).toBe('chain-untrusted');
    });

    it('an RSA key under 3072 bits, unless the policy allows it', async () => {
      const leaf = await issue(
        'signing',
        'rsa',
        { country: 'FR', commonName: 'rsa' },
        f.france,
        VALID,
        2048,
      );
      const chain = [leaf.certificate, f.france.certificate];
      expect(verify(chain)).toBe('weak-key');
      const lenient = new CertificateVerifier([f.root.certificate], { minRsaModulusBits: 2048 });
      expect(lenient.verifyChain(chain, 'signing', NOW)).toMatchObject({
        suite: 'rsa',
        state: 'FR',
      });
    });
  });

  it('names the certificate by subject in its errors', () => {
    expect(() =>
      verifier.verifyChain([f.encryption, f.france.certificate], 'signing', NOW),
    ).toThrow(/"C=FR, CN=FR enc".*x25519.*signing/);
  });
});
