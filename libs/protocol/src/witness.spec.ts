import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { signCheckpoint, verifySignedCheckpoint, type Checkpoint } from './checkpoint';
import { consistencyProof, leafHash, rootOf } from './merkle-tree';
import {
  cosignCheckpoint,
  encodeCheckpointAnnouncement,
  encodeCosignatureReply,
  judgeCheckpoint,
  readCheckpointAnnouncement,
  readCosignatureReply,
  verifyCosignature,
  type WitnessedLog,
} from './witness';

const hashes = Array.from({ length: 12 }, (_, index) => leafHash(Buffer.from(`leaf ${index}`)));
const origin = 'comity.example/AT/evidence';
const head = (size: number, leaves = hashes): Checkpoint => ({
  origin,
  size,
  root: rootOf(leaves.slice(0, size)),
});
const logKeys = generateKeyPairSync('ed25519');
const log = { keyName: origin, suite: 'ed25519-x25519', key: logKeys.privateKey } as const;

function known(...checkpoints: Checkpoint[]): WitnessedLog {
  const bySize = new Map(checkpoints.map((checkpoint) => [checkpoint.size, checkpoint.root]));
  return { latest: checkpoints.at(-1) ?? null, rootAt: (size) => bySize.get(size) };
}

describe.each([
  ['ed25519-x25519', generateKeyPairSync('ed25519')],
  ['rsa', generateKeyPairSync('rsa', { modulusLength: 2048 })],
] as const)('cosignatures (%s witness)', (suite, keys) => {
  const witness = { keyName: 'comity.example/FR/witness', suite, key: keys.privateKey } as const;

  it('adds a line that verifies, keeps the log signature, and names the time', () => {
    const { note } = signCheckpoint(head(5), log);
    const at = new Date('2026-12-05T10:00:00.700Z');
    const cosigned = cosignCheckpoint(note, witness, at);
    expect(cosigned.startsWith(note)).toBe(true);
    expect(verifySignedCheckpoint(cosigned, { ...log, key: logKeys.publicKey })).toEqual(head(5));
    const { checkpoint, cosignedAt } = verifyCosignature(cosigned, {
      ...witness,
      key: keys.publicKey,
    });
    expect(checkpoint).toEqual(head(5));
    expect(cosignedAt.toISOString()).toBe('2026-12-05T10:00:00.000Z');
  });

  it('refuses a cosignature moved to another checkpoint or made by another key', () => {
    const cosigned = cosignCheckpoint(signCheckpoint(head(5), log).note, witness, new Date());
    const line = cosigned.slice(cosigned.lastIndexOf('\u2014'));
    const moved = `${signCheckpoint(head(6), log).note}${line}`;
    expect(() => verifyCosignature(moved, { ...witness, key: keys.publicKey })).toThrow(
      'does not verify',
    );
    const stranger = generateKeyPairSync('ed25519');
    expect(() =>
      verifyCosignature(cosigned, { ...witness, suite: 'ed25519-x25519', key: stranger.publicKey }),
    ).toThrow('no cosignature');
  });
});

it('writes Ed25519 cosignatures exactly as C2SP cosignature/v1 (type 0x04, time, signature)', () => {
  const keys = generateKeyPairSync('ed25519');
  const name = 'witness.example';
  const { note } = signCheckpoint(head(3), log);
  const cosigned = cosignCheckpoint(
    note,
    { keyName: name, suite: 'ed25519-x25519', key: keys.privateKey },
    new Date(1_700_000_000_000),
  );
  const blob = Buffer.from(cosigned.trimEnd().split(' ').at(-1)!, 'base64');
  const raw = Buffer.from(keys.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const keyId = createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.of(0x04))
    .update(raw)
    .digest()
    .subarray(0, 4);
  expect(blob.subarray(0, 4)).toEqual(keyId);
  expect(blob.readBigUInt64BE(4)).toBe(1_700_000_000n);
  const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
  const expected = sign(
    null,
    Buffer.from(`cosignature/v1\ntime 1700000000\n${text}`),
    keys.privateKey,
  );
  expect(blob.subarray(12)).toEqual(expected);
});

describe('a witness judging announced checkpoints', () => {
  const announce = (size: number, oldSize: number, leaves = hashes) => ({
    checkpoint: head(size, leaves),
    oldSize,
    consistency: consistencyProof(leaves, oldSize, size),
  });

  it('accepts the first checkpoint of a log, and each proven extension', () => {
    expect(judgeCheckpoint(known(), announce(4, 0)).verdict).toBe('accept');
    expect(judgeCheckpoint(known(head(4)), announce(11, 4)).verdict).toBe('accept');
    expect(judgeCheckpoint(known(head(4), head(11)), announce(11, 4)).verdict).toBe('known');
    expect(judgeCheckpoint(known(head(4), head(11)), announce(4, 0)).verdict).toBe('known');
  });

  it('answers a proof from another size, or an unseen older size, as stale, not as a fork', () => {
    expect(judgeCheckpoint(known(head(4), head(7)), announce(11, 4))).toMatchObject({
      verdict: 'stale',
      detail: 'the proof starts at size 4, the latest seen is 7',
    });
    expect(judgeCheckpoint(known(head(7)), announce(5, 0)).verdict).toBe('stale');
  });

  it('finds a fork: the same size with another root, or a history rewritten', () => {
    const rewritten = [...hashes.slice(0, 3), leafHash(Buffer.from('forged')), ...hashes.slice(4)];
    expect(judgeCheckpoint(known(head(6)), announce(6, 0, rewritten))).toMatchObject({
      verdict: 'fork',
      detail: 'two checkpoints of size 6 with different roots',
    });
    expect(judgeCheckpoint(known(head(4), head(6)), announce(4, 0, rewritten)).verdict).toBe(
      'fork',
    );
    expect(judgeCheckpoint(known(head(6)), announce(10, 6, rewritten))).toMatchObject({
      verdict: 'fork',
      detail: 'size 10 is not an extension of the checkpoint of size 6 seen before',
    });
  });
});

describe('witness messages', () => {
  const { note } = signCheckpoint(head(9), log);

  it('round-trips an announcement and a reply', () => {
    const announcement = {
      v: 1,
      checkpoint: note,
      oldSize: 4,
      consistency: consistencyProof(hashes, 4, 9),
    } as const;
    expect(readCheckpointAnnouncement(encodeCheckpointAnnouncement(announcement))).toEqual(
      announcement,
    );
    expect(readCosignatureReply(encodeCosignatureReply(note))).toEqual({ v: 1, checkpoint: note });
  });

  it.each([
    ['not JSON', 'nope', /JSON/],
    [
      'an unknown member',
      JSON.stringify({ v: 1, checkpoint: note, oldSize: 0, consistency: [], x: 1 }),
      'unknown member x',
    ],
    [
      'a negative size',
      JSON.stringify({ v: 1, checkpoint: note, oldSize: -1, consistency: [] }),
      'oldSize',
    ],
    [
      'a short hash',
      JSON.stringify({ v: 1, checkpoint: note, oldSize: 0, consistency: ['AAAA'] }),
      'SHA-256',
    ],
    [
      'a note that is no checkpoint',
      JSON.stringify({ v: 1, checkpoint: 'hello', oldSize: 0, consistency: [] }),
      'checkpoint:',
    ],
    [
      'another version',
      JSON.stringify({ v: 2, checkpoint: note, oldSize: 0, consistency: [] }),
      'v must be 1',
    ],
  ])('refuses an announcement with %s', (_, text, message) => {
    expect(() => readCheckpointAnnouncement(Buffer.from(text))).toThrow(message);
  });
});
