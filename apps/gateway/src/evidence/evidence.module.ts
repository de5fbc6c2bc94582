import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { EvidenceController } from './evidence.controller';
import { CheckpointTimestamps } from './checkpoint-timestamps';
import { EvidenceBundles } from './evidence-bundles.service';
import { EvidenceLog } from './evidence-log.service';

/** The tamper-evident evidence log: leaves, checkpoints, audit (docs/evidence.md). */
@Module({
  imports: [PersistenceModule, TrustModule],
  controllers: [EvidenceController],
  providers: [EvidenceLog, EvidenceBundles, CheckpointTimestamps],
  exports: [EvidenceLog],
})
export class EvidenceModule {}
