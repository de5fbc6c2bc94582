import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { OperationsOverview, type OperationsSnapshot } from './operations-overview.service';
import { DeliveryMetrics } from '../observability/delivery-metrics';

/** Prometheus exposition. Scraped with an operator's or auditor's API key as bearer token. */
@ApiTags('operations')
@ApiBearerAuth()
@Roles('operator', 'auditor')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly overview: OperationsOverview,
    private readonly delivery: DeliveryMetrics,
  ) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics: messages, latency, queues, quarantine, expiry' })
  async metrics(): Promise<string> {
    const snapshot = await this.overview.snapshot();
    return `${renderSnapshot(snapshot)}${await this.delivery.registry.metrics()}`;
  }
}

type Sample = [labels: Record<string, string>, value: number];

/** The stored state of the node as Prometheus gauges. Pure, for unit tests. */
export function renderSnapshot(snapshot: OperationsSnapshot): string {
  const families: Array<{ name: string; help: string; samples: Sample[] }> = [];
  const family = (name: string, help: string, samples: Sample[]) =>
    families.push({ name, help, samples });
  const ageSeconds = (since: Date | null) =>
    since ? Math.max(0, (snapshot.at.getTime() - since.getTime()) / 1000) : 0;

  family('comity_up', 'Whether a component this node depends on is available (1) or not (0)', [
    [{ component: 'database' }, snapshot.components.database === 'up' ? 1 : 0],
    [{ component: 'broker' }, snapshot.components.broker === 'up' ? 1 : 0],
    [{ component: 'inbox' }, snapshot.components.inbox === 'consuming' ? 1 : 0],
    [{ component: 'directory' }, snapshot.components.directory.status === 'valid' ? 1 : 0],
  ]);
  family(
    'comity_messages',
    'Messages stored by this node, by direction, peer State and status',
    snapshot.peers.flatMap((peer) => [
      ...Object.entries(peer.sent).map(([status, count]): Sample => [
        { direction: 'outbound', peer: peer.state, status },
        count,
      ]),
      ...Object.entries(peer.received).map(([status, count]): Sample => [
        { direction: 'inbound', peer: peer.state, status },
        count,
      ]),
    ]),
  );
  family(
    'comity_awaiting_receipt',
    'Messages sent and not yet answered by a receipt, per peer State',
    snapshot.peers.map((peer) => [{ peer: peer.state }, peer.awaitingReceipt.count]),
  );
  family(
    'comity_awaiting_receipt_oldest_seconds',
    'Age of the oldest message awaiting a receipt, per peer State (0 if none)',
    snapshot.peers.map((peer) => [
      { peer: peer.state },
      ageSeconds(peer.awaitingReceipt.oldestSince),
    ]),
  );
  family(
    'comity_retransmissions',
    'Retransmissions of envelopes whose receipt was late, per peer State (since the database was created)',
    snapshot.peers.map((peer) => [{ peer: peer.state }, peer.retransmissions]),
  );
  family('comity_receipts_overdue', 'Messages past their receipt deadline', [
    [{}, snapshot.overdueReceipts.count],
  ]);
  family(
    'comity_queue_messages',
    "Messages ready in this State's broker queues (-1 when the broker cannot be asked)",
    snapshot.queues.map((queue) => [{ queue: queue.name, role: queue.role }, queue.messages ?? -1]),
  );
  family(
    'comity_queue_consumers',
    "Consumers of this State's broker queues (-1 when the broker cannot be asked)",
    snapshot.queues.map((queue) => [
      { queue: queue.name, role: queue.role },
      queue.consumers ?? -1,
    ]),
  );
  family('comity_outbox_backlog', 'Envelopes and receipts waiting in the outbox to be published', [
    [{}, snapshot.outbox.backlog],
  ]);
  family('comity_quarantine_held', 'Messages held in quarantine awaiting an operator', [
    [{}, snapshot.quarantineHeld],
  ]);
  family(
    'comity_certificate_expiry_timestamp_seconds',
    'When each certificate this node relies on expires (Unix time)',
    snapshot.certificates.map((certificate) => [
      { state: certificate.state, use: certificate.use, subject: certificate.subject },
      Math.floor(certificate.notAfter.getTime() / 1000),
    ]),
  );
  family('comity_directory_expiry_timestamp_seconds', 'When the directory in force expires', [
    [{}, Math.floor(Date.parse(snapshot.components.directory.expires) / 1000)],
  ]);
  family('comity_directory_version', 'Version of the directory in force', [
    [{}, snapshot.components.directory.version],
  ]);
  const alerts = new Map<string, Sample>();
  for (const alert of snapshot.alerts) {
    const key = `${alert.code}/${alert.severity}`;
    const sample = alerts.get(key) ?? [{ code: alert.code, severity: alert.severity }, 0];
    sample[1] += 1;
    alerts.set(key, sample);
  }
  family('comity_alerts', 'Alerts raised now, by code and severity', [...alerts.values()]);

  return families
    .map(({ name, help, samples }) =>
      [
        `# HELP ${name} ${help}`,
        `# TYPE ${name} gauge`,
        ...samples.map(([labels, value]) => `${name}${labelsOf(labels)} ${value}`),
      ].join('\n'),
    )
    .join('\n')
    .concat('\n');
}

function labelsOf(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escape = (value: string) =>
    value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${entries.map(([key, value]) => `${key}="${escape(value)}"`).join(',')}}`;
}
