import type { QuarantineItem } from '../gateway-client';
import { formatQuarantine, formatResolution } from './quarantine.command';

const held: QuarantineItem = {
  id: '42',
  messageType: 'envelope',
  reason: 'envelope-too-large',
  detail: '6291456 bytes, limit 5242880',
  envelopeId: '0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e8f',
  claimedFrom: { state: 'AT', authority: 'at-central-authority' },
  kind: 'mla_request',
  brokerUser: 'comity-at',
  amqpMessageId: '0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e8f',
  bytes: 123456,
  quarantinedAt: '2026-11-29T00:56:40.123Z',
  status: 'held',
  resolvedAt: null,
  resolvedBy: null,
  resolutionReason: null,
  outcome: null,
};

const released: QuarantineItem = {
  id: '7',
  messageType: 'unknown',
  reason: 'unparseable',
  detail: null,
  envelopeId: null,
  claimedFrom: null,
  kind: null,
  brokerUser: null,
  amqpMessageId: null,
  bytes: 12,
  quarantinedAt: '2026-11-28T10:00:00.000Z',
  status: 'released',
  resolvedAt: '2026-11-28T11:00:00.000Z',
  resolvedBy: 'fr-operator',
  resolutionReason: 'peer fixed its encoder',
  outcome: 'delivered',
};

describe('formatQuarantine', () => {
  it('lines the items up, with "-" for what the message did not claim', () => {
    expect(formatQuarantine({ items: [held, released], nextCursor: null }).split('\n')).toEqual([
      'ID  QUARANTINED AT        REASON              TYPE      CLAIMED SENDER           CLAIMED KIND  CLAIMED ENVELOPE ID                    BYTES  STATUS    OUTCOME',
      '42  2026-11-29 00:56:40Z  envelope-too-large  envelope  AT/at-central-authority  mla_request   0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e8f  123456  held      -',
      ' 7  2026-11-28 10:00:00Z  unparseable         unknown   -                        -             -                                         12  released  delivered',
      '',
      '2 items',
    ]);
  });

  it('says when there are more than it shows', () => {
    expect(
      formatQuarantine({ items: [held], nextCursor: '41' })
        .split('\n')
        .pop(),
    ).toBe('1 item (more exist: raise --limit)');
  });

  it('says when there is nothing', () => {
    expect(formatQuarantine([])).toBe('No quarantined messages.');
  });
});

describe('formatResolution', () => {
  it('prints the outcome of a release', () => {
    expect(formatResolution(released)).toBe(
      'quarantined message 7 released: delivered by fr-operator at 2026-11-28 11:00:00Z',
    );
  });

  it('prints a discard', () => {
    expect(
      formatResolution({
        ...held,
        status: 'discarded',
        resolvedAt: '2026-11-29T01:02:00.000Z',
        resolvedBy: 'fr-operator',
        resolutionReason: 'spam',
        outcome: 'discarded',
      }),
    ).toBe('quarantined message 42 discarded by fr-operator at 2026-11-29 01:02:00Z');
  });
});
