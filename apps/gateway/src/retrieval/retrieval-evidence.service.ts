import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { issueRetrievalEvidence, type RetrievalType } from '@comity/protocol';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { UnitOfWork, type Transaction } from '../persistence/database';
import { EvidenceRepository } from '../persistence/evidence.repository';
import { OutboxRepository } from '../persistence/outbox.repository';
import { RetrievalRepository, type RetrievalSubject } from '../persistence/retrieval.repository';
import { FederationTrust } from '../trust/federation-trust';

/** Version of the protocol that carries retrieval evidence (docs/protocol.md §10). */
export const EVIDENCE_EXCHANGE_VERSION = 4;
const BATCH = 200;

/**
 * The recipient's side of retrieval evidence (protocol §10.1): the first time a clerk of the
 * recipient authority opens a delivered message, this node signs retrieval evidence, keeps it
 * on the message's timeline and sends it to the sender; a message not opened within its kind's
 * retrieval time frame (directory policy) gets signed non-retrieval evidence instead. Senders
 * that do not speak version 4 are not sent anything; the evidence is kept here all the same.
 */
@Injectable()
export class RetrievalEvidence implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RetrievalEvidence.name);
  private readonly loop: BackgroundLoop;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly unitOfWork: UnitOfWork,
    private readonly retrievals: RetrievalRepository,
    private readonly evidence: EvidenceRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {
    this.loop = new BackgroundLoop({
      name: 'retrieval watch',
      pass: async () => (await this.sweep()) > 0,
      idleMs: config.delivery.watchdogIntervalMs,
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

  /** A clerk of the recipient authority has just read the message's content. */
  async opened(messageId: string, principal: { id: string }): Promise<void> {
    const now = this.clock.now();
    const sent = await this.unitOfWork.run(async (tx) => {
      const subject = await this.retrievals.markOpened(tx, messageId, now);
      if (!subject) return false;
      return this.issue(tx, subject, 'retrieval', now, `opened by ${principal.id}`);
    });
    if (sent) this.relay.wake();
  }

  /** Signs non-retrieval evidence for what is past its kind's time frame; returns how many. */
  async sweep(): Promise<number> {
    const timeouts = Object.entries(this.trust.directory.policy.retrievalTimeoutSeconds);
    let given = 0;
    let sent = false;
    for (const [kind, seconds] of timeouts) {
      const now = this.clock.now();
      const due = new Date(now.getTime() - seconds * 1000);
      await this.unitOfWork.run(async (tx) => {
        const subjects = await this.retrievals.claimUnretrieved(tx, kind, due, now, BATCH);
        for (const subject of subjects) {
          const deadline = new Date(subject.receivedAt.getTime() + seconds * 1000);
          sent = (await this.issue(tx, subject, 'non-retrieval', now, null, deadline)) || sent;
        }
        given += subjects.length;
      });
    }
    if (given > 0) {
      this.logger.warn(
        `${given} delivered message(s) not opened within their retrieval time frame`,
      );
    }
    if (sent) this.relay.wake();
    return given;
  }

  /** Signs, keeps on the timeline and queues for the sender; true when queued. */
  private async issue(
    tx: Transaction,
    subject: RetrievalSubject,
    type: RetrievalType,
    now: Date,
    detail: string | null,
    due?: Date,
  ): Promise<boolean> {
    const { bytes } = issueRetrievalEvidence({
      signer: this.trust.signing,
      type,
      envelopeId: subject.id,
      envelopeDigest: subject.envelopeDigest,
      from: { state: this.trust.state, authority: subject.toAuthority },
      to: { state: subject.fromState, authority: subject.fromAuthority },
      ...(due ? { due } : {}),
      now,
    });
    await this.evidence.addEvidence(tx, {
      messageId: subject.id,
      direction: 'inbound',
      type: type === 'retrieval' ? 'retrieved' : 'not-retrieved',
      at: now,
      detail,
      signed: bytes,
    });
    const versions = this.trust.directory.state(subject.fromState)?.protocolVersions ?? [1];
    if (!versions.includes(EVIDENCE_EXCHANGE_VERSION)) return false;
    await this.outbox.enqueue(tx, {
      messageId: subject.id,
      payloadType: 'evidence',
      routingKey: this.trust.routingKeyOf(subject.fromState),
      payload: bytes,
      availableAt: now,
    });
    return true;
  }
}
