import { isAscii } from 'node:buffer';
import type { Pool } from 'pg';
import { GroupCommit } from './group-commit';

/**
 * Sealed envelopes and receipts are compact JWS, ASCII by construction. They travel to the
 * database as text (`convert_to(…, 'UTF8')` gives back the same bytes), which is half the size
 * of the driver's hex encoding of bytea and costs no hex work on either side. Checked per item
 * before it joins a batch, so that one bad item can only fail itself.
 */
export function requireAscii(bytes: Buffer, what: string): void {
  // PostgreSQL text cannot hold NUL; a compact JWS has none.
  if (!isAscii(bytes) || bytes.includes(0)) {
    throw new Error(`the ${what} to store is not ASCII (a compact JWS is)`);
  }
}

export const asciiText = (bytes: Buffer): string => bytes.toString('latin1');

/** A column of a batch statement: one value per item. */
export function columnOf<I>(items: I[]): <T>(pick: (item: I) => T) => T[] {
  return (pick) => items.map(pick);
}

/**
 * A lookup by id made for every message, whose concurrent callers share one `id = ANY($1)`
 * query (prepared by name); null for an id not found.
 */
export function lookupById<Row extends { id: string }, T>(
  pool: Pool,
  name: string,
  sql: string,
  view: (row: Row) => T,
): GroupCommit<string, T | null> {
  return new GroupCommit<string, T | null>(async (ids) => {
    const { rows } = await pool.query<Row>({ name, text: sql, values: [ids] });
    const found = new Map(rows.map((row) => [row.id, view(row)]));
    return ids.map((id) => found.get(id) ?? null);
  });
}
