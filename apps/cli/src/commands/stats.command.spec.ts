import type { StatisticsLine } from '../gateway-client';
import { formatDays, formatStatistics, statisticsQuery } from './stats.command';

const line = (overrides: Partial<StatisticsLine>): StatisticsLine => ({
  direction: 'outbound',
  counterpartState: 'FR',
  kind: 'mla_request',
  requests: 12,
  pending: 3,
  overdue: 1,
  executed: 7,
  partiallyExecuted: 1,
  refused: 1,
  withdrawn: 0,
  acknowledgeDaysMedian: 2.25,
  acknowledgeDaysP90: 6,
  executeDaysMedian: 41.04,
  executeDaysP90: null,
  ...overrides,
});

describe('statisticsQuery', () => {
  it('keeps only what was given and checks the dates', () => {
    expect(statisticsQuery({ from: '2026-01-01', state: 'fr', direction: 'inbound' })).toEqual({
      from: '2026-01-01',
      state: 'FR',
      direction: 'inbound',
    });
    expect(statisticsQuery({})).toEqual({});
    expect(() => statisticsQuery({ to: '2027' })).toThrow(
      '--to must be a date (YYYY-MM-DD), not 2027',
    );
  });
});

describe('formatDays', () => {
  it('rounds to a tenth', () => {
    expect(formatDays(2.25)).toBe('2.3');
    expect(formatDays(6)).toBe('6.0');
    expect(formatDays(null)).toBeNull();
  });
});

describe('formatStatistics', () => {
  it('prints a line per direction, State and kind, "all" on totals, then refusal grounds', () => {
    expect(
      formatStatistics({
        generatedAt: '2026-11-29T01:00:00.000Z',
        lines: [
          line({}),
          line({ counterpartState: null, kind: null, requests: 120, executeDaysP90: 88.5 }),
        ],
        refusalGrounds: [{ direction: 'outbound', ground: 'dual-criminality', count: 1 }],
      }).split('\n'),
    ).toEqual([
      '                               CASES                       OUTCOMES                               ACK DAYS     EXEC DAYS',
      'DIRECTION  STATE  KIND         REQUESTS  PENDING  OVERDUE  EXECUTED  PARTIAL  REFUSED  WITHDRAWN  MEDIAN  P90  MEDIAN   P90',
      'outbound   FR     mla_request        12        3        1         7        1        1          0     2.3  6.0    41.0     -',
      'outbound   all    all               120        3        1         7        1        1          0     2.3  6.0    41.0  88.5',
      '',
      'refusal grounds:',
      '  DIRECTION  GROUND            COUNT',
      '  outbound   dual-criminality      1',
      '',
      'as of 2026-11-29 01:00:00Z',
    ]);
  });

  it('says when there is nothing', () => {
    expect(
      formatStatistics({ generatedAt: '2026-11-29T01:00:00.000Z', lines: [], refusalGrounds: [] }),
    ).toBe('No cases in this period (as of 2026-11-29 01:00:00Z).');
  });
});
