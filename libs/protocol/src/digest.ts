import { createHash } from 'node:crypto';
import { encodeBase64Url } from '@comity/jose';

/** SHA-256 of exact bytes, base64url without padding: the form every Comity digest takes. */
export function sha256Base64Url(data: Uint8Array | string): string {
  return encodeBase64Url(createHash('sha256').update(data).digest());
}
