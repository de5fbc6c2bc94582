import { Global, Module } from '@nestjs/common';
import { AttachmentsModule } from '../attachments/attachments.module';
import { ContentModule } from '../content/content.module';
import { CASE_MESSAGE_ADMISSION } from '../inbound/case-message-admission';
import { InboundModule } from '../inbound/inbound.module';
import { OutboundModule } from '../outbound/outbound.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { CaseAdmission } from './case-admission.service';
import { CaseKeeper } from './case-keeper.service';
import { CaseStatistics } from './case-statistics.service';
import { CasesController } from './cases.controller';
import { CasesService } from './cases.service';

/**
 * Cases between central authorities (protocol §8): a request and every message about it, its
 * state at both ends, time frames, overdue steps and statistics. Sends through `outbound/`;
 * learns of received case messages through the port `inbound/` declares (global, so that
 * `inbound/` finds it without importing this module).
 */
@Global()
@Module({
  imports: [
    AttachmentsModule,
    ContentModule,
    InboundModule,
    OutboundModule,
    PersistenceModule,
    TrustModule,
  ],
  controllers: [CasesController],
  providers: [
    CaseAdmission,
    CaseKeeper,
    CaseStatistics,
    CasesService,
    { provide: CASE_MESSAGE_ADMISSION, useExisting: CaseAdmission },
  ],
  exports: [CASE_MESSAGE_ADMISSION, CaseKeeper],
})
export class CasesModule {}
