import type { AuditEvent, MessagePage } from '../gateway-client';
import { formatTime, renderTable } from './queues.command';

/** The received requests as a table, newest first, with how to get the next page. */
export function formatInbox(page: MessagePage): string {
  if (page.items.length === 0) return 'No messages.';
  const lines = renderTable(
    [
      { header: 'RECEIVED' },
      { header: 'ID' },
      { header: 'KIND' },
      { header: 'FROM' },
      { header: 'TO' },
      { header: 'STATUS' },
    ],
    page.items.map((message) => [
      formatTime(message.createdAt),
      message.id,
      message.kind,
      `${message.from.state}/${message.from.authority}`,
      message.to.authority,
      message.statusReason ? `${message.status} (${message.statusReason})` : message.status,
    ]),
  );
  const count = `${page.items.length} message${page.items.length === 1 ? '' : 's'}`;
  lines.push('', page.nextCursor ? `${count} (more: --cursor ${page.nextCursor})` : count);
  return lines.join('\n');
}

export interface AuditPage {
  items: AuditEvent[];
  /** Pass as --before for the next (older) page; null when this page was the last. */
  nextCursor: string | null;
}

/** The gateway answers a list; a full page may have more behind it. */
export function auditPageOf(events: AuditEvent[], limit: number): AuditPage {
  return {
    items: events,
    nextCursor: events.length >= limit ? (events[events.length - 1]?.id ?? null) : null,
  };
}

/** The audit log as a table, newest first. */
export function formatAudit(page: AuditPage): string {
  if (page.items.length === 0) return 'No audit events.';
  const lines = renderTable(
    [
      { header: 'ID', align: 'right' },
      { header: 'AT' },
      { header: 'PRINCIPAL' },
      { header: 'ROLE' },
      { header: 'ACTION' },
      { header: 'OUTCOME' },
      { header: 'STATUS', align: 'right' },
      { header: 'REASON' },
    ],
    page.items.map((event) => [
      event.id,
      formatTime(event.at),
      event.principal,
      event.role,
      event.action,
      event.outcome,
      event.status,
      event.reason,
    ]),
  );
  const count = `${page.items.length} event${page.items.length === 1 ? '' : 's'}`;
  lines.push('', page.nextCursor ? `${count} (older: --before ${page.nextCursor})` : count);
  return lines.join('\n');
}
