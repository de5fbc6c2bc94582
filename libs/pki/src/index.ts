// @comity/pki: the federation's X.509 trust model, framework-free. Import only from here.
export { PkiError, type PkiErrorCode } from './pki-error';
export {
  DEFAULT_MIN_RSA_MODULUS_BITS,
  generateKeyPair,
  isKeySuite,
  keyKindFor,
  suiteOfKey,
  type CertificatePurpose,
  type KeyKind,
  type KeySuite,
} from './key-suite';
export {
  certificatesToPem,
  readCertificatesPem,
  sha256Thumbprint,
  x5cOf,
} from './certificate-encoding';
export {
  issueCertificate,
  type CertificateAuthority,
  type CertificateProfile,
  type CertificateSubject,
  type IssueCertificateParams,
} from './certificate-issuer';
export {
  CertificateVerifier,
  MAX_CHAIN_LENGTH,
  type CertificateVerifierOptions,
  type VerifiedCertificate,
} from './certificate-verifier';
export { createPkcs12, loadPkcs12 } from './pkcs12';
export {
  loadGatewayCredentials,
  type GatewayCredentials,
  type StateCredentialPaths,
} from './gateway-credentials';
export {
  createDevFederation,
  devFederationLayout,
  type DevFederationLayout,
  type DevFederationOptions,
  type DevStateSpec,
} from './dev-federation';
export * from './timestamp';
