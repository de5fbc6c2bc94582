import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ContentModule } from '../content/content.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { EventSequencer } from './event-sequencer.service';
import { EventsController } from './events.controller';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhookSubscriptions } from './webhook-subscriptions.service';
import { WebhooksController } from './webhooks.controller';

/** Events for national systems: the feed and webhooks (docs/integration.md). */
@Module({
  imports: [AuthModule, ContentModule, PersistenceModule, TrustModule],
  controllers: [EventsController, WebhooksController],
  providers: [EventSequencer, WebhookDispatcher, WebhookSubscriptions],
})
export class NotificationsModule {}
