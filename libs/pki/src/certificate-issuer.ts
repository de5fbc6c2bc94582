import { webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { x509 } from './peculiar-x509';
import type { CertificatePurpose } from './key-suite';

/**
 * `directory`: the federation's directory signer, issued by the root itself and naming no
 * State; it signs the directory of States and nothing else.
 */
export type CertificateProfile =
  'federation-root' | 'state-ca' | 'directory' | 'tls-server' | CertificatePurpose;

/** A CA able to issue: its certificate and private key. */
export interface CertificateAuthority {
  certificate: X509Certificate;
  privateKey: KeyObject;
}

export interface CertificateSubject {
  /** ISO 3166 alpha-2 code of the State; absent only on the federation root. */
  country?: string;
  organization?: string;
  commonName: string;
}

export interface IssueCertificateParams {
  profile: CertificateProfile;
  subject: CertificateSubject;
  publicKey: KeyObject;
  /** Absent: the certificate is self-signed with `selfSigningKey`. */
  issuer?: CertificateAuthority;
  selfSigningKey?: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** For `tls-server`: the host names and IP addresses the server answers on. */
  subjectAltNames?: { dns?: string[]; ip?: string[] };
}

const { KeyUsageFlags } = x509;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/**
 * Issues one certificate of the federation's profiles. Used by the development federation
 * and by tests that need certificates a real CA would never issue (expired, mis-labelled).
 */
export async function issueCertificate(params: IssueCertificateParams): Promise<X509Certificate> {
  const signerKey = params.issuer?.privateKey ?? params.selfSigningKey;
  if (!signerKey) throw new TypeError('issueCertificate needs an issuer or a selfSigningKey');
  const signingAlgorithm = signingAlgorithmOf(signerKey);
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    signerKey.export({ format: 'der', type: 'pkcs8' }),
    signingAlgorithm,
    false,
    ['sign'],
  );
  const publicKeyDer = params.publicKey.export({ format: 'der', type: 'spki' });
  const subject = nameOf(params.subject);
  const issuerPublicKeyDer = params.issuer
    ? params.issuer.certificate.publicKey.export({ format: 'der', type: 'spki' })
    : publicKeyDer;

  const extensions: x509.Extension[] = [
    profileConstraints(params.profile),
    new x509.KeyUsagesExtension(keyUsageOf(params.profile, params.publicKey), true),
    await x509.SubjectKeyIdentifierExtension.create(publicKeyDer),
    await x509.AuthorityKeyIdentifierExtension.create(issuerPublicKeyDer),
  ];
  if (params.profile === 'tls-server') {
    extensions.push(new x509.ExtendedKeyUsageExtension([SERVER_AUTH], false));
    const names = [
      ...(params.subjectAltNames?.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(params.subjectAltNames?.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }

  const issued = await x509.X509CertificateGenerator.create({
    subject,
    // The issuer's encoded name is reused as is, so name chaining compares equal bytes.
    issuer: params.issuer
      ? new x509.X509Certificate(params.issuer.certificate.raw).subjectName
      : subject,
    publicKey: publicKeyDer,
    signingKey,
    signingAlgorithm,
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    extensions,
  });
  return new X509Certificate(Buffer.from(issued.rawData));
}

function profileConstraints(profile: CertificateProfile): x509.BasicConstraintsExtension {
  switch (profile) {
    case 'federation-root':
      return new x509.BasicConstraintsExtension(true, undefined, true);
    case 'state-ca':
      // A State CA issues its gateways' certificates only, never another CA.
      return new x509.BasicConstraintsExtension(true, 0, true);
    default:
      return new x509.BasicConstraintsExtension(false, undefined, true);
  }
}

function keyUsageOf(profile: CertificateProfile, publicKey: KeyObject): x509.KeyUsageFlags {
  switch (profile) {
    case 'federation-root':
    case 'state-ca':
      return KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign;
    case 'signing':
      return KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation;
    case 'directory':
    case 'tls-server':
      return KeyUsageFlags.digitalSignature;
    case 'encryption':
      return publicKey.asymmetricKeyType === 'rsa'
        ? KeyUsageFlags.keyEncipherment
        : KeyUsageFlags.keyAgreement;
  }
}

function signingAlgorithmOf(key: KeyObject): webcrypto.Algorithm | webcrypto.RsaHashedImportParams {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    default:
      throw new TypeError(`cannot sign certificates with a ${key.asymmetricKeyType} key`);
  }
}

function nameOf(subject: CertificateSubject): x509.JsonName {
  const name: x509.JsonName = [];
  if (subject.country !== undefined) name.push({ C: [subject.country] });
  if (subject.organization !== undefined) name.push({ O: [subject.organization] });
  name.push({ CN: [subject.commonName] });
  return name;
}
