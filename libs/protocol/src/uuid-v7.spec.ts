import { isUuidV7, uuidV7 } from './uuid-v7';

describe('uuidV7', () => {
  it('has the RFC 9562 layout: version 7, variant 10, lower-case hex', () => {
    for (let index = 0; index < 200; index += 1) {
      const id = uuidV7();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isUuidV7(id)).toBe(true);
    }
  });

  it('starts with the 48-bit Unix time in milliseconds', () => {
    const time = Date.parse('2026-05-01T10:00:00.123Z');
    const id = uuidV7(time);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(time);
  });

  it('sorts by creation time, as text, across milliseconds', () => {
    const start = Date.parse('2026-05-01T10:00:00.000Z');
    const times = [0, 1, 2, 255, 256, 65_535, 65_536, 86_400_000].map((offset) => start + offset);
    const ids = times.map((time) => uuidV7(time));
    expect([...ids].sort()).toEqual(ids);
  });

  it('uses the current time by default', () => {
    const before = Date.now();
    const id = uuidV7();
    const after = Date.now();
    const time = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });

  it('does not repeat within one millisecond (74 random bits)', () => {
    const time = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => uuidV7(time)));
    expect(ids.size).toBe(1000);
  });
});

describe('isUuidV7', () => {
  test.each([
    ['upper case', '018F2E4C-7A1B-7C3D-8E4F-5A6B7C8D9E0F'],
    ['version 4', '018f2e4c-7a1b-4c3d-8e4f-5a6b7c8d9e0f'],
    ['variant 11', '018f2e4c-7a1b-7c3d-ce4f-5a6b7c8d9e0f'],
    ['no hyphens', '018f2e4c7a1b7c3d8e4f5a6b7c8d9e0f'],
    ['braces', '{018f2e4c-7a1b-7c3d-8e4f-5a6b7c8d9e0f}'],
    ['a trailing newline', '018f2e4c-7a1b-7c3d-8e4f-5a6b7c8d9e0f\n'],
    ['empty', ''],
    ['a number', 7],
    ['null', null],
  ])('refuses %s', (_name, value) => {
    expect(isUuidV7(value)).toBe(false);
  });

  it('accepts a lower-case version 7 UUID', () => {
    expect(isUuidV7('018f2e4c-7a1b-7c3d-8e4f-5a6b7c8d9e0f')).toBe(true);
  });
});
