import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { SenderCopies } from './sender-copies';

/** The node's own sealed copies of what it sends, so that its clerks can read them later. */
@Module({
  imports: [PersistenceModule, TrustModule],
  providers: [SenderCopies],
  exports: [SenderCopies],
})
export class ContentModule {}
