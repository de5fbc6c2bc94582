import { AuthModule } from '../auth/auth.module';
import { Module } from '@nestjs/common';
import { AttachmentsModule } from '../attachments/attachments.module';
import { ContentModule } from '../content/content.module';
import { OutboxModule } from '../outbox/outbox.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { DeliveryWatchdog } from './delivery-watchdog.service';
import { OutboundController } from './outbound.controller';
import { OutboundService } from './outbound.service';
import { ReceiptInboxController } from './receipt-inbox.controller';
import { ReceiptIntake } from './receipt-intake.service';
import { ReceiptSummaries } from './receipt-summaries.service';

/** The requests this node sends: submit, seal, track to a verified receipt or non-delivery. */
@Module({
  imports: [
    AuthModule,
    AttachmentsModule,
    ContentModule,
    OutboxModule,
    PersistenceModule,
    TrustModule,
  ],
  controllers: [OutboundController, ReceiptInboxController],
  providers: [OutboundService, ReceiptIntake, ReceiptSummaries, DeliveryWatchdog],
  exports: [OutboundService, ReceiptIntake, ReceiptSummaries],
})
export class OutboundModule {}
