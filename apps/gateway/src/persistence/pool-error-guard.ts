import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * A pooled connection that is checked out has no `error` listener: pg-pool listens only while
 * it is idle, and TypeORM adds none. When PostgreSQL ends such a connection between two queries
 * (a restart, `pg_terminate_backend`, a network cut) — inside a transaction that is waiting for
 * a broker confirm, say — the driver emits `error` and Node stops the whole process. With a
 * listener on every connection the error is logged instead; the holder's next query fails and
 * takes its normal error path, and the pool drops the dead connection when it comes back.
 */
export function guardPoolClients(pool: Pool, onError: (error: Error) => void): void {
  const guarded = new WeakSet<PoolClient>();
  const guard = (client: PoolClient): void => {
    if (guarded.has(client)) return;
    guarded.add(client);
    client.on('error', onError);
  };
  // New connections as they open, and any opened before this ran as they are checked out.
  pool.on('connect', guard);
  pool.on('acquire', guard);
}

@Injectable()
export class PoolErrorGuard implements OnModuleInit {
  private readonly logger = new Logger('Database');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    guardPoolClients((this.dataSource.driver as PostgresDriver).master as Pool, (error) =>
      this.logger.warn(`a database connection was ended by the server: ${error.message}`),
    );
  }
}
