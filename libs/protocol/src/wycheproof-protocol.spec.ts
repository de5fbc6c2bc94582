import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  contextFor,
  createTestFederation,
  receiveContextFor,
  testDirectory,
  envelopeWithContent,
  partsOf,
  protocolErrorOf,
  sealFor,
  wrapEnvelope,
  type StateCode,
  type TestFederation,
} from '../test-support/federation';
import {
  REASON_CODES,
  authenticateEnvelope,
  authenticateReceipt,
  decryptSenderCopy,
  decryptWithContentKey,
  newSenderCopyKey,
  openEnvelope,
  receiveEnvelope,
  sealSenderCopy,
  senderCopyKeyId,
  verifyContentStatement,
  type ProtocolError,
  type SealedEnvelope,
} from './index';

// Every Wycheproof JOSE token, valid or not under its own test key, is foreign to Comity: placed
// wherever Comity parses JOSE it must be refused with a ProtocolError carrying a wire reason
// code, never accepted and never another exception type.

const VECTORS = resolve(__dirname, '../../../test/vectors/wycheproof');

interface Vector {
  source: string;
  tcId: string;
  comment: string;
  token: string;
}

interface WycheproofFile {
  testGroups: Array<{
    tests: Array<{ tcId: string | number; comment?: string; jws?: unknown; jwe?: unknown }>;
  }>;
}

function load(file: string, member: 'jws' | 'jwe'): { compact: Vector[]; jsonSerialized: number } {
  const data = JSON.parse(readFileSync(resolve(VECTORS, file), 'utf8')) as WycheproofFile;
  const compact: Vector[] = [];
  let jsonSerialized = 0;
  for (const test of data.testGroups.flatMap((group) => group.tests)) {
    const token = test[member];
    if (token === undefined) continue;
    // The JSON serializations (an object, or a string holding one) are not Comity's wire form.
    if (typeof token !== 'string' || token.trimStart().startsWith('{')) {
      jsonSerialized += 1;
      continue;
    }
    compact.push({ source: file, tcId: String(test.tcId), comment: test.comment ?? '', token });
  }
  return { compact, jsonSerialized };
}

const jwsSets = [
  load('json_web_signature_test.json', 'jws'),
  load('json_web_crypto_test.json', 'jws'),
];
const jweSets = [
  load('json_web_encryption_test.json', 'jwe'),
  load('json_web_crypto_test.json', 'jwe'),
];
const jwsVectors = jwsSets.flatMap((set) => set.compact);
const jweVectors = jweSets.flatMap((set) => set.compact);
const skippedJws = jwsSets.reduce((sum, set) => sum + set.jsonSerialized, 0);
const skippedJwe = jweSets.reduce((sum, set) => sum + set.jsonSerialized, 0);

let f: TestFederation;
let validJwe: string;

beforeAll(async () => {
  f = await createTestFederation();
  validJwe = partsOf(sealFor(f, 'AT', 'FR').bytes).contentJwe;
});

afterAll(() => f.dispose());

function expectRefused(action: () => unknown): ProtocolError {
  const error = protocolErrorOf(action);
  expect(REASON_CODES).toContain(error.reason);
  return error;
}

describe('the vector files', () => {
  it(`hold ${jwsVectors.length} compact JWS (${skippedJws} JSON-serialized skipped) and ${jweVectors.length} compact JWE (${skippedJwe} JSON-serialized skipped)`, () => {
    // Counted when written: 401 + 49 JWS with one JSON serialization in each file, 139 + 34
    // JWE likewise. A change means the vectors changed and the skips need a look.
    expect([jwsVectors.length, skippedJws, jweVectors.length, skippedJwe]).toEqual([
      448, 2, 171, 2,
    ]);
  });
});

describe('Wycheproof JWS given as a receipt', () => {
  test.each(jwsVectors)('$source tcId $tcId ($comment)', ({ token }) => {
    expectRefused(() => authenticateReceipt(Buffer.from(token, 'utf8'), f.verifier, f.now));
  });
});

describe('Wycheproof JWS given as the header of an envelope', () => {
  test.each(jwsVectors)('$source tcId $tcId ($comment)', ({ token }) => {
    const bytes = wrapEnvelope({ headerJws: token, contentJwe: validJwe });
    expectRefused(() => authenticateEnvelope(bytes, contextFor(f, 'FR')));
  });
});

describe('Wycheproof tokens through the receive pipeline a gateway runs', () => {
  const neverAsked = (): Promise<null> => {
    throw new Error('the store must not be asked about an unauthenticated envelope');
  };

  test.each(jwsVectors)('JWS as the header: $source tcId $tcId', async ({ token }) => {
    const bytes = wrapEnvelope({ headerJws: token, contentJwe: validJwe });
    const verdict = await receiveEnvelope(
      bytes,
      receiveContextFor(f, 'FR', testDirectory(f), { alreadyDelivered: neverAsked }),
    );
    expect(verdict.verdict).toBe('quarantined');
    if (verdict.verdict === 'quarantined') expect(REASON_CODES).toContain(verdict.reason);
  });

  test.each(jweVectors)('JWE as the content: $source tcId $tcId', async ({ token }) => {
    const header = sealFor(f, 'AT', 'FR').header;
    const bytes = envelopeWithContent(header, token, f.states.AT.signer);
    const verdict = await receiveEnvelope(bytes, receiveContextFor(f, 'FR', testDirectory(f)));
    // Whatever the token, never accepted: refused once the sender is authenticated, or
    // quarantined when the wrapper itself is not canonical.
    expect(['refused', 'quarantined']).toContain(verdict.verdict);
  });
});

describe('Wycheproof JWS given as the signed content', () => {
  test.each(jwsVectors)('$source tcId $tcId ($comment)', ({ token }) => {
    expectRefused(() => verifyContentStatement(token, f.states.AT.signingCertificate));
  });
});

describe('Wycheproof JWE given as the content of a correctly signed envelope', () => {
  const compactCharacters = /^[A-Za-z0-9_.-]+$/;

  test.each(jweVectors)('$source tcId $tcId ($comment)', ({ token }) => {
    for (const recipient of ['FR', 'KE'] as StateCode[]) {
      const header = sealFor(f, 'AT', recipient).header;
      const bytes = envelopeWithContent(header, token, f.states.AT.signer);
      const context = contextFor(f, recipient);
      if (!compactCharacters.test(token)) {
        // Padding, whitespace or other characters: the wrapper refuses it before any JOSE parsing.
        expect(expectRefused(() => authenticateEnvelope(bytes, context)).reason).toBe(
          'malformed-envelope',
        );
        continue;
      }
      // The header binds this exact token, so authentication passes and decryption must refuse.
      const authenticated = authenticateEnvelope(bytes, context);
      expectRefused(() => openEnvelope(authenticated, f.states[recipient].decryption));
    }
  });
});

describe('Wycheproof JWE given as the node’s own sealed copy, and as the content its key opens', () => {
  // The sealed copy is opened with the node's data key (alg dir) or, for copies of the earlier
  // form, with its decryption keys; the content key it holds then opens the envelope's content
  // JWE. Every foreign token is refused in each place.
  const dataKey = newSenderCopyKey('wycheproof-test-key');
  let sealed: SealedEnvelope;
  let copy: string;

  beforeAll(() => {
    sealed = sealFor(f, 'AT', 'FR');
    copy = sealSenderCopy(sealed.contentKey, dataKey);
  });

  test.each(jweVectors)('$source tcId $tcId ($comment)', ({ token }) => {
    const self = f.states.AT.decryption;
    const contentJwe = partsOf(sealed.bytes).contentJwe;
    // As the node opens a stored copy: the path is chosen by the copy's own header.
    expectRefused(() =>
      decryptSenderCopy(
        token,
        { dataKey: senderCopyKeyId(token) === null ? null : dataKey, self },
        contentJwe,
      ),
    );
    expectRefused(() => decryptSenderCopy(token, { dataKey, self }, contentJwe));
    expectRefused(() => decryptSenderCopy(copy, { dataKey, self }, token));
    expectRefused(() => decryptWithContentKey(token, sealed.contentKey));
  });
});
