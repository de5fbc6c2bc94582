import { type DynamicModule, Module } from '@nestjs/common';
import { AttachmentsModule } from './attachments/attachments.module';
import { AuthModule } from './auth/auth.module';
import { CasesModule } from './cases/cases.module';
import { CommonModule } from './common/common.module';
import { ConfigModule } from './config/config.module';
import type { GatewayConfig } from './config/gateway-config';
import { InboundModule } from './inbound/inbound.module';
import { NotificationsModule } from './notifications/notifications.module';
import { ObservabilityModule } from './observability/observability.module';
import { OperationsModule } from './operations/operations.module';
import { OutboundModule } from './outbound/outbound.module';
import { RequestsModule } from './requests/requests.module';
import { RetrievalModule } from './retrieval/retrieval.module';
import { RetentionModule } from './retention/retention.module';
import { EvidenceModule } from './evidence/evidence.module';
import { TrustModule } from './trust/trust.module';
import { WitnessModule } from './witness/witness.module';

/**
 * One gateway node: the feature modules, composed. The configuration is read and validated
 * before this module is built. Dependencies run one way (see docs/architecture.md):
 * operations, cases, requests → inbound, outbound → attachments → outbox, content → transport, persistence,
 * trust → config, common, observability.
 */
@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        ObservabilityModule,
        AuthModule,
        TrustModule,
        AttachmentsModule,
        OutboundModule,
        InboundModule,
        RetrievalModule,
        CasesModule,
        RequestsModule,
        EvidenceModule,
        WitnessModule,
        NotificationsModule,
        RetentionModule,
        OperationsModule,
      ],
    };
  }
}
