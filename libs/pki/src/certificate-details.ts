import type { X509Certificate } from 'node:crypto';
import { x509 } from './peculiar-x509';
import { PkiError } from './pki-error';

/**
 * What verification needs that Node's X509Certificate does not expose (key usage bits,
 * pathLen, the subject's C attribute, dates as Date). Parsed once with @peculiar/x509.
 */
export interface CertificateDetails {
  /** The subject as one line, to name the certificate in error messages. */
  subject: string;
  country: string | undefined;
  isCa: boolean;
  pathLength: number | undefined;
  /** Undefined when the certificate has no keyUsage extension. */
  keyUsage: number | undefined;
  notBefore: Date;
  notAfter: Date;
}

export const KeyUsage = x509.KeyUsageFlags;

export function parseCertificateDetails(certificate: X509Certificate): CertificateDetails {
  let parsed: x509.X509Certificate;
  try {
    parsed = new x509.X509Certificate(certificate.raw);
  } catch (error) {
    throw new PkiError(
      'malformed-certificate',
      `cannot parse certificate ${oneLine(certificate)}`,
      {
        cause: error,
      },
    );
  }
  const basicConstraints = parsed.getExtension(x509.BasicConstraintsExtension);
  const keyUsage = parsed.getExtension(x509.KeyUsagesExtension);
  const countries = parsed.subjectName.getField('C');
  return {
    subject: parsed.subject,
    country: countries.length === 1 ? countries[0] : undefined,
    isCa: basicConstraints?.ca ?? false,
    pathLength: basicConstraints?.pathLength,
    keyUsage: keyUsage?.usages,
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
  };
}

function oneLine(certificate: X509Certificate): string {
  return certificate.subject.split('\n').join(', ');
}
