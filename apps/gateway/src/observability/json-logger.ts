import type { LoggerService, LogLevel } from '@nestjs/common';

/** What a log call may pass instead of a string: a message and fields, flattened into the line. */
export interface LogRecord {
  message: string;
  /** The correlation id: the envelope a line is about, searchable across both nodes' logs. */
  envelopeId?: string | null;
  [field: string]: unknown;
}

const LEVELS: Record<LogLevel, number> = {
  verbose: 0,
  debug: 1,
  log: 2,
  warn: 3,
  error: 4,
  fatal: 5,
};

/**
 * One JSON object per line on stdout (errors on stderr):
 * `{"time":…,"level":"warn","node":"FR","context":"EnvelopeIntake","message":…,"envelopeId":…}`.
 * Never pass request content: lines carry ids, reasons and counts only.
 */
export class JsonLogger implements LoggerService {
  private minimum = LEVELS.log;

  constructor(
    private readonly node: string,
    private readonly write: (line: string, level: LogLevel) => void = (line, level) =>
      (level === 'error' || level === 'fatal' ? process.stderr : process.stdout).write(line),
  ) {}

  setLogLevels(levels: LogLevel[]): void {
    this.minimum = Math.min(...levels.map((level) => LEVELS[level]));
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.emit('log', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.emit('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.emit('error', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.emit('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.emit('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.emit('fatal', message, rest);
  }

  private emit(level: LogLevel, message: unknown, rest: unknown[]): void {
    if (LEVELS[level] < this.minimum) return;
    // Nest passes the context last; an error's stack comes before it.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const stack = level === 'error' && typeof rest[0] === 'string' ? rest[0] : undefined;
    const line: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      node: this.node,
      ...(context ? { context } : {}),
    };
    if (message instanceof Error) {
      line.message = message.message;
      line.stack = message.stack;
    } else if (message !== null && typeof message === 'object') {
      for (const [key, value] of Object.entries(message as Record<string, unknown>)) {
        if (value !== undefined && value !== null && !(key in line)) line[key] = value;
      }
    } else {
      line.message = String(message);
    }
    if (stack) line.stack = stack;
    this.write(`${JSON.stringify(line)}\n`, level);
  }
}
