import { Injectable, Logger } from '@nestjs/common';
import {
  CheckpointError,
  ProtocolError,
  WitnessMessageError,
  checkBrokerUser,
  parseSignedCheckpoint,
  readCosignatureReply,
  stateOfName,
  verifyCosignature,
  type Checkpoint,
} from '@comity/protocol';
import { Clock } from '../common/clock';
import { EvidenceLogRepository } from '../persistence/evidence-log.repository';
import { WitnessRepository } from '../persistence/witness.repository';
import { ACK, type InboxDisposition } from '../transport/inbox-disposition';
import { FederationTrust } from '../trust/federation-trust';

/**
 * The log's side of a witness's answer: the witness's cosignature (checked with that State's
 * certified gateway key) on one of this node's checkpoints. It is kept when the checkpoint is
 * one this node signed; a cosigned checkpoint of this log that this node never signed, with its
 * origin, means someone holds a forked view of this log (or this node's key signed it): alert.
 */
@Injectable()
export class CosignatureIntake {
  private readonly logger = new Logger(CosignatureIntake.name);

  constructor(
    private readonly witnesses: WitnessRepository,
    private readonly checkpoints: EvidenceLogRepository,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {}

  async receive(bytes: Buffer, brokerUser?: string): Promise<InboxDisposition> {
    const now = this.clock.now();
    let witness: string;
    let cosigned: { checkpoint: Checkpoint; cosignedAt: Date };
    let note: string;
    try {
      note = readCosignatureReply(bytes).checkpoint;
      ({ witness, cosigned } = this.authenticate(note));
      checkBrokerUser(this.trust.directory, witness, brokerUser);
    } catch (error) {
      if (error instanceof ProtocolError) {
        return { action: 'quarantine', reason: error.reason, detail: error.message };
      }
      if (error instanceof WitnessMessageError || error instanceof CheckpointError) {
        return { action: 'quarantine', reason: 'malformed-checkpoint', detail: error.message };
      }
      throw error;
    }
    const { checkpoint } = cosigned;
    const ours = await this.checkpoints.checkpointAt(checkpoint.size);
    if (!ours || !ours.root.equals(checkpoint.root)) {
      const added = await this.witnesses.addAlert({
        state: witness,
        kind: 'own-fork',
        detail: `${witness} holds a checkpoint of this log of size ${checkpoint.size} that this node did not sign`,
        note,
        conflictingNote: ours?.note ?? null,
        at: now,
      });
      if (added) {
        this.logger.error(
          `alert: ${witness} witnessed a checkpoint of this node's log (size ${checkpoint.size}) that this node did not sign`,
        );
      }
      return ACK;
    }
    await this.witnesses.addCosignature({
      witness,
      size: checkpoint.size,
      note,
      cosignedAt: cosigned.cosignedAt,
      receivedAt: now,
    });
    return ACK;
  }

  /** The witness State whose certified key cosigned the note, and what it cosigned. */
  private authenticate(note: string): {
    witness: string;
    cosigned: { checkpoint: Checkpoint; cosignedAt: Date };
  } {
    const parsed = parseSignedCheckpoint(note);
    const federation = this.trust.directory.federation;
    if (stateOfName(federation, parsed.checkpoint.origin, 'evidence') !== this.trust.state) {
      throw new ProtocolError(
        'checkpoint-signer-mismatch',
        'the cosigned checkpoint is not one of this node’s log',
      );
    }
    for (const line of parsed.signatures) {
      const state = stateOfName(federation, line.keyName, 'witness');
      if (!state || state === this.trust.state) continue;
      for (const certificate of this.trust.stateSigningCertificates(state)) {
        try {
          const cosigned = verifyCosignature(note, {
            keyName: line.keyName,
            suite: certificate.suite,
            key: certificate.publicKey,
          });
          return { witness: state, cosigned };
        } catch {
          // another key of the State, or not this line
        }
      }
    }
    throw new ProtocolError(
      'invalid-signature',
      'the checkpoint carries no cosignature by a current gateway key of a peer',
    );
  }
}
