import { strFromU8 } from 'fflate';
import { suiteOfKey, type CertificateVerifier, type VerifiedCertificate } from '@comity/pki';
import { parseSignedCheckpoint, type Checkpoint } from './checkpoint';
import type { FederationDirectory } from './directory';
import { BundleError, sha256, type Manifest } from './evidence-bundle';
import { HASH_BYTES, verifyConsistency } from './merkle-tree';
import { authenticateNonDeliveryEvidence } from './non-delivery-evidence';
import { authenticateRetrievalEvidence, checkRetrievalExpectation } from './retrieval-evidence';
import type { RoutingHeader } from './routing-header';
import { stateOfName, verifyCosignature } from './witness';

/**
 * The checks of an evidence bundle's signed statements beyond envelopes and receipts: the
 * sender's non-delivery evidence, the recipient's retrieval evidence and the peers'
 * cosignatures, each against the directory in force and the certificates' revocations.
 */

export type RevocationCheck = (signer: VerifiedCertificate, signedAt: Date, what: string) => void;

/**
 * A signature stands if its certificate was not revoked before it signed: a revocation after
 * the signing time leaves older signatures valid (a key compromised later could not have made
 * them), one at or before it refuses the bundle.
 */
export function revocationCheck(directory: FederationDirectory): RevocationCheck {
  return (signer, signedAt, what) => {
    const revoked = directory.revocationOf(signer.sha256Thumbprint);
    if (revoked && new Date(revoked.revokedAt).getTime() <= signedAt.getTime()) {
      throw new BundleError(
        `${what} was signed at ${signedAt.toISOString()} by ${signer.state}'s certificate x5t#S256 ${signer.sha256Thumbprint}, revoked at ${revoked.revokedAt} (${revoked.reason}), before it signed`,
      );
    }
  };
}

export type ProvenLeaf = Record<string, unknown> & { index: number };

/**
 * The sender's own non-delivery evidence (protocol §4.1): signed by the sender's gateway for
 * this envelope (id, digest, parties), not revoked when it signed, recorded by a leaf.
 */
export function checkNonDelivery(
  files: Record<string, Uint8Array>,
  at: string,
  header: RoutingHeader,
  envelopeDigest: string,
  leaves: ProvenLeaf[],
  verifier: CertificateVerifier,
  notRevoked: RevocationCheck,
): string[] {
  const name = `${at}/non-delivery.jws`;
  const bytes = files[name];
  if (!bytes) return [];
  try {
    const { statement, signer } = authenticateNonDeliveryEvidence(bytes, verifier);
    if (
      statement.envelopeId !== header.id ||
      statement.envelopeDigest !== envelopeDigest ||
      statement.from.state !== header.from.state ||
      statement.from.authority !== header.from.authority ||
      statement.to.state !== header.to.state ||
      statement.to.authority !== header.to.authority
    ) {
      throw new Error('it is not about this envelope (id, digest or parties differ)');
    }
    notRevoked(signer, new Date(statement.time), name);
    if (!leaves.some((leaf) => leaf.signedSha256 === sha256(bytes))) {
      throw new BundleError(`no leaf of the log records the digest of ${name}`);
    }
    return [
      `  not delivered (${statement.reason}, ${statement.transmissions} transmissions): non-delivery evidence ${statement.id} signed by ${signer.state}'s gateway at ${statement.time} (verified)`,
    ];
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(`${name}: ${(error as Error).message}`);
  }
}

/**
 * A message's retrieval and non-retrieval evidence (protocol §10.1): signed by the recipient's
 * gateway for this very envelope (id, digest, parties), not revoked when it signed, and
 * recorded by a leaf of the log (the digest of its bytes).
 */
export function checkRetrievals(
  files: Record<string, Uint8Array>,
  at: string,
  header: RoutingHeader,
  envelopeDigest: string,
  leaves: ProvenLeaf[],
  verifier: CertificateVerifier,
  notRevoked: RevocationCheck,
): string[] {
  const lines: string[] = [];
  for (const type of ['retrieval', 'non-retrieval'] as const) {
    const name = `${at}/${type}.jws`;
    const bytes = files[name];
    if (!bytes) continue;
    try {
      const evidence = authenticateRetrievalEvidence(bytes, verifier);
      if (evidence.statement.type !== type)
        throw new Error(`it is ${evidence.statement.type} evidence`);
      checkRetrievalExpectation(evidence, {
        envelopeId: header.id,
        envelopeDigest,
        recipient: header.to,
        sender: header.from,
      });
      notRevoked(evidence.signer, new Date(evidence.statement.time), name);
      const digest = sha256(bytes);
      if (!leaves.some((leaf) => leaf.signedSha256 === digest)) {
        throw new BundleError(`no leaf of the log records the digest of ${name}`);
      }
      const { statement } = evidence;
      lines.push(
        type === 'retrieval'
          ? `  opened by ${statement.from.state}/${statement.from.authority} at ${statement.time}: retrieval evidence ${statement.id} signed by ${evidence.signer.state}'s gateway (verified)`
          : `  not opened by ${statement.from.state}/${statement.from.authority} by ${statement.due}: non-retrieval evidence ${statement.id} signed by ${evidence.signer.state}'s gateway at ${statement.time} (verified)`,
      );
    } catch (error) {
      if (error instanceof BundleError) throw error;
      throw new BundleError(`${name}: ${(error as Error).message}`);
    }
  }
  return lines;
}

/**
 * The peers' cosignatures (protocol §10.2): each one by the witness State's gateway key from
 * the directory, valid and not revoked when it cosigned, on a checkpoint of this log that the
 * bundle's checkpoint provably extends. A cosigned checkpoint it does not extend is a fork.
 */
export function checkWitnesses(
  files: Record<string, Uint8Array>,
  manifest: Manifest,
  directory: FederationDirectory,
  checkpoint: Checkpoint,
  verifier: CertificateVerifier,
  notRevoked: RevocationCheck,
): string[] {
  const lines: string[] = [];
  for (const state of manifest.witnesses ?? []) {
    const name = `witnesses/${state}.txt`;
    const proofName = `witnesses/${state}.consistency`;
    if (!files[name] || !files[proofName]) throw new BundleError(`${name} or its proof is missing`);
    const note = strFromU8(files[name]);
    let witnessed: Checkpoint;
    let cosignedAt: Date;
    let signer: VerifiedCertificate | undefined;
    try {
      const keyName = parseSignedCheckpoint(note).signatures.find(
        (line) => stateOfName(directory.federation, line.keyName, 'witness') === state,
      )?.keyName;
      const entry = directory.state(state);
      if (!keyName || !entry) throw new Error(`it carries no cosignature of ${state}`);
      let found: { checkpoint: Checkpoint; cosignedAt: Date } | undefined;
      for (const certificate of entry.signingCertificates) {
        // The key first (to read the cosignature's time), then the chain at that time.
        const suite = suiteOfKey(certificate.publicKey, 'signing');
        if (!suite) continue;
        try {
          found = verifyCosignature(note, { keyName, suite, key: certificate.publicKey });
        } catch {
          continue;
        }
        signer = verifier.verifyChain(
          [certificate, ...entry.caCertificates],
          'signing',
          found.cosignedAt,
        );
        break;
      }
      if (!found || !signer)
        throw new Error(`no signing certificate of ${state} verifies its cosignature`);
      ({ checkpoint: witnessed, cosignedAt } = found);
    } catch (error) {
      throw new BundleError(`${name}: ${(error as Error).message}`);
    }
    if (signer.state !== state)
      throw new BundleError(`${name}: cosigned by ${signer.state}, not ${state}`);
    notRevoked(signer, cosignedAt, name);
    if (witnessed.origin !== manifest.origin)
      throw new BundleError(`${name} is a checkpoint of another log`);
    const proof = strFromU8(files[proofName])
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => Buffer.from(line, 'base64'));
    if (
      proof.some((hash) => hash.length !== HASH_BYTES) ||
      !verifyConsistency(witnessed.size, checkpoint.size, witnessed.root, checkpoint.root, proof)
    ) {
      throw new BundleError(
        `${name}: ${state} cosigned a checkpoint of size ${witnessed.size} that checkpoint.txt (size ${checkpoint.size}) does not extend: the log is forked`,
      );
    }
    lines.push(
      `witnessed: ${state}'s gateway cosigned this log at size ${witnessed.size} on ${cosignedAt.toISOString()}, and checkpoint.txt extends it (consistency proof verified)`,
    );
  }
  return lines;
}
