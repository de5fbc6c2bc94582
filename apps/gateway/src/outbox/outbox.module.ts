import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { TransportModule } from '../transport/transport.module';
import { TrustModule } from '../trust/trust.module';
import { OutboxRelay } from './outbox-relay.service';

/** Moves what was committed to the outbox (envelopes, receipts) to the broker, with confirms. */
@Module({
  imports: [PersistenceModule, TransportModule, TrustModule],
  providers: [OutboxRelay],
  exports: [OutboxRelay],
})
export class OutboxModule {}
