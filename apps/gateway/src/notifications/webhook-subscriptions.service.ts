import {
  BadRequestException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import {
  WebhookSecretError,
  isEventType,
  newWebhookSecret,
  uuidV7,
  webhookSecretKey,
  type EventType,
} from '@comity/protocol';
import type { Principal } from '../auth/principal';
import { AuditLog } from '../auth/audit-log.service';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { SenderCopies } from '../content/sender-copies';
import { EventRepository } from '../persistence/event.repository';
import {
  WebhookRepository,
  type DeadLetterRow,
  type WebhookSubscriptionRow,
} from '../persistence/webhook.repository';
import { WebhookEndpointError, checkEndpointReachable, checkEndpointUrl } from './webhook-endpoint';

export interface SubscriptionInput {
  url?: string;
  eventTypes?: string[];
  /** Operators only: the authority whose events it gets (absent: every event). */
  authority?: string | null;
  /** A `whsec_` secret; one is generated when absent. */
  secret?: string;
  /** Keep the previous secret too while receivers switch (signatures with both). */
  keepPreviousSecret?: boolean;
  active?: boolean;
}

export interface SubscriptionView {
  id: string;
  url: string;
  eventTypes: EventType[];
  authority: string | null;
  active: boolean;
  disabledReason: string | null;
  /** The last event sequence number delivered. */
  deliveredUpTo: number;
  failing: {
    since: string;
    attempts: number;
    nextAttemptAt: string | null;
    lastError: string | null;
  } | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** Only in the answer that created or rotated it: the secret, shown once. */
  secret?: string;
}

/**
 * Webhook subscriptions, managed through the API and taken by the dispatcher at its next pass
 * (no restart). A clerk's subscription gets its own authority's events; an operator's, every
 * event or one authority's. Secrets are sealed at rest and shown once.
 */
@Injectable()
export class WebhookSubscriptions {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: WebhookRepository,
    private readonly events: EventRepository,
    private readonly seals: SenderCopies,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async create(principal: Principal, input: SubscriptionInput): Promise<SubscriptionView> {
    const url = await this.checkUrl(input.url);
    const eventTypes = this.checkTypes(input.eventTypes);
    const authority = this.authorityFor(principal, input.authority);
    const secret = this.checkSecret(input.secret) ?? newWebhookSecret();
    const now = this.clock.now();
    const row = {
      id: uuidV7(now.getTime()),
      url: url.toString(),
      eventTypes,
      authority,
      sealedSecrets: [await this.seals.sealNote(secret)],
      // From now on: a new subscription is sent what happens after it was made.
      cursorSeq: await this.events.latestSeq(),
      createdBy: principal.id,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.create(row);
    await this.record(principal, `webhook create ${row.id}`, url.host);
    return { ...this.viewOf({ ...row, ...FRESH }), secret };
  }

  async list(principal: Principal): Promise<SubscriptionView[]> {
    const rows = await this.store.list(this.scopeOf(principal));
    return rows.map((row) => this.viewOf(row));
  }

  async get(principal: Principal, id: string): Promise<SubscriptionView> {
    return this.viewOf(await this.require(principal, id));
  }

  async update(
    principal: Principal,
    id: string,
    input: SubscriptionInput,
  ): Promise<SubscriptionView> {
    const current = await this.require(principal, id);
    if (input.authority !== undefined) {
      throw new BadRequestException('authority cannot be changed: make a new subscription');
    }
    const url = input.url === undefined ? undefined : (await this.checkUrl(input.url)).toString();
    const eventTypes =
      input.eventTypes === undefined ? undefined : this.checkTypes(input.eventTypes);
    const secret = input.secret === undefined ? undefined : this.checkSecret(input.secret)!;
    const sealedSecrets =
      secret === undefined
        ? undefined
        : [
            await this.seals.sealNote(secret),
            ...(input.keepPreviousSecret ? current.sealedSecrets.slice(0, 1) : []),
          ];
    await this.store.update(
      id,
      { url, eventTypes, sealedSecrets, active: input.active },
      this.clock.now(),
    );
    await this.record(principal, `webhook update ${id}`, Object.keys(input).sort().join(','));
    return this.viewOf(await this.require(principal, id));
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.require(principal, id);
    await this.store.remove(id);
    await this.record(principal, `webhook delete ${id}`, '');
  }

  async deadLetters(principal: Principal): Promise<DeadLetterRow[]> {
    return this.store.deadLetters(this.scopeOf(principal));
  }

  /** The secrets in clear, for signing (newest first). */
  async secretsOf(row: WebhookSubscriptionRow): Promise<string[]> {
    const secrets: string[] = [];
    for (const sealed of row.sealedSecrets) {
      let secret = this.opened.get(sealed);
      if (secret === undefined) {
        secret = (await this.seals.openNote(sealed)) ?? undefined;
        if (secret === undefined) continue;
        // Opened once per process, not on every delivery pass; bounded.
        if (this.opened.size >= 1000) this.opened.clear();
        this.opened.set(sealed, secret);
      }
      secrets.push(secret);
    }
    return secrets;
  }

  /** Secrets already opened, by their sealed form (they change only with the sealed form). */
  private readonly opened = new Map<string, string>();

  async require(principal: Principal, id: string): Promise<WebhookSubscriptionRow> {
    const row = await this.store.get(id);
    const scope = this.scopeOf(principal);
    if (!row || (scope !== null && row.authority !== scope)) {
      throw new NotFoundException(`no webhook subscription ${id}`);
    }
    return row;
  }

  private scopeOf(principal: Principal): string | null {
    return principal.role === 'clerk' ? principal.authority : null;
  }

  private authorityFor(principal: Principal, requested: string | null | undefined): string | null {
    if (principal.role === 'clerk') {
      if (requested !== undefined && requested !== principal.authority) {
        throw new ForbiddenException('a clerk subscribes to its own authority only');
      }
      return principal.authority;
    }
    return requested ?? null;
  }

  private async checkUrl(raw: string | undefined) {
    if (typeof raw !== 'string') throw new BadRequestException('url is required');
    try {
      const url = checkEndpointUrl(raw, this.policy);
      await checkEndpointReachable(url, this.policy);
      return url;
    } catch (error) {
      if (error instanceof WebhookEndpointError) throw new BadRequestException(error.message);
      throw new BadRequestException(`url: ${(error as Error).message}`);
    }
  }

  private checkTypes(types: string[] | undefined): EventType[] {
    if (!Array.isArray(types) || types.length === 0) {
      throw new BadRequestException('eventTypes must list at least one event type');
    }
    const unknown = types.filter((type) => !isEventType(type));
    if (unknown.length > 0) {
      throw new BadRequestException(`eventTypes: not an event type: ${unknown.join(', ')}`);
    }
    return [...new Set(types as EventType[])];
  }

  private checkSecret(secret: string | undefined): string | undefined {
    if (secret === undefined) return undefined;
    try {
      webhookSecretKey(secret);
      return secret;
    } catch (error) {
      if (error instanceof WebhookSecretError)
        throw new BadRequestException(`secret: ${error.message}`);
      throw error;
    }
  }

  private get policy() {
    return {
      environment: this.config.environment,
      allowedHosts: this.config.webhooks.allowedHosts,
    };
  }

  /** An operator's or clerk's redelivery of a dead letter, for the audit log. */
  recordRedelivery(principal: Principal, letterId: string, outcome: string): Promise<void> {
    return this.record(principal, `webhook redeliver ${letterId}`, outcome);
  }

  private record(principal: Principal, action: string, reason: string): Promise<void> {
    return this.audit.action({
      principal: principal.id,
      role: principal.role,
      action,
      outcome: 'done',
      reason,
    });
  }

  private viewOf(row: WebhookSubscriptionRow): SubscriptionView {
    return {
      id: row.id,
      url: row.url,
      eventTypes: row.eventTypes,
      authority: row.authority,
      active: row.active,
      disabledReason: row.disabledReason,
      deliveredUpTo: row.cursorSeq,
      failing: row.failingSince
        ? {
            since: row.failingSince.toISOString(),
            attempts: row.attempts,
            nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
            lastError: row.lastError,
          }
        : null,
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}

const FRESH = {
  active: true,
  disabledReason: null,
  attempts: 0,
  failingSince: null,
  nextAttemptAt: null,
  lastError: null,
  alerted: false,
} as const;
