import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/roles.decorator';
import { Clock } from '../common/clock';
import { UnitOfWork } from '../persistence/database';
import { MESSAGE_TRANSPORT, type MessageTransport } from '../transport/message-transport';
import { FederationTrust } from '../trust/federation-trust';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: UnitOfWork,
    @Inject(MESSAGE_TRANSPORT) private readonly transport: MessageTransport,
    private readonly trust: FederationTrust,
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
  async ready(@Res({ passthrough: true }) response: Response): Promise<Record<string, unknown>> {
    const database = await this.database
      .ping()
      .then(() => 'up')
      .catch(() => 'down');
    const broker = this.transport.isConnected ? 'up' : 'down';
    const inbox = this.transport.isConsuming ? 'consuming' : 'stopped';
    const { version, expires } = this.trust.directory.validity;
    const directory = Date.parse(expires) > this.clock.now().getTime() ? 'valid' : 'expired';
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
