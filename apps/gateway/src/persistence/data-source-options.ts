import type { DataSourceOptions } from 'typeorm';
import { EvidenceEntity } from './entities/evidence.entity';
import { InboundMessageEntity } from './entities/inbound-message.entity';
import { InboundRejectionEntity } from './entities/inbound-rejection.entity';
import { OutboundMessageEntity } from './entities/outbound-message.entity';
import { OutboxEntryEntity } from './entities/outbox-entry.entity';
import { InitialSchema1764370000000 } from './migrations/1764370000000-initial-schema';
import { DeliveryTracking1764380000000 } from './migrations/1764380000000-delivery-tracking';
import { IdempotencyKeys1764390000000 } from './migrations/1764390000000-idempotency-keys';
import { AuditEvents1764400000000 } from './migrations/1764400000000-audit-events';
import { Operations1764410000000 } from './migrations/1764410000000-operations';
import { LargeAttachments1764420000000 } from './migrations/1764420000000-large-attachments';
import { LeanOutboundIndexes1764430000000 } from './migrations/1764430000000-lean-outbound-indexes';
import { SingleRetry1764440000000 } from './migrations/1764440000000-single-retry';
import { LeanHotPath1764450000000 } from './migrations/1764450000000-lean-hot-path';
import { Cases1764460000000 } from './migrations/1764460000000-cases';
import { PeopleSessions1764470000000 } from './migrations/1764470000000-people-sessions';
import { RequestDrafts1764480000000 } from './migrations/1764480000000-request-drafts';
import { EvidenceLog1764570000000 } from './migrations/1764570000000-evidence-log';
import { CheckpointTimestamps1764580000000 } from './migrations/1764580000000-checkpoint-timestamps';
import { ContentRetention1764590000000 } from './migrations/1764590000000-content-retention';
import { EvidenceExchange1764600000000 } from './migrations/1764600000000-evidence-exchange';
import { Events1764610000000 } from './migrations/1764610000000-events';

export const ENTITIES = [
  OutboundMessageEntity,
  InboundMessageEntity,
  InboundRejectionEntity,
  EvidenceEntity,
  OutboxEntryEntity,
];

/** Schema changes only ever through migrations: synchronize stays off everywhere. */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: [
      InitialSchema1764370000000,
      DeliveryTracking1764380000000,
      IdempotencyKeys1764390000000,
      AuditEvents1764400000000,
      Operations1764410000000,
      LargeAttachments1764420000000,
      LeanOutboundIndexes1764430000000,
      SingleRetry1764440000000,
      LeanHotPath1764450000000,
      Cases1764460000000,
      PeopleSessions1764470000000,
      RequestDrafts1764480000000,
      EvidenceLog1764570000000,
      CheckpointTimestamps1764580000000,
      ContentRetention1764590000000,
      EvidenceExchange1764600000000,
      Events1764610000000,
    ],
    // Run by SchemaMigrator under an advisory lock, so replicas starting together do not race.
    migrationsRun: false,
    migrationsTransactionMode: 'all',
    synchronize: false,
    // TypeORM would log failed queries with their parameters: envelopes, sender copies. Errors
    // surface as exceptions to the code that decides what to log.
    logging: false,
    extra: { max: 10, connectionTimeoutMillis: 5000 },
  };
}
