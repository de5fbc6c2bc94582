import { Global, Module } from '@nestjs/common';
import { DeliveryMetrics } from './delivery-metrics';

/** The process's own metrics registry, which every module may count into. */
@Global()
@Module({ providers: [DeliveryMetrics], exports: [DeliveryMetrics] })
export class ObservabilityModule {}
