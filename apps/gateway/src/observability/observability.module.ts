import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DeliveryMetrics } from './delivery-metrics';

/**
 * What every module may use to be observed: the process's metrics registry and Terminus's
 * health-check service for the health controller. The logger (nestjs-pino over one pino
 * instance, see gateway-logger.ts) is made by main.ts before Nest starts and given to it.
 */
@Global()
@Module({
  imports: [
    // The readiness route reports what is down; Terminus's own failure log would repeat it on
    // every probe while a component is away.
    TerminusModule.forRoot({ logger: false }),
  ],
  providers: [DeliveryMetrics],
  exports: [DeliveryMetrics, TerminusModule],
})
export class ObservabilityModule {}
