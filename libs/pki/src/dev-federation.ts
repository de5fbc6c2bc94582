import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  issueCertificate,
  type CertificateAuthority,
  type CertificateProfile,
} from './certificate-issuer';
import type { StateCredentialPaths } from './gateway-credentials';
import { generateKeyPair, isKeySuite, keyKindFor, suiteOfKey, type KeySuite } from './key-suite';

export interface DevStateSpec {
  /** ISO 3166 alpha-2 code, upper case. */
  code: string;
  suite: KeySuite;
}

export interface DevFederationOptions {
  directory: string;
  states: DevStateSpec[];
  /** Validity of every certificate issued in this run; default 365 days. */
  validityDays?: number;
}

export interface DevFederationLayout {
  /** Path of the federation root certificate (PEM): the trust anchor of every gateway. */
  trustAnchor: string;
  /** The directory signer's certificate and key, issued by the root. */
  directorySigner: { certificate: string; key: string };
  /** A TLS server certificate for localhost / 127.0.0.1 (HTTPS, a TLS broker), issued by the root. */
  tlsServer: { certificate: string; key: string };
  states: Record<string, StateCredentialPaths>;
}

const STATE_CODE = /^[A-Z]{2}$/;
const DAY_MS = 86_400_000;
// Certificates start a little in the past so that a peer whose clock lags still accepts them.
const BACKDATE_MS = 5 * 60_000;
const ORGANIZATION = 'Comity Federation (development)';

const README = `# DEVELOPMENT ONLY

These keys and certificates were made by \`createDevFederation\` (@comity/pki) for
development and tests. The private keys are unprotected files and the federation root
is not anyone's: NEVER use them in production. In production each State's CA issues its
gateway certificates under the real federation root, and the keys stay in the gateway's
key store.

- federation-root.crt.pem: trust anchor of every gateway
- directory-signer.*: signs the federation directory (directory.jws), issued by the root
- tls-server.*: TLS certificate for localhost/127.0.0.1 (HTTPS, a TLS broker), issued by the root
- states/<CODE>/state-ca.crt.pem: the State's CA (pathLen 0), issued by the root
- states/<CODE>/gateway-signing.*: the gateway's signing certificate and key
- states/<CODE>/gateway-encryption.*: the gateway's encryption certificate and key
`;

/** The file paths of a development federation, without touching the disk. */
export function devFederationLayout(directory: string, stateCodes: string[]): DevFederationLayout {
  const states: Record<string, StateCredentialPaths> = {};
  for (const code of stateCodes) {
    const stateDirectory = join(directory, 'states', code);
    states[code] = {
      stateCaCertificate: join(stateDirectory, 'state-ca.crt.pem'),
      signingCertificate: join(stateDirectory, 'gateway-signing.crt.pem'),
      signingKey: join(stateDirectory, 'gateway-signing.key.pem'),
      encryptionCertificate: join(stateDirectory, 'gateway-encryption.crt.pem'),
      encryptionKey: join(stateDirectory, 'gateway-encryption.key.pem'),
    };
  }
  return {
    trustAnchor: join(directory, 'federation-root.crt.pem'),
    directorySigner: {
      certificate: join(directory, 'directory-signer.crt.pem'),
      key: join(directory, 'directory-signer.key.pem'),
    },
    tlsServer: {
      certificate: join(directory, 'tls-server.crt.pem'),
      key: join(directory, 'tls-server.key.pem'),
    },
    states,
  };
}

/**
 * Creates (or completes) a development federation: an Ed25519 root, one Ed25519 CA per
 * State and each State's two gateway certificates. Files that exist are kept, so a second
 * run changes nothing and a State added later is issued by the existing root. Every State
 * CA is Ed25519, also for `rsa` States: only the gateway keys carry the suite.
 */
export async function createDevFederation(
  options: DevFederationOptions,
): Promise<DevFederationLayout> {
  const validityDays = validateOptions(options);
  const { directory, states } = options;
  const layout = devFederationLayout(
    directory,
    states.map((state) => state.code),
  );
  const now = Date.now();
  const period = (issuer?: CertificateAuthority) => ({
    notBefore: new Date(now - BACKDATE_MS),
    // A certificate never outlives its issuer's.
    notAfter: new Date(
      Math.min(
        now + validityDays * DAY_MS,
        issuer ? Date.parse(issuer.certificate.validTo) : Infinity,
      ),
    ),
  });

  mkdirSync(directory, { recursive: true });
  writeOnce(join(directory, 'README.md'), README, 0o644);

  const root = await ensureCredential(
    layout.trustAnchor,
    join(directory, 'federation-root.key.pem'),
    undefined,
    async () => {
      const keys = await generateKeyPair('ed25519');
      const certificate = await issueCertificate({
        profile: 'federation-root',
        subject: { organization: ORGANIZATION, commonName: 'Comity Federation Root CA' },
        publicKey: keys.publicKey,
        selfSigningKey: keys.privateKey,
        ...period(),
      });
      return { certificate, privateKey: keys.privateKey };
    },
  );

  await ensureCredential(
    layout.directorySigner.certificate,
    layout.directorySigner.key,
    root,
    async () => {
      const keys = await generateKeyPair('ed25519');
      const certificate = await issueCertificate({
        profile: 'directory',
        subject: { organization: ORGANIZATION, commonName: 'Comity Federation Directory Signer' },
        publicKey: keys.publicKey,
        issuer: root,
        ...period(root),
      });
      return { certificate, privateKey: keys.privateKey };
    },
  );

  await ensureCredential(layout.tlsServer.certificate, layout.tlsServer.key, root, async () => {
    const keys = await generateKeyPair('ed25519');
    const certificate = await issueCertificate({
      profile: 'tls-server',
      subject: { organization: ORGANIZATION, commonName: 'localhost' },
      subjectAltNames: { dns: ['localhost'], ip: ['127.0.0.1'] },
      publicKey: keys.publicKey,
      issuer: root,
      ...period(root),
    });
    return { certificate, privateKey: keys.privateKey };
  });

  await Promise.all(
    states.map(async ({ code, suite }) => {
      const paths = layout.states[code] as StateCredentialPaths;
      mkdirSync(join(directory, 'states', code), { recursive: true });
      const stateCa = await ensureCredential(
        paths.stateCaCertificate,
        join(directory, 'states', code, 'state-ca.key.pem'),
        root,
        () => issueWithNewKey('state-ca', code, `Comity State CA ${code}`, 'ed25519', root, period),
      );
      await Promise.all(
        (['signing', 'encryption'] as const).map(async (purpose) => {
          const certificateFile =
            purpose === 'signing' ? paths.signingCertificate : paths.encryptionCertificate;
          const keyFile = purpose === 'signing' ? paths.signingKey : paths.encryptionKey;
          const issued = await ensureCredential(certificateFile, keyFile, stateCa, () =>
            issueWithNewKey(
              purpose,
              code,
              `Comity gateway ${code} ${purpose}`,
              keyKindFor(suite, purpose),
              stateCa,
              period,
            ),
          );
          if (suiteOfKey(issued.privateKey, purpose) !== suite) {
            throw new Error(
              `${keyFile} was made for another key suite than ${suite}; delete ${join(directory, 'states', code)} to issue State ${code} again`,
            );
          }
        }),
      );
    }),
  );
  return layout;
}

async function issueWithNewKey(
  profile: CertificateProfile,
  country: string,
  commonName: string,
  kind: 'ed25519' | 'x25519' | 'rsa',
  issuer: CertificateAuthority,
  period: (issuer: CertificateAuthority) => { notBefore: Date; notAfter: Date },
): Promise<CertificateAuthority> {
  const keys = await generateKeyPair(kind);
  const certificate = await issueCertificate({
    profile,
    subject: { country, organization: ORGANIZATION, commonName },
    publicKey: keys.publicKey,
    issuer,
    ...period(issuer),
  });
  return { certificate, privateKey: keys.privateKey };
}

/**
 * Loads a certificate and its key if both files exist, issues them if neither does, and
 * refuses a half pair or a certificate its issuer did not sign (a directory edited by hand).
 */
async function ensureCredential(
  certificateFile: string,
  keyFile: string,
  issuer: CertificateAuthority | undefined,
  issue: () => Promise<CertificateAuthority>,
): Promise<CertificateAuthority> {
  const haveCertificate = existsSync(certificateFile);
  const haveKey = existsSync(keyFile);
  if (haveCertificate !== haveKey) {
    throw new Error(
      `${haveCertificate ? keyFile : certificateFile} is missing while ${haveCertificate ? certificateFile : keyFile} exists; delete the other file too to issue both again`,
    );
  }
  if (!haveCertificate) {
    const issued = await issue();
    writeOnce(keyFile, issued.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
    writeOnce(certificateFile, issued.certificate.toString(), 0o644);
    return issued;
  }

  const certificate = new X509Certificate(readFileSync(certificateFile));
  const privateKey: KeyObject = createPrivateKey(readFileSync(keyFile));
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error(`${keyFile} does not hold the private key of ${certificateFile}`);
  }
  const signer = issuer?.certificate ?? certificate;
  if (!certificate.checkIssued(signer) || !certificate.verify(signer.publicKey)) {
    throw new Error(
      `${certificateFile} is not issued by ${issuer ? 'the CA above it' : 'itself'}; delete it and its key to issue it again`,
    );
  }
  return { certificate, privateKey };
}

/** Writes through a temporary file so that an interrupted run never leaves half a file. */
function writeOnce(file: string, content: string, mode: number): void {
  if (existsSync(file)) return;
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode, flag: 'wx' });
  renameSync(temporary, file);
}

function validateOptions(options: DevFederationOptions): number {
  if (typeof options.directory !== 'string' || options.directory.length === 0) {
    throw new TypeError('createDevFederation: `directory` must be a non-empty path');
  }
  if (!Array.isArray(options.states)) {
    throw new TypeError('createDevFederation: `states` must be an array of { code, suite }');
  }
  const seen = new Set<string>();
  for (const [index, state] of options.states.entries()) {
    if (typeof state?.code !== 'string' || !STATE_CODE.test(state.code)) {
      throw new TypeError(
        `createDevFederation: states[${index}].code ${JSON.stringify(state?.code)} is not an upper-case ISO 3166 alpha-2 code such as "FR"`,
      );
    }
    if (seen.has(state.code)) {
      throw new TypeError(`createDevFederation: State ${state.code} is listed twice`);
    }
    seen.add(state.code);
    if (!isKeySuite(state.suite)) {
      throw new TypeError(
        `createDevFederation: states[${index}].suite ${JSON.stringify(state.suite)} must be "ed25519-x25519" or "rsa"`,
      );
    }
  }
  const validityDays = options.validityDays ?? 365;
  if (!Number.isInteger(validityDays) || validityDays < 1) {
    throw new TypeError('createDevFederation: `validityDays` must be a positive whole number');
  }
  return validityDays;
}
