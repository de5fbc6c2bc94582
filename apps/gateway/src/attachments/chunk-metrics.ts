import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DeliveryMetrics } from '../observability/delivery-metrics';

/** Large-attachment chunks, on the node's /metrics (same registry as the delivery metrics). */
@Injectable()
export class ChunkMetrics {
  private readonly sent: Counter;
  private readonly received: Counter;

  constructor(metrics: DeliveryMetrics) {
    this.sent = new Counter({
      name: 'comity_attachment_chunks_sent_total',
      help: 'Chunks of large attachments published and confirmed by the broker',
      registers: [metrics.registry],
    });
    this.received = new Counter({
      name: 'comity_attachment_chunks_received_total',
      help: 'Chunks of large attachments taken from the inbox, by outcome (stored, duplicate, or the reason they were refused)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
  }

  chunkSent(): void {
    this.sent.inc();
  }

  chunkReceived(outcome: string): void {
    this.received.inc({ outcome });
  }
}
