import { JoseError } from './jose-error';

/**
 * Splits a compact serialization into exactly `count` dot-separated parts. Bytes are read
 * as latin1 so that a non-ASCII byte stays visible instead of becoming U+FFFD; the strict
 * base64url check of every part then refuses anything outside the ASCII alphabet, so the
 * whole token is not scanned twice (this is the hot path).
 */
export function splitCompact(token: string | Uint8Array, count: number, what: string): string[] {
  const text =
    typeof token === 'string'
      ? token
      : Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString('latin1');
  if (text.length === 0) throw new JoseError('malformed', `${what} is empty`);
  const parts = text.split('.');
  if (parts.length !== count) {
    throw new JoseError(
      'malformed',
      `${what} compact serialization must have exactly ${count} dot-separated parts, got ${parts.length}`,
    );
  }
  return parts;
}
