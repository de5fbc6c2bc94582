import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { InboundModule } from '../inbound/inbound.module';
import { OutboundModule } from '../outbound/outbound.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { TransportModule } from '../transport/transport.module';
import { TrustModule } from '../trust/trust.module';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { OperationsController } from './operations.controller';
import { OperationsOverview } from './operations-overview.service';
import { QuarantineKeeper } from './quarantine-keeper.service';

/** What operators see and do, never content: health, metrics, the console's API, quarantine. */
@Module({
  imports: [
    AuthModule,
    InboundModule,
    OutboundModule,
    PersistenceModule,
    TransportModule,
    TrustModule,
  ],
  controllers: [HealthController, MetricsController, OperationsController],
  providers: [OperationsOverview, QuarantineKeeper],
})
export class OperationsModule {}
