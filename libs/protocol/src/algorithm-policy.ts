import type { JweDecryptPolicy, JwsAlgorithm, JwsVerifyPolicy } from '@comity/jose';
import type { KeySuite } from '@comity/pki';

/**
 * The federation's algorithm allow-list. A certificate's key type picks the suite, and the
 * suite alone decides which algorithms are accepted: the `alg` header is checked against it,
 * never trusted to choose.
 */
export const SIGNATURE_ALGORITHM: Record<KeySuite, JwsAlgorithm> = {
  'ed25519-x25519': 'EdDSA',
  rsa: 'PS256',
};

export const KEY_MANAGEMENT_ALGORITHM = {
  'ed25519-x25519': 'ECDH-ES+A256KW',
  rsa: 'RSA-OAEP-256',
} as const satisfies Record<KeySuite, string>;

export const CONTENT_ENCRYPTION_ALGORITHM = 'A256GCM' as const;

export const MIN_RSA_MODULUS_BITS = 3072;

export function signaturePolicy(suite: KeySuite): JwsVerifyPolicy {
  return { algorithms: [SIGNATURE_ALGORITHM[suite]], minRsaModulusBits: MIN_RSA_MODULUS_BITS };
}

export function decryptionPolicy(suite: KeySuite): JweDecryptPolicy {
  return {
    keyManagementAlgorithms: [KEY_MANAGEMENT_ALGORITHM[suite]],
    contentEncryptionAlgorithms: [CONTENT_ENCRYPTION_ALGORITHM],
    minRsaModulusBits: MIN_RSA_MODULUS_BITS,
  };
}
