import type { KeyObject, X509Certificate } from 'node:crypto';
import { sha256Thumbprint, x5cOf, type GatewayCredentials, type KeySuite } from '@comity/pki';

/** A gateway's own keys in the form the protocol functions use, computed once at start-up. */
export interface SigningIdentity {
  state: string;
  suite: KeySuite;
  key: KeyObject;
  x5c: string[];
  thumbprint: string;
}

export interface DecryptionIdentity {
  suite: KeySuite;
  key: KeyObject;
  thumbprint: string;
  certificate: X509Certificate;
}

export function signingIdentityOf(credentials: GatewayCredentials): SigningIdentity {
  const leaf = credentials.signingChain[0];
  if (!leaf) throw new Error('the signing chain is empty');
  return {
    state: credentials.state,
    suite: credentials.suite,
    key: credentials.signingKey,
    x5c: x5cOf(credentials.signingChain),
    thumbprint: sha256Thumbprint(leaf),
  };
}

export function decryptionIdentityOf(credentials: GatewayCredentials): DecryptionIdentity {
  return {
    suite: credentials.suite,
    key: credentials.encryptionKey,
    thumbprint: sha256Thumbprint(credentials.encryptionCertificate),
    certificate: credentials.encryptionCertificate,
  };
}
