import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { consistencyProof, encodeCheckpointAnnouncement, uuidV7 } from '@comity/protocol';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { EvidenceLog } from '../evidence/evidence-log.service';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { UnitOfWork } from '../persistence/database';
import { EvidenceLogRepository } from '../persistence/evidence-log.repository';
import { OutboxRepository } from '../persistence/outbox.repository';
import { WitnessRepository } from '../persistence/witness.repository';
import { EVIDENCE_EXCHANGE_VERSION } from '../retrieval/retrieval-evidence.service';
import { FederationTrust } from '../trust/federation-trust';

/**
 * The log's side of witnessing (protocol §10.2): every checkpoint interval, each peer that
 * speaks version 4 and has not cosigned the latest checkpoint is sent it, with a consistency
 * proof from the largest size that peer cosigned (none the first time). One announcement per
 * peer waits in the outbox at most; an unanswered one is sent again the next interval.
 */
@Injectable()
export class CheckpointAnnouncer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CheckpointAnnouncer.name);
  private readonly loop: BackgroundLoop;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly log: EvidenceLog,
    private readonly leaves: EvidenceLogRepository,
    private readonly witnesses: WitnessRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {
    this.loop = new BackgroundLoop({
      name: 'checkpoint announcer',
      pass: async () => {
        await this.announce();
      },
      idleMs: config.delivery.checkpointIntervalMs,
      sleepFirst: true,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** The peers that witness this node's log: every other State that speaks version 4. */
  witnessStates(): string[] {
    return this.trust.directory
      .allStates()
      .filter(
        (state) =>
          state.code !== this.trust.state &&
          state.protocolVersions.includes(EVIDENCE_EXCHANGE_VERSION),
      )
      .map((state) => state.code);
  }

  /** Sends the latest checkpoint to each witness that lacks it; returns the States sent to. */
  async announce(): Promise<string[]> {
    const latest = await this.log.latest();
    if (!latest) return [];
    const cosigned = await this.witnesses.cosignedSizes();
    const pending = await this.witnesses.pendingAnnouncements();
    const due = this.witnessStates().filter(
      (state) =>
        (cosigned.get(state) ?? 0) < latest.size && !pending.has(this.trust.routingKeyOf(state)),
    );
    if (due.length === 0) return [];
    // One read of the leaf hashes serves every proof of this pass.
    const hashes = await this.leaves.leafHashes(latest.size);
    const now = this.clock.now();
    await this.unitOfWork.run(async (tx) => {
      for (const state of due) {
        const oldSize = cosigned.get(state) ?? 0;
        await this.outbox.enqueue(tx, {
          messageId: uuidV7(now.getTime()),
          payloadType: 'checkpoint',
          routingKey: this.trust.routingKeyOf(state),
          payload: encodeCheckpointAnnouncement({
            v: 1,
            checkpoint: latest.note,
            oldSize,
            consistency: consistencyProof(hashes, oldSize, latest.size),
          }),
          availableAt: now,
        });
      }
    });
    this.relay.wake();
    return due;
  }
}
