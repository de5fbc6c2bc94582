import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { AttachmentTransferRepository } from './attachment-transfer.repository';
import { AttachmentUploadRepository } from './attachment-upload.repository';
import { CaseRepository } from './case.repository';
import { PersonSessionRepository } from './person-session.repository';
import { CaseStatisticsRepository } from './case-statistics.repository';
import { AuditEventRepository } from './audit-event.repository';
import { ContentRetentionRepository } from './content-retention.repository';
import { dataSourceOptions } from './data-source-options';
import { Database, UnitOfWork } from './database';
import { EvidenceRepository } from './evidence.repository';
import { EventRepository } from './event.repository';
import { InboundChunkRepository } from './inbound-chunk.repository';
import { InboundMessageRepository } from './inbound-message.repository';
import { MessageSearchRepository } from './message-search.repository';
import { OutboundMessageRepository } from './outbound-message.repository';
import { OutboxRepository } from './outbox.repository';
import { PoolErrorGuard } from './pool-error-guard';
import { QuarantineRepository } from './quarantine.repository';
import { RequestDraftRepository } from './request-draft.repository';
import { RetrievalRepository } from './retrieval.repository';
import { EvidenceLogRepository } from './evidence-log.repository';
import { SchemaMigrator } from './schema-migrator';
import { SenderCopyKeyRepository } from './sender-copy-key.repository';
import { TrafficRepository } from './traffic.repository';
import { WebhookRepository } from './webhook.repository';
import { WitnessRepository } from './witness.repository';

const REPOSITORIES = [
  AttachmentTransferRepository,
  AttachmentUploadRepository,
  AuditEventRepository,
  CaseRepository,
  CaseStatisticsRepository,
  ContentRetentionRepository,
  EvidenceRepository,
  EventRepository,
  InboundChunkRepository,
  InboundMessageRepository,
  MessageSearchRepository,
  OutboundMessageRepository,
  OutboxRepository,
  PersonSessionRepository,
  QuarantineRepository,
  RequestDraftRepository,
  RetrievalRepository,
  EvidenceLogRepository,
  SenderCopyKeyRepository,
  TrafficRepository,
  WebhookRepository,
  WitnessRepository,
];

/**
 * The node's PostgreSQL database: migrations at start, one repository per concept, and the unit
 * of work that lets a feature commit several repositories' writes together. The only module
 * that knows TypeORM, the driver or SQL.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig) => dataSourceOptions(config.databaseUrl),
    }),
  ],
  providers: [Database, UnitOfWork, PoolErrorGuard, SchemaMigrator, ...REPOSITORIES],
  exports: [UnitOfWork, ...REPOSITORIES],
})
export class PersistenceModule {}
