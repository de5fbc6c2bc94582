import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayClient, OperationsOverview } from '../gateway-client';
import { EXIT, exitCodeFor } from './exit-codes';

/** Exit code of `comity queues` when the node reports at least one critical alert: a failed check. */
export const CRITICAL_EXIT_CODE = EXIT.failed;

export type Cell = string | number | null | undefined;

export interface Column {
  header: string;
  /** Numbers read best right-aligned; text left-aligned (the default). */
  align?: 'left' | 'right';
  /** A label printed above a run of adjacent columns that share it. */
  group?: string;
}

/** A missing value ("-"), a number, or the text itself. */
export function cell(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}

/**
 * A human duration from seconds: "45s", "3m 20s", "2h 5m", "3d 4h" (the two largest units).
 * Missing ages read "-".
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const rest = total % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${rest}s`;
  return `${rest}s`;
}

/** An ISO timestamp to the second, in UTC: "2026-11-29 01:00:00Z" ("-" when missing). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/**
 * A plain-text table: columns two spaces apart, a header row (and a group row above it when
 * columns carry a group), missing values as "-", no trailing spaces.
 */
export function renderTable(columns: Column[], rows: Cell[][]): string[] {
  const cells = rows.map((row) => columns.map((_, index) => cell(row[index])));
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((row) => row[index]?.length ?? 0)),
  );
  const groups: Array<{ label: string; start: number; end: number }> = [];
  columns.forEach((column, index) => {
    const last = groups[groups.length - 1];
    if (column.group && last && last.label === column.group && last.end === index - 1) {
      last.end = index;
    } else if (column.group) {
      groups.push({ label: column.group, start: index, end: index });
    }
  });
  // A group label wider than its columns widens the group's last column.
  for (const group of groups) {
    let span = 0;
    for (let index = group.start; index <= group.end; index++) span += widths[index] ?? 0;
    span += 2 * (group.end - group.start);
    if (group.label.length > span) {
      widths[group.end] = (widths[group.end] ?? 0) + group.label.length - span;
    }
  }
  const line = (values: string[]): string =>
    values
      .map((value, index) =>
        columns[index]?.align === 'right'
          ? value.padStart(widths[index] ?? 0)
          : value.padEnd(widths[index] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const lines: string[] = [];
  if (groups.length > 0) {
    const labels = columns.map(() => '');
    for (const group of groups) labels[group.start] = group.label;
    // Group labels may run over the columns they span: write them at their offsets.
    const offsets = widths.map((_, index) =>
      widths.slice(0, index).reduce((sum, width) => sum + width + 2, 0),
    );
    let row = '';
    for (const group of groups) {
      row = row.padEnd(offsets[group.start] ?? 0) + group.label;
    }
    lines.push(row.trimEnd());
  }
  lines.push(line(columns.map((column) => column.header)));
  for (const row of cells) lines.push(line(row));
  return lines;
}

export interface FormatOptions {
  /** ANSI colour for states that need attention; only for a terminal. */
  color?: boolean;
}

const paint = (text: string, code: number, options: FormatOptions): string =>
  options.color ? `\u001b[${code}m${text}\u001b[0m` : text;
const RED = 31;
const YELLOW = 33;
const GREEN = 32;

/** The operations overview as a terminal view (no request content is ever in it). */
export function formatOverview(overview: OperationsOverview, options: FormatOptions = {}): string {
  const { components } = overview;
  const state = (value: string, good: string): string =>
    paint(value, value === good ? GREEN : RED, options);
  const directory = components.directory;
  const untilExpiry = (Date.parse(directory.expires) - Date.parse(overview.at)) / 1000;
  const expiry = Number.isFinite(untilExpiry)
    ? untilExpiry >= 0
      ? `in ${formatDuration(untilExpiry)}`
      : `${formatDuration(-untilExpiry)} ago`
    : '-';
  const lines: string[] = [
    `State ${overview.state} at ${formatTime(overview.at)}` +
      ` | database ${state(components.database, 'up')}, broker ${state(components.broker, 'up')}, inbox ${state(components.inbox, 'consuming')}` +
      ` | directory v${directory.version} ${state(directory.status, 'valid')}, expires ${formatTime(directory.expires)} (${expiry})`,
    '',
  ];

  if (overview.alerts.length === 0) {
    lines.push('Alerts: none');
  } else {
    lines.push(`Alerts (${overview.alerts.length}):`);
    const width = Math.max(...overview.alerts.map((alert) => alert.severity.length));
    for (const alert of overview.alerts) {
      const severity = alert.severity.toUpperCase().padEnd(width);
      lines.push(
        `  ${paint(severity, alert.severity === 'critical' ? RED : YELLOW, options)}  ${alert.code}: ${alert.message}`,
      );
    }
  }
  lines.push('');

  lines.push(
    ...renderTable(
      [
        { header: 'QUEUE' },
        { header: 'ROLE' },
        { header: 'MESSAGES', align: 'right' },
        { header: 'CONSUMERS', align: 'right' },
      ],
      overview.queues.map((queue) => [queue.name, queue.role, queue.messages, queue.consumers]),
    ),
  );
  lines.push('');

  const { backlog, oldestAgeSeconds } = overview.outbox;
  lines.push(
    `Outbox backlog: ${backlog}${backlog > 0 || oldestAgeSeconds !== null ? `, oldest ${formatDuration(oldestAgeSeconds)}` : ''}`,
  );
  lines.push('');

  if (overview.peers.length === 0) {
    lines.push(
      `Peers: none${components.database === 'down' ? ' (no figures while the database is down)' : ''}`,
    );
  } else {
    lines.push(
      ...renderTable(
        [
          { header: 'PEER' },
          { header: 'SUBMIT', align: 'right', group: 'SENT' },
          { header: 'SENT', align: 'right', group: 'SENT' },
          { header: 'DELIV', align: 'right', group: 'SENT' },
          { header: 'REJECT', align: 'right', group: 'SENT' },
          { header: 'FAIL', align: 'right', group: 'SENT' },
          { header: 'DELIV', align: 'right', group: 'RECEIVED' },
          { header: 'REJECT', align: 'right', group: 'RECEIVED' },
          { header: 'COUNT', align: 'right', group: 'AWAITING RECEIPT' },
          { header: 'OLDEST AGE', align: 'right', group: 'AWAITING RECEIPT' },
          { header: 'RESENT', align: 'right' },
          { header: 'PUB', align: 'right', group: 'PER MINUTE' },
          { header: 'DELIV', align: 'right', group: 'PER MINUTE' },
          { header: 'RECV', align: 'right', group: 'PER MINUTE' },
        ],
        overview.peers.map((peer) => [
          peer.state,
          peer.sent.submitted,
          peer.sent.sent,
          peer.sent.delivered,
          peer.sent.rejected,
          peer.sent.failed,
          peer.received.delivered,
          peer.received.rejected,
          peer.awaitingReceipt.count,
          formatDuration(peer.awaitingReceipt.oldestAgeSeconds),
          peer.retransmissions,
          peer.perMinute.published,
          peer.perMinute.delivered,
          peer.perMinute.received,
        ]),
      ),
    );
  }
  lines.push('');

  const held = overview.quarantine.held;
  lines.push(`Quarantine: ${held} held${held > 0 ? ' (comity quarantine list --node <url>)' : ''}`);
  return lines.join('\n');
}

/** An error's message, with the cause fetch hides behind "fetch failed" (e.g. ECONNREFUSED). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}

/** 0 when no alert is critical, CRITICAL_EXIT_CODE (1) otherwise. */
export function overviewExitCode(overview: OperationsOverview): number {
  return overview.alerts.some((alert) => alert.severity === 'critical') ? CRITICAL_EXIT_CODE : 0;
}

export interface QueuesOptions {
  json?: boolean;
  /** Refresh every so many seconds until `signal` aborts; once when absent. */
  watchSeconds?: number;
  signal?: AbortSignal;
  color?: boolean;
  /** Clear the screen before each refresh (a terminal). */
  clear?: boolean;
  write?: (text: string) => void;
  now?: () => Date;
}

const CLEAR_SCREEN = '\u001b[2J\u001b[H';

/**
 * Prints the overview (once, or every `watchSeconds` until aborted) and answers the exit code
 * for the last view: 0, 1 with critical alerts, 3 or 4 when the last fetch failed while
 * watching (refused, unreachable). Without --watch a failed fetch throws (the caller exits so).
 */
export async function runQueues(
  client: GatewayClient,
  options: QueuesOptions = {},
): Promise<number> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const render = (overview: OperationsOverview): string =>
    options.json
      ? JSON.stringify(overview, null, 2)
      : formatOverview(overview, { color: options.color ?? false });
  if (options.watchSeconds === undefined) {
    const overview = await client.overview();
    write(`${render(overview)}\n`);
    return overviewExitCode(overview);
  }
  let exitCode = 0;
  while (!options.signal?.aborted) {
    let text: string;
    try {
      const overview = await client.overview();
      text = render(overview);
      exitCode = overviewExitCode(overview);
    } catch (error) {
      text = `comity: ${describeError(error)}`;
      exitCode = exitCodeFor(error);
    }
    const now = (options.now ?? (() => new Date()))();
    write(
      `${options.clear ? CLEAR_SCREEN : ''}${text}\n\n` +
        `${options.json ? '' : `refreshed ${formatTime(now.toISOString())}, every ${options.watchSeconds}s; Ctrl-C to stop\n`}`,
    );
    try {
      await sleep(options.watchSeconds * 1000, undefined, { signal: options.signal });
    } catch {
      break; // aborted
    }
  }
  return exitCode;
}
