import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule, type Params } from 'nestjs-pino';
import { DeliveryMetrics } from './delivery-metrics';

/**
 * What every module may use to be observed: the process's metrics registry, the logger
 * (nestjs-pino: the Nest logger and the HTTP middleware, on the pino instance of
 * `gatewayLoggerParams`) and Terminus's health-check service for the health controller.
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
      providers: [DeliveryMetrics],
      exports: [DeliveryMetrics, TerminusModule],
    };
  }
}
