import { Injectable } from '@nestjs/common';
import { Database } from './database';

export interface StatisticsFilter {
  /** A clerk's figures: the cases of their authority only. */
  localAuthority?: string;
  from?: string;
  to?: string;
  direction?: 'outbound' | 'inbound';
  counterpartState?: string;
  kind?: string;
}

/** One line of the statistics: a (direction, counterpart, kind) group, or a direction's total. */
export interface StatisticsLine {
  direction: 'outbound' | 'inbound';
  /** null on a total line. */
  counterpartState: string | null;
  kind: string | null;
  requests: number;
  pending: number;
  overdue: number;
  executed: number;
  partiallyExecuted: number;
  refused: number;
  withdrawn: number;
  /** Days from the request to its acknowledgement / to its execution: median and 90th percentile. */
  acknowledgeDaysMedian: number | null;
  acknowledgeDaysP90: number | null;
  executeDaysMedian: number | null;
  executeDaysP90: number | null;
}

/** Requests opened in one calendar month (UTC), per direction. */
export interface StatisticsMonth {
  direction: 'outbound' | 'inbound';
  /** YYYY-MM */
  month: string;
  requests: number;
  executed: number;
  refused: number;
  overdue: number;
}

const OPEN = `('awaiting_acknowledgement', 'in_progress', 'awaiting_information', 'postponed', 'partially_executed')`;

/**
 * The published figures of the field (requests per State and kind, outcomes, times), from
 * `case_file` through its covering statistics index. Durations use `date_part` (double
 * precision), not `extract` (numeric, several times slower per row).
 */
@Injectable()
export class CaseStatisticsRepository {
  constructor(private readonly database: Database) {}

  private where(filter: StatisticsFilter): { sql: string; values: unknown[] } {
    const clauses: string[] = [];
    const values: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown): void => {
      values.push(value);
      clauses.push(clause(`$${values.length}`));
    };
    if (filter.localAuthority) add((p) => `local_authority = ${p}`, filter.localAuthority);
    if (filter.from) add((p) => `opened_at >= ${p}::date`, filter.from);
    if (filter.to) add((p) => `opened_at < ${p}::date`, filter.to);
    if (filter.direction) add((p) => `direction = ${p}`, filter.direction);
    if (filter.counterpartState) add((p) => `counterpart_state = ${p}`, filter.counterpartState);
    if (filter.kind) add((p) => `kind = ${p}`, filter.kind);
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values };
  }

  async lines(filter: StatisticsFilter): Promise<StatisticsLine[]> {
    const { sql, values } = this.where(filter);
    const rows = await this.database.query<
      Array<Record<string, string | number | null> & { grouped: number }>
    >(
      `SELECT direction, counterpart_state, kind, GROUPING(counterpart_state, kind) AS grouped,
              count(*)::int AS requests,
              count(*) FILTER (WHERE state IN ${OPEN})::int AS pending,
              count(*) FILTER (WHERE overdue_since IS NOT NULL)::int AS overdue,
              count(*) FILTER (WHERE outcome = 'executed')::int AS executed,
              count(*) FILTER (WHERE partial_executions > 0 AND outcome IS DISTINCT FROM 'executed')::int
                AS partially_executed,
              count(*) FILTER (WHERE outcome = 'refused')::int AS refused,
              count(*) FILTER (WHERE outcome = 'withdrawn')::int AS withdrawn,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', acknowledged_at - opened_at))
                FILTER (WHERE acknowledged_at IS NOT NULL) / 86400 AS ack_median,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY date_part('epoch', acknowledged_at - opened_at))
                FILTER (WHERE acknowledged_at IS NOT NULL) / 86400 AS ack_p90,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', outcome_at - opened_at))
                FILTER (WHERE outcome = 'executed') / 86400 AS exec_median,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY date_part('epoch', outcome_at - opened_at))
                FILTER (WHERE outcome = 'executed') / 86400 AS exec_p90
         FROM case_file ${sql}
        GROUP BY GROUPING SETS ((direction, counterpart_state, kind), (direction))
        ORDER BY direction, GROUPING(counterpart_state, kind), counterpart_state, kind`,
      values,
    );
    const days = (value: string | number | null | undefined): number | null =>
      value === null || value === undefined ? null : Math.round(Number(value) * 100) / 100;
    return rows.map((row) => ({
      direction: row.direction as 'outbound' | 'inbound',
      counterpartState: row.grouped ? null : (row.counterpart_state as string),
      kind: row.grouped ? null : (row.kind as string),
      requests: Number(row.requests),
      pending: Number(row.pending),
      overdue: Number(row.overdue),
      executed: Number(row.executed),
      partiallyExecuted: Number(row.partially_executed),
      refused: Number(row.refused),
      withdrawn: Number(row.withdrawn),
      acknowledgeDaysMedian: days(row.ack_median),
      acknowledgeDaysP90: days(row.ack_p90),
      executeDaysMedian: days(row.exec_median),
      executeDaysP90: days(row.exec_p90),
    }));
  }

  /** The requests of each month (UTC) in which any was opened, per direction, oldest first. */
  async months(filter: StatisticsFilter): Promise<StatisticsMonth[]> {
    const { sql, values } = this.where(filter);
    const rows = await this.database.query<Array<Record<string, string | number>>>(
      `SELECT direction, to_char(date_trunc('month', opened_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
              count(*)::int AS requests,
              count(*) FILTER (WHERE outcome = 'executed')::int AS executed,
              count(*) FILTER (WHERE outcome = 'refused')::int AS refused,
              count(*) FILTER (WHERE overdue_since IS NOT NULL)::int AS overdue
         FROM case_file ${sql}
        GROUP BY 1, 2 ORDER BY 2, 1`,
      values,
    );
    return rows.map((row) => ({
      direction: row.direction as 'outbound' | 'inbound',
      month: String(row.month),
      requests: Number(row.requests),
      executed: Number(row.executed),
      refused: Number(row.refused),
      overdue: Number(row.overdue),
    }));
  }

  /** Refusals by ground (a refusal may give several). */
  async refusalGrounds(
    filter: StatisticsFilter,
  ): Promise<Array<{ direction: string; ground: string; count: number }>> {
    const { sql, values } = this.where(filter);
    return this.database.query(
      `SELECT direction, ground, count(*)::int AS count
         FROM case_file, unnest(refusal_grounds) AS ground
         ${sql ? `${sql} AND` : 'WHERE'} outcome = 'refused'
        GROUP BY direction, ground ORDER BY direction, count DESC, ground`,
      values,
    );
  }
}
