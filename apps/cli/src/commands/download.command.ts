import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { GatewayClient, MessageView } from '../gateway-client';
import { CheckFailed, UsageError } from './exit-codes';

export interface DownloadOptions {
  /** A large attachment (by its index in the message): streamed, its SHA-256 checked. */
  attachment?: number;
  /** An inline attachment (by its index in the content's attachments). */
  inline?: number;
  /** Where to write; "-" for stdout. Default: the attachment's file name, or <id>.json. */
  out?: string;
  /** A request this node sent (its own copy) instead of one it received. */
  outbound?: boolean;
  /** Overwrite an existing file. */
  force?: boolean;
}

export interface DownloadResult {
  id: string;
  direction: 'inbound' | 'outbound';
  /** The message as the gateway shows it (JSON, content decrypted), or one of its attachments. */
  part: 'message' | 'attachment' | 'inline-attachment';
  index: number | null;
  /** The file written, or "-" for stdout. */
  file: string;
  filename: string | null;
  mediaType: string;
  bytes: number;
  /** Hex SHA-256 of the bytes written. */
  sha256: string;
  /** Hex SHA-256 the gateway announced (Repr-Digest), if it did. */
  announcedSha256: string | null;
  /** true: equal to the announced digest; null: nothing was announced. */
  verified: boolean | null;
}

/** The SHA-256 of an RFC 9530 Repr-Digest header ("sha-256=:<base64>:"), as hex; null if absent. */
export function parseReprDigest(header: string | null): string | null {
  const match = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/]+=*):/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const bytes = Buffer.from(match[1], 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : null;
}

/** The file name of a Content-Disposition header (filename* preferred), reduced to a plain name. */
export function filenameFromDisposition(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header)?.[1];
  let name: string | undefined;
  if (extended) {
    try {
      name = decodeURIComponent(extended.trim());
    } catch {
      name = undefined;
    }
  }
  name ??=
    /filename\s*=\s*"([^"]*)"/i.exec(header)?.[1] ?? /filename\s*=\s*([^;]+)/i.exec(header)?.[1];
  return name ? safeFilename(name) : null;
}

/** A name safe to create in the current directory: no path, no control characters, not "." or "..". */
export function safeFilename(name: string): string | null {
  const plain = basename(name.replace(/\\/g, '/'))
    // eslint-disable-next-line no-control-regex -- replacing control characters is the point
    .replace(/[\u0000-\u001f\u007f]/g, '_')
    .trim();
  return plain && plain !== '.' && plain !== '..' ? plain : null;
}

/** Writes a message, a large attachment (streamed) or an inline attachment to a file. */
export async function runDownload(
  client: GatewayClient,
  id: string,
  options: DownloadOptions,
  stdout: Writable = process.stdout,
): Promise<DownloadResult> {
  if (options.attachment !== undefined && options.inline !== undefined) {
    throw new UsageError('give --attachment or --inline, not both');
  }
  const direction = options.outbound ? 'outbound' : 'inbound';
  const base = { id, direction } as const;
  if (options.attachment !== undefined) {
    const index = options.attachment;
    const response = await client.stream(
      `/v1/${direction}-messages/${encodeURIComponent(id)}/attachments/${index}`,
    );
    const filename = filenameFromDisposition(response.headers.get('content-disposition'));
    const file = target(options, filename ?? `${id}-attachment-${index}`);
    const announced = parseReprDigest(response.headers.get('repr-digest'));
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    const { bytes, sha256 } = await streamTo(file, response, stdout);
    const result: DownloadResult = {
      ...base,
      part: 'attachment',
      index,
      file,
      filename,
      mediaType: response.headers.get('content-type') ?? 'application/octet-stream',
      bytes,
      sha256,
      announcedSha256: announced,
      verified: announced === null ? null : announced === sha256,
    };
    if (Number.isFinite(declared) && bytes !== declared) {
      discard(file);
      throw new CheckFailed(`attachment ${index} of ${id}: ${bytes} bytes of ${declared} arrived`);
    }
    if (result.verified === false) {
      discard(file);
      throw new CheckFailed(
        `attachment ${index} of ${id}: SHA-256 ${sha256} is not the announced ${announced}${file === '-' ? ' (already written to stdout: do not use it)' : '; nothing was kept'}`,
      );
    }
    if (file !== '-') renameSync(partOf(file), file);
    return result;
  }
  const message: MessageView =
    direction === 'inbound' ? await client.inbound(id) : await client.outbound(id);
  if (options.inline !== undefined) {
    const attachments = (message.content?.attachments ?? []) as Array<{
      filename: string;
      mediaType: string;
      data: string;
    }>;
    const attachment = attachments[options.inline];
    if (!attachment) {
      throw new UsageError(
        `message ${id} has ${attachments.length} inline attachment${attachments.length === 1 ? '' : 's'}; there is no --inline ${options.inline}`,
      );
    }
    const filename = safeFilename(attachment.filename);
    const bytes = Buffer.from(attachment.data, 'base64');
    const file = target(options, filename ?? `${id}-inline-${options.inline}`);
    write(file, bytes, stdout);
    return {
      ...base,
      part: 'inline-attachment',
      index: options.inline,
      file,
      filename,
      mediaType: attachment.mediaType,
      ...digestOf(bytes),
      announcedSha256: null,
      verified: null,
    };
  }
  const bytes = Buffer.from(`${JSON.stringify(message, null, 2)}\n`, 'utf8');
  const file = target(options, `${id}.json`);
  write(file, bytes, stdout);
  return {
    ...base,
    part: 'message',
    index: null,
    file,
    filename: null,
    mediaType: 'application/json',
    ...digestOf(bytes),
    announcedSha256: null,
    verified: null,
  };
}

/** For people: what was written where, and whether its digest checked out. */
export function formatDownload(result: DownloadResult): string {
  const what =
    result.part === 'message'
      ? `message ${result.id}`
      : `${result.part === 'attachment' ? 'attachment' : 'inline attachment'} ${result.index} of ${result.id}${result.filename ? ` (${result.filename}, ${result.mediaType})` : ''}`;
  const check =
    result.verified === true
      ? " (matches the gateway's)"
      : result.part === 'message'
        ? ''
        : ' (no digest announced for it)';
  return `${what}: ${result.bytes} bytes to ${result.file === '-' ? 'stdout' : result.file}\n  sha-256 ${result.sha256}${check}`;
}

function target(options: DownloadOptions, fallback: string): string {
  const file = options.out ?? fallback;
  if (file !== '-' && existsSync(file) && !options.force) {
    throw new UsageError(`${file} exists: give --force to overwrite it, or --out another file`);
  }
  return file;
}

/** The file being written, renamed to `file` once its digest checked out. */
function partOf(file: string): string {
  return join(dirname(file), `.${basename(file)}.part`);
}

function discard(file: string): void {
  if (file !== '-') rmSync(partOf(file), { force: true });
}

function digestOf(bytes: Buffer): { bytes: number; sha256: string } {
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function write(file: string, bytes: Buffer, stdout: Writable): void {
  if (file === '-') stdout.write(bytes);
  else writeFileSync(file, bytes);
}

/** Streams a response body to `file` (its .part file) or stdout, hashing it; constant memory. */
async function streamTo(
  file: string,
  response: Response,
  stdout: Writable,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  if (!response.body) throw new CheckFailed('the gateway sent no body');
  const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  try {
    if (file === '-') await pipeline(source, counting, stdout, { end: false });
    else await pipeline(source, counting, createWriteStream(partOf(file)));
  } catch (error) {
    discard(file);
    throw new Error(`download stopped after ${bytes} bytes: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { bytes, sha256: hash.digest('hex') };
}
