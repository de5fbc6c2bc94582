import { Module } from '@nestjs/common';
import { EvidenceModule } from '../evidence/evidence.module';
import { ObservabilityModule } from '../observability/observability.module';
import { OutboxModule } from '../outbox/outbox.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { CheckpointAnnouncer } from './checkpoint-announcer.service';
import { CosignatureIntake } from './cosignature-intake.service';
import { PeerWitness } from './peer-witness.service';
import { WitnessInboxController } from './witness-inbox.controller';
import { WitnessController } from './witness.controller';

/** Witnessing between peers (docs/protocol.md §10.2): announce, witness, cosign, detect forks. */
@Module({
  imports: [EvidenceModule, ObservabilityModule, OutboxModule, PersistenceModule, TrustModule],
  controllers: [WitnessController, WitnessInboxController],
  providers: [CheckpointAnnouncer, CosignatureIntake, PeerWitness],
})
export class WitnessModule {}
