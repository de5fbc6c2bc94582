import type { StatisticsReport } from '../gateway-client';
import { UsageError } from './exit-codes';
import { formatTime, renderTable } from './queues.command';

export interface StatsOptions {
  from?: string;
  to?: string;
  direction?: string;
  state?: string;
  kind?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Query parameters of GET /v1/statistics from `comity stats` options (unset ones left out). */
export function statisticsQuery(options: StatsOptions): Record<string, string> {
  const query: Record<string, string> = {};
  for (const field of ['from', 'to'] as const) {
    const value = options[field];
    if (value === undefined) continue;
    if (!DATE.test(value))
      throw new UsageError(`--${field} must be a date (YYYY-MM-DD), not ${value}`);
    query[field] = value;
  }
  if (options.direction) query.direction = options.direction;
  if (options.state) query.state = options.state.toUpperCase();
  if (options.kind) query.kind = options.kind;
  return query;
}

/** Days with one decimal ("-" when there is nothing to measure). */
export function formatDays(days: number | null): string | null {
  return days === null ? null : (Math.round(days * 10) / 10).toFixed(1);
}

/**
 * The statistics as a table: one line per direction, counterpart State and kind ("all" on the
 * total lines), then the refusal grounds counted.
 */
export function formatStatistics(report: StatisticsReport): string {
  if (report.lines.length === 0)
    return `No cases in this period (as of ${formatTime(report.generatedAt)}).`;
  const lines = renderTable(
    [
      { header: 'DIRECTION' },
      { header: 'STATE' },
      { header: 'KIND' },
      { header: 'REQUESTS', align: 'right', group: 'CASES' },
      { header: 'PENDING', align: 'right', group: 'CASES' },
      { header: 'OVERDUE', align: 'right', group: 'CASES' },
      { header: 'EXECUTED', align: 'right', group: 'OUTCOMES' },
      { header: 'PARTIAL', align: 'right', group: 'OUTCOMES' },
      { header: 'REFUSED', align: 'right', group: 'OUTCOMES' },
      { header: 'WITHDRAWN', align: 'right', group: 'OUTCOMES' },
      { header: 'MEDIAN', align: 'right', group: 'ACK DAYS' },
      { header: 'P90', align: 'right', group: 'ACK DAYS' },
      { header: 'MEDIAN', align: 'right', group: 'EXEC DAYS' },
      { header: 'P90', align: 'right', group: 'EXEC DAYS' },
    ],
    report.lines.map((line) => [
      line.direction,
      line.counterpartState ?? 'all',
      line.kind ?? 'all',
      line.requests,
      line.pending,
      line.overdue,
      line.executed,
      line.partiallyExecuted,
      line.refused,
      line.withdrawn,
      formatDays(line.acknowledgeDaysMedian),
      formatDays(line.acknowledgeDaysP90),
      formatDays(line.executeDaysMedian),
      formatDays(line.executeDaysP90),
    ]),
  );
  if (report.refusalGrounds.length > 0) {
    lines.push('', 'refusal grounds:');
    lines.push(
      ...renderTable(
        [{ header: 'DIRECTION' }, { header: 'GROUND' }, { header: 'COUNT', align: 'right' }],
        report.refusalGrounds.map((ground) => [ground.direction, ground.ground, ground.count]),
      ).map((line) => `  ${line}`),
    );
  }
  lines.push('', `as of ${formatTime(report.generatedAt)}`);
  return lines.join('\n');
}
