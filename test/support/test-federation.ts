import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CertificateVerifier,
  loadGatewayCredentials,
  readCertificatesPem,
  type VerifiedCertificate,
} from '@comity/pki';
import {
  decryptionIdentityOf,
  signingIdentityOf,
  type DecryptionIdentity,
  type SigningIdentity,
} from '@comity/protocol';
import { DEV_STATES } from '../../apps/cli/src/federation/dev-directory';
import {
  Federation,
  dropDatabase,
  freePort,
} from '../../apps/cli/src/federation/federation-launcher';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { GatewayClient } from '../../apps/cli/src/gateway-client';
import { devAccount, type DevPerson } from '../../apps/cli/src/federation/dev-accounts';
import { devApiKey, type DevPrincipal } from '../../apps/cli/src/federation/dev-api-keys';
import { POSTGRES_ADMIN_URL, createVhost, deleteVhost, uniqueName } from './services';
import { testPki } from './test-pki';

export interface TestFederation {
  federation: Federation;
  amqpUrl: string;
  /** Each node's database URL, for tests that count what is stored. */
  databaseUrls: Record<string, string>;
  /** A client with the development API key of one of the State's principals (default: the central authority's clerk). */
  client(state: string, principal?: DevPrincipal): GatewayClient;
  apiKey(state: string, principal: DevPrincipal): string;
  /** A development account of the State's workspace (username and password). */
  account(state: string, person: DevPerson): { username: string; password: string };
  verifier: CertificateVerifier;
  /** The federation root certificate file (COMITY_TRUST_ANCHOR), for offline verifiers. */
  trustAnchorPath: string;
  signingIdentity(state: string): SigningIdentity;
  /** A State's gateway encryption certificate, verified now (to seal envelopes by hand). */
  encryptionCertificate(state: string): VerifiedCertificate;
  decryptionIdentity(state: string): DecryptionIdentity;
  stop(): Promise<void>;
}

export interface TestFederationOptions {
  /** Runs once the vhost exists and before the gateways start (users, permissions, topology). */
  prepareBroker?: (vhost: string, adminUrl: string) => Promise<void>;
  /** Each State's broker URL, given the vhost's admin URL; by default all share the admin URL. */
  amqpUrlFor?: (state: string, adminUrl: string) => string;
  /** Another directory file than the test PKI's. */
  directoryPath?: string;
}

/** Three gateway processes (AT, FR, KE) with their own databases and a RabbitMQ vhost of their own. */
export async function startTestFederation(
  name: string,
  environment: Record<string, string> = {},
  options: TestFederationOptions = {},
): Promise<TestFederation> {
  const pki = await testPki();
  const vhost = uniqueName(`comity-${name}`);
  const amqpUrl = await createVhost(vhost);
  const databases = DEV_STATES.map((state) => ({
    state: state.code,
    name: uniqueName(`comity_${state.code.toLowerCase()}`).toLowerCase(),
  }));
  const nodes = [];
  for (const database of databases) {
    nodes.push({ state: database.state, port: await freePort(), databaseName: database.name });
  }
  let federation: Federation;
  try {
    await options.prepareBroker?.(vhost, amqpUrl);
    const amqpUrlFor = options.amqpUrlFor;
    federation = await Federation.launch({
      layout: pki.layout,
      directoryPath: options.directoryPath ?? pki.directoryPath,
      nodes,
      postgresAdminUrl: POSTGRES_ADMIN_URL,
      amqpUrl: amqpUrlFor ? (state) => amqpUrlFor(state, amqpUrl) : amqpUrl,
      logDirectory: join(repoRoot(__dirname), 'test-output', 'logs', vhost),
      environment,
    });
  } catch (error) {
    await deleteVhost(vhost);
    throw error;
  }
  const stateDirectory = (state: string) =>
    join(pki.layout.states[state]!.signingCertificate, '..');
  const credentials = (state: string) => {
    const paths = pki.layout.states[state];
    if (!paths) throw new Error(`no credentials for ${state}`);
    return loadGatewayCredentials(paths);
  };
  const databaseUrls = Object.fromEntries(
    databases.map((database) => {
      const url = new URL(POSTGRES_ADMIN_URL);
      url.pathname = `/${database.name}`;
      return [database.state, url.toString()];
    }),
  );
  return {
    federation,
    amqpUrl,
    databaseUrls,
    client: (state, principal = 'central-clerk') =>
      new GatewayClient(federation.node(state).url, devApiKey(stateDirectory(state), principal)),
    apiKey: (state, principal) => devApiKey(stateDirectory(state), principal),
    account: (state, person) => devAccount(stateDirectory(state), state, person),
    verifier: new CertificateVerifier(
      readCertificatesPem(readFileSync(pki.layout.trustAnchor, 'utf8')),
    ),
    trustAnchorPath: pki.layout.trustAnchor,
    signingIdentity: (state) => signingIdentityOf(credentials(state)),
    encryptionCertificate: (state) => {
      const { encryptionCertificate, encryptionChain } = credentials(state);
      return new CertificateVerifier(
        readCertificatesPem(readFileSync(pki.layout.trustAnchor, 'utf8')),
      ).verifyChain([encryptionCertificate, ...encryptionChain.slice(1)], 'encryption', new Date());
    },
    decryptionIdentity: (state) => decryptionIdentityOf(credentials(state)),
    async stop() {
      await federation.stop();
      await deleteVhost(vhost);
      for (const database of databases) await dropDatabase(POSTGRES_ADMIN_URL, database.name);
    },
  };
}

export function mlaRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'mla_request',
    senderAuthority: 'at-central-authority',
    recipient: { state: 'FR', authority: 'fr-central-authority' },
    legalBasis: 'UNCAC art. 46',
    urgency: 'routine',
    subject: 'Bank records',
    body: 'Please provide the account statements of account 1234 for 2019-2024.',
    ...overrides,
  };
}
