/**
 * Every rejection carries one of these codes so callers can turn it into a protocol
 * problem report without parsing messages. Messages name the offending part; decryption
 * failures deliberately do not say which step failed (no padding or MAC oracle).
 */
export type JoseErrorCode =
  | 'malformed'
  | 'unsupported-algorithm'
  | 'algorithm-not-allowed'
  | 'key-mismatch'
  | 'invalid-signature'
  | 'decryption-failed'
  | 'forbidden-header'
  | 'unknown-critical-header'
  | 'invalid-key';

export class JoseError extends Error {
  readonly code: JoseErrorCode;

  constructor(code: JoseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JoseError';
    this.code = code;
  }
}
