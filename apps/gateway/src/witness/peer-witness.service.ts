import { Injectable, Logger } from '@nestjs/common';
import {
  CheckpointError,
  ProtocolError,
  WitnessMessageError,
  checkBrokerUser,
  cosignCheckpoint,
  encodeCosignatureReply,
  judgeCheckpoint,
  parseSignedCheckpoint,
  readCheckpointAnnouncement,
  stateOfName,
  uuidV7,
  verifySignedCheckpoint,
  witnessName,
  type Checkpoint,
} from '@comity/protocol';
import { Clock } from '../common/clock';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { UnitOfWork } from '../persistence/database';
import { OutboxRepository } from '../persistence/outbox.repository';
import { WitnessRepository } from '../persistence/witness.repository';
import { ACK, type InboxDisposition } from '../transport/inbox-disposition';
import { FederationTrust } from '../trust/federation-trust';

/**
 * This node as a witness of its peers' evidence logs (protocol §10.2). An announced checkpoint
 * is accepted only if the peer's certified gateway key signed it and it is proven consistent
 * with the latest one accepted before; accepted ones are kept for good. Two checkpoints of a
 * peer that cannot both be true (a forked log) are kept as an alert, with both signed notes:
 * proof anyone can check. Every announcement is answered with the latest accepted checkpoint,
 * cosigned, so the peer learns what this witness holds.
 */
@Injectable()
export class PeerWitness {
  private readonly logger = new Logger(PeerWitness.name);

  constructor(
    private readonly witnesses: WitnessRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {}

  async receive(bytes: Buffer, brokerUser?: string): Promise<InboxDisposition> {
    const now = this.clock.now();
    let state: string;
    let checkpoint: Checkpoint;
    let announcement: ReturnType<typeof readCheckpointAnnouncement>;
    try {
      announcement = readCheckpointAnnouncement(bytes);
      ({ state, checkpoint } = this.authenticate(announcement.checkpoint));
      checkBrokerUser(this.trust.directory, state, brokerUser);
    } catch (error) {
      if (error instanceof ProtocolError) {
        return { action: 'quarantine', reason: error.reason, detail: error.message };
      }
      if (error instanceof WitnessMessageError || error instanceof CheckpointError) {
        return { action: 'quarantine', reason: 'malformed-checkpoint', detail: error.message };
      }
      throw error;
    }
    const held = await this.witnesses.peerLog(state, checkpoint.size);
    const verdict = judgeCheckpoint(
      {
        latest: held.latest && {
          origin: checkpoint.origin,
          size: held.latest.size,
          root: held.latest.root,
        },
        rootAt: (size) => (size === held.atSize?.size ? held.atSize.root : undefined),
      },
      { checkpoint, oldSize: announcement.oldSize, consistency: announcement.consistency },
    );
    let latestNote = held.latest?.note ?? null;
    if (verdict.verdict === 'accept') {
      await this.witnesses.addPeerCheckpoint(state, checkpoint, announcement.checkpoint, now);
      latestNote = announcement.checkpoint;
    } else if (verdict.verdict === 'fork') {
      const conflicting =
        verdict.conflicting.size === held.latest?.size ? held.latest.note : held.atSize?.note;
      const added = await this.witnesses.addAlert({
        state,
        kind: 'peer-fork',
        detail: verdict.detail,
        note: announcement.checkpoint,
        conflictingNote: conflicting ?? null,
        at: now,
      });
      if (added) {
        this.logger.error(`alert: ${state}'s evidence log is forked: ${verdict.detail}`);
      }
    } else if (verdict.verdict === 'stale') {
      this.logger.log(`checkpoint of ${state} not taken: ${verdict.detail}; answering with ours`);
    }
    if (latestNote !== null) await this.answer(state, latestNote, now);
    return ACK;
  }

  /** The peer State whose gateway key signed the note (its origin names the State). */
  private authenticate(note: string): { state: string; checkpoint: Checkpoint } {
    const { origin } = parseSignedCheckpoint(note).checkpoint;
    const federation = this.trust.directory.federation;
    const state = stateOfName(federation, origin, 'evidence');
    if (!state || state === this.trust.state || !this.trust.directory.state(state)) {
      throw new ProtocolError(
        'checkpoint-signer-mismatch',
        `the checkpoint's origin ${origin.slice(0, 100)} is not a peer's evidence log`,
      );
    }
    const problems: string[] = [];
    for (const certificate of this.trust.stateSigningCertificates(state)) {
      try {
        const checkpoint = verifySignedCheckpoint(note, {
          keyName: origin,
          suite: certificate.suite,
          key: certificate.publicKey,
        });
        return { state, checkpoint };
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    throw new ProtocolError(
      'invalid-signature',
      `the checkpoint is not signed by a current gateway key of ${state}${problems.length ? `: ${problems[0]}` : ''}`,
    );
  }

  private async answer(state: string, note: string, now: Date): Promise<void> {
    const cosigned = cosignCheckpoint(
      note,
      {
        keyName: witnessName(this.trust.directory.federation, this.trust.state),
        suite: this.trust.signing.suite,
        key: this.trust.signing.key,
      },
      now,
    );
    await this.unitOfWork.run((tx) =>
      this.outbox.enqueue(tx, {
        messageId: uuidV7(now.getTime()),
        payloadType: 'cosignature',
        routingKey: this.trust.routingKeyOf(state),
        payload: encodeCosignatureReply(cosigned),
        availableAt: now,
      }),
    );
    this.relay.wake();
  }
}
