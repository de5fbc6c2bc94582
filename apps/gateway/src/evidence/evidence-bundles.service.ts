import { Injectable, NotFoundException } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { certificatesToPem } from '@comity/pki';
import {
  consistencyProof,
  inclusionProof,
  writeEvidenceBundle,
  type BundleMessage,
} from '@comity/protocol';
import { Clock } from '../common/clock';
import { EvidenceLogRepository } from '../persistence/evidence-log.repository';
import { WitnessRepository } from '../persistence/witness.repository';
import { FederationTrust } from '../trust/federation-trust';
import { EvidenceLog } from './evidence-log.service';

/**
 * Evidence bundles (docs/evidence.md, "Bundles"): for a message, or for a case (its request and
 * every case message), the envelopes and signed documents, the leaves of this node's log about
 * them with inclusion proofs to a checkpoint signed for the occasion, the node's signing chain
 * and the signed directory in force, under a manifest the node signs: one zip file that `comity evidence verify` checks offline
 * against the federation's root.
 */
@Injectable()
export class EvidenceBundles {
  constructor(
    private readonly log: EvidenceLog,
    private readonly store: EvidenceLogRepository,
    private readonly witnesses: WitnessRepository,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {}

  async of(id: string): Promise<Buffer> {
    const kase = await this.store.caseMessages(id);
    const ids = kase ? kase.messages : [id];
    const checkpoint = await this.log.checkpoint();
    if (!checkpoint) throw new NotFoundException('the evidence log is empty');
    // One pass over the leaf hashes below the checkpoint serves every proof.
    const hashes = await this.store.leafHashes(checkpoint.size);
    const messages: BundleMessage[] = [];
    for (const messageId of ids) {
      const documents = await this.store.messageDocuments(messageId);
      if (!documents) throw new NotFoundException(`no message or case ${messageId} at this node`);
      const about = await this.store.messageLeaves(messageId, documents.direction, checkpoint.size);
      if (about.length === 0) {
        throw new NotFoundException(`the evidence log holds nothing about ${messageId} yet`);
      }
      messages.push({
        id: messageId,
        direction: documents.direction,
        envelope: documents.envelope,
        receipt: documents.receipt,
        nonDelivery: documents.nonDelivery,
        retrieval: documents.retrieval,
        nonRetrieval: documents.nonRetrieval,
        leaves: about.map(({ index, leaf }) => ({
          index,
          leaf,
          proof: inclusionProof(hashes, index, checkpoint.size),
        })),
      });
    }
    return writeEvidenceBundle({
      node: this.trust.state,
      origin: this.log.origin,
      case: kase ? { id, state: kase.state } : null,
      messages,
      checkpoint: {
        note: checkpoint.note,
        signedAt: checkpoint.signedAt,
        timestamp: checkpoint.timestamp,
      },
      directory: this.trust.signedDirectory,
      // The manifest (the case state, purge dates) is signed with the node's current key.
      signer: this.trust.signing,
      exportedAt: this.clock.now(),
      // What the peers cosigned of this log, and the proof the checkpoint extends it.
      witnesses: (await this.witnesses.latestCosignatures(checkpoint.size)).map((row) => ({
        state: row.witness,
        note: row.note,
        consistency: consistencyProof(hashes, row.size, checkpoint.size),
      })),
      // The chain that signed this checkpoint (a key rotated since still proves it).
      signingChainPem: checkpoint.signerChain
        ? certificatesToPem(
            checkpoint.signerChain.map(
              (entry) => new X509Certificate(Buffer.from(entry, 'base64')),
            ),
          )
        : certificatesToPem(this.trust.credentials.signingChain),
    });
  }
}
