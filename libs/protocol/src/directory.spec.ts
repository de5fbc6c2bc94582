import { createTestFederation, type TestFederation } from '../test-support/federation';
import {
  DirectoryError,
  FederationDirectory,
  parseDirectory,
  type DirectoryDocument,
} from './directory';

let f: TestFederation;

beforeAll(async () => {
  f = await createTestFederation(['AT', 'FR']);
});

afterAll(() => f.dispose());

function document(): DirectoryDocument {
  return {
    federation: 'comity-test',
    version: 1,
    issued: '2026-01-01T00:00:00Z',
    expires: '2036-01-01T00:00:00Z',
    states: (['AT', 'FR'] as const).map((code) => {
      const { credentials } = f.states[code];
      return {
        code,
        name: code === 'AT' ? 'Austria' : 'France',
        routingKey: `state.${code.toLowerCase()}`,
        caCertificates: [credentials.signingChain[1]!.toString()],
        signingCertificates: [credentials.signingChain[0]!.toString()],
        encryptionCertificates: [credentials.encryptionCertificate.toString()],
        authorities: [
          {
            id: `${code.toLowerCase()}-central-authority`,
            name: 'Central Authority',
            types: ['mla_central_authority', 'extradition_authority'],
            requestKinds: ['mla_request', 'extradition_request'],
            languages: ['en', 'fr'],
          },
        ],
      };
    }),
  };
}

function parse(
  change: (doc: Record<string, unknown> & { states: Array<Record<string, unknown>> }) => void,
): FederationDirectory {
  const doc = document() as unknown as Record<string, unknown> & {
    states: Array<Record<string, unknown>>;
  };
  change(doc);
  return parseDirectory(JSON.stringify(doc));
}

function failure(action: () => unknown): DirectoryError {
  try {
    action();
  } catch (error) {
    if (error instanceof DirectoryError) return error;
    throw error;
  }
  throw new Error('expected a DirectoryError');
}

describe('parseDirectory', () => {
  it('reads States, their certificates and their authorities', () => {
    const directory = parseDirectory(Buffer.from(JSON.stringify(document())));
    expect(directory.federation).toBe('comity-test');
    expect(directory.allStates().map((state) => state.code)).toEqual(['AT', 'FR']);
    const france = directory.state('FR')!;
    expect(france.routingKey).toBe('state.fr');
    expect(france.signingCertificates[0]!.fingerprint256).toBe(
      f.states.FR.credentials.signingChain[0]!.fingerprint256,
    );
    expect(france.encryptionCertificates[0]!.raw).toEqual(
      f.states.FR.credentials.encryptionCertificate.raw,
    );
    expect(france.caCertificates).toHaveLength(1);
    expect(directory.authority('FR', 'fr-central-authority')?.requestKinds).toEqual([
      'mla_request',
      'extradition_request',
    ]);
    expect(directory.authority('FR', 'at-central-authority')).toBeUndefined();
    expect(directory.state('KE')).toBeUndefined();
  });

  it('reads several certificates from one PEM string', () => {
    const directory = parse((doc) => {
      const at = doc.states[0]!;
      at.signingCertificates = [
        `${(at.signingCertificates as string[])[0]}\n${(at.caCertificates as string[])[0]}`,
      ];
    });
    expect(directory.state('AT')!.signingCertificates).toHaveLength(2);
  });

  test.each([
    ['not JSON', () => parseDirectory('{'), 'directory: not valid JSON'],
    [
      'a duplicate member',
      () => parseDirectory('{"federation":"a","federation":"b","states":[]}'),
      'directory: not valid JSON',
    ],
    [
      'federation missing',
      () => parse((doc) => delete doc.federation),
      'directory: federation must be a string',
    ],
    [
      'states not an array',
      () => parse((doc) => (doc.states = {} as never)),
      'directory: states must be an array',
    ],
    [
      'a lower-case code',
      () => parse((doc) => (doc.states[1]!.code = 'fr')),
      'directory: states[1].code must be two capital letters',
    ],
    [
      'a name that is a number',
      () => parse((doc) => (doc.states[0]!.name = 1)),
      'directory: states[0].name must be a string',
    ],
    [
      'a routing key with a space',
      () => parse((doc) => (doc.states[0]!.routingKey = 'state at')),
      'directory: states[0].routingKey must be a plain routing key',
    ],
    [
      'a routing key with a wildcard',
      () => parse((doc) => (doc.states[0]!.routingKey = 'state.#')),
      'directory: states[0].routingKey must be a plain routing key',
    ],
    [
      'signing certificates as a string',
      () => parse((doc) => (doc.states[0]!.signingCertificates = 'PEM')),
      'directory: states[0].signingCertificates must be an array of PEM strings',
    ],
    [
      'an unreadable encryption certificate',
      () =>
        parse(
          (doc) =>
            (doc.states[1]!.encryptionCertificates = [
              '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
            ]),
        ),
      'directory: states[1].encryptionCertificates holds an unreadable certificate',
    ],
    [
      'authorities missing',
      () => parse((doc) => delete doc.states[0]!.authorities),
      'directory: states[0].authorities must be an array',
    ],
    [
      'an authority id with capitals',
      () =>
        parse(
          (doc) =>
            ((doc.states[0]!.authorities as Array<Record<string, unknown>>)[0]!.id = 'AT-Central'),
        ),
      'directory: states[0].authorities[0].id is not a valid authority id',
    ],
    [
      'an authority without a name',
      () =>
        parse(
          (doc) => delete (doc.states[1]!.authorities as Array<Record<string, unknown>>)[0]!.name,
        ),
      'directory: states[1].authorities[0].name must be a string',
    ],
    [
      'an unknown authority type',
      () =>
        parse(
          (doc) =>
            ((doc.states[0]!.authorities as Array<Record<string, unknown>>)[0]!.types = ['police']),
        ),
      'directory: states[0].authorities[0].types must list values from',
    ],
    [
      'an unknown request kind',
      () =>
        parse(
          (doc) =>
            ((doc.states[0]!.authorities as Array<Record<string, unknown>>)[0]!.requestKinds = [
              'mla_request',
              'tax_request',
            ]),
        ),
      'directory: states[0].authorities[0].requestKinds must list values from',
    ],
    [
      'languages not strings',
      () =>
        parse(
          (doc) =>
            ((doc.states[0]!.authorities as Array<Record<string, unknown>>)[0]!.languages = [1]),
        ),
      'directory: states[0].authorities[0].languages must be an array of strings',
    ],
  ])('%s → DirectoryError naming the member', (_name, action, message) => {
    expect(failure(action).message).toContain(message);
  });

  test.each([
    ['states[0]', (doc: { states: unknown[] }) => (doc.states[0] = null)],
    [
      'states[0].authorities[0]',
      (doc: { states: Array<{ authorities: unknown[] }> }) =>
        (doc.states[0]!.authorities[0] = null),
    ],
  ])('a null entry at %s → DirectoryError naming it', (where, change) => {
    const error = failure(() => parse((doc) => change(doc as never)));
    expect(error.message).toContain(where);
  });
});
