import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { ContentRetention } from './content-retention.service';

/** Content retention: content purged after its kind's time, its evidence kept verifiable. */
@Module({
  imports: [PersistenceModule],
  providers: [ContentRetention],
})
export class RetentionModule {}
