/**
 * Content purged under a node's retention policy (docs/evidence.md, "Retention"). The node
 * keeps the envelope's signed routing header and its digest; the purge itself is a row of the
 * message's timeline, whose leaf commits to the digest through the detail text below.
 */

/** The timeline evidence type of a purge. */
export const CONTENT_PURGED = 'content-purged';

/**
 * The exact detail text of a purge's timeline row. The leaf holds its SHA-256, so a verifier
 * holding only the digest rebuilds this text and finds the leaf that records it.
 */
export function contentPurgedDetail(envelopeDigest: string): string {
  return `content purged under the retention policy; envelope SHA-256 ${envelopeDigest}`;
}
