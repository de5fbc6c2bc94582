import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { CaseOpenings } from './case-openings';
import { SenderCopies } from './sender-copies';

/**
 * What the node keeps sealed for its own clerks: copies of what it sends, and the subjects of
 * its cases (opened with each request sent or received).
 */
@Module({
  imports: [PersistenceModule, TrustModule],
  providers: [SenderCopies, CaseOpenings],
  exports: [SenderCopies, CaseOpenings],
})
export class ContentModule {}
