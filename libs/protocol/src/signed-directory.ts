import type { KeyObject, X509Certificate } from 'node:crypto';
import { parseJwsCompact, signJwsCompact, verifyJwsCompact } from '@comity/jose';
import type { CertificateVerifier, KeySuite } from '@comity/pki';
import { SIGNATURE_ALGORITHM, signaturePolicy } from './algorithm-policy';
import {
  DirectoryError,
  parseDirectory,
  type DirectoryDocument,
  type FederationDirectory,
} from './directory';

export const DIRECTORY_TYPE = 'comity-directory+jws';

/**
 * The directory as the federation publishes it: a compact JWS by the directory signer (whose
 * certificate the root issued), over the directory document.
 */
export function signDirectory(
  document: DirectoryDocument,
  signer: { key: KeyObject; certificate: X509Certificate; suite: KeySuite },
): string {
  return signJwsCompact(Buffer.from(JSON.stringify(document)), signer.key, {
    alg: SIGNATURE_ALGORITHM[signer.suite],
    typ: DIRECTORY_TYPE,
    x5c: [signer.certificate.raw.toString('base64')],
  });
}

/**
 * Accepts a signed directory only if the directory signer under the trust anchor signed it, it
 * is in force now, and it is newer than the one held (a node never goes back to an older
 * edition, which would resurrect revoked certificates).
 */
export function verifySignedDirectory(
  signed: Uint8Array | string,
  verifier: CertificateVerifier,
  now: Date,
  held?: FederationDirectory,
): FederationDirectory {
  let payload: Buffer;
  try {
    const parsed = parseJwsCompact(
      typeof signed === 'string' ? signed.trim() : Buffer.from(signed).toString('ascii').trim(),
    );
    const members = Object.keys(parsed.header);
    if (
      members.some((member) => !['alg', 'typ', 'x5c'].includes(member)) ||
      parsed.header.typ !== DIRECTORY_TYPE
    ) {
      throw new DirectoryError(
        `a signed directory's header must be exactly alg, typ "${DIRECTORY_TYPE}" and x5c`,
      );
    }
    const x5c = parsed.header.x5c;
    if (!Array.isArray(x5c) || !x5c.every((entry) => typeof entry === 'string')) {
      throw new DirectoryError('the directory signature carries no x5c');
    }
    const signer = verifier.verifyDirectorySigner(x5c as string[], now);
    verifyJwsCompact(parsed, signer.publicKey, signaturePolicy(signer.suite));
    payload = parsed.payload;
  } catch (error) {
    if (error instanceof DirectoryError) throw error;
    throw new DirectoryError(
      `the directory is not signed by the federation's directory signer: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const directory = parseDirectory(payload);
  const { version, issued, expires } = directory.validity;
  if (Date.parse(expires) <= now.getTime()) {
    throw new DirectoryError(`directory version ${version} expired at ${expires}`);
  }
  if (Date.parse(issued) > now.getTime() + 5 * 60_000) {
    throw new DirectoryError(`directory version ${version} is issued in the future (${issued})`);
  }
  if (held && version <= held.validity.version) {
    throw new DirectoryError(
      `directory version ${version} is not newer than the version ${held.validity.version} in force`,
    );
  }
  return directory;
}
