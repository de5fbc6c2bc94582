import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Gauge } from 'prom-client';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import { CaseRepository } from '../persistence/case.repository';
import { UnitOfWork } from '../persistence/database';
import { FederationTrust } from '../trust/federation-trust';
import { deriveStoredCase } from './case-derivation';

/**
 * Keeps cases current between messages:
 * - a case whose own message was refused or never delivered (marked `stale` with the receipt or
 *   the non-delivery) is derived again from the messages that count;
 * - a step past its due date is marked overdue, once, with an `overdue` case event, a warning
 *   in the log (ids and step only) and the `comity_cases_overdue` gauge.
 */
@Injectable()
export class CaseKeeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CaseKeeper.name);
  private readonly loop: BackgroundLoop;
  private readonly overdue: Gauge<'peer' | 'kind' | 'step'>;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly cases: CaseRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
    metrics: DeliveryMetrics,
  ) {
    this.overdue = new Gauge({
      name: 'comity_cases_overdue',
      help: 'Open cases whose next step is past its due date, by counterpart State, request kind and step',
      labelNames: ['peer', 'kind', 'step'],
      registers: [metrics.registry],
    });
    this.loop = new BackgroundLoop({
      name: 'case keeper',
      pass: () => this.sweep().then((done) => done.rederived > 0),
      idleMs: config.delivery.caseSweepIntervalMs,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass; returns what it did (for tests). */
  async sweep(): Promise<{ rederived: number; overdue: number }> {
    let rederived = 0;
    for (const id of await this.cases.staleIds(100)) {
      await this.rederive(id);
      rederived += 1;
    }
    const newlyOverdue = await this.cases.markOverdue(this.clock.now());
    for (const item of newlyOverdue) {
      this.logger.warn(
        `case ${item.id} is overdue: step ${item.step} (${item.kind}, counterpart ${item.counterpartState})`,
      );
    }
    await this.refreshGauge();
    return { rederived, overdue: newlyOverdue.length };
  }

  /** Derives a case again from its stored messages, under its lock. */
  async rederive(id: string): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const record = await this.cases.lock(tx, id);
      if (!record) return;
      const { row } = deriveStoredCase({
        record,
        messages: await this.cases.messagesOf(id, tx),
        requestStatus: await this.cases.requestStatus(id, tx),
        self: this.trust.state,
        policy: this.trust.directory.policy.timeFrames,
      });
      await this.cases.saveDerived(id, row, tx);
    });
  }

  private async refreshGauge(): Promise<void> {
    const counts = await this.cases.overdueCounts();
    this.overdue.reset();
    for (const count of counts) {
      this.overdue.set(
        { peer: count.counterpartState, kind: count.kind, step: count.step },
        count.count,
      );
    }
  }
}
