export type PkiErrorCode =
  | 'malformed-certificate'
  | 'chain-untrusted'
  | 'self-signed'
  | 'certificate-expired'
  | 'certificate-not-yet-valid'
  | 'wrong-key-usage'
  | 'state-mismatch'
  | 'weak-key'
  | 'pkcs12-invalid';

/**
 * The one error type of @comity/pki. The code is stable and meant for machines (a gateway
 * turns it into a problem report for the peer); the message names the certificate or file
 * so that an operator can act on it.
 */
export class PkiError extends Error {
  override readonly name = 'PkiError';

  constructor(
    readonly code: PkiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
