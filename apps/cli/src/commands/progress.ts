/** How a transfer shows its progress: a redrawn bar (a terminal), plain lines (a log), or not at all. */
export type ProgressMode = 'bar' | 'lines' | 'none';

export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;

/** `auto`: a bar when stderr is a terminal, plain lines otherwise. */
export function progressMode(
  requested: (typeof PROGRESS_MODES)[number] | undefined,
  isTty: boolean,
): ProgressMode {
  if (requested === undefined || requested === 'auto') return isTty ? 'bar' : 'lines';
  return requested;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** "512 B", "1.5 KiB", "64.0 MiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Whole percent, 100 only when everything is done. */
export function percent(done: number, total: number): number {
  if (total <= 0 || done >= total) return 100;
  return Math.min(99, Math.floor((done / total) * 100));
}

/** One line of the bar: "name [#####-----]  50%  1.0 MiB / 2.0 MiB  3.4 MiB/s". */
export function renderBar(
  label: string,
  done: number,
  total: number,
  bytesPerSecond: number | null,
  width = 30,
): string {
  const filled = Math.round((percent(done, total) / 100) * width);
  const rate = bytesPerSecond === null ? '' : `  ${formatBytes(Math.round(bytesPerSecond))}/s`;
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent(done, total)).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}${rate}`;
}

/**
 * Progress of one transfer on stderr. Lines mode prints a line at each tenth of the way; bar
 * mode redraws one line (at most ten times a second) and ends it when done.
 */
export class Progress {
  private done = 0;
  private lastTenth = -1;
  private lastDraw = 0;
  private readonly startedAt = Date.now();
  private startBytes = 0;

  constructor(
    private readonly mode: ProgressMode,
    private readonly label: string,
    private readonly total: number,
    private readonly write: (text: string) => void = (text) => process.stderr.write(text),
  ) {}

  /** A line of its own (e.g. "resuming: 10 of 32 chunks already at the gateway"). */
  note(text: string): void {
    if (this.mode !== 'none') this.write(`${text}\n`);
  }

  /** Bytes done before this run (a resumed upload): shown, not counted in the speed. */
  begin(alreadyDone: number): void {
    this.done = alreadyDone;
    this.startBytes = alreadyDone;
    this.draw(true);
  }

  advance(bytes: number): void {
    this.done += bytes;
    this.draw(false);
  }

  finish(): void {
    if (this.mode === 'bar') {
      this.draw(true);
      this.write('\n');
    } else if (this.mode === 'lines' && this.lastTenth < 10) {
      this.draw(true);
    }
  }

  private draw(force: boolean): void {
    if (this.mode === 'none') return;
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0.2 ? (this.done - this.startBytes) / seconds : null;
    if (this.mode === 'bar') {
      const now = Date.now();
      if (!force && now - this.lastDraw < 100 && this.done < this.total) return;
      this.lastDraw = now;
      this.write(`\r${renderBar(this.label, this.done, this.total, rate)}\u001b[K`);
      return;
    }
    const tenth = Math.floor(percent(this.done, this.total) / 10);
    if (tenth <= this.lastTenth && !(force && this.lastTenth < 0)) return;
    this.lastTenth = tenth;
    this.write(
      `${this.label}: ${percent(this.done, this.total)}% (${formatBytes(this.done)} of ${formatBytes(this.total)})\n`,
    );
  }
}
