import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PersistenceModule } from '../persistence/persistence.module';
import { ApiAuthGuard } from './api-auth.guard';
import { AuditLog } from './audit-log.service';
import { AuditController } from './audit.controller';

/** Who may call what: API keys, roles, the rate limit, and the audit log of refusals and actions. */
@Module({
  imports: [PersistenceModule],
  controllers: [AuditController],
  providers: [AuditLog, { provide: APP_GUARD, useClass: ApiAuthGuard }],
  exports: [AuditLog],
})
export class AuthModule {}
