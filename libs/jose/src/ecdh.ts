import {
  type KeyObject,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
} from 'node:crypto';
import { decodeBase64UrlStrict } from './base64url';
import { JoseError } from './jose-error';
import { type EcCurve, describeKey, describeKeyForMessage } from './key-types';

const EC_COORDINATE_BYTES: Readonly<Record<EcCurve, number>> = {
  'P-256': 32,
  'P-384': 48,
  'P-521': 66,
};
const NODE_CURVE_NAMES: Readonly<Record<EcCurve, string>> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};
const X25519_BYTES = 32;
// 2^255 - 19 little-endian: u-coordinates at or above it are non-canonical (RFC 7748 §5).
const X25519_FIELD_PRIME = Buffer.from(
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'hex',
);

/**
 * Turns the `epk` header member into a public key of the recipient's own curve. Node's
 * JWK import tolerates padded base64 and over-long coordinates, so the JWK is checked
 * here member by member first; Node then refuses points that are not on the curve.
 */
export function importEpk(jwk: unknown, recipientKey: KeyObject): KeyObject {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new JoseError('invalid-key', 'header "epk" must be a JWK object');
  }
  const members = jwk as Record<string, unknown>;
  const recipient = describeKey(recipientKey);
  const allowed = recipient.kind === 'x25519' ? ['kty', 'crv', 'x'] : ['kty', 'crv', 'x', 'y'];
  for (const name of Object.keys(members)) {
    if (!allowed.includes(name)) {
      throw new JoseError('invalid-key', `header "epk" has an unexpected member "${name}"`);
    }
  }
  if (recipient.kind === 'x25519') {
    expectMember(members, 'kty', 'OKP');
    expectMember(members, 'crv', 'X25519');
    const x = decodeCoordinate(members, 'x', X25519_BYTES);
    if (!isCanonicalX25519(x))
      throw new JoseError('invalid-key', 'header "epk" X25519 "x" is not canonical');
    return importPublicJwk({ kty: 'OKP', crv: 'X25519', x: members['x'] as string });
  }
  if (recipient.kind === 'ec') {
    expectMember(members, 'kty', 'EC');
    expectMember(members, 'crv', recipient.curve);
    decodeCoordinate(members, 'x', EC_COORDINATE_BYTES[recipient.curve]);
    decodeCoordinate(members, 'y', EC_COORDINATE_BYTES[recipient.curve]);
    return importPublicJwk({
      kty: 'EC',
      crv: recipient.curve,
      x: members['x'] as string,
      y: members['y'] as string,
    });
  }
  throw new JoseError(
    'key-mismatch',
    `ECDH-ES needs an X25519 or EC P-256/P-384/P-521 key, got ${describeKeyForMessage(recipient)}`,
  );
}

function expectMember(members: Record<string, unknown>, name: string, expected: string): void {
  if (members[name] !== expected) {
    throw new JoseError(
      'invalid-key',
      `header "epk" must have "${name}": "${expected}" to match the recipient key`,
    );
  }
}

function decodeCoordinate(members: Record<string, unknown>, name: string, bytes: number): Buffer {
  const text = members[name];
  if (typeof text !== 'string')
    throw new JoseError('invalid-key', `header "epk" must have a string "${name}"`);
  let value: Buffer;
  try {
    value = decodeBase64UrlStrict(text, `header "epk" "${name}"`);
  } catch (cause) {
    throw new JoseError('invalid-key', `header "epk" "${name}" is not canonical base64url`, {
      cause,
    });
  }
  if (value.length !== bytes) {
    throw new JoseError(
      'invalid-key',
      `header "epk" "${name}" must be ${bytes} bytes, got ${value.length}`,
    );
  }
  return value;
}

function isCanonicalX25519(littleEndian: Buffer): boolean {
  for (let i = X25519_BYTES - 1; i >= 0; i--) {
    const a = littleEndian[i] ?? 0;
    const p = X25519_FIELD_PRIME[i] ?? 0;
    if (a !== p) return a < p;
  }
  return false;
}

function importPublicJwk(jwk: { kty: string; crv: string; x: string; y?: string }): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new JoseError(
      'invalid-key',
      `header "epk" is not a valid ${jwk.crv} public key (point not on the curve)`,
      {
        cause,
      },
    );
  }
}

/**
 * Raw X25519 (RFC 7748). An all-zero result means the peer sent a low-order point and
 * contributes nothing secret; RFC 7748 §6.1 allows refusing it, and Comity does.
 */
export function deriveX25519SharedSecret(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  if (describeKey(privateKey).kind !== 'x25519' || describeKey(publicKey).kind !== 'x25519') {
    throw new JoseError(
      'key-mismatch',
      'X25519 needs an X25519 private key and an X25519 public key',
    );
  }
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    // OpenSSL 3 itself refuses the all-zero result.
    throw new JoseError('invalid-key', 'X25519 shared secret is all zeros (low-order public key)', {
      cause,
    });
  }
  if (shared.every((byte) => byte === 0)) {
    throw new JoseError('invalid-key', 'X25519 shared secret is all zeros (low-order public key)');
  }
  return shared;
}

/** ECDH between the recipient's private key and a public key of the same curve. */
export function deriveEcdhSharedSecret(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  if (describeKey(privateKey).kind === 'x25519')
    return deriveX25519SharedSecret(privateKey, publicKey);
  try {
    return diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    throw new JoseError('invalid-key', 'ECDH key agreement failed', { cause });
  }
}

/** A fresh ephemeral key pair on the recipient's curve, and its public half as an `epk` JWK. */
export function generateEphemeralKey(recipientKey: KeyObject): {
  privateKey: KeyObject;
  epk: Record<string, string>;
} {
  const recipient = describeKey(recipientKey);
  if (recipient.kind === 'x25519') {
    const pair = generateKeyPairSync('x25519');
    const jwk = pair.publicKey.export({ format: 'jwk' });
    return { privateKey: pair.privateKey, epk: { kty: 'OKP', crv: 'X25519', x: jwk.x ?? '' } };
  }
  if (recipient.kind !== 'ec') {
    throw new JoseError(
      'key-mismatch',
      `ECDH-ES needs an X25519 or EC P-256/P-384/P-521 key, got ${describeKeyForMessage(recipient)}`,
    );
  }
  const pair = generateKeyPairSync('ec', { namedCurve: NODE_CURVE_NAMES[recipient.curve] });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  return {
    privateKey: pair.privateKey,
    epk: { kty: 'EC', crv: recipient.curve, x: jwk.x ?? '', y: jwk.y ?? '' },
  };
}

/**
 * Concat KDF of NIST SP 800-56A as profiled by RFC 7518 §4.6.2: SHA-256 over a counter,
 * Z, and length-prefixed AlgorithmID, PartyUInfo, PartyVInfo, then keydatalen in bits.
 */
export function concatKdf(
  sharedSecret: Buffer,
  keyBytes: number,
  algorithmId: string,
  apu: Buffer,
  apv: Buffer,
): Buffer {
  const algorithm = Buffer.from(algorithmId, 'ascii');
  const otherInfo = Buffer.concat([
    lengthPrefix(algorithm.length),
    algorithm,
    lengthPrefix(apu.length),
    apu,
    lengthPrefix(apv.length),
    apv,
    lengthPrefix(keyBytes * 8),
  ]);
  const rounds = Math.ceil(keyBytes / 32);
  const output = Buffer.allocUnsafe(rounds * 32);
  for (let round = 1; round <= rounds; round++) {
    createHash('sha256')
      .update(lengthPrefix(round))
      .update(sharedSecret)
      .update(otherInfo)
      .digest()
      .copy(output, (round - 1) * 32);
  }
  return output.subarray(0, keyBytes);
}

function lengthPrefix(value: number): Buffer {
  const buffer = Buffer.allocUnsafe(4);
  buffer.writeUInt32BE(value, 0);
  return buffer;
}
