import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { DataSource } from 'typeorm';
import { readUnverifiedHeader } from '@comity/protocol';
import { AuditLog } from '../auth/audit-log.service';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { EnvelopeIntake } from '../inbound/envelope-intake.service';
import { ReceiptIntake } from '../outbound/receipt-intake.service';
import { MessageStore } from '../persistence/message-store';
import {
  OperationsStore,
  type NewQuarantineRecord,
  type QuarantineRecord,
} from '../persistence/operations-store';
import { brokerUserOf } from '../transport/amqp-publisher';
import { AmqpSession } from '../transport/amqp-session';
import {
  QUARANTINE_DETAIL_HEADER,
  QUARANTINE_REASON_HEADER,
  inboxQueue,
  quarantineQueue,
} from '../transport/topology';

/** Advisory lock class for quarantine entries (the migrator uses its own key). */
const QUARANTINE_LOCK_CLASS = 0x51a7;

export interface QueueStatus {
  name: string;
  role: 'inbox' | 'quarantine';
  messages: number | null;
  consumers: number | null;
}

/**
 * Keeps this State's quarantine where an operator can act on it: every message the inbox set
 * aside (a copy with the reason, or one the broker dead-lettered after its delivery limit) is
 * moved from the quarantine queue into the database, then acked. There an operator can
 * release it — it is processed again with every check in force now, never with fewer — or
 * discard it, each with a reason, each written to the audit log.
 */
@Injectable()
export class QuarantineKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(QuarantineKeeper.name);
  private readonly session: AmqpSession;
  private readonly ownBrokerUser: string;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: OperationsStore,
    private readonly messages: MessageStore,
    private readonly envelopes: EnvelopeIntake,
    private readonly receipts: ReceiptIntake,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {
    this.ownBrokerUser = brokerUserOf(config.amqpUrl);
    this.session = new AmqpSession(
      config.amqpUrl,
      `quarantine-${config.state}`,
      this.logger,
      (channel) => this.startConsuming(channel),
      config.amqpCaPath ? readFileSync(config.amqpCaPath) : undefined,
    );
  }

  onApplicationBootstrap(): void {
    this.session.openInBackground();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.session.close();
  }

  /** Depth and consumers of this State's inbox and quarantine queues; null values when the broker is away. */
  async queues(): Promise<QueueStatus[]> {
    const names: Array<[string, QueueStatus['role']]> = [
      [inboxQueue(this.config.state), 'inbox'],
      [quarantineQueue(this.config.state), 'quarantine'],
    ];
    return Promise.all(
      names.map(async ([name, role]) => {
        try {
          const status = await this.session.withSideChannel((channel: Channel) =>
            channel.checkQueue(name),
          );
          return { name, role, messages: status.messageCount, consumers: status.consumerCount };
        } catch {
          return { name, role, messages: null, consumers: null };
        }
      }),
    );
  }

  list(
    status: QuarantineRecord['status'] | 'all',
    limit: number,
    before?: string,
  ): Promise<QuarantineRecord[]> {
    return this.store.listQuarantined(status, limit, before);
  }

  /** Processes a held message again, as if it had just arrived from the broker. */
  /**
   * Release and discard of one entry, one at a time across replicas: a transaction-scoped
   * advisory lock on its id, so a discard cannot slip in while a release is processing it.
   */
  private exclusively<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (!/^[0-9]{1,18}$/.test(id)) throw new NotFoundException(`no quarantined message ${id}`);
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1, $2)', [
        QUARANTINE_LOCK_CLASS,
        Number(BigInt(id) % 2_147_483_647n),
      ]);
      return work();
    });
  }

  release(id: string, reason: string, principal: Principal): Promise<QuarantineRecord> {
    return this.exclusively(id, () => this.releaseHeld(id, reason, principal));
  }

  private async releaseHeld(
    id: string,
    reason: string,
    principal: Principal,
  ): Promise<QuarantineRecord> {
    const held = await this.requireHeld(id);
    const { record, payload } = held;
    const brokerUser = record.brokerUser ?? undefined;
    const disposition =
      record.messageType === 'envelope'
        ? await this.envelopes.receive(payload, brokerUser)
        : record.messageType === 'receipt'
          ? await this.receipts.receive(payload, brokerUser)
          : ({
              action: 'quarantine',
              reason: 'unknown-message-type',
              detail: 'neither an envelope nor a receipt',
            } as const);
    if (disposition.action === 'retry') {
      throw new ConflictException(
        `could not process it now (${disposition.detail}); it stays in quarantine`,
      );
    }
    if (disposition.action === 'quarantine') {
      await this.store.requalifyQuarantined(id, disposition.reason, disposition.detail);
      await this.record(principal, 'release', id, 'refused', reason);
      throw new ConflictException(
        `still refused: ${disposition.reason}: ${disposition.detail}; it stays in quarantine`,
      );
    }
    const outcome = await this.outcomeOf(record);
    await this.settle(id, { status: 'released', reason, outcome }, principal);
    this.logger.log({
      message: `quarantined message ${id} released by ${principal.id}: ${outcome}`,
      envelopeId: record.envelopeId,
    });
    return (await this.store.findQuarantined(id))!.record;
  }

  discard(id: string, reason: string, principal: Principal): Promise<QuarantineRecord> {
    return this.exclusively(id, async () => {
      await this.requireHeld(id);
      await this.settle(id, { status: 'discarded', reason, outcome: 'discarded' }, principal);
      return (await this.store.findQuarantined(id))!.record;
    });
  }

  private async requireHeld(id: string): Promise<{ record: QuarantineRecord; payload: Buffer }> {
    if (!/^[0-9]{1,18}$/.test(id)) throw new NotFoundException(`no quarantined message ${id}`);
    const found = await this.store.findQuarantined(id);
    if (!found) throw new NotFoundException(`no quarantined message ${id}`);
    if (found.record.status !== 'held') {
      throw new ConflictException(
        `quarantined message ${id} was already ${found.record.status} by ${found.record.resolvedBy ?? 'someone'}`,
      );
    }
    return found;
  }

  private async settle(
    id: string,
    resolution: { status: 'released' | 'discarded'; reason: string; outcome: string },
    principal: Principal,
  ): Promise<void> {
    const settled = await this.store.resolveQuarantined(id, {
      ...resolution,
      by: principal.id,
      at: this.clock.now(),
    });
    if (!settled) throw new ConflictException(`quarantined message ${id} was settled meanwhile`);
    await this.record(principal, resolution.status, id, resolution.outcome, resolution.reason);
  }

  private record(
    principal: Principal,
    action: string,
    id: string,
    outcome: string,
    reason: string,
  ): Promise<void> {
    return this.audit.action({
      principal: principal.id,
      role: principal.role,
      action: `quarantine ${action} ${id}`,
      outcome,
      reason,
    });
  }

  /** What processing the released message did, from what is stored now. */
  private async outcomeOf(record: QuarantineRecord): Promise<string> {
    if (record.messageType === 'receipt') return 'receipt-applied';
    if (record.envelopeId && (await this.messages.findInbound(record.envelopeId))) {
      return 'delivered';
    }
    return 'rejected-with-negative-receipt';
  }

  private async startConsuming(channel: ConfirmChannel): Promise<void> {
    await channel.prefetch(16);
    await channel.consume(
      quarantineQueue(this.config.state),
      (message) => {
        if (!message) {
          this.session.reset('cancelled the quarantine consumer');
          return;
        }
        this.keep(message).then(
          () => channel.ack(message),
          (error: Error) => {
            // Not stored: leave it on the queue for the next attempt (database down).
            this.logger.warn(`quarantine: could not store a message yet: ${error.message}`);
            setTimeout(() => {
              try {
                channel.nack(message, false, true);
              } catch {
                // The channel is gone; the broker keeps the message.
              }
            }, 5000).unref();
          },
        );
      },
      { noAck: false },
    );
  }

  private async keep(message: ConsumeMessage): Promise<void> {
    const record = describeQuarantined(message, this.ownBrokerUser, this.clock.now());
    await this.store.holdQuarantined(record);
    this.logger.warn({
      message: `alert: message held in quarantine: ${record.reason}`,
      envelopeId: record.envelopeId,
    });
  }
}

/**
 * What the console may show of a quarantined broker message: the reason, and the routing its
 * unverified header claims. The broker user it arrived with is taken from our own copy's header
 * only when that copy was published by this node's account; otherwise from the message itself.
 */
export function describeQuarantined(
  message: ConsumeMessage,
  ownBrokerUser: string,
  now: Date,
): NewQuarantineRecord {
  const properties = message.properties;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const text = (value: unknown, max = 1000): string | null =>
    typeof value === 'string' || typeof value === 'number'
      ? String(value)
          .replace(/[^\x20-\x7e]/g, '?')
          .slice(0, max)
      : null;
  const publishedByUs = properties.userId === ownBrokerUser;
  const copied = publishedByUs && typeof headers[QUARANTINE_REASON_HEADER] === 'string';
  const deathReason = text(headers['x-first-death-reason']);
  const reason = copied
    ? text(headers[QUARANTINE_REASON_HEADER], 100)!
    : deathReason === 'delivery_limit'
      ? 'delivery-limit'
      : 'dead-lettered';
  const detail = copied
    ? (text(headers[QUARANTINE_DETAIL_HEADER]) ?? '')
    : deathReason === 'delivery_limit'
      ? 'handling kept failing until the inbox delivery limit; see the node log'
      : `dead-lettered by the broker (${deathReason ?? 'no reason given'})`;
  const brokerUser = copied
    ? text(headers['x-comity-original-user-id'], 200) || null
    : text(properties.userId, 200);
  const quarantinedAt = copied
    ? new Date(text(headers['x-comity-quarantined-at'], 40) ?? now.toISOString())
    : now;
  const type = text(properties.type, 40);
  let claimed: { id: string; state: string; authority: string; kind: string } | null = null;
  if (type === 'envelope') {
    try {
      const header = readUnverifiedHeader(message.content);
      claimed = {
        id: header.id,
        state: header.from.state,
        authority: header.from.authority,
        kind: header.kind,
      };
    } catch {
      claimed = null;
    }
  }
  return {
    fingerprint: createHash('sha256')
      .update(message.content)
      .update(
        `\0${reason}\0${text(headers['x-comity-quarantined-at']) ?? ''}\0${text(properties.messageId) ?? ''}`,
      )
      .digest('base64url'),
    messageType: type === 'envelope' || type === 'receipt' ? type : 'unknown',
    amqpMessageId: text(properties.messageId, 200),
    brokerUser,
    reason,
    detail,
    envelopeId: claimed?.id ?? null,
    claimedFromState: claimed?.state ?? null,
    claimedFromAuthority: claimed?.authority ?? null,
    kind: claimed?.kind ?? null,
    payload: message.content,
    quarantinedAt: Number.isNaN(quarantinedAt.getTime()) ? now : quarantinedAt,
  };
}
