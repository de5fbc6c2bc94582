import {
  constants,
  createHmac,
  createPrivateKey,
  sign,
  type KeyObject,
  type X509Certificate,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase64Url } from '@comity/jose';
import {
  CertificateVerifier,
  createDevFederation,
  generateKeyPair,
  issueCertificate,
  loadGatewayCredentials,
  readCertificatesPem,
  x5cOf,
  type CertificateAuthority,
  type GatewayCredentials,
  type KeySuite,
  type VerifiedCertificate,
} from '@comity/pki';
import {
  ENVELOPE_TYPE,
  ProtocolError,
  SIGNATURE_ALGORITHM,
  decryptionIdentityOf,
  parseDirectory,
  sealEnvelope,
  sha256Base64Url,
  signingIdentityOf,
  uuidV7,
  type DecryptionIdentity,
  type DirectoryDocument,
  type EnvelopeCheckContext,
  type EnvelopeReceiveContext,
  type FederationDirectory,
  type RequestContent,
  type RoutingFields,
  type RoutingHeader,
  type SealedEnvelope,
  type SigningIdentity,
} from '../src/index';

/**
 * One development federation per spec file: AT and FR on Ed25519/X25519, KE on RSA, issued
 * in a temporary directory so that tests never touch the repository's certificates.
 */
export type StateCode = 'AT' | 'FR' | 'KE';

export interface StateFixture {
  code: StateCode;
  suite: KeySuite;
  credentials: GatewayCredentials;
  signer: SigningIdentity;
  decryption: DecryptionIdentity;
  signingCertificate: VerifiedCertificate;
  encryptionCertificate: VerifiedCertificate;
  /** The State CA, able to issue the certificates a real CA never would (expired, ...). */
  stateCa: CertificateAuthority;
}

export interface TestFederation {
  directory: string;
  anchor: X509Certificate;
  verifier: CertificateVerifier;
  /** The instant every test treats as now; all certificates are valid at it. */
  now: Date;
  states: Record<StateCode, StateFixture>;
  dispose(): void;
}

const SUITES: Record<StateCode, KeySuite> = {
  AT: 'ed25519-x25519',
  FR: 'ed25519-x25519',
  KE: 'rsa',
};

/**
 * `existingDirectory`: use (and keep) a development PKI that already exists there, e.g. the one
 * running test gateways trust, instead of a fresh temporary one.
 */
export async function createTestFederation(
  codes: readonly StateCode[] = ['AT', 'FR', 'KE'],
  existingDirectory?: string,
): Promise<TestFederation> {
  const directory = existingDirectory ?? mkdtempSync(join(tmpdir(), 'comity-protocol-'));
  const layout = await createDevFederation({
    directory,
    states: codes.map((code) => ({ code, suite: SUITES[code] })),
  });
  const anchor = readCertificatesPem(readFileSync(layout.trustAnchor, 'utf8'))[0]!;
  const verifier = new CertificateVerifier([anchor]);
  const now = new Date();
  const states = {} as Record<StateCode, StateFixture>;
  for (const code of codes) {
    const paths = layout.states[code]!;
    const credentials = loadGatewayCredentials(paths);
    states[code] = {
      code,
      suite: credentials.suite,
      credentials,
      signer: signingIdentityOf(credentials),
      decryption: decryptionIdentityOf(credentials),
      signingCertificate: verifier.verifyChain(credentials.signingChain, 'signing', now),
      encryptionCertificate: verifier.verifyChain(credentials.encryptionChain, 'encryption', now),
      stateCa: {
        certificate: credentials.signingChain[1]!,
        privateKey: createPrivateKey(
          readFileSync(join(directory, 'states', code, 'state-ca.key.pem')),
        ),
      },
    };
  }
  return {
    directory,
    anchor,
    verifier,
    now,
    states,
    dispose: () => {
      if (!existingDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export function authorityOf(code: string): string {
  return `${code.toLowerCase()}-central-authority`;
}

export function routingFor(
  f: TestFederation,
  from: StateCode,
  to: StateCode,
  overrides: Partial<RoutingFields> = {},
): RoutingFields {
  const id = uuidV7(f.now.getTime());
  return {
    id,
    kind: 'mla_request',
    from: { state: from, authority: authorityOf(from) },
    to: { state: to, authority: authorityOf(to) },
    created: f.now.toISOString(),
    expires: new Date(f.now.getTime() + 7 * DAY_MS).toISOString(),
    thread: id,
    inReplyTo: null,
    ...overrides,
  };
}

export function sampleContent(overrides: Partial<RequestContent> = {}): RequestContent {
  return {
    legalBasis: 'Council of Europe Convention on Mutual Assistance in Criminal Matters, Art. 3',
    urgency: 'urgent',
    deadline: '2031-01-31',
    subject: 'Bank records of account AT00 1234 — Verfahren 12 St 34/26',
    body: 'Please provide the records of the account named above (UTF-8: é, ß, 日本).',
    attachments: [{ filename: 'warrant.pdf', mediaType: 'application/pdf', data: 'JVBERi0xLjcK' }],
    ...overrides,
  };
}

export function sealFor(
  f: TestFederation,
  from: StateCode,
  to: StateCode,
  overrides: Partial<RoutingFields> = {},
  content: RequestContent = sampleContent(),
): SealedEnvelope {
  return sealEnvelope({
    routing: routingFor(f, from, to, overrides),
    content,
    signer: f.states[from].signer,
    recipient: f.states[to].encryptionCertificate,
  });
}

export function contextFor(
  f: TestFederation,
  self: StateCode,
  overrides: Partial<EnvelopeCheckContext> = {},
): EnvelopeCheckContext {
  return {
    verifier: f.verifier,
    self,
    now: f.now,
    maxEnvelopeBytes: 16 * 1024 * 1024,
    clockSkewMs: 5 * 60_000,
    ...overrides,
  };
}

export interface EnvelopeParts {
  headerJws: string;
  contentJwe: string;
}

export function partsOf(bytes: Buffer): EnvelopeParts {
  const wrapper = JSON.parse(bytes.toString('utf8')) as { header: string; content: string };
  return { headerJws: wrapper.header, contentJwe: wrapper.content };
}

/** The wire form, written the way `sealEnvelope` writes it. */
export function wrapEnvelope(parts: EnvelopeParts): Buffer {
  return Buffer.from(
    JSON.stringify({ comity: 1, header: parts.headerJws, content: parts.contentJwe }),
  );
}

/**
 * Signs a compact JWS without any of the library's producer checks, so that tests can make
 * the tokens an attacker would: `alg: none`, HS256 keyed with a public key, `jwk`, `crit`, ...
 */
export function signRaw(
  protectedHeader: Record<string, unknown>,
  payload: Uint8Array | string,
  key: KeyObject | Buffer | null,
): string {
  const signingInput = `${encodeBase64Url(Buffer.from(JSON.stringify(protectedHeader)))}.${encodeBase64Url(Buffer.from(payload))}`;
  const data = Buffer.from(signingInput, 'ascii');
  let signature: Buffer;
  switch (protectedHeader.alg) {
    case 'EdDSA':
      signature = sign(null, data, key as KeyObject);
      break;
    case 'PS256':
      signature = sign('sha256', data, {
        key: key as KeyObject,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
      break;
    case 'RS256':
      signature = sign('sha256', data, key as KeyObject);
      break;
    case 'HS256':
      signature = createHmac('sha256', key as Buffer)
        .update(data)
        .digest();
      break;
    default:
      signature = Buffer.alloc(0);
  }
  return `${signingInput}.${encodeBase64Url(signature)}`;
}

/** The outer header JWS as `sealEnvelope` makes it, with protected-header members overridable. */
export function signRoutingHeader(
  header: RoutingHeader | Record<string, unknown>,
  signer: SigningIdentity,
  protectedOverrides: Record<string, unknown> = {},
): string {
  const protectedHeader: Record<string, unknown> = {
    alg: SIGNATURE_ALGORITHM[signer.suite],
    typ: ENVELOPE_TYPE,
    x5c: signer.x5c,
    ...protectedOverrides,
  };
  for (const [member, value] of Object.entries(protectedHeader)) {
    if (value === undefined) delete protectedHeader[member];
  }
  return signRaw(protectedHeader, JSON.stringify(header), signer.key);
}

/** An envelope whose header is re-signed by `signer` and whose contentDigest matches `contentJwe`. */
export function envelopeWithContent(
  header: RoutingHeader,
  contentJwe: string,
  signer: SigningIdentity,
  protectedOverrides: Record<string, unknown> = {},
): Buffer {
  const signedHeader = { ...header, contentDigest: sha256Base64Url(contentJwe) };
  return wrapEnvelope({
    headerJws: signRoutingHeader(signedHeader, signer, protectedOverrides),
    contentJwe,
  });
}

/** Runs `action` and returns the ProtocolError it throws; any other outcome fails the test. */
export function protocolErrorOf(action: () => unknown): ProtocolError {
  try {
    action();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError, but the input was accepted');
}

/** Issues a signing certificate for `state`'s own signing key, with the validity asked for. */
export async function issueSigningCertificate(
  state: StateFixture,
  period: { notBefore: Date; notAfter: Date },
  issuer: CertificateAuthority = state.stateCa,
): Promise<X509Certificate> {
  return issueCertificate({
    profile: 'signing',
    subject: { country: state.code, commonName: `Test gateway ${state.code} signing` },
    publicKey: state.credentials.signingChain[0]!.publicKey,
    issuer,
    ...period,
  });
}

/** A root no gateway trusts, a State CA under it claiming `state`, and a leaf for its signing key. */
export async function rogueSigningChain(state: StateFixture, now: Date): Promise<string[]> {
  const period = {
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + DAY_MS),
  };
  const rootKeys = await generateKeyPair('ed25519');
  const rootCertificate = await issueCertificate({
    profile: 'federation-root',
    subject: {
      organization: 'Comity Federation (development)',
      commonName: 'Comity Federation Root CA',
    },
    publicKey: rootKeys.publicKey,
    selfSigningKey: rootKeys.privateKey,
    ...period,
  });
  const caKeys = await generateKeyPair('ed25519');
  const caCertificate = await issueCertificate({
    profile: 'state-ca',
    subject: { country: state.code, commonName: `Comity State CA ${state.code}` },
    publicKey: caKeys.publicKey,
    issuer: { certificate: rootCertificate, privateKey: rootKeys.privateKey },
    ...period,
  });
  const leaf = await issueSigningCertificate(state, period, {
    certificate: caCertificate,
    privateKey: caKeys.privateKey,
  });
  return x5cOf([leaf, caCertificate, rootCertificate]);
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Replaces the base64url character at `index` by another one. Away from the last character
 * every bit is significant, so the decoded bytes change but the encoding stays canonical.
 */
export function flipBase64UrlChar(text: string, index: number): string {
  const current = BASE64URL_ALPHABET.indexOf(text[index]!);
  if (current < 0) throw new Error(`not a base64url character at ${index}`);
  const replacement = BASE64URL_ALPHABET[(current + 1 + (index % 5)) % 64];
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

/** A spread of positions over a part, always leaving out its last character. */
export function positionsIn(text: string, samples = 12): number[] {
  const last = text.length - 2;
  if (last < 0) return [];
  const step = Math.max(1, Math.floor(last / samples));
  const positions: number[] = [];
  for (let index = 0; index <= last; index += step) positions.push(index);
  return positions;
}

function testDirectoryDocument(
  f: TestFederation,
  options: TestDirectoryOptions,
): DirectoryDocument {
  return {
    federation: 'comity-test',
    version: 1,
    issued: new Date(f.now.getTime() - DAY_MS).toISOString(),
    expires: new Date(f.now.getTime() + 30 * DAY_MS).toISOString(),
    states: (Object.keys(f.states) as StateCode[]).map((code) => {
      const { credentials } = f.states[code];
      const lower = code.toLowerCase();
      return {
        code,
        name: code,
        routingKey: options.routingKey?.(code) ?? code,
        ...(options.brokerUsers ? { brokerUser: `comity-${lower}` } : {}),
        protocolVersions: [1, 2],
        caCertificates: [credentials.signingChain[1]!.toString()],
        signingCertificates: [credentials.signingChain[0]!.toString()],
        encryptionCertificates: [credentials.encryptionCertificate.toString()],
        authorities: [
          {
            id: authorityOf(code),
            name: 'Central authority for mutual legal assistance',
            types: ['mla_central_authority'],
            requestKinds: ['mla_request', 'supplementary_information', 'reply'],
            languages: ['en'],
          },
          {
            id: `${lower}-extradition-authority`,
            name: 'Extradition authority',
            types: ['extradition_authority'],
            requestKinds: ['extradition_request', 'provisional_arrest_request'],
            languages: ['en'],
          },
        ],
      };
    }),
  };
}

export interface TestDirectoryOptions {
  /** Each State may publish only through its broker account `comity-<state>`. */
  brokerUsers?: boolean;
  /** The routing key of a State's inbox; the State code by default. */
  routingKey?: (code: string) => string;
}

/**
 * The directory of the federation's States as a receiving gateway holds it (signature aside):
 * each with a central authority (MLA) and an extradition authority, as in the dev directory.
 */
export function testDirectory(
  f: TestFederation,
  options: TestDirectoryOptions = {},
): FederationDirectory {
  return parseDirectory(JSON.stringify(testDirectoryDocument(f, options)));
}

/** What the receive pipeline needs of a receiving gateway `self`, at the federation's "now". */
export function receiveContextFor(
  f: TestFederation,
  self: StateCode,
  directory: FederationDirectory,
  overrides: Partial<EnvelopeReceiveContext<{ envelopeDigest: string }>> = {},
): EnvelopeReceiveContext<{ envelopeDigest: string }> {
  return {
    ...contextFor(f, self),
    directory,
    decryption: f.states[self].decryption,
    brokerUser: undefined,
    alreadyDelivered: () => Promise.resolve(null),
    ...overrides,
  };
}
