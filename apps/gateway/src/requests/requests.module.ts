import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ContentModule } from '../content/content.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { TrustModule } from '../trust/trust.module';
import { DraftsController, TemplatesController } from './drafts.controller';
import { DraftsService } from './drafts.service';
import { LetterService } from './letter.service';
import { RequestCheckService } from './request-check.service';
import { RequestFormsController } from './request-forms.controller';

/**
 * Writing requests: the structured form's vocabulary and completeness check, drafts and
 * templates sealed at rest, and the printable letter of request. Sending goes through the
 * outbound API like any request.
 */
@Module({
  imports: [AuthModule, ContentModule, PersistenceModule, TrustModule],
  controllers: [RequestFormsController, DraftsController, TemplatesController],
  providers: [DraftsService, LetterService, RequestCheckService],
})
export class RequestsModule {}
