import { createHash } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { signJwsCompact } from '@comity/jose';
import { SIGNATURE_ALGORITHM } from './algorithm-policy';
import type { SigningIdentity } from './gateway-identity';

/**
 * An evidence bundle (docs/evidence.md, "Bundles"): one zip file holding a message's envelope,
 * its receipt or non-delivery evidence, the leaves of the node's evidence log about it with
 * inclusion proofs to a checkpoint the node signed, the node's signing certificate chain and
 * the signed directory; enough to check it all offline with the federation's root alone.
 */

export const BUNDLE_FORMAT = 'comity-evidence-bundle/2';
/** Bundles made before manifests were signed: still verified, their case state reported unsigned. */
export const UNSIGNED_BUNDLE_FORMAT = 'comity-evidence-bundle/1';
export const MANIFEST_TYPE = 'comity-evidence-manifest+jws';
const PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface BundleLeaf {
  index: number;
  leaf: Buffer;
  proof: Buffer[];
}

/** What is left of an envelope whose content was purged: its signed header and its digest. */
export interface PurgedEnvelope {
  /** The envelope's `header` member: the compact JWS of the routing header. */
  header: string;
  /** SHA-256 of the envelope's exact bytes, as recorded before the purge. */
  envelopeDigest: string;
  purgedAt: Date;
}

/** One message of a bundle: its documents and the leaves of the log about it. */
export interface BundleMessage {
  id: string;
  direction: 'outbound' | 'inbound';
  /** The envelope, or what the retention policy left of it. */
  envelope: Buffer | PurgedEnvelope;
  receipt: Buffer | null;
  nonDelivery: Buffer | null;
  /** Retrieval and non-retrieval evidence signed by the recipient's gateway (protocol §10.1). */
  retrieval?: Buffer | null;
  nonRetrieval?: Buffer | null;
  leaves: BundleLeaf[];
}

/** A peer's cosignature of one of the log's checkpoints, and its consistency with the bundle's. */
export interface BundleWitness {
  state: string;
  /** The log's checkpoint as the witness returned it: the signed note with its cosignature. */
  note: string;
  /** RFC 9162 consistency proof from that checkpoint's size to the bundle's checkpoint. */
  consistency: Buffer[];
}

export interface BundleInput {
  node: string;
  origin: string;
  /** A case bundle: the case id and its state as the node derived it (stated in the signed manifest). */
  case: { id: string; state: string } | null;
  messages: BundleMessage[];
  checkpoint: { note: string; signedAt: Date; timestamp: Buffer | null };
  directory: string;
  signingChainPem: string;
  /** The exporting node's signing key: it signs the manifest (`manifest.jws`). */
  signer: SigningIdentity;
  exportedAt: Date;
  /** Each peer's latest cosignature of a checkpoint no larger than the bundle's. */
  witnesses?: BundleWitness[];
}

export interface ManifestMessage {
  id: string;
  direction: 'outbound' | 'inbound';
  leaves: number[];
  /** Set when the message's content was purged: the envelope is `envelope-header.jws` alone. */
  purged?: { at: string; envelopeDigest: string } | null;
}

export interface Manifest {
  format: string;
  node: string;
  origin: string;
  exportedAt?: string;
  case: { id: string; state: string } | null;
  messages: ManifestMessage[];
  checkpointSignedAt: string;
  /** The States whose cosigned checkpoints are in `witnesses/` (absent in older bundles). */
  witnesses?: string[];
  files: Record<string, string>;
}

const isPurged = (envelope: Buffer | PurgedEnvelope): envelope is PurgedEnvelope =>
  !Buffer.isBuffer(envelope);

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

export const sha256 = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest('base64url');

/** A C2SP tlog-proof: the leaf's index, its audit path, then the checkpoint it leads to. */
export function tlogProof(index: number, proof: readonly Buffer[], checkpointNote: string): string {
  return [
    PROOF_HEADER,
    `index ${index}`,
    ...proof.map((hash) => hash.toString('base64')),
    '',
    checkpointNote,
  ].join('\n');
}

/**
 * The exporting node's signature over the manifest: a compact JWS (its signing key, `x5c` its
 * chain) whose payload is exactly the bytes of `manifest.json`. It is what makes the case state
 * and the purge dates in the manifest the node's own statement.
 */
export function signBundleManifest(manifest: Uint8Array, signer: SigningIdentity): string {
  return signJwsCompact(manifest, signer.key, {
    alg: SIGNATURE_ALGORITHM[signer.suite],
    typ: MANIFEST_TYPE,
    x5c: signer.x5c,
  });
}

export function readTlogProof(text: string): { index: number; proof: Buffer[]; note: string } {
  const split = text.indexOf('\n\n');
  if (split < 0) throw new BundleError('a proof has no checkpoint');
  const [header, indexLine, ...hashes] = text.slice(0, split).split('\n');
  const index = /^index (0|[1-9]\d{0,15})$/.exec(indexLine ?? '')?.[1];
  if (header !== PROOF_HEADER || index === undefined)
    throw new BundleError(`a proof does not start "${PROOF_HEADER}", "index N"`);
  const proof = hashes.map((line) => {
    const hash = Buffer.from(line, 'base64');
    if (hash.length !== 32 || hash.toString('base64') !== line)
      throw new BundleError('a proof line is not a base64 hash');
    return hash;
  });
  return { index: Number(index), proof, note: text.slice(split + 2) };
}

export function writeEvidenceBundle(input: BundleInput): Buffer {
  const files: Record<string, Uint8Array> = {
    'checkpoint.txt': strToU8(input.checkpoint.note),
    'directory.jws': strToU8(input.directory),
    'signing-chain.pem': strToU8(input.signingChainPem),
  };
  if (input.checkpoint.timestamp) files['checkpoint.tsr'] = input.checkpoint.timestamp;
  for (const message of input.messages) {
    if (isPurged(message.envelope)) {
      files[`messages/${message.id}/envelope-header.jws`] = strToU8(message.envelope.header);
    } else {
      files[`messages/${message.id}/envelope.json`] = message.envelope;
    }
    if (message.receipt) files[`messages/${message.id}/receipt.jws`] = message.receipt;
    if (message.nonDelivery) files[`messages/${message.id}/non-delivery.jws`] = message.nonDelivery;
    if (message.retrieval) files[`messages/${message.id}/retrieval.jws`] = message.retrieval;
    if (message.nonRetrieval)
      files[`messages/${message.id}/non-retrieval.jws`] = message.nonRetrieval;
    for (const leaf of message.leaves) {
      files[`leaves/${leaf.index}.json`] = leaf.leaf;
      files[`proofs/${leaf.index}.txt`] = strToU8(
        tlogProof(leaf.index, leaf.proof, input.checkpoint.note),
      );
    }
  }
  for (const witness of input.witnesses ?? []) {
    files[`witnesses/${witness.state}.txt`] = strToU8(witness.note);
    files[`witnesses/${witness.state}.consistency`] = strToU8(
      witness.consistency.map((hash) => `${hash.toString('base64')}\n`).join(''),
    );
  }
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    node: input.node,
    origin: input.origin,
    exportedAt: input.exportedAt.toISOString(),
    case: input.case,
    messages: input.messages.map((message) => ({
      id: message.id,
      direction: message.direction,
      leaves: message.leaves.map((leaf) => leaf.index),
      purged: isPurged(message.envelope)
        ? {
            at: message.envelope.purgedAt.toISOString(),
            envelopeDigest: message.envelope.envelopeDigest,
          }
        : null,
    })),
    checkpointSignedAt: input.checkpoint.signedAt.toISOString(),
    witnesses: (input.witnesses ?? []).map((witness) => witness.state),
    files: Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, sha256(bytes)])),
  };
  files['manifest.json'] = strToU8(JSON.stringify(manifest, null, 2));
  files['manifest.jws'] = strToU8(signBundleManifest(files['manifest.json'], input.signer));
  // Fixed file times: one bundle of the same evidence is the same bytes.
  const fixed = new Date('2000-01-01T00:00:00Z');
  return Buffer.from(
    zipSync(
      Object.fromEntries(
        Object.entries(files).map(([name, bytes]) => [name, [bytes, { mtime: fixed }]]),
      ),
    ),
  );
}
