import { type Command, InvalidArgumentError } from 'commander';
import { GatewayApiError, GatewayClient } from '../gateway-client';
import { describeError } from './queues.command';

export interface GatewayOptions {
  node?: string;
  url?: string;
  apiKey?: string;
}

/** --node (or --url) and --api-key, as `send` and `status` take them. */
export const withGateway = (command: Command, role: string): Command =>
  command
    .option('--node <url>', 'the gateway, e.g. http://127.0.0.1:4101')
    .option('--url <url>', 'same as --node')
    .option(
      '--api-key <key>',
      `${role} API key (default: $COMITY_API_KEY)`,
      process.env.COMITY_API_KEY,
    );

export const gatewayClient = (options: GatewayOptions): GatewayClient => {
  const url = options.node ?? options.url;
  if (!url) throw new InvalidArgumentError('give the gateway with --node <url>');
  return new GatewayClient(url.replace(/\/+$/, ''), options.apiKey);
};

const STATUS_HINTS: Record<number, string> = {
  401: 'check --api-key or $COMITY_API_KEY',
  403: 'this API key may not do that (wrong role or authority)',
  404: 'no such case or message at this gateway (or not visible to this key)',
};

/**
 * An error for the terminal: a gateway answer with its status and what it said (and a hint for
 * the usual causes), or the cause of a connection failure instead of "fetch failed".
 */
export function describeGatewayError(error: unknown): string {
  if (error instanceof GatewayApiError) {
    const hint = STATUS_HINTS[error.status];
    return hint ? `${error.message} (${hint})` : error.message;
  }
  return describeError(error);
}

/** Runs a gateway call, naming the cause of a failure clearly; the caller's exit code becomes 1. */
export const calling = async <T>(call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw new Error(describeGatewayError(error), { cause: error });
  }
};
