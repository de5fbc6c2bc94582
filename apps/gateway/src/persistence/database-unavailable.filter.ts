import { type ArgumentsHost, Catch, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';

/** SQLSTATE classes and socket errors that mean "the database cannot be reached right now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    const candidate = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof candidate.code === 'string' && UNAVAILABLE_CODES.has(candidate.code)) return true;
    // TypeORM releases a transaction's connection when the server drops it mid-transaction.
    // A pooled connection the server ended just as it was checked out answers its first query
    // with "Client has encountered a connection error and is not queryable".
    // (TypeORM 0.3 names it QueryRunnerProviderAlreadyReleasedError, earlier versions without "Provider".)
    const name = (current as { name?: unknown }).name;
    if (
      name === 'QueryRunnerAlreadyReleasedError' ||
      name === 'QueryRunnerProviderAlreadyReleasedError'
    ) {
      return true;
    }
    if (
      typeof candidate.message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Client has encountered a connection error and is not queryable/.test(
        candidate.message,
      )
    ) {
      return true;
    }
    current = candidate.driverError ?? candidate.cause;
  }
  return false;
}

/**
 * While PostgreSQL is unreachable nothing can be accepted durably: the API says so with a 503
 * the caller can act on, instead of a bare 500. Every other error goes to Nest's handling
 * (HTTP errors pass through; anything unknown becomes a 500 that leaks no internals).
 */
@Catch()
export class DatabaseUnavailableFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(DatabaseUnavailableFilter.name);

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() === 'http' && isDatabaseUnavailable(exception)) {
      this.logger.warn('database unavailable: answered 503');
      host
        .switchToHttp()
        .getResponse<Response>()
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .set('Retry-After', '5')
        .json({
          statusCode: 503,
          error: 'Service Unavailable',
          message:
            'The database is unavailable, so nothing was accepted or changed. Retry in a few seconds.',
        });
      return;
    }
    super.catch(exception, host);
  }
}
