import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { readUnverifiedHeader } from '@comity/protocol';
import { AuditLog } from '../auth/audit-log.service';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { EnvelopeIntake } from '../inbound/envelope-intake.service';
import { ReceiptIntake } from '../outbound/receipt-intake.service';
import { InboundMessageRepository } from '../persistence/inbound-message.repository';
import {
  QuarantineRepository,
  type NewQuarantineRecord,
  type QuarantineRecord,
} from '../persistence/quarantine.repository';
import {
  MESSAGE_TRANSPORT,
  type MessageTransport,
  type QuarantinedDelivery,
} from '../transport/message-transport';

/**
 * Keeps this State's quarantine where an operator can act on it: every message the inbox set
 * aside (a copy with the reason, or one the broker dead-lettered after its delivery limit) is
 * moved from the quarantine queue into the database, then acked. There an operator can
 * release it — it is processed again with every check in force now, never with fewer — or
 * discard it, each with a reason, each written to the audit log.
 */
@Injectable()
export class QuarantineKeeper implements OnApplicationBootstrap {
  private readonly logger = new Logger(QuarantineKeeper.name);

  constructor(
    private readonly store: QuarantineRepository,
    private readonly messages: InboundMessageRepository,
    private readonly envelopes: EnvelopeIntake,
    private readonly receipts: ReceiptIntake,
    @Inject(MESSAGE_TRANSPORT) private readonly transport: MessageTransport,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.transport.consumeQuarantine((delivery) => this.keep(delivery));
  }

  list(
    status: QuarantineRecord['status'] | 'all',
    limit: number,
    before?: string,
  ): Promise<QuarantineRecord[]> {
    return this.store.listQuarantined(status, limit, before);
  }

  /** Release and discard of one entry, one at a time across replicas (see QuarantineRepository). */
  private exclusively<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (!/^[0-9]{1,18}$/.test(id)) throw new NotFoundException(`no quarantined message ${id}`);
    return this.store.exclusively(id, work);
  }

  /** Processes a held message again, as if it had just arrived from the broker. */
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
              detail: `a ${record.messageType} message cannot be released: only envelopes and receipts are processed again`,
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

  /** Moves one quarantined broker message into the database, where an operator can act on it. */
  private async keep(delivery: QuarantinedDelivery): Promise<void> {
    const record = withClaimedRouting(delivery);
    await this.store.holdQuarantined(record);
    this.logger.warn({
      message: `alert: message held in quarantine: ${record.reason}`,
      envelopeId: record.envelopeId,
    });
  }
}

/**
 * What the console may show of a quarantined message besides the reason: the routing its
 * unverified header claims, if it is an envelope at all.
 */
export function withClaimedRouting(delivery: QuarantinedDelivery): NewQuarantineRecord {
  let claimed: { id: string; state: string; authority: string; kind: string } | null = null;
  if (delivery.messageType === 'envelope') {
    try {
      const header = readUnverifiedHeader(delivery.payload);
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
    ...delivery,
    envelopeId: claimed?.id ?? null,
    claimedFromState: claimed?.state ?? null,
    claimedFromAuthority: claimed?.authority ?? null,
    kind: claimed?.kind ?? null,
  };
}
