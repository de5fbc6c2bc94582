import {
  Controller,
  Get,
  HttpStatus,
  Inject,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/roles.decorator';
import { Clock } from '../common/clock';
import {
  brokerIndicator,
  directoryIndicator,
  inboxIndicator,
  type ReadinessBody,
  readinessBody,
} from '../observability/health-indicators';
import { UnitOfWork } from '../persistence/database';
import { MESSAGE_TRANSPORT, type MessageTransport } from '../transport/message-transport';
import { FederationTrust } from '../trust/federation-trust';

/** A database that does not answer `SELECT 1` within this is reported down. */
const DATABASE_PING_TIMEOUT_MS = 3000;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: UnitOfWork,
    @Inject(MESSAGE_TRANSPORT) private readonly transport: MessageTransport,
    private readonly trust: FederationTrust,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly clock: Clock,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers (restart it if this fails)' })
  live(): { status: 'alive'; state: string } {
    return { status: 'alive', state: this.trust.state };
  }

  @Get(['', 'ready'])
  @ApiOperation({
    summary:
      'Readiness (also at /health): database reachable, broker connected, inbox consumed, directory in force, keys loaded',
  })
  async ready(@Res({ passthrough: true }) response: Response): Promise<ReadinessBody> {
    const validity = this.trust.directory.validity;
    const result = await this.health
      .check([
        () => this.databaseIndicator(),
        () => brokerIndicator(this.indicators, this.transport),
        () => inboxIndicator(this.indicators, this.transport),
        () => directoryIndicator(this.indicators, validity, this.clock.now().getTime()),
      ])
      .catch((error: unknown): HealthCheckResult => {
        // Terminus answers "not ready" by throwing a 503 whose body is the check's result.
        if (error instanceof ServiceUnavailableException)
          return error.getResponse() as HealthCheckResult;
        throw error;
      });
    response.status(result.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return readinessBody(this.trust.state, result, validity);
  }

  /** The database answers `SELECT 1` in time. */
  private async databaseIndicator(): Promise<HealthIndicatorResult<'database'>> {
    const check = this.indicators.check('database');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), DATABASE_PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.database.ping(), timeout]);
      return check.up();
    } catch {
      return check.down();
    } finally {
      clearTimeout(timer);
    }
  }
}
