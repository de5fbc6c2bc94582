import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Clock } from '../common/clock';

export interface AuditEventView {
  id: string;
  at: string;
  principal: string | null;
  role: string | null;
  action: string;
  outcome: string;
  status: number;
  reason: string;
  client: string | null;
}

/** Appends to the audit log; a failure to write it is logged loudly but never blocks a refusal. */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async denial(event: {
    principal: string | null;
    role: string | null;
    action: string;
    status: number;
    reason: string;
    client: string | null;
  }): Promise<void> {
    await this.dataSource
      .query(
        `INSERT INTO audit_event (at, principal, role, action, outcome, status, reason, client)
         VALUES ($1, $2, $3, $4, 'denied', $5, $6, $7)`,
        [
          this.clock.now(),
          event.principal,
          event.role,
          event.action.slice(0, 200),
          event.status,
          event.reason.slice(0, 500),
          event.client,
        ],
      )
      .catch((error: Error) =>
        this.logger.error(`alert: the audit log could not record a denial: ${error.message}`),
      );
  }

  /** An operator's action (release, discard, retry) with the reason they gave. */
  async action(event: {
    principal: string;
    role: string;
    action: string;
    outcome: string;
    reason: string;
  }): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO audit_event (at, principal, role, action, outcome, status, reason, client)
       VALUES ($1, $2, $3, $4, $5, 200, $6, NULL)`,
      [
        this.clock.now(),
        event.principal,
        event.role,
        event.action.slice(0, 200),
        event.outcome.slice(0, 200),
        event.reason.slice(0, 500),
      ],
    );
  }

  async list(limit: number, before?: string): Promise<AuditEventView[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, at, principal, role, action, outcome, status, reason, client FROM audit_event
        WHERE ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $1`,
      [limit, before ?? null],
    )) as Array<Omit<AuditEventView, 'at'> & { at: Date }>;
    return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
  }
}
