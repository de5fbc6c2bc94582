import type { AuditEvent, MessageSummary } from '../gateway-client';
import { auditPageOf, formatAudit, formatInbox } from './inbox.command';

const message: MessageSummary = {
  id: '0197a000-0000-7000-8000-000000000001',
  kind: 'mla_request',
  thread: '0197a000-0000-7000-8000-000000000001',
  inReplyTo: null,
  from: { state: 'AT', authority: 'at-central-authority' },
  to: { state: 'FR', authority: 'fr-central-authority' },
  status: 'delivered',
  statusReason: null,
  createdAt: '2026-11-29T01:00:00.000Z',
  expiresAt: '2026-12-29T01:00:00.000Z',
  envelopeDigest: 'x',
};

const event = (id: string): AuditEvent => ({
  id,
  at: '2026-11-29T01:00:00.000Z',
  principal: 'central-clerk',
  role: 'clerk',
  action: 'read inbound message m',
  outcome: 'read',
  status: 200,
  reason: '',
  client: null,
});

describe('formatInbox', () => {
  it('lines up the received messages and says how to get more', () => {
    expect(formatInbox({ items: [message], nextCursor: message.id }).split('\n')).toEqual([
      'RECEIVED              ID                                    KIND         FROM                     TO                    STATUS',
      '2026-11-29 01:00:00Z  0197a000-0000-7000-8000-000000000001  mla_request  AT/at-central-authority  fr-central-authority  delivered',
      '',
      `1 message (more: --cursor ${message.id})`,
    ]);
    expect(formatInbox({ items: [], nextCursor: null })).toBe('No messages.');
  });
});

describe('the audit log', () => {
  it('has a next page only when this one is full', () => {
    expect(auditPageOf([event('9'), event('8')], 2)).toEqual({
      items: [event('9'), event('8')],
      nextCursor: '8',
    });
    expect(auditPageOf([event('9')], 2).nextCursor).toBeNull();
  });

  it('prints a table, "-" for what is missing', () => {
    const lines = formatAudit({ items: [event('12')], nextCursor: '12' }).split('\n');
    expect(lines[0]).toMatch(/^ID {2}AT {20}PRINCIPAL {6}ROLE {3}ACTION/);
    expect(lines[1]).toBe(
      '12  2026-11-29 01:00:00Z  central-clerk  clerk  read inbound message m  read        200  -',
    );
    expect(lines[3]).toBe('1 event (older: --before 12)');
    expect(formatAudit({ items: [], nextCursor: null })).toBe('No audit events.');
  });
});
