import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PersistenceModule } from '../persistence/persistence.module';
import { ApiAuthGuard } from './api-auth.guard';
import { AuditLog } from './audit-log.service';
import { AuditController } from './audit.controller';
import { PeopleSessions } from './people-sessions.service';
import { SessionController } from './session.controller';

/**
 * Who may call what: API keys for machines, signed-in sessions for people, roles, the rate
 * limit, and the audit log of refusals, sign-ins and actions.
 */
@Module({
  imports: [PersistenceModule],
  controllers: [AuditController, SessionController],
  providers: [AuditLog, PeopleSessions, { provide: APP_GUARD, useClass: ApiAuthGuard }],
  exports: [AuditLog],
})
export class AuthModule {}
