import { uuidV7 } from '@comity/protocol';
import { uuidV7Bound } from './message-search.repository';

describe('uuidV7Bound', () => {
  it('is the smallest id of its millisecond: ids made then sort at or above it, earlier ones below', () => {
    const ms = Date.parse('2026-11-29T01:00:00.000Z');
    const bound = uuidV7Bound(ms);
    expect(bound).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-0000-0000-000000000000$/);
    for (let i = 0; i < 100; i += 1) {
      expect(uuidV7(ms) >= bound).toBe(true);
      expect(uuidV7(ms - 1) < bound).toBe(true);
      expect(uuidV7(ms + 1) > bound).toBe(true);
    }
  });

  it('clamps times outside the 48-bit range', () => {
    expect(uuidV7Bound(-5)).toBe('00000000-0000-0000-0000-000000000000');
    expect(uuidV7Bound(2 ** 50)).toBe('ffffffff-ffff-0000-0000-000000000000');
  });
});
