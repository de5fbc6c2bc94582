import { FieldReader } from './fields';
import { ProtocolError } from './protocol-error';

function failure(action: () => unknown): ProtocolError {
  try {
    action();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

describe('FieldReader', () => {
  const reader = new FieldReader('malformed-header', 'header');

  it('carries its reason code and names prefix.field in every message', () => {
    const error = failure(() => reader.fail('to.state', 'must be two capital letters'));
    expect(error.reason).toBe('malformed-header');
    expect(error.message).toBe('header.to.state must be two capital letters');
  });

  describe('object', () => {
    it('returns a plain object', () => {
      expect(reader.object({ to: { state: 'FR' } }, 'to')).toEqual({ state: 'FR' });
    });

    test.each([
      ['a string', 'FR'],
      ['null', null],
      ['an array', []],
      ['missing', undefined],
    ])('refuses %s', (_name, value) => {
      expect(failure(() => reader.object({ to: value }, 'to')).message).toBe(
        'header.to must be an object',
      );
    });
  });

  describe('string', () => {
    it('returns a string that fits the pattern and the length', () => {
      expect(reader.string({ id: 'abc' }, 'id', /^[a-c]+$/, 3)).toBe('abc');
    });

    it('refuses a non-string, naming the field', () => {
      expect(failure(() => reader.string({ id: 7 }, 'id')).message).toBe(
        'header.id must be a string',
      );
    });

    it('refuses a string longer than maxChars (1024 by default)', () => {
      expect(failure(() => reader.string({ id: 'abcd' }, 'id', undefined, 3)).message).toBe(
        'header.id must be at most 3 characters',
      );
      expect(reader.string({ id: 'x'.repeat(1024) }, 'id')).toHaveLength(1024);
      expect(failure(() => reader.string({ id: 'x'.repeat(1025) }, 'id')).message).toContain(
        'at most 1024',
      );
    });

    it('refuses a string that does not match, quoting the pattern', () => {
      expect(failure(() => reader.string({ id: 'abd' }, 'id', /^[a-c]+$/)).message).toBe(
        'header.id must match /^[a-c]+$/',
      );
    });
  });

  describe('optionalString', () => {
    it('reads null and absence as null, and checks anything else', () => {
      expect(reader.optionalString({}, 'deadline')).toBeNull();
      expect(reader.optionalString({ deadline: null }, 'deadline')).toBeNull();
      expect(
        reader.optionalString({ deadline: '2030-01-01' }, 'deadline', /^\d{4}-\d{2}-\d{2}$/),
      ).toBe('2030-01-01');
      expect(failure(() => reader.optionalString({ deadline: 0 }, 'deadline')).message).toBe(
        'header.deadline must be a string',
      );
    });
  });

  describe('oneOf', () => {
    it('accepts listed values only, listing them in the message', () => {
      expect(reader.oneOf({ urgency: 'urgent' }, 'urgency', ['routine', 'urgent'])).toBe('urgent');
      expect(
        failure(() => reader.oneOf({ urgency: 'URGENT' }, 'urgency', ['routine', 'urgent']))
          .message,
      ).toBe('header.urgency must be one of routine, urgent');
      expect(
        failure(() => reader.oneOf({ urgency: ['urgent'] }, 'urgency', ['urgent'])).reason,
      ).toBe('malformed-header');
    });
  });

  describe('timestamp', () => {
    test.each(['2026-05-01T10:00:00Z', '2026-05-01T10:00:00.1Z', '2026-05-01T10:00:00.123Z'])(
      'accepts %s',
      (text) => {
        expect(reader.timestamp({ created: text }, 'created')).toBe(text);
      },
    );

    test.each([
      '2026-05-01T10:00:00',
      '2026-05-01T10:00:00+02:00',
      '2026-05-01 10:00:00Z',
      '2026-05-01T10:00:00.1234Z',
      '2026-05-01',
      '2026-13-01T10:00:00Z',
      '2026-05-01T25:00:00Z',
      '2026-05-32T10:00:00Z',
      ' 2026-05-01T10:00:00Z',
    ])('refuses %j, naming the field', (text) => {
      expect(failure(() => reader.timestamp({ created: text }, 'created')).message).toMatch(
        /^header\.created must /,
      );
    });

    test.each(['2026-02-30T10:00:00Z', '2026-04-31T10:00:00Z', '2025-02-29T10:00:00Z'])(
      'refuses the calendar-invalid date %s',
      (text) => {
        const read = (): unknown => reader.timestamp({ created: text }, 'created');
        expect(read).toThrow(ProtocolError);
      },
    );
  });

  describe('integer', () => {
    it('accepts whole numbers within the bounds only', () => {
      expect(reader.integer({ n: 3 }, 'n', 1, 3)).toBe(3);
      for (const value of [0, 4, 1.5, '2', Number.NaN, null]) {
        expect(failure(() => reader.integer({ n: value }, 'n', 1, 3)).message).toBe(
          'header.n must be an integer from 1 to 3',
        );
      }
    });
  });

  describe('onlyMembers', () => {
    it('names the unknown member and where it is', () => {
      expect(() => reader.onlyMembers({ v: 1 }, ['v'])).not.toThrow();
      expect(failure(() => reader.onlyMembers({ v: 1, x: 2 }, ['v'])).message).toBe(
        'header has an unknown member "x"',
      );
      expect(
        failure(() => reader.onlyMembers({ state: 'FR', x: 2 }, ['state'], 'to')).message,
      ).toBe('header.to has an unknown member "x"');
    });

    it('treats inherited names such as __proto__ and constructor as unknown members', () => {
      const parsed = JSON.parse('{"__proto__":{"polluted":true},"v":1}') as Record<string, unknown>;
      expect(failure(() => reader.onlyMembers(parsed, ['v'])).message).toBe(
        'header has an unknown member "__proto__"',
      );
      expect(failure(() => reader.onlyMembers({ constructor: 1 }, ['v'])).message).toContain(
        '"constructor"',
      );
    });
  });
});
