import { CommanderError } from 'commander';
import { GatewayApiError } from '../gateway-client';

/**
 * The exit codes of every `comity` command, for scripts (docs/cli.md):
 *
 *   0  ok
 *   1  a check failed or something is invalid (a receipt or bundle that does not verify, a
 *      critical alert, a digest that does not match, an unexpected error)
 *   2  usage error: unknown or missing flags, a bad value, a file that cannot be used
 *   3  the gateway refused: it answered HTTP 4xx (unauthorised, forbidden, not found, conflict…)
 *   4  the gateway could not be reached, or answered HTTP 5xx
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  unavailable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A bad flag, value or input file found by a command itself: exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A check that did not pass (a digest, a verification): exit 1, with the reason. */
export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

/** Network failures as Node's fetch (undici) and sockets report them. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** The exit code for an HTTP status the gateway answered with. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status >= 500) return EXIT.unavailable;
  if (status >= 400) return EXIT.refused;
  return EXIT.failed;
}

/** Whether an error (or one of its causes) says the gateway could not be reached. */
export function isNetworkError(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (link instanceof TypeError && link.message === 'fetch failed') return true;
  }
  return false;
}

/**
 * The exit code for an error that ended a command, looking through wrapped causes: a commander
 * parse error or a UsageError is 2, a gateway answer 3 (4xx) or 4 (5xx), a failed connection 4,
 * anything else 1.
 */
export function exitCodeFor(error: unknown): ExitCode {
  for (const link of causeChain(error)) {
    if (link instanceof CommanderError) return link.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (link instanceof UsageError) return EXIT.usage;
    if (link instanceof CheckFailed) return EXIT.failed;
    if (link instanceof GatewayApiError) return exitCodeForStatus(link.status);
  }
  return isNetworkError(error) ? EXIT.unavailable : EXIT.failed;
}

/** The HTTP status the gateway answered, if an error (or a cause) carries one. */
export function gatewayStatusOf(error: unknown): number | null {
  for (const link of causeChain(error)) {
    if (link instanceof GatewayApiError) return link.status;
  }
  return null;
}

/** The error and its causes, outermost first (at most 10, against cycles). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let link = error; link !== undefined && link !== null && chain.length < 10;) {
    chain.push(link);
    link = link instanceof Error ? link.cause : undefined;
  }
  return chain;
}
