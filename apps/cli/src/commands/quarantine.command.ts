import type { QuarantineItem, QuarantinePage } from '../gateway-client';
import { formatTime, renderTable } from './queues.command';

export const QUARANTINE_STATUSES = ['held', 'released', 'discarded', 'all'] as const;

/**
 * Quarantined messages as a table. Sender, kind and envelope id come from the message's
 * unverified header, hence "claimed".
 */
export function formatQuarantine(page: QuarantinePage | QuarantineItem[]): string {
  const items = Array.isArray(page) ? page : page.items;
  const nextCursor = Array.isArray(page) ? null : page.nextCursor;
  if (items.length === 0) return 'No quarantined messages.';
  const lines = renderTable(
    [
      { header: 'ID', align: 'right' },
      { header: 'QUARANTINED AT' },
      { header: 'REASON' },
      { header: 'TYPE' },
      { header: 'CLAIMED SENDER' },
      { header: 'CLAIMED KIND' },
      { header: 'CLAIMED ENVELOPE ID' },
      { header: 'BYTES', align: 'right' },
      { header: 'STATUS' },
      { header: 'OUTCOME' },
    ],
    items.map((item) => [
      item.id,
      formatTime(item.quarantinedAt),
      item.reason,
      item.messageType,
      item.claimedFrom ? `${item.claimedFrom.state}/${item.claimedFrom.authority}` : null,
      item.kind,
      item.envelopeId,
      item.bytes,
      item.status,
      item.outcome,
    ]),
  );
  lines.push('');
  lines.push(
    `${items.length} item${items.length === 1 ? '' : 's'}${nextCursor ? ' (more exist: raise --limit)' : ''}`,
  );
  return lines.join('\n');
}

/** One line for the answer to a release or discard. */
export function formatResolution(item: QuarantineItem): string {
  const outcome = item.outcome && item.outcome !== item.status ? `: ${item.outcome}` : '';
  const by = item.resolvedBy ? ` by ${item.resolvedBy}` : '';
  const at = item.resolvedAt ? ` at ${formatTime(item.resolvedAt)}` : '';
  return `quarantined message ${item.id} ${item.status}${outcome}${by}${at}`;
}
