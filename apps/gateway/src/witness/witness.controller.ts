import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { EvidenceLog } from '../evidence/evidence-log.service';
import { WitnessRepository } from '../persistence/witness.repository';
import { CheckpointAnnouncer } from './checkpoint-announcer.service';

class WitnessedByView {
  state!: string;
  /** The largest checkpoint of this node's log the State cosigned (0: none yet). */
  cosignedSize!: number;
}

class PeerLogView {
  state!: string;
  size!: number;
  root!: string;
  receivedAt!: string;
}

class WitnessAlertView {
  state!: string;
  kind!: 'peer-fork' | 'own-fork';
  detail!: string;
  at!: string;
  /** The signed notes that cannot both be true. */
  note!: string;
  conflictingNote!: string | null;
}

class WitnessingView {
  /** This node's latest checkpoint size (0: none yet). */
  logSize!: number;
  witnessedBy!: WitnessedByView[];
  /** The latest checkpoint of each peer's log this node accepted as their witness. */
  peers!: PeerLogView[];
  alerts!: WitnessAlertView[];
}

/** Witnessing between peers (docs/evidence.md): who cosigned this log, what this node holds of theirs, forks. */
@ApiTags('evidence')
@Controller('v1/witnessing')
export class WitnessController {
  constructor(
    private readonly log: EvidenceLog,
    private readonly witnesses: WitnessRepository,
    private readonly announcer: CheckpointAnnouncer,
  ) {}

  @Get()
  @Roles('auditor', 'operator')
  @ApiOperation({
    summary: "Who witnessed this node's log, the peers' logs it witnesses, forks seen",
  })
  @ApiOkResponse({ type: WitnessingView })
  async status(): Promise<WitnessingView> {
    const [latest, cosigned, peers, alerts] = await Promise.all([
      this.log.latest(),
      this.witnesses.cosignedSizes(),
      this.witnesses.peerHeads(),
      this.witnesses.alerts(),
    ]);
    return {
      logSize: latest?.size ?? 0,
      witnessedBy: this.announcer
        .witnessStates()
        .map((state) => ({ state, cosignedSize: cosigned.get(state) ?? 0 })),
      peers: peers.map((peer) => ({
        state: peer.state,
        size: peer.size,
        root: peer.root.toString('base64'),
        receivedAt: peer.receivedAt.toISOString(),
      })),
      alerts: alerts.map((alert) => ({
        state: alert.state,
        kind: alert.kind,
        detail: alert.detail,
        at: alert.at.toISOString(),
        note: alert.note,
        conflictingNote: alert.conflictingNote,
      })),
    };
  }

  @Post('announcements')
  @Roles('auditor', 'operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign a checkpoint if the log grew, and send it now to each peer that lacks it',
  })
  async announce(): Promise<{ size: number; sentTo: string[] }> {
    const latest = await this.log.checkpoint();
    return { size: latest?.size ?? 0, sentTo: await this.announcer.announce() };
  }
}
