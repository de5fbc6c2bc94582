import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AttachmentDownloads } from './attachments/attachment-downloads.service';
import { AttachmentStore } from './attachments/attachment-store';
import { AttachmentTransfer } from './attachments/attachment-transfer.service';
import { AttachmentUploads } from './attachments/attachment-uploads.service';
import { AttachmentVerification } from './attachments/attachment-verification.service';
import {
  AttachmentDownloadsController,
  AttachmentsController,
} from './attachments/attachments.controller';
import { ChunkInboxController } from './attachments/chunk-inbox.controller';
import { ChunkIntake } from './attachments/chunk-intake.service';
import { ChunkMetrics } from './attachments/chunk-metrics';
import { ApiAuthGuard } from './auth/api-auth.guard';
import { AuditController } from './auth/audit.controller';
import { AuditLog } from './auth/audit-log.service';
import { Clock } from './common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config';
import { DirectoryController } from './directory/directory.controller';
import { HealthController } from './health/health.controller';
import { DeliveryMetrics } from './observability/delivery-metrics';
import { MetricsController } from './observability/metrics.controller';
import { OperationsController } from './operations/operations.controller';
import { OperationsOverview } from './operations/operations-overview.service';
import { QuarantineKeeper } from './operations/quarantine-keeper.service';
import { EnvelopeIntake } from './inbound/envelope-intake.service';
import { InboundController } from './inbound/inbound.controller';
import { InboundService } from './inbound/inbound.service';
import { InboxController } from './inbound/inbox.controller';
import { DeliveryWatchdog } from './outbound/delivery-watchdog.service';
import { OutboundController } from './outbound/outbound.controller';
import { OutboundService } from './outbound/outbound.service';
import { SenderCopies } from './outbound/sender-copy';
import { OutboxRelay } from './outbound/outbox-relay.service';
import { ReceiptIntake } from './outbound/receipt-intake.service';
import { dataSourceOptions } from './persistence/data-source-options';
import { MessageStore } from './persistence/message-store';
import { OperationsStore } from './persistence/operations-store';
import { PoolErrorGuard } from './persistence/pool-error-guard';
import { SchemaMigrator } from './persistence/schema-migrator';
import { AmqpPublisher } from './transport/amqp-publisher';
import { TransportHealth } from './transport/transport-health';
import { FederationTrust } from './trust/federation-trust';

/** One gateway node. The configuration is read and validated before this module is built. */
@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl))],
      controllers: [
        OutboundController,
        InboundController,
        InboxController,
        DirectoryController,
        AuditController,
        HealthController,
        OperationsController,
        MetricsController,
        AttachmentsController,
        AttachmentDownloadsController,
        ChunkInboxController,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        Clock,
        AuditLog,
        { provide: APP_GUARD, useClass: ApiAuthGuard },
        PoolErrorGuard,
        SchemaMigrator,
        FederationTrust,
        MessageStore,
        AmqpPublisher,
        TransportHealth,
        OutboxRelay,
        DeliveryWatchdog,
        OutboundService,
        SenderCopies,
        ReceiptIntake,
        EnvelopeIntake,
        InboundService,
        OperationsStore,
        DeliveryMetrics,
        QuarantineKeeper,
        OperationsOverview,
        AttachmentStore,
        ChunkMetrics,
        AttachmentUploads,
        AttachmentTransfer,
        AttachmentVerification,
        ChunkIntake,
        AttachmentDownloads,
      ],
    };
  }
}
