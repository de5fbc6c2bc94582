/**
 * Reason codes are part of the wire protocol: they travel in negative receipts and quarantine
 * headers, so a peer implementation can act on them. Keep them stable; add, never rename.
 */
export const REASON_CODES = [
  'envelope-too-large',
  'malformed-envelope',
  'malformed-header',
  'algorithm-not-allowed',
  'certificate-untrusted',
  'certificate-expired',
  'certificate-not-yet-valid',
  'certificate-revoked',
  'invalid-signature',
  'forbidden-header',
  'sender-mismatch',
  'wrong-recipient',
  'envelope-expired',
  'envelope-not-yet-valid',
  'content-digest-mismatch',
  'wrong-recipient-key',
  'decryption-failed',
  'invalid-content-signature',
  'content-binding-mismatch',
  'malformed-content',
  'duplicate-envelope-conflict',
  'malformed-receipt',
  'receipt-signer-mismatch',
  'receipt-envelope-mismatch',
  'receipt-digest-mismatch',
  'unknown-recipient',
  'unknown-sender',
  'unknown-authority',
  'kind-not-accepted',
  'envelope-lifetime-too-long',
  'broker-user-mismatch',
  // Large attachments (protocol §7): answered with a signed negative receipt.
  'attachment-incomplete',
  'attachment-chunk-digest-mismatch',
  'attachment-decryption-failed',
  'attachment-digest-mismatch',
  'attachment-too-large',
  // Case messages (protocol §8): answered with a signed negative receipt.
  'case-unknown',
  'case-message-unknown',
  'case-party-mismatch',
  'case-transition-not-allowed',
  // Structured requests (protocol §9): a required field is missing.
  'request-incomplete',
  // Retrieval evidence and witnessed checkpoints (protocol §10), refused on arrival.
  'malformed-evidence',
  'evidence-signer-mismatch',
  'evidence-envelope-mismatch',
  'evidence-digest-mismatch',
  'malformed-checkpoint',
  'checkpoint-signer-mismatch',
  // Chunk messages refused on arrival (quarantine header, logs and metrics).
  'malformed-chunk',
  'chunk-too-large',
  'chunk-quota-exceeded',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && (REASON_CODES as readonly string[]).includes(value);
}

/** A protocol-level refusal: the input was understood well enough to say precisely why it fails. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(
    readonly reason: ReasonCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
