import type { ReasonCode } from '@comity/protocol';

/**
 * What an inbox handler decided about one broker message. Handlers never ack themselves:
 * the transport acts on this, after the handler's work is durably stored.
 */
export type InboxDisposition =
  | { action: 'ack' }
  | { action: 'quarantine'; reason: ReasonCode | 'unknown-message-type'; detail: string }
  | { action: 'retry'; detail: string };

export const ACK: InboxDisposition = { action: 'ack' };
