import { JoseError } from '@comity/jose';
import { PkiError } from '@comity/pki';
import { ProtocolError, type ReasonCode } from './protocol-error';

/**
 * Translates the lower layers' errors into protocol reason codes, keeping the cause. `what`
 * names the object being checked (outer signature, receipt, ...) so the message says where.
 */
export function toProtocolError(
  error: unknown,
  what: string,
  malformedReason: ReasonCode,
): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error instanceof PkiError) {
    const reason: ReasonCode =
      error.code === 'certificate-expired' || error.code === 'certificate-not-yet-valid'
        ? error.code
        : 'certificate-untrusted';
    return new ProtocolError(reason, `${what}: ${error.message}`, { cause: error });
  }
  if (error instanceof JoseError) {
    const reasons: Record<JoseError['code'], ReasonCode> = {
      malformed: malformedReason,
      'unsupported-algorithm': 'algorithm-not-allowed',
      'algorithm-not-allowed': 'algorithm-not-allowed',
      'key-mismatch': 'algorithm-not-allowed',
      'invalid-signature': 'invalid-signature',
      'decryption-failed': 'decryption-failed',
      'forbidden-header': 'forbidden-header',
      'unknown-critical-header': 'forbidden-header',
      'invalid-key': 'decryption-failed',
    };
    return new ProtocolError(reasons[error.code], `${what}: ${error.message}`, { cause: error });
  }
  return new ProtocolError(malformedReason, `${what}: ${String(error)}`, { cause: error });
}

/** Rejects any protected-header member the protocol does not define (jwk, jku, x5u, crit, zip, ...). */
export function requireOnlyHeaderMembers(
  header: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
): void {
  for (const member of Object.keys(header)) {
    if (!allowed.includes(member)) {
      throw new ProtocolError(
        'forbidden-header',
        `${what} has the header member "${member}", which Comity does not allow`,
      );
    }
  }
}
