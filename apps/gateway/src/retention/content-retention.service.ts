import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import {
  ContentRetentionRepository,
  type RetentionCutoff,
} from '../persistence/content-retention.repository';

/** Messages purged per pass; a pass that filled it is followed at once by the next. */
const BATCH = 100;

/**
 * Purges the content of messages past their kind's retention (`COMITY_RETENTION_DAYS`,
 * docs/evidence.md "Retention"), each in a transaction of its own that also records the purge
 * on the message's timeline, so that the evidence log holds it as a leaf. Idle without a policy.
 */
@Injectable()
export class ContentRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ContentRetention.name);
  private readonly loop: BackgroundLoop | null;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: ContentRetentionRepository,
    private readonly clock: Clock,
  ) {
    const retention = config.retention;
    this.loop = retention
      ? new BackgroundLoop({
          name: 'content retention',
          pass: async () => (await this.sweep()) === BATCH,
          idleMs: retention.sweepIntervalMs,
          logger: this.logger,
        })
      : null;
  }

  onApplicationBootstrap(): void {
    this.loop?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }

  /** One pass: purges up to a batch of messages now due; returns how many it purged. */
  async sweep(): Promise<number> {
    const retention = this.config.retention;
    if (!retention) return 0;
    const now = this.clock.now();
    const cutoffs: RetentionCutoff[] = Object.entries(retention.afterMs).map(([kind, ms]) => ({
      kind,
      before: new Date(now.getTime() - ms),
    }));
    let purged = 0;
    for (const message of await this.store.due(cutoffs, BATCH)) {
      if (await this.store.purge(message, this.clock.now())) {
        purged += 1;
        this.logger.log(`content of ${message.direction} message ${message.id} purged (retention)`);
      }
    }
    return purged;
  }
}
