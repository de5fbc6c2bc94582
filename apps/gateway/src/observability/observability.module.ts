import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule, type Params } from 'nestjs-pino';

/**
 * Logging and health-check machinery, global so that the gateway's module sees both: nestjs-pino
 * (the Nest logger and the HTTP middleware, on the pino instance of `gatewayLoggerParams`) and
 * Terminus's `HealthCheckService` and indicators for the health controller.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(loggerParams: Params): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [
        LoggerModule.forRoot(loggerParams),
        // The readiness route reports what is down; Terminus's own failure log would repeat
        // it on every probe while a component is away.
        TerminusModule.forRoot({ logger: false }),
      ],
      exports: [TerminusModule],
    };
  }
}
