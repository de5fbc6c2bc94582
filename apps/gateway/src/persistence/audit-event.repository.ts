import { Injectable } from '@nestjs/common';
import { Database } from './database';

export interface AuditEvent {
  at: Date;
  principal: string | null;
  role: string | null;
  action: string;
  outcome: string;
  status: number;
  reason: string;
  client: string | null;
}

/** An audit event as the API shows it. */
export type AuditEventView = Omit<AuditEvent, 'at'> & { id: string; at: string };

/** The audit log: append-only rows of refusals and operator actions. */
@Injectable()
export class AuditEventRepository {
  constructor(private readonly database: Database) {}

  async append(event: AuditEvent): Promise<void> {
    await this.database.query(
      `INSERT INTO audit_event (at, principal, role, action, outcome, status, reason, client)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        event.at,
        event.principal,
        event.role,
        event.action.slice(0, 200),
        event.outcome.slice(0, 200),
        event.status,
        event.reason.slice(0, 500),
        event.client,
      ],
    );
  }

  async list(limit: number, before?: string): Promise<AuditEventView[]> {
    const rows = (await this.database.query(
      `SELECT id, at, principal, role, action, outcome, status, reason, client FROM audit_event
        WHERE ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $1`,
      [limit, before ?? null],
    )) as Array<Omit<AuditEventView, 'at'> & { at: Date }>;
    return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
  }
}
