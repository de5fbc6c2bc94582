import { Injectable, NotFoundException } from '@nestjs/common';
import { certificatesToPem } from '@comity/pki';
import { inclusionProof, writeEvidenceBundle } from '@comity/protocol';
import { EvidenceLogRepository } from '../persistence/evidence-log.repository';
import { FederationTrust } from '../trust/federation-trust';
import { EvidenceLog } from './evidence-log.service';

/**
 * Evidence bundles (docs/evidence.md, "Bundles"): one message's envelope and signed documents,
 * the leaves of this node's log about it with inclusion proofs to a checkpoint signed for the
 * occasion, the node's signing chain and the signed directory in force: one zip file that
 * `comity evidence verify` checks offline against the federation's root.
 */
@Injectable()
export class EvidenceBundles {
  constructor(
    private readonly log: EvidenceLog,
    private readonly leaves: EvidenceLogRepository,
    private readonly trust: FederationTrust,
  ) {}

  async ofMessage(id: string): Promise<Buffer> {
    const documents = await this.leaves.messageDocuments(id);
    if (!documents) throw new NotFoundException(`no message ${id} at this node`);
    const checkpoint = await this.log.checkpoint();
    if (!checkpoint) throw new NotFoundException('the evidence log is empty');
    const about = await this.leaves.messageLeaves(id, documents.direction, checkpoint.size);
    if (about.length === 0)
      throw new NotFoundException(`the evidence log holds nothing about ${id} yet`);
    // One pass over the leaf hashes below the checkpoint serves every proof.
    const hashes = await this.leaves.leafHashes(checkpoint.size);
    return writeEvidenceBundle({
      node: this.trust.state,
      origin: this.log.origin,
      message: id,
      direction: documents.direction,
      envelope: documents.envelope,
      receipt: documents.receipt,
      nonDelivery: documents.nonDelivery,
      leaves: about.map(({ index, leaf }) => ({
        index,
        leaf,
        proof: inclusionProof(hashes, index, checkpoint.size),
      })),
      checkpoint: { note: checkpoint.note, signedAt: checkpoint.signedAt },
      directory: this.trust.signedDirectory,
      signingChainPem: certificatesToPem(this.trust.credentials.signingChain),
    });
  }
}
