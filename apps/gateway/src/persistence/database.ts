import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * A transaction in progress, handed out by `UnitOfWork.run` and passed back to repository
 * methods that must commit together. Code outside `persistence/` only ever passes it on.
 */
export type Transaction = EntityManager;

/**
 * The node's database: TypeORM's data source for ordinary reads and writes, and the driver's
 * own pool for the hot path's few statements (straight to `pg`, without TypeORM's per-query
 * runner, measured at ~9 % of the receiving node's CPU).
 */
@Injectable()
export class Database {
  readonly pool: Pool;

  constructor(@InjectDataSource() readonly dataSource: DataSource) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
  }

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  query<T>(sql: string, parameters?: unknown[]): Promise<T> {
    return this.dataSource.query(sql, parameters) as Promise<T>;
  }
}

/** Runs work that must commit or fail as a whole: every repository call given `tx` joins it. */
@Injectable()
export class UnitOfWork {
  constructor(private readonly database: Database) {}

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.database.dataSource.transaction(work);
  }

  /** Answers once the database does (health and the operations overview). */
  async ping(): Promise<void> {
    await this.database.query('SELECT 1');
  }
}
