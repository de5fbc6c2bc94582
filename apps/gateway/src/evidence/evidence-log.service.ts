import { createPublicKey } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  CheckpointError,
  TreeFrontier,
  evidenceLeaf,
  evidenceLogName,
  leafHash,
  signCheckpoint,
} from '@comity/protocol';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import {
  EvidenceLogRepository,
  type NewLeaf,
  type StoredCheckpoint,
} from '../persistence/evidence-log.repository';
import { FederationTrust } from '../trust/federation-trust';
import { auditEvidenceLog, type EvidenceAuditReport } from './evidence-audit';
import { CheckpointTimestamps } from './checkpoint-timestamps';

const BATCH = 2000;

/**
 * The node's evidence log (docs/evidence.md): a sequencer turns the rows the triggers queued
 * (every message evidence and audit event, queued in the transaction that wrote them) into
 * leaves of an RFC 6962 tree, off the request path; a checkpointer signs the tree's head as a
 * C2SP checkpoint with the gateway's signing key whenever it has grown.
 */
@Injectable()
export class EvidenceLog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EvidenceLog.name);
  private readonly sequencer: BackgroundLoop;
  private readonly checkpointer: BackgroundLoop;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly log: EvidenceLogRepository,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
    private readonly timestamps: CheckpointTimestamps,
  ) {
    this.sequencer = new BackgroundLoop({
      name: 'evidence sequencer',
      pass: async () => (await this.sequence()) > 0,
      idleMs: 250,
      errorDelayMs: 2000,
      logger: this.logger,
    });
    this.checkpointer = new BackgroundLoop({
      name: 'evidence checkpointer',
      pass: async () => {
        await this.checkpoint();
      },
      idleMs: config.delivery.checkpointIntervalMs,
      sleepFirst: true,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.sequencer.start();
    this.checkpointer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.sequencer.stop(), this.checkpointer.stop()]);
  }

  /** The log's name: its checkpoints' origin and the key name of their signature. */
  get origin(): string {
    return evidenceLogName(this.trust.directory.federation, this.trust.state);
  }

  /** Appends what is queued, a batch at a time; returns the number of leaves added. */
  async sequence(): Promise<number> {
    return this.log.sequence(
      BATCH,
      (tree, sources) => {
        const frontier = TreeFrontier.restore(tree.size, tree.frontier);
        const leaves: NewLeaf[] = [];
        for (const item of sources) {
          if (!item.row) {
            // Deleted before it could be logged: there is nothing left to log of it.
            this.logger.warn(
              `evidence log: ${item.source} row ${item.sourceId} vanished before it was logged`,
            );
            continue;
          }
          const leaf = evidenceLeaf(item.row);
          const hash = leafHash(leaf);
          frontier.append(hash);
          leaves.push({ source: item.source, sourceId: item.sourceId, leaf, leafHash: hash });
        }
        return { leaves, tree: { size: frontier.treeSize, frontier: frontier.hashes } };
      },
      this.clock.now(),
    );
  }

  /**
   * Signs the current head if the log grew since the last checkpoint (after appending what is
   * queued); returns the latest checkpoint. Checkpoints are only ever signed over the stored
   * tree, which only grows: two checkpoints of this log are consistent by construction, and
   * `audit` proves it from the leaves.
   */
  async checkpoint(): Promise<StoredCheckpoint | null> {
    while ((await this.sequence()) > 0) {
      // drain the queue first
    }
    const tree = await this.log.tree();
    const latest = await this.log.latestCheckpoint();
    if (tree.size === 0 || (latest && latest.size >= tree.size)) return latest;
    const root = TreeFrontier.restore(tree.size, tree.frontier).root();
    const signed = signCheckpoint(
      { origin: this.origin, size: tree.size, root },
      { keyName: this.origin, suite: this.trust.signing.suite, key: this.trust.signing.key },
    );
    const stored = {
      size: tree.size,
      root,
      note: signed.note,
      signedAt: this.clock.now(),
      timestamp: await this.timestamps.stamp(Buffer.from(signed.note, 'utf8')),
      signerChain: this.trust.signing.x5c,
    };
    await this.log.addCheckpoint(stored);
    return (await this.log.latestCheckpoint()) ?? stored;
  }

  latest(): Promise<StoredCheckpoint | null> {
    return this.log.latestCheckpoint();
  }

  /**
   * The audit checks each checkpoint with the key that signed it: the chain stored with it,
   * verified under the federation root at its signing time and naming this State (the current
   * key for checkpoints stored without one). A key rotated since still verifies its checkpoints.
   */
  audit(): Promise<EvidenceAuditReport> {
    const current = {
      suite: this.trust.signing.suite,
      key: createPublicKey(this.trust.signing.key),
    };
    return auditEvidenceLog(this.log, (checkpoint) => {
      if (!checkpoint.signerChain) return { keyName: this.origin, ...current };
      const signer = this.trust.verifier.verifyChain(
        checkpoint.signerChain,
        'signing',
        checkpoint.signedAt,
      );
      if (signer.state !== this.trust.state) {
        throw new CheckpointError(
          `its signer is ${signer.state}'s gateway, not ${this.trust.state}'s`,
        );
      }
      return { keyName: this.origin, suite: signer.suite, key: signer.publicKey };
    });
  }
}
