import type { X509Certificate } from 'node:crypto';
import { strFromU8, strToU8, unzipSync } from 'fflate';
import { parseJwsCompact, verifyJwsCompact } from '@comity/jose';
import {
  readCertificatesPem,
  sha256Thumbprint,
  verifyTimestampToken,
  type CertificateVerifier,
  type VerifiedCertificate,
} from '@comity/pki';
import { signaturePolicy } from './algorithm-policy';
import { CheckpointError, parseSignedCheckpoint, verifySignedCheckpoint } from './checkpoint';
import { CONTENT_PURGED, contentPurgedDetail } from './content-retention';
import {
  checkContentDigest,
  readUnverifiedHeader,
  readUnverifiedHeaderJws,
  verifyEnvelopeHeader,
  verifyEnvelopeSignature,
} from './envelope';
import {
  BUNDLE_FORMAT,
  BundleError,
  MANIFEST_TYPE,
  UNSIGNED_BUNDLE_FORMAT,
  readTlogProof,
  sha256,
  type Manifest,
} from './evidence-bundle';
import { leafHash, verifyInclusion } from './merkle-tree';
import { verifyReceipt } from './receipt';
import type { RoutingHeader } from './routing-header';
import { verifySignedDirectory } from './signed-directory';
import {
  checkNonDelivery,
  checkRetrievals,
  checkWitnesses,
  revocationCheck,
  type RevocationCheck,
} from './evidence-bundle-checks';

/**
 * The offline check of an evidence bundle (docs/evidence.md, "Bundles"): everything in it is
 * verified against the federation's root alone, and an account of what it proves is returned.
 */

export interface BundleVerification {
  /** A readable account of what the bundle proves. */
  account: string[];
}

/** Checks a bundle offline; throws `BundleError` naming the first thing that does not hold. */
export function verifyEvidenceBundle(
  bundle: Uint8Array,
  verifier: CertificateVerifier,
  options: { tsaAnchors?: readonly X509Certificate[] } = {},
): BundleVerification {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bundle);
  } catch (error) {
    throw new BundleError(`the bundle is not a readable zip file (${(error as Error).message})`);
  }
  const manifestBytes = files['manifest.json'];
  if (!manifestBytes) throw new BundleError('the bundle has no manifest.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(strFromU8(manifestBytes)) as Manifest;
  } catch {
    throw new BundleError('manifest.json is not JSON');
  }
  if (manifest.format !== BUNDLE_FORMAT && manifest.format !== UNSIGNED_BUNDLE_FORMAT)
    throw new BundleError(`the manifest's format is not ${BUNDLE_FORMAT}`);
  const signedManifest = manifest.format === BUNDLE_FORMAT;
  if (signedManifest && !files['manifest.jws'])
    throw new BundleError('the bundle has no manifest.jws (the manifest is not signed)');
  for (const name of Object.keys(files)) {
    if (name === 'manifest.json' || (signedManifest && name === 'manifest.jws')) continue;
    const expected = manifest.files?.[name];
    if (!expected) throw new BundleError(`${name} is not listed in the manifest`);
    if (sha256(files[name]!) !== expected)
      throw new BundleError(`${name} was altered: its digest is not the manifest's`);
  }
  for (const name of Object.keys(manifest.files ?? {})) {
    if (!files[name]) throw new BundleError(`${name} is listed in the manifest but missing`);
  }
  const text = (name: string): string => strFromU8(files[name]!);

  // The directory, signed under the root: who the node is, its certificates, revocations.
  const signedAt = new Date(manifest.checkpointSignedAt);
  if (Number.isNaN(signedAt.getTime()))
    throw new BundleError('the manifest has no valid checkpoint time');
  const directory = (() => {
    try {
      return verifySignedDirectory(
        text('directory.jws'),
        verifier,
        directoryInstant(text('directory.jws')),
      );
    } catch (error) {
      throw new BundleError(`directory.jws: ${(error as Error).message}`);
    }
  })();
  const notRevoked = revocationCheck(directory);

  // The node's signing key, certified under the root at the checkpoint's time, not revoked then.
  const chain = readCertificatesPem(text('signing-chain.pem'));
  let signer;
  try {
    signer = verifier.verifyChain(chain, 'signing', signedAt);
  } catch (error) {
    throw new BundleError(`signing-chain.pem: ${(error as Error).message}`);
  }
  if (signer.state !== manifest.node)
    throw new BundleError(`the signing certificate is ${signer.state}'s, not ${manifest.node}'s`);
  notRevoked(signer, signedAt, 'checkpoint.txt');

  // The checkpoint, signed by that key as the log's origin.
  if (manifest.origin !== parseSignedCheckpoint(text('checkpoint.txt')).checkpoint.origin) {
    throw new BundleError("the checkpoint's origin is not the manifest's");
  }
  let checkpoint;
  try {
    checkpoint = verifySignedCheckpoint(text('checkpoint.txt'), {
      keyName: manifest.origin,
      suite: signer.suite,
      key: signer.publicKey,
    });
  } catch (error) {
    if (error instanceof CheckpointError) throw new BundleError(`checkpoint.txt: ${error.message}`);
    throw error;
  }

  // An RFC 3161 time-stamp on the signed note, where the node had a TSA.
  let stamped: string | null = null;
  if (files['checkpoint.tsr']) {
    try {
      const token = verifyTimestampToken(files['checkpoint.tsr'], files['checkpoint.txt']!, {
        anchors: options.tsaAnchors,
      });
      stamped = `checkpoint time-stamped at ${token.genTime.toISOString()} by ${token.tsa.subject.replace(/\n/g, ', ')} (RFC 3161; ${options.tsaAnchors ? 'TSA certificate chained to the TSA anchor' : 'TSA certificate not checked against a TSA anchor: give --tsa-anchor'})`;
    } catch (error) {
      throw new BundleError(`checkpoint.tsr: ${(error as Error).message}`);
    }
  }

  // Each leaf, proven to be in the signed tree.
  const provenLeaf = (index: number): Record<string, unknown> & { index: number } => {
    const leaf = files[`leaves/${index}.json`];
    const proofText = files[`proofs/${index}.txt`];
    if (!leaf || !proofText) throw new BundleError(`leaf ${index} or its proof is missing`);
    const proof = readTlogProof(strFromU8(proofText));
    if (proof.index !== index)
      throw new BundleError(`proofs/${index}.txt proves leaf ${proof.index}`);
    if (proof.note !== text('checkpoint.txt'))
      throw new BundleError(`proofs/${index}.txt leads to another checkpoint`);
    if (!verifyInclusion(leafHash(leaf), index, checkpoint.size, proof.proof, checkpoint.root)) {
      throw new BundleError(
        `leaf ${index} is not in the signed tree of ${checkpoint.size} (its inclusion proof fails)`,
      );
    }
    const body = JSON.parse(strFromU8(leaf)) as Record<string, unknown>;
    return Object.assign(body, { index });
  };

  const messages = manifest.messages ?? [];
  if (messages.length === 0) throw new BundleError('the manifest lists no message');
  const account: string[] = [];
  let proven = 0;
  for (const message of messages) {
    const leaves = (message.leaves ?? []).map(provenLeaf);
    proven += leaves.length;
    for (const leaf of leaves) {
      if (
        leaf.log !== 'message' ||
        leaf.message !== message.id ||
        leaf.direction !== message.direction
      ) {
        throw new BundleError(`leaf ${leaf.index} is not about message ${message.id}`);
      }
    }
    const at = `messages/${message.id}`;
    const receiptEntry = files[`${at}/receipt.jws`];
    const receiptBytes = receiptEntry ? Buffer.from(receiptEntry) : null;
    const envelopeName = message.purged ? `${at}/envelope-header.jws` : `${at}/envelope.json`;
    const envelopeEntry = files[envelopeName];
    if (!envelopeEntry) throw new BundleError(`${envelopeName} is missing`);
    let header: RoutingHeader;
    let envelopeDigest: string;
    try {
      // The envelope: whole, or (content purged) its signed header and the digest the log recorded.
      if (message.purged) {
        const headerJws = strFromU8(envelopeEntry);
        header = readUnverifiedHeaderJws(headerJws);
        if (header.id !== message.id)
          throw new BundleError(`${envelopeName} is not message ${message.id}`);
        const verified = verifyEnvelopeHeader(headerJws, verifier, new Date(header.created));
        notRevoked(verified.sender, new Date(header.created), envelopeName);
        envelopeDigest = String(message.purged.envelopeDigest);
        const detailSha256 = sha256(strToU8(contentPurgedDetail(envelopeDigest)));
        const purge = leaves.find(
          (leaf) => leaf.type === CONTENT_PURGED && leaf.detailSha256 === detailSha256,
        );
        if (!purge) {
          throw new BundleError(
            `no leaf of the log records the purge of ${message.id} with the envelope SHA-256 ${envelopeDigest}`,
          );
        }
        account.push(
          `${header.from.state}/${header.from.authority} sent ${header.kind} ${header.id} to ${header.to.state}/${header.to.authority}, created ${header.created}, header signed by ${header.from.state}'s gateway (verified)`,
          `  content purged under ${manifest.node}'s retention policy on ${String(purge.at)} (leaf ${purge.index}): the envelope's SHA-256 ${envelopeDigest} is the one the log recorded; the content itself can no longer be checked`,
        );
      } else {
        const envelopeBytes = Buffer.from(envelopeEntry);
        header = readUnverifiedHeader(envelopeBytes);
        if (header.id !== message.id)
          throw new BundleError(`${envelopeName} is not message ${message.id}`);
        const envelope = verifyEnvelopeSignature(envelopeBytes, verifier, new Date(header.created));
        checkContentDigest(envelope);
        notRevoked(envelope.sender, new Date(header.created), envelopeName);
        envelopeDigest = envelope.digest;
        account.push(
          `${header.from.state}/${header.from.authority} sent ${header.kind} ${header.id} to ${header.to.state}/${header.to.authority}, created ${header.created}, signed by ${header.from.state}'s gateway (verified)`,
        );
      }
      if (receiptBytes) {
        // Checked at the instant the receipt claims; a forged instant can only make it fail.
        const receipt = verifyReceipt(receiptBytes, verifier, {
          envelopeId: header.id,
          envelopeDigest,
          recipientState: header.to.state,
          senderState: header.from.state,
        });
        notRevoked(receipt.signer, new Date(receipt.statement.time), `${at}/receipt.jws`);
        account.push(
          `  ${receipt.statement.status} at ${receipt.statement.time}: receipt ${receipt.statement.id} signed by ${receipt.signer.state}'s gateway, binding the envelope's SHA-256 ${receipt.statement.envelopeDigest} (verified)`,
        );
        // A sent message's log records the digest of the receipt it got (a received one's
        // receipt is the node's own, verified above).
        const digest = sha256(receiptBytes);
        if (
          message.direction === 'outbound' &&
          !leaves.some((leaf) => leaf.signedSha256 === digest)
        ) {
          throw new BundleError(`no leaf of the log records the digest of ${at}/receipt.jws`);
        }
      }
    } catch (error) {
      if (error instanceof BundleError) throw error;
      throw new BundleError(
        `${receiptBytes ? `${envelopeName} or ${at}/receipt.jws` : envelopeName}: ${(error as Error).message}`,
      );
    }
    account.push(
      ...checkNonDelivery(files, at, header, envelopeDigest, leaves, verifier, notRevoked),
      ...checkRetrievals(files, at, header, envelopeDigest, leaves, verifier, notRevoked),
    );
    for (const leaf of leaves) {
      account.push(
        `    ${String(leaf.at)}  ${String(leaf.type)}${leaf.reason ? ` (${String(leaf.reason)})` : ''}  — leaf ${leaf.index} of ${manifest.node}'s log`,
      );
    }
  }
  account.push(
    `${proven} leaves proven in ${manifest.node}'s evidence log of ${checkpoint.size} leaves, checkpoint signed by ${manifest.node}'s gateway (certificate x5t#S256 ${sha256Thumbprint(chain[0]!)})`,
  );
  if (stamped) account.push(stamped);
  account.push(...checkWitnesses(files, manifest, directory, checkpoint, verifier, notRevoked));

  // Last, the node's signature over the manifest: what it states beyond the signed documents
  // (the case state, the purge dates) is its own statement, made at the export time.
  if (signedManifest) {
    const exportedAt = verifyManifestSignature(files, manifest, verifier, notRevoked);
    account.push(`manifest signed by ${manifest.node}'s gateway at ${exportedAt} (verified)`);
    if (manifest.case) {
      account.unshift(
        `case ${manifest.case.id}: ${messages.length} messages; its state, as stated by ${manifest.node}'s gateway at ${exportedAt}: ${manifest.case.state}`,
      );
    }
  } else if (manifest.case) {
    account.unshift(
      `case ${manifest.case.id}: ${messages.length} messages; its state as ${manifest.node} derived it (not signed: a bundle of format ${UNSIGNED_BUNDLE_FORMAT}): ${manifest.case.state}`,
    );
  }
  return { account };
}

/** Checks `manifest.jws`; returns the export time it signs. */
function verifyManifestSignature(
  files: Record<string, Uint8Array>,
  manifest: Manifest,
  verifier: CertificateVerifier,
  notRevoked: RevocationCheck,
): string {
  const exportedAt = new Date(manifest.exportedAt ?? '');
  if (Number.isNaN(exportedAt.getTime()))
    throw new BundleError('the manifest has no valid export time');
  let signer: VerifiedCertificate;
  try {
    const parsed = parseJwsCompact(files['manifest.jws']!);
    const members = Object.keys(parsed.header);
    if (
      members.some((member) => !['alg', 'typ', 'x5c'].includes(member)) ||
      parsed.header.typ !== MANIFEST_TYPE
    ) {
      throw new BundleError(`its header must be exactly alg, typ "${MANIFEST_TYPE}" and x5c`);
    }
    const x5c = parsed.header.x5c;
    if (!Array.isArray(x5c) || !x5c.every((entry) => typeof entry === 'string'))
      throw new BundleError('it carries no x5c chain');
    signer = verifier.verifyChain(x5c as string[], 'signing', exportedAt);
    verifyJwsCompact(parsed, signer.publicKey, signaturePolicy(signer.suite));
    if (!parsed.payload.equals(Buffer.from(files['manifest.json']!)))
      throw new BundleError('it signs another manifest than manifest.json');
  } catch (error) {
    throw new BundleError(`manifest.jws: ${(error as Error).message}`);
  }
  if (signer.state !== manifest.node) {
    throw new BundleError(
      `manifest.jws: signed by ${signer.state}'s gateway, not by the exporting node ${manifest.node}'s`,
    );
  }
  notRevoked(signer, exportedAt, 'manifest.jws');
  return exportedAt.toISOString();
}

/** The instant a directory claims to be issued at: when it was in force, for an old bundle. */
function directoryInstant(signed: string): Date {
  try {
    const payload = JSON.parse(
      Buffer.from(signed.trim().split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      issued?: string;
    };
    const instant = new Date(payload.issued ?? '');
    if (!Number.isNaN(instant.getTime())) return instant;
  } catch {
    // fall through
  }
  throw new BundleError('directory.jws has no issued time');
}
