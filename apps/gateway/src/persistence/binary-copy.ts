import type { DataSource } from 'typeorm';

/** One sealed chunk of a large attachment, at its index. */
export interface SealedChunk {
  index: number;
  sealed: Buffer;
}

/** The minimum of node-postgres's connection that a custom query uses. */
interface PgConnection {
  query(text: string): void;
}

/** What node-postgres needs of a client to run a custom ("submittable") query. */
export interface PgClient {
  query(submittable: BinaryCopyOut): unknown;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_BYTES = SIGNATURE.length + 4 + 4;

/**
 * Reads `(chunk_index int, sealed bytea)` rows with `COPY (SELECT …) TO STDOUT (FORMAT binary)`.
 * Through an ordinary query node-postgres receives bytea as hex text: two bytes on the wire
 * and a 2 MiB JavaScript string for every 1 MiB chunk, garbage the V8 heap only sheds at its
 * next full collection (a large file would grow it by 100+ MiB). COPY's binary rows arrive as
 * raw bytes, copied once into each chunk's Buffer.
 *
 * The query runs through node-postgres's documented "submittable" interface; COPY takes no
 * bind parameters, so callers pass only values they validated (UUIDs, integers, State codes).
 */
export class BinaryCopyOut {
  readonly promise: Promise<SealedChunk[]>;
  private resolve!: (rows: SealedChunk[]) => void;
  private reject!: (error: Error) => void;
  private readonly rows: SealedChunk[] = [];
  private pending: Buffer | null = null;
  private headerSeen = false;
  private trailerSeen = false;
  private error: Error | null = null;

  constructor(private readonly text: string) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    if (this.error) return;
    try {
      this.consume(message.chunk);
    } catch (error) {
      this.error = error as Error;
    }
  }

  handleError(error: Error): void {
    this.error ??= error;
  }

  handleReadyForQuery(): void {
    if (!this.error && (!this.trailerSeen || this.pending)) {
      this.error = new Error('the binary COPY ended before its trailer');
    }
    if (this.error) this.reject(this.error);
    else this.resolve(this.rows);
  }

  // The rest of the protocol: nothing to do for COPY TO.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}

  /** Parses whole tuples; PostgreSQL sends one per CopyData message, but any split is handled. */
  private consume(part: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, part]) : part;
    this.pending = null;
    let offset = 0;
    if (!this.headerSeen) {
      if (data.length < HEADER_BYTES) {
        this.pending = Buffer.from(data);
        return;
      }
      if (!data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
        throw new Error('not a PostgreSQL binary COPY stream');
      }
      offset = HEADER_BYTES + data.readUInt32BE(SIGNATURE.length + 4);
      this.headerSeen = true;
    }
    while (offset + 2 <= data.length) {
      const fields = data.readInt16BE(offset);
      if (fields === -1) {
        this.trailerSeen = true;
        offset += 2;
        continue;
      }
      if (fields !== 2) throw new Error(`expected 2 columns per row, got ${fields}`);
      if (offset + 2 + 4 + 4 + 4 > data.length) break;
      const indexLength = data.readInt32BE(offset + 2);
      if (indexLength !== 4) throw new Error('chunk_index must be a non-null int');
      const index = data.readInt32BE(offset + 6);
      const sealedLength = data.readInt32BE(offset + 10);
      if (sealedLength < 0) throw new Error('sealed must not be null');
      const end = offset + 14 + sealedLength;
      if (end > data.length) break;
      // A copy: the driver's buffer this is a slice of is several times larger.
      this.rows.push({ index, sealed: Buffer.from(data.subarray(offset + 14, end)) });
      offset = end;
    }
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATE = /^[A-Z]{2}$/;

/** Literals for COPY, checked: a UUID, a State code or a safe integer, nothing else. */
export function copyLiteral(value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
    return String(value);
  }
  if (!UUID.test(value) && !STATE.test(value)) throw new Error(`refused COPY literal "${value}"`);
  return `'${value}'`;
}

/** Sealed chunks through a binary COPY (see BinaryCopyOut): raw bytes, not hex text. */
export async function readSealedChunks(
  dataSource: DataSource,
  select: string,
): Promise<SealedChunk[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const client = (await runner.connect()) as PgClient;
    const copy = new BinaryCopyOut(`COPY (${select}) TO STDOUT (FORMAT binary)`);
    client.query(copy);
    return await copy.promise;
  } finally {
    await runner.release();
  }
}
