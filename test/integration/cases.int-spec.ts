import { randomInt } from 'node:crypto';
import { NO_TIME_FRAME_POLICY, uuidV7 } from '@comity/protocol';
import { CaseKeeper } from '../../apps/gateway/src/cases/case-keeper.service';
import type { Clock } from '../../apps/gateway/src/common/clock';
import type { GatewayConfig } from '../../apps/gateway/src/config/gateway-config';
import { DeliveryMetrics } from '../../apps/gateway/src/observability/delivery-metrics';
import type { FederationTrust } from '../../apps/gateway/src/trust/federation-trust';
import { migratedDatabase, type MigratedDatabase } from '../support/migrated-database';
import { repositoriesOf, type Repositories } from '../support/repositories';

const DAY = 86_400_000;

interface Seeded {
  direction: 'outbound' | 'inbound';
  state: string;
  kind: string;
  caseState: string;
  outcome: string | null;
  openedAt: Date;
  acknowledgedAt: Date | null;
  outcomeAt: Date | null;
  grounds: string[];
  partial: number;
  nextDueAt: Date | null;
}

describe('cases in PostgreSQL: overdue steps under a controlled clock, statistics', () => {
  let database: MigratedDatabase;
  let repositories: Repositories;

  beforeAll(async () => {
    database = await migratedDatabase('comity_cases');
    repositories = repositoriesOf(database.dataSource);
  }, 60_000);

  afterAll(async () => {
    await database?.dispose();
  });

  async function seed(item: Seeded): Promise<string> {
    const id = uuidV7(item.openedAt.getTime());
    await database.dataSource.query(
      `INSERT INTO case_file (id, direction, kind, local_authority, counterpart_state, counterpart_authority, urgency,
                              state, next_step, next_due_at, opened_at, acknowledged_at, outcome, outcome_at,
                              refusal_grounds, partial_executions, last_message_at)
       VALUES ($1, $2, $3, 'at-central-authority', $4, 'x-central-authority', 'routine', $5, $6, $7, $8, $9, $10, $11,
               $12, $13, $8)`,
      [
        id,
        item.direction,
        item.kind,
        item.state,
        item.caseState,
        item.nextDueAt ? 'execute' : null,
        item.nextDueAt,
        item.openedAt,
        item.acknowledgedAt,
        item.outcome,
        item.outcomeAt,
        item.grounds,
        item.partial,
      ],
    );
    return id;
  }

  it('marks a step overdue once it is past due, once, with an event and the gauge', async () => {
    let now = new Date('2027-01-10T00:00:00Z');
    const metrics = new DeliveryMetrics();
    const keeper = new CaseKeeper(
      { delivery: { caseSweepIntervalMs: 1000 } } as GatewayConfig,
      repositories.cases,
      repositories.unitOfWork,
      {
        state: 'AT',
        directory: { policy: { timeFrames: NO_TIME_FRAME_POLICY } },
      } as unknown as FederationTrust,
      { now: () => now } as Clock,
      metrics,
    );
    const base = {
      direction: 'outbound' as const,
      state: 'FR',
      kind: 'mla_request',
      caseState: 'in_progress',
      outcome: null,
      openedAt: new Date('2027-01-01T00:00:00Z'),
      acknowledgedAt: null,
      outcomeAt: null,
      grounds: [],
      partial: 0,
    };
    const soon = await seed({ ...base, nextDueAt: new Date('2027-01-12T00:00:00Z') });
    const later = await seed({ ...base, state: 'KE', nextDueAt: new Date('2027-02-01T00:00:00Z') });
    expect((await keeper.sweep()).overdue).toBe(0);
    now = new Date('2027-01-12T00:00:01Z');
    expect((await keeper.sweep()).overdue).toBe(1);
    expect((await keeper.sweep()).overdue).toBe(0); // once
    expect((await repositories.cases.find(soon))?.overdueSince).toEqual(now);
    expect((await repositories.cases.find(later))?.overdueSince).toBeNull();
    expect(await repositories.cases.events(soon)).toEqual([
      { type: 'overdue', step: 'execute', at: now, detail: 'due 2027-01-12T00:00:00Z' },
    ]);
    const exposition = await metrics.registry.getSingleMetricAsString('comity_cases_overdue');
    expect(exposition).toContain(
      'comity_cases_overdue{peer="FR",kind="mla_request",step="execute"} 1',
    );
    expect(exposition).not.toContain('peer="KE"');
    // The overdue filter of the list.
    const overdue = await repositories.cases.list({ overdue: true, limit: 10 });
    expect(overdue.map((row) => row.id)).toEqual([soon]);
  });

  it('gives statistics equal to figures computed here from a seeded set of 400 cases', async () => {
    await database.dataSource.query(`DELETE FROM case_event`);
    await database.dataSource.query(`DELETE FROM case_file`);
    const seeded: Seeded[] = [];
    const grounds = ['dual-criminality', 'ne-bis-in-idem', 'other'];
    for (let index = 0; index < 400; index += 1) {
      const openedAt = new Date(Date.parse('2026-01-01T00:00:00Z') + randomInt(0, 365) * DAY);
      const outcome = [null, 'executed', 'refused', 'withdrawn'][randomInt(0, 4)]!;
      const acknowledgedAt = randomInt(0, 3)
        ? new Date(openedAt.getTime() + (randomInt(1, 20) * DAY) / 2)
        : null;
      const item: Seeded = {
        direction: randomInt(0, 2) ? 'outbound' : 'inbound',
        state: ['FR', 'KE', 'DE'][randomInt(0, 3)]!,
        kind: ['mla_request', 'extradition_request'][randomInt(0, 2)]!,
        caseState:
          outcome ?? ['awaiting_acknowledgement', 'in_progress', 'postponed'][randomInt(0, 3)]!,
        outcome,
        openedAt,
        acknowledgedAt,
        outcomeAt: outcome ? new Date(openedAt.getTime() + randomInt(1, 200) * DAY) : null,
        grounds: outcome === 'refused' ? grounds.slice(0, randomInt(1, 4)) : [],
        partial: randomInt(0, 3) === 0 ? 1 : 0,
        nextDueAt: null,
      };
      seeded.push(item);
      await seed(item);
    }
    const from = '2026-03-01';
    const to = '2026-10-01';
    const inPeriod = seeded.filter(
      (item) =>
        item.openedAt >= new Date(from) &&
        item.openedAt < new Date(to) &&
        item.direction === 'inbound',
    );
    const lines = await repositories.caseStatistics.lines({ from, to, direction: 'inbound' });
    const total = lines.find((line) => line.counterpartState === null)!;
    const percentile = (values: number[], p: number): number | null => {
      if (values.length === 0) return null;
      const sorted = [...values].sort((a, b) => a - b);
      const position = (sorted.length - 1) * p;
      const low = Math.floor(position);
      const high = Math.ceil(position);
      const value = sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
      return Math.round(value * 100) / 100;
    };
    const ackDays = inPeriod
      .filter((item) => item.acknowledgedAt)
      .map((item) => (item.acknowledgedAt!.getTime() - item.openedAt.getTime()) / DAY);
    const execDays = inPeriod
      .filter((item) => item.outcome === 'executed')
      .map((item) => (item.outcomeAt!.getTime() - item.openedAt.getTime()) / DAY);
    expect(total).toEqual({
      direction: 'inbound',
      counterpartState: null,
      kind: null,
      requests: inPeriod.length,
      pending: inPeriod.filter((item) => item.outcome === null).length,
      overdue: 0,
      executed: inPeriod.filter((item) => item.outcome === 'executed').length,
      partiallyExecuted: inPeriod.filter((item) => item.partial > 0 && item.outcome !== 'executed')
        .length,
      refused: inPeriod.filter((item) => item.outcome === 'refused').length,
      withdrawn: inPeriod.filter((item) => item.outcome === 'withdrawn').length,
      acknowledgeDaysMedian: percentile(ackDays, 0.5),
      acknowledgeDaysP90: percentile(ackDays, 0.9),
      executeDaysMedian: percentile(execDays, 0.5),
      executeDaysP90: percentile(execDays, 0.9),
    });
    const frMla = lines.find(
      (line) => line.counterpartState === 'FR' && line.kind === 'mla_request',
    )!;
    expect(frMla.requests).toBe(
      inPeriod.filter((item) => item.state === 'FR' && item.kind === 'mla_request').length,
    );
    const byGround = await repositories.caseStatistics.refusalGrounds({
      from,
      to,
      direction: 'inbound',
    });
    for (const ground of grounds) {
      const expected = inPeriod.filter((item) => item.grounds.includes(ground)).length;
      expect(byGround.find((row) => row.ground === ground)?.count ?? 0).toBe(expected);
    }
  });
});
