import { generateKeyPair as generateKeyPairCallback, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPairCallback);

/**
 * A State chooses one suite for both of its gateway keys; peers recognise it from the key
 * type in the certificate, so no separate negotiation is needed.
 */
export type KeySuite = 'ed25519-x25519' | 'rsa';
export type CertificatePurpose = 'signing' | 'encryption';

export const KEY_SUITES: readonly KeySuite[] = ['ed25519-x25519', 'rsa'];

/** RSA keys below this size are refused (NIST SP 800-57: 3072 bits for use beyond 2030). */
export const DEFAULT_MIN_RSA_MODULUS_BITS = 3072;

export type KeyKind = 'ed25519' | 'x25519' | 'rsa';

export function isKeySuite(value: unknown): value is KeySuite {
  return typeof value === 'string' && (KEY_SUITES as readonly string[]).includes(value);
}

/** The key kind a suite uses for a purpose. */
export function keyKindFor(suite: KeySuite, purpose: CertificatePurpose): KeyKind {
  if (suite === 'rsa') return 'rsa';
  return purpose === 'signing' ? 'ed25519' : 'x25519';
}

/**
 * The suite a key belongs to when used for a purpose, or undefined when no suite uses that
 * key type for that purpose (an X25519 key cannot sign, an Ed25519 key cannot encrypt).
 */
export function suiteOfKey(key: KeyObject, purpose: CertificatePurpose): KeySuite | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'rsa';
    case 'ed25519':
      return purpose === 'signing' ? 'ed25519-x25519' : undefined;
    case 'x25519':
      return purpose === 'encryption' ? 'ed25519-x25519' : undefined;
    default:
      return undefined;
  }
}

/** Asynchronous, because RSA-3072 generation takes about a second and must not block. */
export async function generateKeyPair(
  kind: KeyKind,
  rsaModulusBits = DEFAULT_MIN_RSA_MODULUS_BITS,
): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  switch (kind) {
    case 'ed25519':
      return generate('ed25519');
    case 'x25519':
      return generate('x25519');
    case 'rsa':
      return generate('rsa', { modulusLength: rsaModulusBits });
  }
}
