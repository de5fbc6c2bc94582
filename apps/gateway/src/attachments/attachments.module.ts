import { AuthModule } from '../auth/auth.module';
import { Module } from '@nestjs/common';
import { ContentModule } from '../content/content.module';
import { OutboxModule } from '../outbox/outbox.module';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { PersistenceModule } from '../persistence/persistence.module';
import { TransportModule } from '../transport/transport.module';
import { TrustModule } from '../trust/trust.module';
import { AttachmentDownloads } from './attachment-downloads.service';
import { AttachmentTransfer } from './attachment-transfer.service';
import { AttachmentUploads } from './attachment-uploads.service';
import { AttachmentVerification } from './attachment-verification.service';
import { AttachmentDownloadsController, AttachmentsController } from './attachments.controller';
import { ChunkInboxController } from './chunk-inbox.controller';
import { ChunkIntake } from './chunk-intake.service';
import { ChunkMetrics } from './chunk-metrics';
import { ENVELOPE_RELEASE } from './envelope-release';

/**
 * Large files: resumable uploads, chunks sealed and published ahead of their envelope, received
 * and verified before the envelope's receipt, and streamed back to the clerks concerned.
 */
@Module({
  imports: [
    AuthModule,
    ContentModule,
    OutboxModule,
    PersistenceModule,
    TransportModule,
    TrustModule,
  ],
  controllers: [AttachmentsController, AttachmentDownloadsController, ChunkInboxController],
  providers: [
    // The transfer's port to the outbox, bound here: the transfer itself knows only the port.
    { provide: ENVELOPE_RELEASE, useExisting: OutboxRelay },
    AttachmentDownloads,
    AttachmentTransfer,
    AttachmentUploads,
    AttachmentVerification,
    ChunkIntake,
    ChunkMetrics,
  ],
  exports: [AttachmentTransfer, AttachmentUploads, AttachmentVerification],
})
export class AttachmentsModule {}
