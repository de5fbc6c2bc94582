import { Controller, Get, HttpStatus, Res, ServiceUnavailableException } from '@nestjs/common';
import {
  type HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { Public } from '../auth/roles.decorator';
import {
  brokerIndicator,
  directoryIndicator,
  inboxIndicator,
  type ReadinessBody,
  readinessBody,
} from '../observability/health-indicators';
import { FederationTrust } from '../trust/federation-trust';
import { AmqpPublisher } from '../transport/amqp-publisher';
import { TransportHealth } from '../transport/transport-health';

/** A database that does not answer `SELECT 1` within this is reported down. */
const DATABASE_PING_TIMEOUT_MS = 3000;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly publisher: AmqpPublisher,
    private readonly transport: TransportHealth,
    private readonly trust: FederationTrust,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly typeOrm: TypeOrmHealthIndicator,
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
        () =>
          this.typeOrm.pingCheck('database', {
            connection: this.dataSource,
            timeout: DATABASE_PING_TIMEOUT_MS,
          }),
        () => brokerIndicator(this.indicators, this.publisher),
        () => inboxIndicator(this.indicators, this.transport),
        () => directoryIndicator(this.indicators, validity),
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
}
