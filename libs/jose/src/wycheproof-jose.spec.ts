import {
  type JsonWebKey,
  type KeyObject,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  randomBytes,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  JWS_ALGORITHMS,
  JoseError,
  type JoseErrorCode,
  type JweDecryptPolicy,
  type JweContentEncryptionAlgorithm,
  type JweKeyManagementAlgorithm,
  type JwsAlgorithm,
  decryptJweCompact,
  decryptJweCompactWithContentKey,
  importEpk,
  verifyJwsCompact,
} from './index';

/*
 * Wycheproof JOSE vectors (test/vectors/wycheproof, a verbatim copy of the shared set).
 *
 * Each vector runs through the public API with a policy that allows exactly the vector's
 * own algorithm, taken from the key's "alg" member: a key without "alg" allows nothing,
 * which is how Comity's directory binds a key to one algorithm. Every vector runs twice,
 * as a string and as bytes, and both must behave the same.
 *
 * Serialization: all vectors are compact except the `rejectsValidJsonSerialization` ones,
 * which hold the JSON serialization either as a JSON string or as a nested JSON object.
 * Both are given to the compact-only API as their JSON text, and both are rejected as
 * malformed, which is also what Wycheproof expects (it marks them invalid).
 *
 * json_web_key_test.json wraps every key in a JWK Set. Sets of exactly one key are
 * unwrapped and run like the others (they exercise RSA modulus size, exponent 1, ROCA and
 * HMAC key length). Sets of several keys test key-set loading (mixed symmetric and
 * asymmetric keys, duplicate "kid"), which is the key store's job: this API takes exactly
 * one caller-chosen KeyObject; those vectors are listed as not applicable below. The
 * groups about invalid EC public keys (invalid_point, wrong_curve, wrong_kty) are also run
 * through importEpk, the one place where this library imports a key from a message.
 */

const VECTOR_DIR = path.resolve(__dirname, '../../../test/vectors/wycheproof');

type VectorFile =
  | 'json_web_signature_test.json'
  | 'json_web_encryption_test.json'
  | 'json_web_crypto_test.json'
  | 'json_web_key_test.json';

interface RawTest {
  tcId: number;
  comment: string;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
  jws?: unknown;
  jwe?: unknown;
  enc?: string;
  pt?: string;
}
interface RawGroup {
  comment: string;
  private: JsonWebKey & { keys?: JsonWebKey[] };
  public?: JsonWebKey & { keys?: JsonWebKey[] };
  tests: RawTest[];
}

interface Vector {
  id: string;
  file: VectorFile;
  tcId: number;
  comment: string;
  result: RawTest['result'];
  kind: 'jws' | 'jwe';
  token: string;
  group: RawGroup;
  enc?: string;
  plaintextHex?: string;
}

type Outcome =
  | { accepted: true; output: Buffer }
  | { accepted: false; code: JoseErrorCode }
  | { accepted: false; code: 'not-applicable' }
  // node:crypto itself refuses the vector's JWK (an EC point off its curve, a wrong kty).
  | { accepted: false; code: 'key-refused-by-node' };

type Deviation = {
  expect: JoseErrorCode | 'accepted' | 'not-applicable';
  reason: string;
  /** For invalid vectors whose token is byte-identical to a valid vector of the same file. */
  identicalToValid?: number;
  /** For valid vectors rejected only because of their key's label: the policy that accepts them. */
  acceptedWithAlgorithm?: JwsAlgorithm;
};

/**
 * Where Comity deliberately differs from Wycheproof's verdict. Every entry must name an
 * existing vector and must still behave as written; a table that drifts fails the suite.
 */
const DEVIATIONS: Readonly<Record<string, Deviation>> = {
  'json_web_signature_test.json#346': {
    expect: 'algorithm-not-allowed',
    reason:
      'the key is labelled "alg": "PS256" but the RFC 7520 token is PS384; a key allows only its own algorithm',
    acceptedWithAlgorithm: 'PS384',
  },
  'json_web_signature_test.json#350': {
    expect: 'algorithm-not-allowed',
    reason:
      'the key is labelled "alg": "PS256" but the RFC 7520 token is PS384; a key allows only its own algorithm',
    acceptedWithAlgorithm: 'PS384',
  },
  'json_web_signature_test.json#347': {
    expect: 'algorithm-not-allowed',
    reason:
      'the key is labelled "alg": "ES521", which does not exist (ES512 is meant); unknown labels allow nothing',
    acceptedWithAlgorithm: 'ES512',
  },
  'json_web_signature_test.json#351': {
    expect: 'algorithm-not-allowed',
    reason:
      'the key is labelled "alg": "ES521", which does not exist (ES512 is meant); unknown labels allow nothing',
    acceptedWithAlgorithm: 'ES512',
  },
  'json_web_signature_test.json#367': {
    expect: 'accepted',
    reason:
      'the token is byte-identical to valid tcId 357: the padding the comment describes is not in the vector',
    identicalToValid: 357,
  },
  'json_web_signature_test.json#370': {
    expect: 'accepted',
    reason:
      'the token is byte-identical to valid tcId 357: the padding the comment describes is not in the vector',
    identicalToValid: 357,
  },
  'json_web_signature_test.json#372': {
    expect: 'malformed',
    reason:
      'a "?" inside the header is not base64url; Wycheproof accepts decoders that skip it, Comity binds exact bytes',
  },
  'json_web_signature_test.json#373': {
    expect: 'malformed',
    reason:
      'a "?" inside the payload is not base64url; Wycheproof accepts decoders that skip it, Comity binds exact bytes',
  },
  ...Object.fromEntries(
    [100, 101, 102, 103, 104, 105, 112, 128].map((tcId) => [
      `json_web_encryption_test.json#${tcId}`,
      {
        expect: 'unsupported-algorithm',
        reason:
          'RSA1_5 is never implemented (Bleichenbacher); Node 20 also refuses PKCS#1 v1.5 private decryption',
      } satisfies Deviation,
    ]),
  ),
  'json_web_encryption_test.json#135': {
    expect: 'unsupported-algorithm',
    reason: '"zip": "DEF" is refused: compression before encryption leaks content through length',
  },
  'json_web_crypto_test.json#47': {
    expect: 'not-applicable',
    reason:
      "the key is a JWK Set mixing HS256 and ES256 keys; the API takes one KeyObject, key sets are the key store's concern",
  },
  'json_web_crypto_test.json#48': {
    expect: 'not-applicable',
    reason:
      'the key is a JWK Set of two HS256 keys selected by "kid"; the API takes one caller-chosen KeyObject',
  },
  'json_web_crypto_test.json#49': {
    expect: 'not-applicable',
    reason:
      'the key is a JWK Set of two HS256 keys selected by "kid"; the API takes one caller-chosen KeyObject',
  },
  'json_web_key_test.json#1': {
    expect: 'not-applicable',
    reason:
      'tests rejecting a JWK Set that mixes symmetric and asymmetric keys: key-store loading, not this API',
  },
  'json_web_key_test.json#2': {
    expect: 'not-applicable',
    reason: 'a JWK Set of two keys selected by "kid": key-store selection, not this API',
  },
  'json_web_key_test.json#3': {
    expect: 'not-applicable',
    reason: 'a JWK Set of two keys selected by "kid": key-store selection, not this API',
  },
  'json_web_key_test.json#4': {
    expect: 'not-applicable',
    reason: 'tests rejecting a JWK Set with duplicate "kid": key-store loading, not this API',
  },
  'json_web_key_test.json#21': {
    expect: 'accepted',
    reason:
      'the ES256 key is marked "use": "enc"; a KeyObject carries no "use", so Comity\'s directory, which chooses the key, enforces it',
  },
};

function loadVectors(file: VectorFile): Vector[] {
  const data = JSON.parse(readFileSync(path.join(VECTOR_DIR, file), 'utf8')) as {
    testGroups: RawGroup[];
  };
  return data.testGroups.flatMap((group) =>
    group.tests.map((test): Vector => {
      const raw = test.jws ?? test.jwe;
      return {
        id: `${file}#${test.tcId}`,
        file,
        tcId: test.tcId,
        comment: test.comment,
        result: test.result,
        kind: test.jws !== undefined ? 'jws' : 'jwe',
        // JSON-serialized vectors come either as text or as a nested object; both become text.
        token: typeof raw === 'string' ? raw : JSON.stringify(raw),
        group,
        enc: test.enc,
        plaintextHex: test.pt,
      };
    }),
  );
}

const FILES: VectorFile[] = [
  'json_web_signature_test.json',
  'json_web_encryption_test.json',
  'json_web_crypto_test.json',
  'json_web_key_test.json',
];
const VECTORS = FILES.flatMap(loadVectors);

/** The single JWK of a group, or undefined when the group holds a key set of several keys. */
function singleJwk(
  jwk: (JsonWebKey & { keys?: JsonWebKey[] }) | undefined,
): JsonWebKey | undefined {
  if (jwk === undefined) return undefined;
  if (jwk.keys === undefined) return jwk;
  return jwk.keys.length === 1 ? jwk.keys[0] : undefined;
}

function importJwk(jwk: JsonWebKey): KeyObject {
  if (jwk.kty === 'oct') return createSecretKey(Buffer.from(jwk.k ?? '', 'base64url'));
  return jwk.d !== undefined
    ? createPrivateKey({ key: jwk, format: 'jwk' })
    : createPublicKey({ key: jwk, format: 'jwk' });
}

const CONTENT_ALGORITHMS: readonly string[] = [
  'A128GCM',
  'A192GCM',
  'A256GCM',
  'A128CBC-HS256',
  'A192CBC-HS384',
  'A256CBC-HS512',
];
const KEY_MANAGEMENT_ALGORITHMS: readonly string[] = [
  'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW', 'RSA-OAEP', 'RSA-OAEP-256',
  'A128KW', 'A192KW', 'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW', 'dir',
]; // prettier-ignore

function rejection(error: unknown): Outcome {
  if (error instanceof JoseError) return { accepted: false, code: error.code };
  throw error;
}

function run(
  vector: Vector,
  token: string | Uint8Array,
  jwsAlgorithmOverride?: JwsAlgorithm,
  viaContentKey = false,
): Outcome {
  const jwk = singleJwk(
    vector.kind === 'jws' ? (vector.group.public ?? vector.group.private) : vector.group.private,
  );
  if (jwk === undefined) return { accepted: false, code: 'not-applicable' };
  let key: KeyObject;
  try {
    key = importJwk(jwk);
  } catch {
    return { accepted: false, code: 'key-refused-by-node' };
  }
  const label = typeof jwk.alg === 'string' ? jwk.alg : '';
  try {
    if (vector.kind === 'jws') {
      const algorithms = (JWS_ALGORITHMS as readonly string[]).includes(label)
        ? [label as JwsAlgorithm]
        : [];
      const parsed = verifyJwsCompact(token, key, {
        algorithms: jwsAlgorithmOverride ? [jwsAlgorithmOverride] : algorithms,
      });
      return { accepted: true, output: parsed.payload };
    }
    // A key labelled with a content encryption algorithm is a "dir" key for it (RFC 7520 §5.6).
    const direct = CONTENT_ALGORITHMS.includes(label);
    const policy: JweDecryptPolicy = {
      keyManagementAlgorithms: direct
        ? ['dir']
        : KEY_MANAGEMENT_ALGORITHMS.includes(label)
          ? [label as JweKeyManagementAlgorithm]
          : [],
      // The key fixes "alg"; "enc" is the vector's own when it names one, else any.
      contentEncryptionAlgorithms: direct
        ? [label as JweContentEncryptionAlgorithm]
        : vector.enc !== undefined
          ? [vector.enc as JweContentEncryptionAlgorithm]
          : (CONTENT_ALGORITHMS as JweContentEncryptionAlgorithm[]),
    };
    // A "dir" key is the content key itself: the sender's path (its own JWE, opened with the
    // content key it kept) must decide exactly as the recipient's path does.
    const { plaintext } =
      viaContentKey && direct
        ? decryptJweCompactWithContentKey(token, key.export(), policy)
        : decryptJweCompact(token, key, policy);
    return { accepted: true, output: plaintext };
  } catch (error) {
    return rejection(error);
  }
}

function expectedOutput(vector: Vector): Buffer {
  if (vector.kind === 'jwe') return Buffer.from(vector.plaintextHex ?? '', 'hex');
  return Buffer.from(vector.token.split('.')[1] ?? '', 'base64url');
}

describe.each(FILES)('Wycheproof %s', (file) => {
  const vectors = VECTORS.filter((vector) => vector.file === file);

  test.each(vectors.map((vector) => [vector.tcId, vector.result, vector.comment, vector] as const))(
    'tcId %i (%s: %s)',
    (_tcId, _result, _comment, vector) => {
      const fromString = run(vector, vector.token);
      const fromBytes = run(vector, Buffer.from(vector.token, 'latin1'));
      expect(fromBytes).toEqual(fromString);

      const deviation = DEVIATIONS[vector.id];
      if (deviation !== undefined) {
        if (deviation.expect === 'accepted') {
          expect(fromString.accepted).toBe(true);
        } else {
          expect(fromString).toEqual({ accepted: false, code: deviation.expect });
        }
        if (deviation.acceptedWithAlgorithm !== undefined) {
          const corrected = run(vector, vector.token, deviation.acceptedWithAlgorithm);
          expect(corrected).toEqual({ accepted: true, output: expectedOutput(vector) });
        }
        return;
      }
      if (vector.result === 'valid' && vector.kind === 'jwe' && vector.plaintextHex === undefined) {
        // json_web_crypto_test.json gives no plaintext for its JWE vectors: acceptance is all it states.
        expect(fromString.accepted).toBe(true);
      } else if (vector.result === 'valid') {
        expect(fromString).toEqual({ accepted: true, output: expectedOutput(vector) });
      } else {
        expect(fromString.accepted).toBe(false);
        expect(fromString).not.toEqual({ accepted: false, code: 'not-applicable' });
      }
    },
  );
});

describe('Wycheproof JWE opened with a content key (the sender’s path)', () => {
  const jwe = VECTORS.filter((vector) => vector.kind === 'jwe');
  const direct = jwe.filter((vector) => {
    const label = singleJwk(vector.group.private)?.alg;
    return typeof label === 'string' && CONTENT_ALGORITHMS.includes(label);
  });

  // A "dir" key is the content key itself: the sender's path must decide exactly as the
  // recipient's path does (the valid vector accepted with its plaintext).
  test.each(direct.map((vector) => [vector.tcId, vector.result, vector.comment, vector] as const))(
    'tcId %i (%s: %s) with its dir key decides as the recipient path does',
    (_tcId, _result, _comment, vector) => {
      const outcome = run(vector, vector.token, undefined, true);
      expect(outcome).toEqual(run(vector, vector.token));
      if (vector.result === 'valid') expect(outcome.accepted).toBe(true);
    },
  );

  // Every invalid vector is refused, whatever the content key, under a policy allowing its
  // algorithms (A256GCM and A128GCM content, any key management).
  test.each(
    jwe
      .filter((vector) => vector.result === 'invalid')
      .map((vector) => [vector.tcId, vector.comment, vector] as const),
  )('invalid tcId %i (%s) is refused', (_tcId, _comment, vector) => {
    for (const bytes of [16, 32, 64]) {
      expect(() =>
        decryptJweCompactWithContentKey(vector.token, randomBytes(bytes), {
          keyManagementAlgorithms: KEY_MANAGEMENT_ALGORITHMS as JweKeyManagementAlgorithm[],
          contentEncryptionAlgorithms: CONTENT_ALGORITHMS as JweContentEncryptionAlgorithm[],
        }),
      ).toThrow(JoseError);
    }
  });
});

describe('Wycheproof deviation table', () => {
  test.each(Object.entries(DEVIATIONS))(
    '%s names an existing vector that is a real deviation',
    (id, deviation) => {
      const vector = VECTORS.find((candidate) => candidate.id === id);
      expect(vector).toBeDefined();
      // A deviation is a valid vector we reject, an invalid one we accept, or one we cannot run.
      if (deviation.expect === 'accepted') expect(vector?.result).toBe('invalid');
      else if (deviation.expect !== 'not-applicable') expect(vector?.result).toBe('valid');
      expect(deviation.reason.length).toBeGreaterThan(20);
      if (deviation.identicalToValid !== undefined) {
        const twin = VECTORS.find(
          (candidate) =>
            candidate.file === vector?.file && candidate.tcId === deviation.identicalToValid,
        );
        expect(twin?.result).toBe('valid');
        expect(twin?.token).toBe(vector?.token);
      }
    },
  );
});

describe('Wycheproof json_web_key_test.json public keys through importEpk', () => {
  const groups = JSON.parse(
    readFileSync(path.join(VECTOR_DIR, 'json_web_key_test.json'), 'utf8'),
  ) as { testGroups: RawGroup[] };
  const p256Recipient = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: '04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY',
      y: 'UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw',
      d: 'yy49oPcINGK2ps0LmtxpB6UTEOiITghHBif6wDqmJ3c',
    },
    format: 'jwk',
  });

  test.each(['invalid_point', 'wrong_curve', 'wrong_kty'])(
    '%s is refused as an epk (invalid-key)',
    (name) => {
      const group = groups.testGroups.find((candidate) => candidate.comment === name);
      const jwk = singleJwk(group?.public) as Record<string, unknown> | undefined;
      expect(jwk).toBeDefined();
      // Only the members an epk may carry, so the point itself is what gets judged.
      const { kty, crv, x, y } = jwk ?? {};
      expect(() => importEpk({ kty, crv, x, y }, p256Recipient)).toThrow(
        expect.objectContaining({ code: 'invalid-key' }),
      );
    },
  );

  test('the same members with the original point are accepted (control)', () => {
    const group = groups.testGroups.find((candidate) => candidate.comment === 'invalid_use');
    const { kty, crv, x, y } = (singleJwk(group?.public) ?? {}) as Record<string, unknown>;
    expect(importEpk({ kty, crv, x, y }, p256Recipient).asymmetricKeyType).toBe('ec');
  });
});
