import { Client, Pool } from 'pg';
import { guardPoolClients } from '../../apps/gateway/src/persistence/pool-error-guard';
import { POSTGRES_ADMIN_URL } from '../support/services';

/**
 * A connection ended by PostgreSQL while it is checked out of the pool (a restart, an operator's
 * pg_terminate_backend) must not stop the node: the error is reported, the holder's next query
 * fails normally, and the pool carries on with a fresh connection.
 */
describe('guardPoolClients on a real PostgreSQL', () => {
  let pool: Pool;
  let admin: Client;

  beforeAll(async () => {
    admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
  });

  afterAll(async () => {
    await pool?.end();
    await admin?.end();
  });

  it('reports a checked-out connection ended by the server, and the pool goes on', async () => {
    pool = new Pool({ connectionString: POSTGRES_ADMIN_URL, max: 2 });
    // One connection opened (and returned) before the guard, as TypeORM does at start-up.
    await pool.query('SELECT 1');
    const errors: Error[] = [];
    guardPoolClients(pool, (error) => errors.push(error));

    const held = await pool.connect();
    expect(held.listenerCount('error')).toBeGreaterThan(0);
    const { rows } = await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // Ended between two queries, as in a transaction waiting for something else.
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    for (let wait = 0; wait < 50 && errors.length === 0; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(errors.map((error) => (error as { code?: string }).code)).toEqual(['57P01']);
    await expect(held.query('SELECT 1')).rejects.toThrow();
    held.release(true);

    // A connection opened after the guard is guarded from the start.
    const fresh = await pool.connect();
    expect(fresh.listenerCount('error')).toBeGreaterThan(0);
    fresh.release();
    expect((await pool.query<{ n: number }>('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
  });
});
