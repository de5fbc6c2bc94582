import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metrics only this process can know, as they happen: how long deliveries took and what
 * the inbox did with each message. Everything that is stored (messages by status, queues,
 * quarantine, certificates) is read at scrape time instead, so all replicas report the same.
 */
@Injectable()
export class DeliveryMetrics {
  readonly registry = new Registry();

  private readonly submitToDelivered = new Histogram({
    name: 'comity_submit_to_delivered_seconds',
    help: 'Time from a submit being accepted to the verified delivery receipt, per peer State',
    labelNames: ['peer'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400],
    registers: [this.registry],
  });

  private readonly inboxHandled = new Counter({
    name: 'comity_inbox_messages_total',
    help: 'Broker messages taken from the inbox, by type and what became of them (ack, quarantine, retry)',
    labelNames: ['type', 'outcome'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  delivered(peer: string, submittedAt: Date, now: Date): void {
    this.submitToDelivered.observe(
      { peer },
      Math.max(0, (now.getTime() - submittedAt.getTime()) / 1000),
    );
  }

  handled(type: string, outcome: string): void {
    this.inboxHandled.inc({ type, outcome });
  }

  /** Counts what became of one inbox message: its disposition, or `retry` when handling threw. */
  async countHandled<D extends { action: string }>(type: string, handling: Promise<D>): Promise<D> {
    const disposition = await handling.catch((error: unknown) => {
      this.handled(type, 'retry');
      throw error;
    });
    this.handled(type, disposition.action);
    return disposition;
  }
}
