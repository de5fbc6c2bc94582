import type { KeyObject, X509Certificate } from 'node:crypto';
import { decodeX5cEntry, sha256Thumbprint } from './certificate-encoding';
import { KeyUsage, parseCertificateDetails, type CertificateDetails } from './certificate-details';
import {
  DEFAULT_MIN_RSA_MODULUS_BITS,
  suiteOfKey,
  type CertificatePurpose,
  type KeySuite,
} from './key-suite';
import { PkiError } from './pki-error';

/** A gateway certificate that chains to the federation root and fits its purpose. */
export interface VerifiedCertificate {
  certificate: X509Certificate;
  /** ISO 3166 alpha-2 code from the subject C, equal to the issuing State CA's. */
  state: string;
  suite: KeySuite;
  purpose: CertificatePurpose;
  publicKey: KeyObject;
  /** base64url SHA-256 of the DER certificate, as JOSE `x5t#S256`. */
  sha256Thumbprint: string;
  notAfter: Date;
}

export interface CertificateVerifierOptions {
  minRsaModulusBits?: number;
  /** How many verified chains to remember; the oldest is forgotten first. */
  cacheSize?: number;
}

/** Longer x5c arrays are refused before any parsing: the federation's paths are 2 deep. */
export const MAX_CHAIN_LENGTH = 4;
const STATE_CODE = /^[A-Z]{2}$/;

interface CachedVerification {
  result: VerifiedCertificate;
  /** The intersection of the validity periods of the chain and its anchor, in ms. */
  validFrom: number;
  validUntil: number;
}

export class CertificateVerifier {
  private readonly anchors: readonly X509Certificate[];
  private readonly minRsaModulusBits: number;
  private readonly cacheSize: number;
  private readonly verified = new Map<string, CachedVerification>();
  private readonly details = new WeakMap<X509Certificate, CertificateDetails>();

  constructor(trustAnchors: readonly X509Certificate[], options: CertificateVerifierOptions = {}) {
    if (trustAnchors.length === 0) throw new TypeError('CertificateVerifier needs a trust anchor');
    this.anchors = [...trustAnchors];
    this.minRsaModulusBits = options.minRsaModulusBits ?? DEFAULT_MIN_RSA_MODULUS_BITS;
    this.cacheSize = options.cacheSize ?? 1_000;
  }

  /**
   * Verifies a leaf-first chain (certificates, or a JOSE x5c array) for a purpose at a time.
   * A chain verified before costs one map lookup and a time comparison; anything else, and
   * any chain outside its validity window, goes through the full checks so that the error
   * names the offending certificate.
   */
  verifyChain(
    chain: readonly X509Certificate[] | readonly string[],
    purpose: CertificatePurpose,
    at: Date,
  ): VerifiedCertificate {
    const time = at.getTime();
    const key = cacheKeyOf(chain, purpose);
    const cached = key === undefined ? undefined : this.verified.get(key);
    if (cached && time >= cached.validFrom && time <= cached.validUntil) return cached.result;

    const verification = this.verifyUncached(chain, purpose, time);
    if (key !== undefined) this.remember(key, verification);
    return verification.result;
  }

  /**
   * Verifies the federation directory signer: a certificate the root issued directly (the
   * anchor may follow it), not a CA, naming no State, for digital signatures, valid at `at`.
   * Gateway certificates (which name a State and sit under a State CA) never qualify.
   */
  verifyDirectorySigner(
    input: readonly X509Certificate[] | readonly string[],
    at: Date,
  ): { certificate: X509Certificate; publicKey: KeyObject; suite: KeySuite } {
    const chain = this.decodeChain(input);
    if (chain.length !== 1) {
      throw new PkiError(
        'chain-untrusted',
        'the directory signer must be issued by the federation root directly',
      );
    }
    const leaf = chain[0] as X509Certificate;
    if (leaf.subject === leaf.issuer && verifiesWith(leaf, leaf.publicKey)) {
      throw new PkiError('self-signed', `certificate ${nameOf(leaf)} is self-signed`);
    }
    const anchor = this.anchors.find((candidate) => issuedBy(leaf, candidate));
    if (!anchor) {
      throw new PkiError(
        'chain-untrusted',
        `certificate ${nameOf(leaf)} is not issued by a trusted federation root`,
      );
    }
    for (const certificate of [leaf, anchor]) {
      const { notBefore, notAfter } = this.detailsOf(certificate);
      if (at < notBefore) {
        throw new PkiError(
          'certificate-not-yet-valid',
          `certificate ${nameOf(certificate)} is valid only from ${notBefore.toISOString()}`,
        );
      }
      if (at > notAfter) {
        throw new PkiError(
          'certificate-expired',
          `certificate ${nameOf(certificate)} expired at ${notAfter.toISOString()}`,
        );
      }
    }
    const details = this.detailsOf(leaf);
    if (details.isCa || details.country !== undefined) {
      throw new PkiError(
        'wrong-key-usage',
        `certificate ${nameOf(leaf)} is not a directory signer`,
      );
    }
    if (details.keyUsage === undefined || !(details.keyUsage & KeyUsage.digitalSignature)) {
      throw new PkiError(
        'wrong-key-usage',
        `certificate ${nameOf(leaf)} may not sign (keyUsage lacks digitalSignature)`,
      );
    }
    this.checkKeySizes(chain);
    const suite = suiteOfKey(leaf.publicKey, 'signing');
    if (!suite) {
      throw new PkiError(
        'wrong-key-usage',
        `certificate ${nameOf(leaf)} holds a key no Comity suite signs with`,
      );
    }
    return { certificate: leaf, publicKey: leaf.publicKey, suite };
  }

  private verifyUncached(
    input: readonly X509Certificate[] | readonly string[],
    purpose: CertificatePurpose,
    time: number,
  ): CachedVerification {
    const chain = this.decodeChain(input);
    const leaf = chain[0] as X509Certificate;

    // checkIssued() would also demand keyCertSign, which a self-signed leaf usually lacks.
    if (leaf.subject === leaf.issuer && verifiesWith(leaf, leaf.publicKey)) {
      throw new PkiError('self-signed', `certificate ${nameOf(leaf)} is self-signed`);
    }
    for (let index = 0; index + 1 < chain.length; index++) {
      const child = chain[index] as X509Certificate;
      const parent = chain[index + 1] as X509Certificate;
      if (!issuedBy(child, parent)) {
        throw new PkiError(
          'chain-untrusted',
          `certificate ${nameOf(child)} is not issued by the next one in the chain, ${nameOf(parent)}`,
        );
      }
    }
    const top = chain[chain.length - 1] as X509Certificate;
    const anchor = this.anchors.find((candidate) => issuedBy(top, candidate));
    if (!anchor) {
      throw new PkiError(
        'chain-untrusted',
        `certificate ${nameOf(top)} is not issued by a trusted federation root`,
      );
    }
    const all = [...chain, anchor];
    const details = all.map((certificate) => this.detailsOf(certificate));
    let validFrom = -Infinity;
    let validUntil = Infinity;
    all.forEach((certificate, index) => {
      const { notBefore, notAfter } = details[index] as CertificateDetails;
      if (time < notBefore.getTime()) {
        throw new PkiError(
          'certificate-not-yet-valid',
          `certificate ${nameOf(certificate)} is valid only from ${notBefore.toISOString()}`,
        );
      }
      if (time > notAfter.getTime()) {
        throw new PkiError(
          'certificate-expired',
          `certificate ${nameOf(certificate)} expired at ${notAfter.toISOString()}`,
        );
      }
      validFrom = Math.max(validFrom, notBefore.getTime());
      validUntil = Math.min(validUntil, notAfter.getTime());
    });

    this.checkAuthorities(all, details);
    if (chain.length < 2) {
      throw new PkiError(
        'chain-untrusted',
        `certificate ${nameOf(leaf)} is issued by the federation root directly; a State CA must issue gateway certificates`,
      );
    }
    this.checkKeySizes(chain);
    const leafDetails = details[0] as CertificateDetails;
    const publicKey = leaf.publicKey;
    const suite = this.checkLeafKey(leaf, leafDetails, publicKey, purpose);
    const state = checkState(leaf, leafDetails, chain[1] as X509Certificate, details[1]);

    const result: VerifiedCertificate = Object.freeze({
      certificate: leaf,
      state,
      suite,
      purpose,
      publicKey,
      sha256Thumbprint: sha256Thumbprint(leaf),
      notAfter: leafDetails.notAfter,
    });
    return { result, validFrom, validUntil };
  }

  private decodeChain(input: readonly X509Certificate[] | readonly string[]): X509Certificate[] {
    if (!Array.isArray(input) || input.length === 0) {
      throw new PkiError('malformed-certificate', 'the certificate chain is empty');
    }
    if (input.length > MAX_CHAIN_LENGTH) {
      throw new PkiError(
        'chain-untrusted',
        `the certificate chain holds ${input.length} certificates; at most ${MAX_CHAIN_LENGTH} are accepted`,
      );
    }
    const chain = input.map((entry: X509Certificate | string, index) =>
      typeof entry === 'string' ? decodeX5cEntry(entry, index) : entry,
    );
    // The sender may append the root itself; it proves nothing, so it is dropped.
    const last = chain[chain.length - 1] as X509Certificate;
    if (chain.length > 1 && this.anchors.some((anchor) => anchor.raw.equals(last.raw))) {
      chain.pop();
    }
    return chain;
  }

  /** Every certificate above the leaf must be a CA allowed to issue that deep a path. */
  private checkAuthorities(all: X509Certificate[], details: CertificateDetails[]): void {
    const leaf = details[0] as CertificateDetails;
    if (leaf.isCa) {
      throw new PkiError(
        'wrong-key-usage',
        `certificate ${nameOf(all[0] as X509Certificate)} is a CA certificate, not a gateway certificate`,
      );
    }
    for (let index = 1; index < all.length; index++) {
      const authority = details[index] as CertificateDetails;
      const name = nameOf(all[index] as X509Certificate);
      if (!authority.isCa) {
        throw new PkiError('chain-untrusted', `certificate ${name} is not a CA certificate`);
      }
      if (authority.keyUsage !== undefined && !(authority.keyUsage & KeyUsage.keyCertSign)) {
        throw new PkiError('chain-untrusted', `CA certificate ${name} may not sign certificates`);
      }
      // CAs between this one and the leaf (RFC 5280 §4.2.1.9).
      const casBelow = index - 1;
      if (authority.pathLength !== undefined && casBelow > authority.pathLength) {
        throw new PkiError(
          'chain-untrusted',
          `CA certificate ${name} allows ${authority.pathLength} CA(s) below it, the chain has ${casBelow}`,
        );
      }
    }
  }

  private checkKeySizes(chain: X509Certificate[]): void {
    for (const certificate of chain) {
      const key = certificate.publicKey;
      const bits = key.asymmetricKeyDetails?.modulusLength;
      if (key.asymmetricKeyType === 'rsa' && (bits ?? 0) < this.minRsaModulusBits) {
        throw new PkiError(
          'weak-key',
          `certificate ${nameOf(certificate)} has a ${bits}-bit RSA key; at least ${this.minRsaModulusBits} bits are required`,
        );
      }
    }
  }

  private checkLeafKey(
    leaf: X509Certificate,
    details: CertificateDetails,
    publicKey: KeyObject,
    purpose: CertificatePurpose,
  ): KeySuite {
    const suite = suiteOfKey(publicKey, purpose);
    if (!suite) {
      throw new PkiError(
        'wrong-key-usage',
        `certificate ${nameOf(leaf)} holds a key of type ${publicKey.asymmetricKeyType}, which no Comity suite uses for ${purpose}`,
      );
    }
    const required =
      purpose === 'signing'
        ? KeyUsage.digitalSignature | KeyUsage.nonRepudiation
        : suite === 'rsa'
          ? KeyUsage.keyEncipherment
          : KeyUsage.keyAgreement;
    if (details.keyUsage === undefined || (details.keyUsage & required) !== required) {
      throw new PkiError(
        'wrong-key-usage',
        `certificate ${nameOf(leaf)} is not a ${purpose} certificate (its keyUsage lacks ${usageNames(required)})`,
      );
    }
    return suite;
  }

  private detailsOf(certificate: X509Certificate): CertificateDetails {
    let details = this.details.get(certificate);
    if (!details) {
      details = parseCertificateDetails(certificate);
      this.details.set(certificate, details);
    }
    return details;
  }

  private remember(key: string, verification: CachedVerification): void {
    this.verified.delete(key);
    if (this.verified.size >= this.cacheSize) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(key, verification);
  }
}

/**
 * x5c strings key the cache as they are: only canonical base64 is ever accepted, so equal
 * strings mean equal certificates, and the hot path skips decoding and hashing.
 * Certificate objects are keyed by their SHA-256 fingerprints.
 */
function cacheKeyOf(
  chain: readonly X509Certificate[] | readonly string[],
  purpose: CertificatePurpose,
): string | undefined {
  if (!Array.isArray(chain) || chain.length === 0 || chain.length > MAX_CHAIN_LENGTH) {
    return undefined;
  }
  const parts = chain.map((entry: X509Certificate | string) =>
    typeof entry === 'string' ? entry : `#${entry.fingerprint256}`,
  );
  return `${purpose} ${parts.join(' ')}`;
}

function checkState(
  leaf: X509Certificate,
  leafDetails: CertificateDetails,
  stateCa: X509Certificate,
  stateCaDetails: CertificateDetails | undefined,
): string {
  const state = leafDetails.country;
  if (state === undefined || !STATE_CODE.test(state)) {
    throw new PkiError(
      'state-mismatch',
      `certificate ${nameOf(leaf)} has no subject C naming a State (ISO 3166 alpha-2)`,
    );
  }
  if (stateCaDetails?.country !== state) {
    throw new PkiError(
      'state-mismatch',
      `certificate ${nameOf(leaf)} claims State ${state} but is issued by ${nameOf(stateCa)}`,
    );
  }
  return state;
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && verifiesWith(child, parent.publicKey);
}

/** verify() throws on key types that cannot sign (X25519); that is a failed check too. */
function verifiesWith(certificate: X509Certificate, publicKey: KeyObject): boolean {
  try {
    return certificate.verify(publicKey);
  } catch {
    return false;
  }
}

function nameOf(certificate: X509Certificate): string {
  return `"${certificate.subject.split('\n').join(', ')}"`;
}

function usageNames(flags: number): string {
  return Object.entries(KeyUsage)
    .filter(([, bit]) => typeof bit === 'number' && (flags & bit) !== 0)
    .map(([name]) => name)
    .join(' + ');
}
