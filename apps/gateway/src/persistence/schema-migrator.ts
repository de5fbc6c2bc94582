import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** An arbitrary, fixed key for pg_advisory_lock: "comity schema". */
const MIGRATION_LOCK_KEY = 0x636f6d69;

/**
 * Brings the schema up to date at start-up. Several replicas of one State share a database and
 * may start at the same moment: the first takes a PostgreSQL advisory lock and migrates, the
 * others wait for it and then find nothing left to do.
 */
@Injectable()
export class SchemaMigrator implements OnModuleInit {
  private readonly logger = new Logger(SchemaMigrator.name);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    const lock = this.dataSource.createQueryRunner();
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const applied = await this.dataSource.runMigrations({ transaction: 'all' });
      for (const migration of applied) this.logger.log(`applied migration ${migration.name}`);
    } finally {
      await lock
        .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
        .catch(() => undefined);
      await lock.release();
    }
  }
}
