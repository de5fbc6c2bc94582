import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AuditEventRepository, type AuditEventView } from '../persistence/audit-event.repository';

export type { AuditEventView };

/** Appends to the audit log; a failure to write it is logged loudly but never blocks a refusal. */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(
    private readonly events: AuditEventRepository,
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
    await this.events
      .append({ ...event, at: this.clock.now(), outcome: 'denied' })
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
    await this.events.append({ ...event, at: this.clock.now(), status: 200, client: null });
  }

  /**
   * A person or system read decrypted content (a message, an attachment): who, what, when. It
   * is written before the content is handed out; if it cannot be written, nothing is handed out.
   */
  async contentRead(principal: { id: string; role: string }, what: string): Promise<void> {
    await this.events.append({
      at: this.clock.now(),
      principal: principal.id,
      role: principal.role,
      action: `read ${what}`,
      outcome: 'read',
      status: 200,
      reason: '',
      client: null,
    });
  }

  list(limit: number, before?: string): Promise<AuditEventView[]> {
    return this.events.list(limit, before);
  }
}
