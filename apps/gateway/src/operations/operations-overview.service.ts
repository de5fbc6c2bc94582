import type { X509Certificate } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { UnitOfWork } from '../persistence/database';
import { CaseRepository } from '../persistence/case.repository';
import { QuarantineRepository } from '../persistence/quarantine.repository';
import { TrafficRepository, type PeerCounts } from '../persistence/traffic.repository';
import { WebhookRepository } from '../persistence/webhook.repository';
import {
  MESSAGE_TRANSPORT,
  type MessageTransport,
  type QueueStatus,
} from '../transport/message-transport';
import { FederationTrust } from '../trust/federation-trust';

/** Certificates and the directory expiring sooner than this raise an alert. */
export const EXPIRY_WARNING_MS = 30 * 24 * 3600 * 1000;
/** The overview is computed at most this often, however many consoles and scrapers ask. */
const SNAPSHOT_MAX_AGE_MS = 250;

export interface Alert {
  severity: 'critical' | 'warning';
  code:
    | 'database-down'
    | 'broker-down'
    | 'inbox-stopped'
    | 'directory-expired'
    | 'directory-expiring'
    | 'certificate-expiring'
    | 'receipt-overdue'
    | 'delivery-failed'
    | 'quarantine-held'
    | 'case-overdue'
    | 'webhook-failing'
    | 'webhook-dead-letters';
  message: string;
}

export interface CertificateExpiry {
  state: string;
  use: 'signing' | 'encryption' | 'ca' | 'trust-anchor';
  subject: string;
  notAfter: Date;
}

export interface OperationsSnapshot {
  state: string;
  at: Date;
  components: {
    database: 'up' | 'down';
    broker: 'up' | 'down';
    inbox: 'consuming' | 'stopped';
    directory: { status: 'valid' | 'expired'; version: number; expires: string };
  };
  queues: QueueStatus[];
  outbox: { backlog: number; oldestSince: Date | null };
  peers: PeerCounts[];
  quarantineHeld: number;
  overdueReceipts: { count: number; oldestSince: Date | null };
  failedLastDay: number;
  /** Open cases whose next step is past its due date, by counterpart State and step. */
  overdueCases: Array<{ counterpartState: string; kind: string; step: string; count: number }>;
  certificates: CertificateExpiry[];
  /** Webhook endpoints alerted as failing for long, and events given up (not yet redelivered). */
  webhooks: { alerted: number; deadLetters: number };
  alerts: Alert[];
}

/**
 * What an operator watches: components, queues, per-peer traffic and the alerts derived from
 * them. Metadata only. Shared by the console, the CLI (`comity queues`) and `/metrics`.
 */
@Injectable()
export class OperationsOverview {
  private cached: { at: number; snapshot: Promise<OperationsSnapshot> } | null = null;

  constructor(
    private readonly database: UnitOfWork,
    private readonly traffic: TrafficRepository,
    private readonly quarantine: QuarantineRepository,
    private readonly cases: CaseRepository,
    private readonly webhooks: WebhookRepository,
    @Inject(MESSAGE_TRANSPORT) private readonly transport: MessageTransport,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {}

  snapshot(): Promise<OperationsSnapshot> {
    const now = this.clock.now().getTime();
    if (!this.cached || now - this.cached.at > SNAPSHOT_MAX_AGE_MS) {
      this.cached = { at: now, snapshot: this.compute() };
    }
    return this.cached.snapshot;
  }

  private async compute(): Promise<OperationsSnapshot> {
    const now = this.clock.now();
    const database = await this.database
      .ping()
      .then(() => 'up' as const)
      .catch(() => 'down' as const);
    const fromDatabase = async <T>(query: () => Promise<T>, fallback: T): Promise<T> =>
      database === 'up' ? query().catch(() => fallback) : fallback;
    const [
      queues,
      outbox,
      peers,
      quarantineHeld,
      overdueReceipts,
      failedLastDay,
      overdueCases,
      webhooks,
    ] = await Promise.all([
      this.transport.queueDepths(),
      fromDatabase(() => this.traffic.outboxBacklog(), { backlog: 0, oldest: null }),
      fromDatabase(() => this.traffic.peerCounts(now), []),
      fromDatabase(() => this.quarantine.countQuarantined(), 0),
      fromDatabase(() => this.traffic.overdueReceipts(now), { count: 0, oldestSince: null }),
      fromDatabase(() => this.traffic.failuresSince(new Date(now.getTime() - 86_400_000)), 0),
      fromDatabase(() => this.cases.overdueCounts(), []),
      fromDatabase(() => this.webhooks.deliveryHealth(), {
        failing: 0,
        alerted: 0,
        disabled: 0,
        deadLetters: 0,
      }),
    ]);
    const { version, expires } = this.trust.directory.validity;
    const snapshot: OperationsSnapshot = {
      state: this.trust.state,
      at: now,
      components: {
        database,
        broker: this.transport.isConnected ? 'up' : 'down',
        inbox: this.transport.isConsuming ? 'consuming' : 'stopped',
        directory: {
          status: Date.parse(expires) > now.getTime() ? 'valid' : 'expired',
          version,
          expires,
        },
      },
      queues,
      outbox: { backlog: outbox.backlog, oldestSince: outbox.oldest },
      peers,
      quarantineHeld,
      overdueReceipts,
      failedLastDay,
      overdueCases,
      certificates: this.certificates(),
      webhooks: { alerted: webhooks.alerted, deadLetters: webhooks.deadLetters },
      alerts: [],
    };
    snapshot.alerts = alertsOf(snapshot, now);
    return snapshot;
  }

  /** This node's certificates, the trust anchor's, and every State's in the directory. */
  private certificates(): CertificateExpiry[] {
    const entry = (
      state: string,
      use: CertificateExpiry['use'],
      certificate: X509Certificate,
    ): CertificateExpiry => ({
      state,
      use,
      subject: certificate.subject.replace(/\n/g, ', '),
      notAfter: new Date(certificate.validTo),
    });
    const own = this.trust.credentials;
    const list = [
      entry(own.state, 'signing', own.signingChain[0]!),
      entry(own.state, 'encryption', own.encryptionCertificate),
      ...this.trust.anchors.map((anchor) => entry('*', 'trust-anchor', anchor)),
    ];
    for (const state of this.trust.directory.allStates()) {
      if (state.code === own.state) continue;
      for (const certificate of state.signingCertificates)
        list.push(entry(state.code, 'signing', certificate));
      for (const certificate of state.encryptionCertificates)
        list.push(entry(state.code, 'encryption', certificate));
    }
    return list;
  }
}

const days = (ms: number): string => `${Math.max(0, Math.floor(ms / 86_400_000))} day(s)`;
const age = (since: Date, now: Date): string => {
  const seconds = Math.max(0, Math.round((now.getTime() - since.getTime()) / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
};

/** The alerts an operator must see before a clerk notices anything. Pure, for unit tests. */
export function alertsOf(snapshot: Omit<OperationsSnapshot, 'alerts'>, now: Date): Alert[] {
  const alerts: Alert[] = [];
  const { components } = snapshot;
  if (components.database === 'down') {
    alerts.push({
      severity: 'critical',
      code: 'database-down',
      message: 'The database is unreachable: submits answer 503 and nothing is received.',
    });
  }
  if (components.broker === 'down') {
    alerts.push({
      severity: 'critical',
      code: 'broker-down',
      message: 'The broker is unreachable: requests are kept in the outbox until it returns.',
    });
  }
  if (components.inbox === 'stopped' && components.broker === 'up') {
    alerts.push({
      severity: 'critical',
      code: 'inbox-stopped',
      message: 'The inbox is not being consumed: nothing is received.',
    });
  }
  const directoryLeft = Date.parse(components.directory.expires) - now.getTime();
  if (directoryLeft <= 0) {
    alerts.push({
      severity: 'critical',
      code: 'directory-expired',
      message: `The directory (version ${components.directory.version}) expired at ${components.directory.expires}: sign and publish a new edition.`,
    });
  } else if (directoryLeft < EXPIRY_WARNING_MS) {
    alerts.push({
      severity: 'warning',
      code: 'directory-expiring',
      message: `The directory (version ${components.directory.version}) expires in ${days(directoryLeft)}.`,
    });
  }
  for (const certificate of snapshot.certificates) {
    const left = certificate.notAfter.getTime() - now.getTime();
    if (left < EXPIRY_WARNING_MS) {
      alerts.push({
        severity: left <= 0 || certificate.state === snapshot.state ? 'critical' : 'warning',
        code: 'certificate-expiring',
        message:
          left <= 0
            ? `The ${certificate.use} certificate of ${certificate.state} (${certificate.subject}) has expired.`
            : `The ${certificate.use} certificate of ${certificate.state} (${certificate.subject}) expires in ${days(left)}.`,
      });
    }
  }
  if (snapshot.overdueReceipts.count > 0) {
    alerts.push({
      severity: 'warning',
      code: 'receipt-overdue',
      message: `${snapshot.overdueReceipts.count} message(s) past their receipt deadline${
        snapshot.overdueReceipts.oldestSince
          ? `, the oldest sent ${age(snapshot.overdueReceipts.oldestSince, now)} ago`
          : ''
      }; they are being retransmitted.`,
    });
  }
  if (snapshot.failedLastDay > 0) {
    alerts.push({
      severity: 'critical',
      code: 'delivery-failed',
      message: `${snapshot.failedLastDay} message(s) failed in the last 24 hours (expired without a receipt): retry them or inform the clerks.`,
    });
  }
  if (snapshot.quarantineHeld > 0) {
    alerts.push({
      severity: 'warning',
      code: 'quarantine-held',
      message: `${snapshot.quarantineHeld} message(s) held in quarantine: release or discard them.`,
    });
  }
  const overdue = snapshot.overdueCases.reduce((sum, group) => sum + group.count, 0);
  if (overdue > 0) {
    const groups = [...snapshot.overdueCases]
      .sort((a, b) => b.count - a.count)
      .slice(0, 3)
      .map(
        (group) =>
          `${group.count} to ${group.step.replaceAll('_', ' ')} (${group.counterpartState})`,
      );
    alerts.push({
      severity: 'warning',
      code: 'case-overdue',
      message: `${overdue} case step(s) overdue: ${groups.join(', ')}${snapshot.overdueCases.length > 3 ? ' and more' : ''}. Clerks see them in their case lists.`,
    });
  }
  if (snapshot.webhooks.alerted > 0) {
    alerts.push({
      severity: 'critical',
      code: 'webhook-failing',
      message: `${snapshot.webhooks.alerted} webhook endpoint(s) keep failing: their national systems receive nothing until they answer again (see the webhook subscriptions).`,
    });
  }
  if (snapshot.webhooks.deadLetters > 0) {
    alerts.push({
      severity: 'warning',
      code: 'webhook-dead-letters',
      message: `${snapshot.webhooks.deadLetters} webhook event(s) given up after the retry period: redeliver them once the endpoint works.`,
    });
  }
  return alerts;
}
