import { Module } from '@nestjs/common';
import { ObservabilityModule } from '../observability/observability.module';
import { OutboxModule } from '../outbox/outbox.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { RetrievalEvidence } from './retrieval-evidence.service';
import { RetrievalInboxController } from './retrieval-inbox.controller';
import { RetrievalIntake } from './retrieval-intake.service';

/** Retrieval and non-retrieval evidence, both ends (docs/protocol.md §10.1). */
@Module({
  imports: [PersistenceModule, TrustModule, OutboxModule, ObservabilityModule],
  controllers: [RetrievalInboxController],
  providers: [RetrievalEvidence, RetrievalIntake],
  exports: [RetrievalEvidence],
})
export class RetrievalModule {}
