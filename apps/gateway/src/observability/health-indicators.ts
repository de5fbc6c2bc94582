import type {
  HealthCheckResult,
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';

/** The readiness body the CLI, the console, the fault suite and the docs read (unchanged). */
export interface ReadinessBody {
  status: 'ready' | 'not-ready';
  state: string;
  database: 'up' | 'down';
  broker: 'up' | 'down';
  inbox: 'consuming' | 'stopped';
  directory: { status: 'valid' | 'expired'; version: unknown; expires: string };
  keys: 'loaded';
}

/** The broker publisher holds an open, confirming channel. */
export function brokerIndicator(
  health: HealthIndicatorService,
  publisher: { readonly isConnected: boolean },
): HealthIndicatorResult<'broker'> {
  const check = health.check('broker');
  return publisher.isConnected ? check.up() : check.down();
}

/** The inbox transport strategy is consuming the node's queue. */
export function inboxIndicator(
  health: HealthIndicatorService,
  transport: { readonly isConsuming: boolean },
): HealthIndicatorResult<'inbox'> {
  const check = health.check('inbox');
  return transport.isConsuming ? check.up() : check.down();
}

/** The signed directory in force has not expired. */
export function directoryIndicator(
  health: HealthIndicatorService,
  validity: { version: unknown; expires: string },
  now = Date.now(),
): HealthIndicatorResult<'directory'> {
  const check = health.check('directory');
  const { version, expires } = validity;
  return Date.parse(expires) > now
    ? check.up({ version, expires })
    : check.down({ version, expires });
}

/**
 * Terminus answers `{status:'ok'|'error', info, error, details}`; this maps its details back
 * to the body the gateway has always answered, so nothing that parses readiness changes.
 */
export function readinessBody(
  state: string,
  result: HealthCheckResult,
  directory: { version: unknown; expires: string },
): ReadinessBody {
  const up = (key: string): boolean => result.details[key]?.status === 'up';
  return {
    status: result.status === 'ok' ? 'ready' : 'not-ready',
    state,
    database: up('database') ? 'up' : 'down',
    broker: up('broker') ? 'up' : 'down',
    inbox: up('inbox') ? 'consuming' : 'stopped',
    directory: {
      status: up('directory') ? 'valid' : 'expired',
      version: directory.version,
      expires: directory.expires,
    },
    keys: 'loaded',
  };
}
