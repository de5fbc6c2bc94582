import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger, type Params, PinoLogger } from 'nestjs-pino';
import pino, { type DestinationStream } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';

/** What a redacted value is replaced with, wherever it sits in a line. */
export const REDACTED = '[redacted]';

/**
 * Field names that could hold keys, credentials or request content. Redacted at the top of a
 * line and one level down: lines carry ids, reasons and counts, never these.
 */
export const SENSITIVE_FIELDS: ReadonlySet<string> = new Set([
  'key',
  'keys',
  'privateKey',
  'secret',
  'password',
  'passphrase',
  'apiKey',
  'token',
  'authorization',
  'cookie',
  'content',
  'body',
  'subject',
  'data',
  'attachments',
  'envelope',
  'payload',
  'plaintext',
]);

const SENSITIVE_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'cookie'];

/** Headers wherever a request, a response or a bare header map is logged (pino's redaction). */
const HEADER_PATHS = [
  ...['headers', 'req.headers', 'request.headers', 'err.config.headers'].flatMap((parent) =>
    SENSITIVE_HEADERS.map((header) => `${parent}["${header}"]`),
  ),
  'res.headers["set-cookie"]',
];

/** The fields every line owns: a record passed to a log call cannot overwrite them. */
const OWN_FIELDS: ReadonlySet<string> = new Set(['time', 'level', 'node']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A copy of `fields` with sensitive names censored, or `fields` itself when nothing is. */
function censored(fields: Record<string, unknown>, top: boolean): Record<string, unknown> {
  let copy: Record<string, unknown> | null = null;
  for (const name in fields) {
    const value = fields[name];
    let replacement: unknown = value;
    if (top && OWN_FIELDS.has(name)) replacement = undefined;
    else if (SENSITIVE_FIELDS.has(name)) replacement = REDACTED;
    else if (top && isPlainObject(value)) replacement = censored(value, false);
    if (replacement !== value) {
      copy ??= { ...fields };
      if (replacement === undefined) delete copy[name];
      else copy[name] = replacement;
    }
  }
  return copy ?? fields;
}

/**
 * Redacts a record before it is written. A walk over the record's own keys (two or three on a
 * typical line) costs a fraction of pino's wildcard redaction paths (`*.key` and the like),
 * which doubled the cost of a line in the benchmark.
 */
export function redactRecord(record: Record<string, unknown>): Record<string, unknown> {
  return censored(record, true);
}

/** Nest's level names, as today's lines and the operators' greps use them (`"level":"log"`). */
const NEST_LEVEL: Record<string, string> = {
  trace: 'verbose',
  debug: 'debug',
  info: 'log',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

type HttpRequest = IncomingMessage & { originalUrl?: string };

/** Method and path only: no query string, headers or body ever reach a line. */
function requestPath(req: HttpRequest): string {
  const url = req.originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/**
 * A server error worth a line: a 503 is already logged by whoever answers it (database
 * unavailable) or is the readiness probe's answer, and would flood the log during an outage.
 */
function isLoggedServerError(res: ServerResponse): boolean {
  return res.statusCode >= 500 && res.statusCode !== 503;
}

/**
 * An error's name, message, stack and code, and nothing else: pino's default serializer copies
 * every enumerable property, and a failed query carries its parameters (envelopes).
 */
function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code } = error as { code?: unknown };
  return {
    type: error.name,
    message: error.message,
    stack: error.stack,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
  };
}

/** Lines on stdout, errors and worse on stderr only (where supervisors route what needs action). */
function standardStreams(): DestinationStream {
  return pino.multistream(
    [
      { level: 'trace', stream: pino.destination({ dest: 1, sync: true }) },
      { level: 'error', stream: pino.destination({ dest: 2, sync: true }) },
    ],
    { dedupe: true },
  );
}

/**
 * Options for pino and pino-http: one JSON object per line,
 * `{"level":"warn","time":"…","node":"FR","context":"EnvelopeIntake","message":…,"envelopeId":…}`,
 * with keys, credentials and content redacted wherever they are passed.
 */
export function gatewayLoggerParams(
  state: string,
  destination: DestinationStream = standardStreams(),
): Params {
  const options: PinoHttpOptions = {
    logger: pino(
      {
        base: { node: state },
        messageKey: 'message',
        timestamp: pino.stdTimeFunctions.isoTime,
        redact: { paths: HEADER_PATHS, censor: REDACTED },
        serializers: {
          err: serializeError,
          req: (req: HttpRequest) => ({ method: req.method, path: requestPath(req) }),
          res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
        },
        formatters: {
          level: (label) => ({ level: NEST_LEVEL[label] ?? label }),
          log: redactRecord,
        },
      },
      destination,
    ),
  };
  return { pinoHttp: options };
}

/**
 * The Nest logger over pino, usable before and outside dependency injection (start-up, the
 * inbox transport strategy) as inside the app.
 */
export function createGatewayLogger(params: Params): Logger {
  return new Logger(new PinoLogger(params), params);
}

/**
 * The HTTP middleware: one `error` line per server error, nothing for other requests.
 * `POST /v1/requests` runs at hundreds per second, where a line each would add a line's 6-7 µs
 * of CPU and say nothing the metrics do not. A listener per request and nothing else: pino-http
 * (a child logger and an id per request) raised the sending node's peak memory under load by
 * 40-50 MiB, and nestjs-pino's LoggerModule binds a logger to each request through
 * AsyncLocalStorage, which on Node 20 turns on promise hooks for the whole process: +10-15 % CPU
 * per request on both nodes (`npm run bench`).
 */
export function httpErrorLogging(
  params: Params,
): (req: HttpRequest, res: ServerResponse, next: () => void) => void {
  const logger = (params.pinoHttp as PinoHttpOptions).logger!;
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      if (!isLoggedServerError(res)) return;
      logger.error(
        { context: 'HTTP', req, res, responseTime: Math.round(performance.now() - started) },
        `${req.method} ${requestPath(req)} answered ${res.statusCode}`,
      );
    });
    next();
  };
}
