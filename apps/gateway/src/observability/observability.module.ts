import { type DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule, type Params } from 'nestjs-pino';

/**
 * Logging machinery, global so that the gateway's module sees it: nestjs-pino (the Nest logger
 * and the HTTP middleware, on the pino instance of `gatewayLoggerParams`).
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(loggerParams: Params): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [LoggerModule.forRoot(loggerParams)],
    };
  }
}
