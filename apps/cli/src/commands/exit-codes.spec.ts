import { CommanderError, InvalidArgumentError } from 'commander';
import { GatewayApiError } from '../gateway-client';
import {
  CheckFailed,
  EXIT,
  exitCodeFor,
  exitCodeForStatus,
  gatewayStatusOf,
  isNetworkError,
  UsageError,
} from './exit-codes';
import { calling } from './gateway-options';

const refusedConnection = (): TypeError =>
  new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4199'), {
      code: 'ECONNREFUSED',
    }),
  });

describe('exit codes', () => {
  it('are the documented numbers', () => {
    expect(EXIT).toEqual({ ok: 0, failed: 1, usage: 2, refused: 3, unavailable: 4 });
  });

  it('map HTTP statuses: 4xx refused, 5xx unavailable', () => {
    expect([400, 401, 403, 404, 409, 413, 429].map(exitCodeForStatus)).toEqual([
      3, 3, 3, 3, 3, 3, 3,
    ]);
    expect([500, 502, 503].map(exitCodeForStatus)).toEqual([4, 4, 4]);
  });

  it.each([
    ['a gateway 401', new GatewayApiError(401, { message: 'Unauthorized' }), 3],
    ['a gateway 409', new GatewayApiError(409, { message: 'not allowed now' }), 3],
    ['a gateway 503', new GatewayApiError(503, { message: 'not ready' }), 4],
    ['a refused connection', refusedConnection(), 4],
    ['an unknown host', Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), 4],
    ['an unknown option', new CommanderError(1, 'commander.unknownOption', 'unknown option'), 2],
    ['a bad option value', new InvalidArgumentError('not a port'), 2],
    ['--help', new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), 0],
    ['a usage error of a command', new UsageError('give --body or --body-file'), 2],
    ['a failed check', new CheckFailed('digest differs'), 1],
    ['anything else', new Error('boom'), 1],
    ['a non-error', 'boom', 1],
  ])('%s exits %d', (_what, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('look through the causes a command wraps around the error', async () => {
    const refused = await calling(() =>
      Promise.reject(new GatewayApiError(404, { message: 'no such message' })),
    ).catch((error: unknown) => error);
    expect((refused as Error).message).toContain('gateway answered 404');
    expect(exitCodeFor(refused)).toBe(3);
    expect(gatewayStatusOf(refused)).toBe(404);

    const unreachable = await calling(() => Promise.reject(refusedConnection())).catch(
      (error: unknown) => error,
    );
    expect(exitCodeFor(unreachable)).toBe(4);
    expect(isNetworkError(unreachable)).toBe(true);
    expect(gatewayStatusOf(unreachable)).toBeNull();
    expect(exitCodeFor(new Error('upload failed', { cause: new CheckFailed('x') }))).toBe(1);
  });
});
