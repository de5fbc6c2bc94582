import { readFileSync } from 'node:fs';
import type { DevFederationLayout, KeySuite } from '@comity/pki';
import type { DirectoryDocument } from '@comity/protocol';

export interface DevStateDescription {
  code: string;
  name: string;
  suite: KeySuite;
  /** ISO 639-1 codes of the languages its authorities accept requests in. */
  languages: string[];
}

/** The development federation the demo and the tests run: two Ed25519 States and one RSA State. */
export const DEV_STATES: DevStateDescription[] = [
  { code: 'AT', name: 'Austria', suite: 'ed25519-x25519', languages: ['de', 'en'] },
  { code: 'FR', name: 'France', suite: 'ed25519-x25519', languages: ['fr', 'en'] },
  { code: 'KE', name: 'Kenya', suite: 'rsa', languages: ['en', 'sw'] },
];

/** Builds the (development) directory document from the issued certificates. */
export function buildDevDirectory(
  layout: DevFederationLayout,
  states: DevStateDescription[],
  options: { brokerUsers?: boolean; now?: Date; validDays?: number } = {},
): DirectoryDocument {
  const now = options.now ?? new Date();
  return {
    federation: 'comity-development',
    // Seconds since the epoch: every edition made later is newer.
    version: Math.floor(now.getTime() / 1000),
    issued: now.toISOString(),
    expires: new Date(now.getTime() + (options.validDays ?? 90) * 86_400_000).toISOString(),
    revokedCertificates: [],
    policy: { maxEnvelopeBytes: 16 * 1024 * 1024, clockSkewSeconds: 300 },
    states: states.map((state) => {
      const paths = layout.states[state.code];
      if (!paths) throw new Error(`no credentials were issued for ${state.code}`);
      const lower = state.code.toLowerCase();
      return {
        code: state.code,
        name: state.name,
        routingKey: state.code,
        ...(options.brokerUsers ? { brokerUser: brokerUserOf(state.code) } : {}),
        protocolVersions: [1, 2, 3, 4],
        caCertificates: [readFileSync(paths.stateCaCertificate, 'utf8')],
        signingCertificates: [readFileSync(paths.signingCertificate, 'utf8')],
        encryptionCertificates: [readFileSync(paths.encryptionCertificate, 'utf8')],
        authorities: [
          {
            id: `${lower}-central-authority`,
            name: `${state.name}: central authority for mutual legal assistance`,
            types: ['mla_central_authority', 'asset_recovery_focal_point'],
            requestKinds: [
              'mla_request',
              'asset_recovery_request',
              'supplementary_information',
              'reply',
            ],
            languages: state.languages,
          },
          {
            id: `${lower}-extradition-authority`,
            name: `${state.name}: extradition authority`,
            types: ['extradition_authority'],
            requestKinds: [
              'extradition_request',
              'provisional_arrest_request',
              'supplementary_information',
              'reply',
            ],
            languages: state.languages,
          },
        ],
      };
    }),
  };
}

/** The broker account of a State's gateway when the federation uses one account per State. */
export function brokerUserOf(state: string): string {
  return `comity-${state.toLowerCase()}`;
}
