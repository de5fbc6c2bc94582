import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Passwords of people (clerks, operators, auditors signing in to the workspace), hashed with
 * scrypt, a memory-hard function (RFC 7914): N = 2^15, r = 8, p = 1 — 32 MiB and about 0.1 s
 * per attempt on a small server. Stored as `scrypt$N$r$p$<salt>$<hash>` (base64url), so the
 * cost can be raised later without invalidating the stored hashes.
 */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]{22,})\$([A-Za-z0-9_-]{43})$/;

function derive(
  password: string,
  salt: Buffer,
  cost: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_BYTES,
      { ...cost, maxmem: 256 * cost.N * cost.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export function isPasswordHash(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = FORMAT.exec(value);
  if (!match) return false;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // A power of two, and no cost that would let a tampered file exhaust the node's memory.
  return (
    N >= 2 ** 14 && N <= 2 ** 20 && (N & (N - 1)) === 0 && r >= 8 && r <= 16 && p >= 1 && p <= 4
  );
}

/** Whether `password` matches `stored`, in time independent of where they differ. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = FORMAT.exec(stored);
  if (!match || !isPasswordHash(stored)) return false;
  const expected = Buffer.from(match[5]!, 'base64url');
  const key = await derive(password, Buffer.from(match[4]!, 'base64url'), {
    N: Number(match[1]),
    r: Number(match[2]),
    p: Number(match[3]),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash that matches no password, verified for unknown names so that they cost the same time. */
export const UNKNOWN_ACCOUNT_HASH = `scrypt$${COST.N}$${COST.r}$${COST.p}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(32).toString('base64url')}`;
