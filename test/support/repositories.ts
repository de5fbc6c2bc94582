import type { DataSource } from 'typeorm';
import { AttachmentTransferRepository } from '../../apps/gateway/src/persistence/attachment-transfer.repository';
import { CaseRepository } from '../../apps/gateway/src/persistence/case.repository';
import { CaseStatisticsRepository } from '../../apps/gateway/src/persistence/case-statistics.repository';
import { AttachmentUploadRepository } from '../../apps/gateway/src/persistence/attachment-upload.repository';
import { Database, UnitOfWork } from '../../apps/gateway/src/persistence/database';
import { EvidenceRepository } from '../../apps/gateway/src/persistence/evidence.repository';
import { InboundChunkRepository } from '../../apps/gateway/src/persistence/inbound-chunk.repository';
import { InboundMessageRepository } from '../../apps/gateway/src/persistence/inbound-message.repository';
import { MessageSearchRepository } from '../../apps/gateway/src/persistence/message-search.repository';
import { OutboundMessageRepository } from '../../apps/gateway/src/persistence/outbound-message.repository';
import { OutboxRepository } from '../../apps/gateway/src/persistence/outbox.repository';
import { QuarantineRepository } from '../../apps/gateway/src/persistence/quarantine.repository';
import { SenderCopyKeyRepository } from '../../apps/gateway/src/persistence/sender-copy-key.repository';
import { TrafficRepository } from '../../apps/gateway/src/persistence/traffic.repository';

/** The node's repositories over one real database, wired as the persistence module wires them. */
export function repositoriesOf(dataSource: DataSource) {
  const database = new Database(dataSource);
  return {
    unitOfWork: new UnitOfWork(database),
    outbound: new OutboundMessageRepository(database),
    inbound: new InboundMessageRepository(database),
    outbox: new OutboxRepository(database),
    evidence: new EvidenceRepository(database),
    senderCopyKeys: new SenderCopyKeyRepository(database),
    uploads: new AttachmentUploadRepository(database),
    transfers: new AttachmentTransferRepository(database),
    inboundChunks: new InboundChunkRepository(database),
    search: new MessageSearchRepository(database),
    traffic: new TrafficRepository(database),
    quarantine: new QuarantineRepository(database),
    cases: new CaseRepository(database),
    caseStatistics: new CaseStatisticsRepository(database),
  };
}

export type Repositories = ReturnType<typeof repositoriesOf>;
