import { type KeyObject, constants, createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import { JoseError } from './jose-error';
import { type EcCurve, describeKey, describeKeyForMessage, requireRsaKey } from './key-types';

export type JwsAlgorithm =
  | 'EdDSA'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'HS256'
  | 'HS384'
  | 'HS512';

type AlgorithmSpec =
  | { family: 'eddsa' }
  | { family: 'ecdsa'; hash: string; curve: EcCurve; signatureBytes: number }
  | { family: 'rsa-pss' | 'rsa-pkcs1'; hash: string; hashBytes: number }
  | { family: 'hmac'; hash: string; hashBytes: number };

const SPECS: Readonly<Record<JwsAlgorithm, AlgorithmSpec>> = {
  EdDSA: { family: 'eddsa' },
  ES256: { family: 'ecdsa', hash: 'sha256', curve: 'P-256', signatureBytes: 64 },
  ES384: { family: 'ecdsa', hash: 'sha384', curve: 'P-384', signatureBytes: 96 },
  ES512: { family: 'ecdsa', hash: 'sha512', curve: 'P-521', signatureBytes: 132 },
  PS256: { family: 'rsa-pss', hash: 'sha256', hashBytes: 32 },
  PS384: { family: 'rsa-pss', hash: 'sha384', hashBytes: 48 },
  PS512: { family: 'rsa-pss', hash: 'sha512', hashBytes: 64 },
  RS256: { family: 'rsa-pkcs1', hash: 'sha256', hashBytes: 32 },
  RS384: { family: 'rsa-pkcs1', hash: 'sha384', hashBytes: 48 },
  RS512: { family: 'rsa-pkcs1', hash: 'sha512', hashBytes: 64 },
  HS256: { family: 'hmac', hash: 'sha256', hashBytes: 32 },
  HS384: { family: 'hmac', hash: 'sha384', hashBytes: 48 },
  HS512: { family: 'hmac', hash: 'sha512', hashBytes: 64 },
};

export const JWS_ALGORITHMS: readonly JwsAlgorithm[] = Object.keys(SPECS) as JwsAlgorithm[];

export function isJwsAlgorithm(alg: string): alg is JwsAlgorithm {
  return Object.hasOwn(SPECS, alg);
}

const ED25519_SIGNATURE_BYTES = 64;

/**
 * Checks that `key` is the one kind of key `alg` may use. The algorithm comes from an
 * untrusted header, so this is what stops an RSA public key being used as an HMAC secret.
 */
export function checkJwsKey(
  alg: JwsAlgorithm,
  key: KeyObject,
  signing: boolean,
  minRsaModulusBits: number,
): void {
  const spec = SPECS[alg];
  const description = describeKey(key);
  const got = describeKeyForMessage(description);
  switch (spec.family) {
    case 'hmac':
      if (description.kind !== 'secret') {
        throw new JoseError('key-mismatch', `${alg} needs a secret key, got ${got}`);
      }
      // RFC 7518 §3.2: the key must be at least as long as the hash output.
      if (description.bytes < spec.hashBytes) {
        throw new JoseError(
          'key-mismatch',
          `${alg} needs a secret of at least ${spec.hashBytes} bytes, got ${got}`,
        );
      }
      return;
    case 'rsa-pss':
    case 'rsa-pkcs1':
      requireRsaKey(key, minRsaModulusBits, signing, alg);
      return;
    case 'ecdsa':
      if (description.kind !== 'ec' || description.curve !== spec.curve) {
        throw new JoseError('key-mismatch', `${alg} needs an EC ${spec.curve} key, got ${got}`);
      }
      break;
    case 'eddsa':
      if (description.kind !== 'ed25519') {
        throw new JoseError(
          'key-mismatch',
          `${alg} is accepted only with an Ed25519 key, got ${got}`,
        );
      }
      break;
  }
  if (signing && !description.isPrivate) {
    throw new JoseError('key-mismatch', `signing with ${alg} needs a private key, got ${got}`);
  }
}

/** Signs `data`; the key must already have passed checkJwsKey. */
export function signWithAlgorithm(alg: JwsAlgorithm, key: KeyObject, data: Uint8Array): Buffer {
  const spec = SPECS[alg];
  switch (spec.family) {
    case 'hmac':
      return createHmac(spec.hash, key).update(data).digest();
    case 'eddsa':
      return sign(null, data, key);
    case 'ecdsa':
      return sign(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' });
    case 'rsa-pss':
      return sign(spec.hash, data, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: spec.hashBytes,
      });
    case 'rsa-pkcs1':
      return sign(spec.hash, data, { key, padding: constants.RSA_PKCS1_PADDING });
  }
}

/** Verifies `signature`; the key must already have passed checkJwsKey. Never throws. */
export function verifyWithAlgorithm(
  alg: JwsAlgorithm,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const spec = SPECS[alg];
  try {
    switch (spec.family) {
      case 'hmac': {
        const expected = createHmac(spec.hash, key).update(data).digest();
        return signature.length === expected.length && timingSafeEqual(signature, expected);
      }
      case 'eddsa':
        return signature.length === ED25519_SIGNATURE_BYTES && verify(null, data, key, signature);
      case 'ecdsa':
        // Exactly r||s at the curve's size: DER or shortened encodings are other byte strings.
        return (
          signature.length === spec.signatureBytes &&
          verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
        );
      case 'rsa-pss':
      case 'rsa-pkcs1': {
        // RFC 8017 §8: a signature is exactly as long as the modulus; no leading-zero games.
        const modulusBytes = Math.ceil(rsaBits(key) / 8);
        if (signature.length !== modulusBytes) return false;
        return spec.family === 'rsa-pss'
          ? // Node's default for verification is "any salt length"; RFC 7518 §3.5 fixes it to the hash size.
            verify(
              spec.hash,
              data,
              { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashBytes },
              signature,
            )
          : verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
      }
    }
  } catch {
    return false;
  }
}

function rsaBits(key: KeyObject): number {
  const description = describeKey(key);
  return description.kind === 'rsa' ? description.modulusBits : 0;
}

/**
 * Raw Ed25519 verification (RFC 8032), exposed so the primitive can be tested against
 * Wycheproof directly. Node (OpenSSL 3) already rejects non-canonical S and R encodings.
 */
export function verifyEd25519(
  publicKey: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (describeKey(publicKey).kind !== 'ed25519') {
    throw new JoseError(
      'key-mismatch',
      `Ed25519 verification needs an Ed25519 key, got ${describeKeyForMessage(describeKey(publicKey))}`,
    );
  }
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}
