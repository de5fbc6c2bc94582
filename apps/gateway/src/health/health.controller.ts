import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { Public } from '../auth/roles.decorator';
import { FederationTrust } from '../trust/federation-trust';
import { AmqpPublisher } from '../transport/amqp-publisher';
import { TransportHealth } from '../transport/transport-health';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly publisher: AmqpPublisher,
    private readonly transport: TransportHealth,
    private readonly trust: FederationTrust,
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
  async ready(@Res({ passthrough: true }) response: Response): Promise<Record<string, unknown>> {
    const database = await this.dataSource
      .query('SELECT 1')
      .then(() => 'up')
      .catch(() => 'down');
    const broker = this.publisher.isConnected ? 'up' : 'down';
    const inbox = this.transport.inboxConsuming ? 'consuming' : 'stopped';
    const { version, expires } = this.trust.directory.validity;
    const directory = Date.parse(expires) > Date.now() ? 'valid' : 'expired';
    const ready =
      database === 'up' && broker === 'up' && inbox === 'consuming' && directory === 'valid';
    response.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ready ? 'ready' : 'not-ready',
      state: this.trust.state,
      database,
      broker,
      inbox,
      directory: { status: directory, version, expires },
      keys: 'loaded',
    };
  }
}
