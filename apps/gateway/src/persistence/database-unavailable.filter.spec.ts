import { QueryFailedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDatabaseUnavailable } from './database-unavailable.filter';

describe('isDatabaseUnavailable', () => {
  const wrapped = (message: string, code?: string) =>
    new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), code ? { code } : {}));

  it.each([
    ['the server shutting down (57P01)', wrapped('terminating connection', '57P01')],
    ['a refused connection', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })],
    ['the server starting up', new Error('the database system is starting up')],
    // A connection the server ended just as it was checked out of the pool.
    [
      'a connection ended as it was checked out',
      wrapped('Client has encountered a connection error and is not queryable'),
    ],
    // A transaction whose connection the server ended: its next query, as TypeORM reports it.
    ['a transaction whose connection was ended', new QueryRunnerProviderAlreadyReleasedError()],
  ])('%s → 503', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique-key clash (23505)', wrapped('duplicate key value', '23505')],
    ['a bug', new TypeError('x is undefined')],
  ])('%s → not a 503', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
