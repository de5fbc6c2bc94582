import type { GatewayClient, OperationsOverview } from '../gateway-client';
import { GatewayApiError } from '../gateway-client';
import {
  CRITICAL_EXIT_CODE,
  describeError,
  formatDuration,
  formatOverview,
  formatTime,
  overviewExitCode,
  renderTable,
  runQueues,
} from './queues.command';

const sample = (): OperationsOverview => ({
  state: 'FR',
  at: '2026-11-29T01:00:00.000Z',
  components: {
    database: 'up',
    broker: 'up',
    inbox: 'consuming',
    directory: { status: 'valid', version: 3, expires: '2026-12-29T01:00:00.000Z' },
  },
  queues: [
    { name: 'comity.inbox.FR', role: 'inbox', messages: 0, consumers: 1 },
    { name: 'comity.quarantine.FR', role: 'quarantine', messages: null, consumers: null },
  ],
  outbox: { backlog: 2, oldestAgeSeconds: 200 },
  peers: [
    {
      state: 'AT',
      sent: { submitted: 0, sent: 1, delivered: 125, rejected: 2, failed: 0 },
      received: { delivered: 3, rejected: 0 },
      awaitingReceipt: { count: 1, oldestAgeSeconds: 200 },
      retransmissions: 4,
      perMinute: { published: 2, delivered: 2, received: 1 },
    },
    {
      state: 'KE',
      sent: { submitted: 0, sent: 0, delivered: 5, rejected: 0, failed: 1 },
      received: { delivered: 12, rejected: 1 },
      awaitingReceipt: { count: 0, oldestAgeSeconds: null },
      retransmissions: 0,
      perMinute: { published: 0, delivered: 0, received: 0 },
    },
  ],
  quarantine: { held: 1 },
  alerts: [
    {
      severity: 'critical',
      code: 'receipt-overdue',
      message: 'a message to AT has waited 3m 20s for its receipt',
    },
    { severity: 'warning', code: 'quarantine-held', message: '1 message is held in quarantine' },
  ],
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45.9, '45s'],
    [60, '1m 0s'],
    [200, '3m 20s'],
    [3_600 + 5 * 60 + 7, '1h 5m'],
    [3 * 86_400 + 4 * 3_600 + 59, '3d 4h'],
    [-5, '0s'],
  ])('%p seconds reads %p', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('shows a missing age as "-"', () => {
    expect(formatDuration(null)).toBe('-');
    expect(formatDuration(undefined)).toBe('-');
  });
});

describe('formatTime', () => {
  it('prints UTC to the second', () => {
    expect(formatTime('2026-11-29T00:56:40.123Z')).toBe('2026-11-29 00:56:40Z');
    expect(formatTime('2026-11-29T02:56:40+02:00')).toBe('2026-11-29 00:56:40Z');
  });

  it('shows a missing time as "-" and leaves what it cannot parse alone', () => {
    expect(formatTime(null)).toBe('-');
    expect(formatTime('soon')).toBe('soon');
  });
});

describe('renderTable', () => {
  it('aligns text left and numbers right, two spaces apart, "-" for missing values', () => {
    expect(
      renderTable(
        [{ header: 'NAME' }, { header: 'N', align: 'right' }, { header: 'NOTE' }],
        [
          ['alpha', 1, null],
          ['b', 1234, 'x'],
        ],
      ),
    ).toEqual(['NAME      N  NOTE', 'alpha     1  -', 'b      1234  x']);
  });

  it('writes group labels above their columns and widens a group its label overflows', () => {
    expect(
      renderTable(
        [
          { header: 'P' },
          { header: 'A', align: 'right', group: 'A LONG GROUP' },
          { header: 'B', align: 'right', group: 'A LONG GROUP' },
        ],
        [['x', 1, 2]],
      ),
    ).toEqual(['   A LONG GROUP', 'P  A          B', 'x  1          2']);
  });
});

describe('formatOverview', () => {
  it('renders the header, alerts, queues, outbox, peers and quarantine', () => {
    expect(formatOverview(sample()).split('\n')).toEqual([
      'State FR at 2026-11-29 01:00:00Z | database up, broker up, inbox consuming | directory v3 valid, expires 2026-12-29 01:00:00Z (in 30d 0h)',
      '',
      'Alerts (2):',
      '  CRITICAL  receipt-overdue: a message to AT has waited 3m 20s for its receipt',
      '  WARNING   quarantine-held: 1 message is held in quarantine',
      '',
      'QUEUE                 ROLE        MESSAGES  CONSUMERS',
      'comity.inbox.FR       inbox              0          1',
      'comity.quarantine.FR  quarantine         -          -',
      '',
      'Outbox backlog: 2, oldest 3m 20s',
      '',
      '      SENT                               RECEIVED       AWAITING RECEIPT           PER MINUTE',
      'PEER  SUBMIT  SENT  DELIV  REJECT  FAIL  DELIV  REJECT  COUNT  OLDEST AGE  RESENT  PUB  DELIV  RECV',
      'AT         0     1    125       2     0      3       0      1      3m 20s       4    2      2     1',
      'KE         0     0      5       0     1     12       1      0           -       0    0      0     0',
      '',
      'Quarantine: 1 held (comity quarantine list --node <url>)',
    ]);
  });

  it('says when nothing is wrong, and what is down', () => {
    const overview = sample();
    overview.components.database = 'down';
    overview.components.inbox = 'stopped';
    overview.components.directory.status = 'expired';
    overview.components.directory.expires = '2026-11-28T22:55:00.000Z';
    overview.alerts = [];
    overview.peers = [];
    overview.outbox = { backlog: 0, oldestAgeSeconds: null };
    overview.quarantine.held = 0;
    const lines = formatOverview(overview).split('\n');
    expect(lines[0]).toBe(
      'State FR at 2026-11-29 01:00:00Z | database down, broker up, inbox stopped | directory v3 expired, expires 2026-11-28 22:55:00Z (2h 5m ago)',
    );
    expect(lines).toContain('Alerts: none');
    expect(lines).toContain('Outbox backlog: 0');
    expect(lines).toContain('Peers: none (no figures while the database is down)');
    expect(lines[lines.length - 1]).toBe('Quarantine: 0 held');
  });

  it('uses ANSI colour only when asked to', () => {
    const plain = formatOverview(sample());
    expect(plain).not.toContain('\u001b[');
    const coloured = formatOverview(sample(), { color: true });
    expect(coloured).toContain('\u001b[31mCRITICAL\u001b[0m');
    expect(coloured).toContain('database \u001b[32mup\u001b[0m');
    // Tables stay uncoloured so that their columns line up.
    const ansi = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g');
    expect(coloured.replace(ansi, '')).toBe(plain);
  });
});

describe('overviewExitCode', () => {
  it('is 3 with a critical alert and 0 with warnings only', () => {
    const overview = sample();
    expect(overviewExitCode(overview)).toBe(CRITICAL_EXIT_CODE);
    expect(CRITICAL_EXIT_CODE).toBe(1);
    overview.alerts = overview.alerts.filter((alert) => alert.severity === 'warning');
    expect(overviewExitCode(overview)).toBe(0);
  });
});

describe('runQueues', () => {
  const clientAnswering = (
    ...answers: Array<OperationsOverview | Error>
  ): GatewayClient & { calls: number } => {
    const client = {
      calls: 0,
      overview: async () => {
        const answer = answers[Math.min(client.calls++, answers.length - 1)];
        if (answer instanceof Error) throw answer;
        return answer;
      },
    };
    return client as unknown as GatewayClient & { calls: number };
  };

  it('prints the view once and answers the exit code', async () => {
    let output = '';
    const code = await runQueues(clientAnswering(sample()), {
      write: (text) => (output += text),
    });
    expect(code).toBe(1);
    expect(output).toBe(`${formatOverview(sample())}\n`);
  });

  it('prints the raw JSON with --json', async () => {
    let output = '';
    const overview = sample();
    overview.alerts = [];
    const code = await runQueues(clientAnswering(overview), {
      json: true,
      write: (text) => (output += text),
    });
    expect(code).toBe(0);
    expect(JSON.parse(output)).toEqual(overview);
  });

  it('lets an HTTP error through without --watch', async () => {
    await expect(
      runQueues(clientAnswering(new GatewayApiError(403, { message: 'Forbidden' })), {
        write: () => undefined,
      }),
    ).rejects.toThrow('gateway answered 403: Forbidden');
  });

  it('refreshes with --watch, shows errors in place, and stops when aborted', async () => {
    const abort = new AbortController();
    const writes: string[] = [];
    const quiet = sample();
    quiet.alerts = [];
    const client = clientAnswering(
      new GatewayApiError(503, { message: 'not ready' }),
      sample(),
      quiet,
    );
    const code = await runQueues(client, {
      watchSeconds: 0.001,
      signal: abort.signal,
      clear: true,
      now: () => new Date('2026-11-29T01:00:05.000Z'),
      write: (text) => {
        writes.push(text);
        if (writes.length === 3) abort.abort();
      },
    });
    expect(client.calls).toBe(3);
    expect(code).toBe(0);
    expect(writes[0]).toBe(
      '\u001b[2J\u001b[Hcomity: gateway answered 503: not ready\n\n' +
        'refreshed 2026-11-29 01:00:05Z, every 0.001s; Ctrl-C to stop\n',
    );
    expect(writes[1]).toContain('CRITICAL  receipt-overdue');
    expect(writes[2]).toContain('Alerts: none');
  });
});

describe('describeError', () => {
  it('names the cause fetch hides', () => {
    const error = new TypeError('fetch failed', {
      cause: new Error('connect ECONNREFUSED 127.0.0.1:4199'),
    });
    expect(describeError(error)).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:4199');
    expect(describeError(new GatewayApiError(409, { message: 'not held' }))).toBe(
      'gateway answered 409: not held',
    );
  });
});
