import { AuthModule } from '../auth/auth.module';
import { Module } from '@nestjs/common';
import { AttachmentsModule } from '../attachments/attachments.module';
import { ContentModule } from '../content/content.module';
import { OutboxModule } from '../outbox/outbox.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { RetrievalModule } from '../retrieval/retrieval.module';
import { TrustModule } from '../trust/trust.module';
import { EnvelopeInboxController } from './envelope-inbox.controller';
import { EnvelopeIntake } from './envelope-intake.service';
import { InboundController } from './inbound.controller';
import { InboundService } from './inbound.service';

/** The envelopes sent to this State: received once, answered with a signed receipt, read by its clerks. */
@Module({
  imports: [
    AuthModule,
    AttachmentsModule,
    ContentModule,
    OutboxModule,
    PersistenceModule,
    RetrievalModule,
    TrustModule,
  ],
  controllers: [EnvelopeInboxController, InboundController],
  providers: [EnvelopeIntake, InboundService],
  exports: [EnvelopeIntake, InboundService],
})
export class InboundModule {}
