import { createHash, X509Certificate } from 'node:crypto';
import { PkiError } from './pki-error';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Every certificate in a PEM text, in order (a chain file lists the leaf first). */
export function readCertificatesPem(pem: string): X509Certificate[] {
  const certificates: X509Certificate[] = [];
  for (const match of pem.matchAll(PEM_CERTIFICATE)) {
    const der = Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64');
    certificates.push(parseCertificateDer(der, `PEM certificate #${certificates.length + 1}`));
  }
  if (certificates.length === 0) {
    throw new PkiError(
      'malformed-certificate',
      'no "BEGIN CERTIFICATE" block found in the PEM text',
    );
  }
  return certificates;
}

export function certificatesToPem(certificates: readonly X509Certificate[]): string {
  return certificates.map((certificate) => certificate.toString()).join('');
}

/** The JOSE `x5c` header value: standard (not url-safe) base64 DER, leaf first (RFC 7515 §4.1.6). */
export function x5cOf(chain: readonly X509Certificate[]): string[] {
  return chain.map((certificate) => certificate.raw.toString('base64'));
}

/** JOSE `x5t#S256`: base64url of the SHA-256 of the DER certificate. */
export function sha256Thumbprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/**
 * Decodes one x5c entry. Buffer.from(…, 'base64') silently skips invalid characters and
 * accepts url-safe letters and missing padding, so the text is checked to be the one
 * canonical encoding of its bytes: an envelope binds exact bytes, and two spellings of one
 * certificate must not both pass.
 */
export function decodeX5cEntry(entry: string, index: number): X509Certificate {
  if (typeof entry !== 'string' || entry.length === 0 || !STANDARD_BASE64.test(entry)) {
    throw new PkiError('malformed-certificate', `x5c[${index}] is not standard base64`);
  }
  const der = Buffer.from(entry, 'base64');
  if (der.toString('base64') !== entry) {
    throw new PkiError('malformed-certificate', `x5c[${index}] is not canonical base64`);
  }
  return parseCertificateDer(der, `x5c[${index}]`);
}

function parseCertificateDer(der: Buffer, label: string): X509Certificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch (error) {
    throw new PkiError('malformed-certificate', `${label} is not a DER X.509 certificate`, {
      cause: error,
    });
  }
  // OpenSSL ignores bytes after the certificate; refuse them so the bytes are unambiguous.
  if (!certificate.raw.equals(der)) {
    throw new PkiError('malformed-certificate', `${label} has bytes after the certificate`);
  }
  return certificate;
}
