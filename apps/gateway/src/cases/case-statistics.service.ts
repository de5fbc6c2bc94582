import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { authorityScope } from '../auth/scope';
import { Clock } from '../common/clock';
import {
  CaseStatisticsRepository,
  type StatisticsLine,
  type StatisticsMonth,
} from '../persistence/case-statistics.repository';
import type { StatisticsQueryDto } from './cases.dto';

export interface StatisticsReport {
  generatedAt: string;
  filter: Omit<StatisticsQueryDto, 'format'>;
  lines: StatisticsLine[];
  /** Requests opened per month (UTC) and direction, for the charts. */
  months: StatisticsMonth[];
  refusalGrounds: Array<{ direction: string; ground: string; count: number }>;
}

const CSV_COLUMNS: Array<keyof StatisticsLine> = [
  'direction',
  'counterpartState',
  'kind',
  'requests',
  'pending',
  'overdue',
  'executed',
  'partiallyExecuted',
  'refused',
  'withdrawn',
  'acknowledgeDaysMedian',
  'acknowledgeDaysP90',
  'executeDaysMedian',
  'executeDaysP90',
];

/** The figures of `docs/cases.md` ("Statistics"): per direction, counterpart State and kind. */
@Injectable()
export class CaseStatistics {
  constructor(
    private readonly statistics: CaseStatisticsRepository,
    private readonly clock: Clock,
  ) {}

  /** A clerk's report covers their authority's cases; an operator's or auditor's, the node's. */
  async report(query: StatisticsQueryDto, principal: Principal): Promise<StatisticsReport> {
    const filter = {
      localAuthority: authorityScope(principal),
      from: query.from,
      to: query.to,
      direction: query.direction,
      counterpartState: query.state,
      kind: query.kind,
    };
    const [lines, months, refusalGrounds] = await Promise.all([
      this.statistics.lines(filter),
      this.statistics.months(filter),
      this.statistics.refusalGrounds(filter),
    ]);
    const echo: Omit<StatisticsQueryDto, 'format'> = { ...query };
    delete (echo as StatisticsQueryDto).format;
    return {
      generatedAt: this.clock.now().toISOString(),
      filter: echo,
      lines,
      months,
      refusalGrounds,
    };
  }

  /** The same lines as CSV (RFC 4180); a total line has empty State and kind. */
  static csv(report: StatisticsReport): string {
    const cell = (value: unknown): string => {
      const text = value === null || value === undefined ? '' : String(value);
      return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    };
    return [
      CSV_COLUMNS.join(','),
      ...report.lines.map((line) => CSV_COLUMNS.map((column) => cell(line[column])).join(',')),
    ]
      .map((row) => `${row}\r\n`)
      .join('');
  }
}
