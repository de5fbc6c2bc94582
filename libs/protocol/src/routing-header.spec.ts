import { ProtocolError } from './protocol-error';
import { readRoutingHeader, type RoutingHeader } from './routing-header';
import { uuidV7 } from './uuid-v7';

const NOW = Date.parse('2026-05-01T10:00:00.000Z');

function header(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const id = uuidV7(NOW);
  return {
    v: 1,
    id,
    kind: 'extradition_request',
    from: { state: 'AT', authority: 'at-ministry-of-justice' },
    to: { state: 'FR', authority: 'fr-central-authority' },
    created: '2026-05-01T10:00:00.000Z',
    expires: '2026-05-08T10:00:00.000Z',
    thread: id,
    inReplyTo: null,
    contentDigest: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg',
    ...overrides,
  };
}

function failure(source: Record<string, unknown>): ProtocolError {
  try {
    readRoutingHeader(source);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected the header to be refused');
}

describe('readRoutingHeader', () => {
  it('returns a valid header as it is', () => {
    const source = header({ inReplyTo: uuidV7(NOW - 1000) });
    expect(readRoutingHeader(source)).toEqual(source as unknown as RoutingHeader);
  });

  it('returns timestamps exactly as signed', () => {
    const read = readRoutingHeader(header({ created: '2026-05-01T10:00:00Z' }));
    expect(read.created).toBe('2026-05-01T10:00:00Z');
  });

  test.each([
    ['v', { v: 4 }, 'header.v must be 1, 2 or 3'],
    ['v as a string', { v: '1' }, 'header.v must be 1, 2 or 3'],
    [
      'a request in a version 2 header',
      { v: 2 },
      'header.kind must be one of acknowledgement, information_request',
    ],
    [
      'a case message in a version 1 header',
      { kind: 'refusal' },
      'header.kind must be one of mla_request',
    ],
    ['id', { id: 'not-a-uuid' }, 'header.id must be a lower-case UUIDv7'],
    [
      'id in upper case',
      { id: uuidV7(NOW).toUpperCase() },
      'header.id must be a lower-case UUIDv7',
    ],
    [
      'id of UUID version 4',
      { id: '6f1c2d9e-0b1a-4c3d-8e4f-5a6b7c8d9e0f' },
      'header.id must be a lower-case UUIDv7',
    ],
    ['kind', { kind: 'surveillance' }, 'header.kind must be one of'],
    ['from', { from: 'AT' }, 'header.from must be an object'],
    ['to', { to: null }, 'header.to must be an object'],
    [
      'an extra member of to',
      { to: { state: 'FR', authority: 'fr-central-authority', queue: 'x' } },
      'header.to has an unknown member "queue"',
    ],
    ['created', { created: 'yesterday' }, 'header.created must match'],
    ['expires', { expires: 1 }, 'header.expires must be a string'],
    [
      'expires equal to created',
      { expires: '2026-05-01T10:00:00.000Z' },
      'header.expires must be later than created',
    ],
    [
      'expires before created',
      { expires: '2026-04-30T10:00:00.000Z' },
      'header.expires must be later than created',
    ],
    ['thread', { thread: undefined }, 'header.thread must be a lower-case UUIDv7'],
    ['inReplyTo', { inReplyTo: 'x' }, 'header.inReplyTo must be a lower-case UUIDv7'],
    ['inReplyTo absent', { inReplyTo: undefined }, 'header.inReplyTo must be a lower-case UUIDv7'],
    ['contentDigest too short', { contentDigest: 'abc' }, 'header.contentDigest must match'],
    [
      'contentDigest with padding',
      { contentDigest: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCg=' },
      'header.contentDigest must match',
    ],
    ['contentDigest in hex', { contentDigest: 'ab'.repeat(32) }, 'header.contentDigest must match'],
    ['an unknown member', { priority: 'high' }, 'header has an unknown member "priority"'],
  ])('%s → malformed-header naming it', (_name, change, message) => {
    const error = failure(header(change));
    expect(error.reason).toBe('malformed-header');
    expect(error.message).toContain(message);
  });

  test.each([
    ['header.to.state', { to: { state: 'fr', authority: 'fr-central-authority' } }],
    ['header.from.state', { from: { state: 'AUT', authority: 'at-ministry-of-justice' } }],
    ['header.to.authority', { to: { state: 'FR', authority: 'FR Central' } }],
    ['header.from.authority', { from: { state: 'AT' } }],
  ])('names %s when it is invalid', (field, change) => {
    expect(failure(header(change)).message).toContain(field);
  });

  it('refuses an invalid party member with malformed-header (whatever the message says)', () => {
    expect(failure(header({ to: { state: 'fr', authority: 'fr-central-authority' } })).reason).toBe(
      'malformed-header',
    );
  });

  test.each([
    ['ab', false],
    ['a-b', true],
    ['ministry', true],
    ['-ministry', false],
    ['ministry-', false],
    ['Ministry', false],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
  ])('authority id %j valid: %s', (authority, valid) => {
    const source = header({ to: { state: 'FR', authority } });
    if (valid) expect(readRoutingHeader(source).to.authority).toBe(authority);
    else expect(failure(source).reason).toBe('malformed-header');
  });
});
