import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttachmentUpload, GatewayClient } from '../gateway-client';
import { CheckFailed, gatewayStatusOf, isNetworkError, UsageError } from './exit-codes';
import { mediaTypeOfFile } from './media-type';
import { Progress, type ProgressMode } from './progress';
import {
  hexOfBase64Url,
  planChunks,
  retryable,
  retryDelayMs,
  stateFileName,
  stateMatches,
  type UploadState,
} from './upload-plan';

/** Attempts per chunk before the upload stops (it can be resumed later). */
const CHUNK_ATTEMPTS = 4;

export interface UploadOptions {
  /** Resume this upload (an id `comity upload` printed) instead of looking for a state file. */
  resume?: string;
  mediaType?: string;
  /** The file name the recipient sees (default: the file's own). */
  name?: string;
  /** Chunks in flight at once. */
  concurrency: number;
  progress: ProgressMode;
  /** Where state files go (`<dir>/uploads/`); null: none (resume only with --resume). */
  stateDirectory: string | null;
  /** A line of its own on stderr (notes); the progress bar writes there too. */
  write?: (text: string) => void;
}

export interface UploadResult {
  /** The attachment reference: give it to `comity send --attachment-ref`. */
  id: string;
  filename: string;
  mediaType: string;
  size: number;
  chunkSize: number;
  chunks: number;
  /** Chunks this run sent, and those the gateway already held (an earlier, interrupted run). */
  chunksSent: number;
  chunksPresent: number;
  resumed: boolean;
  /** Hex SHA-256 of the file, computed while reading it, and equal to the gateway's. */
  sha256: string;
  status: 'complete';
}

/** ~/.comity, or $COMITY_HOME. */
export function defaultStateDirectory(): string {
  return process.env.COMITY_HOME || join(homedir(), '.comity');
}

/**
 * Uploads a file in chunks (never whole in memory) and completes it: starts an upload, or
 * resumes one (--resume, or the state file an interrupted run left), sends only the chunks the
 * gateway lacks, hashes the whole file on the way, and checks the gateway's SHA-256 against it.
 */
export async function runUpload(
  client: GatewayClient,
  file: string,
  options: UploadOptions,
): Promise<UploadResult> {
  const path = resolve(file);
  const stat = statOf(path);
  const filename = options.name ?? basename(path);
  const stateFile = options.stateDirectory
    ? join(options.stateDirectory, 'uploads', stateFileName(client.baseUrl, path))
    : null;
  const identity = { node: client.baseUrl, path, size: stat.size, mtimeMs: stat.mtimeMs };
  const note = options.write ?? ((text: string) => process.stderr.write(text));
  const quietNote = (text: string): void => {
    if (options.progress !== 'none') note(`${text}\n`);
  };

  let upload: AttachmentUpload | null = null;
  let resumed = false;
  if (options.resume) {
    upload = await client.attachment(options.resume);
    resumed = true;
  } else {
    const saved = stateFile ? readState(stateFile) : null;
    if (stateMatches(saved, identity)) {
      upload = await client.attachment(saved.uploadId).catch((error: unknown) => {
        if (gatewayStatusOf(error) !== 404) throw error;
        quietNote(`upload ${saved.uploadId} is no longer at the gateway; starting again`);
        return null;
      });
      resumed = upload !== null;
    }
  }
  if (!upload) {
    const mediaType = options.mediaType ?? mediaTypeOfFile(path, filename);
    upload = await client.createAttachment({ filename, mediaType, size: stat.size });
  }
  if (stateFile) {
    writeState(stateFile, { ...identity, uploadId: upload.id, startedAt: upload.createdAt });
  }
  const plan = planChunks(upload, stat.size);
  const progress = new Progress(options.progress, filename, stat.size, note);
  if (resumed) {
    progress.note(
      `resuming upload ${upload.id}: ${plan.present} of ${upload.chunks} chunks already at the gateway`,
    );
  }
  progress.begin(plan.bytesPresent);

  const id = upload.id;
  let sha256: string;
  try {
    sha256 = await sendChunks(client, id, path, stat, plan, options.concurrency, (bytes) =>
      progress.advance(bytes),
    );
  } catch (error) {
    if (!isNetworkError(error) && (gatewayStatusOf(error) ?? 0) < 500) throw error;
    throw new Error(
      `${(error as Error).message}; run the same command again to resume (or --resume ${id})`,
      { cause: error },
    );
  }
  const completed = upload.status === 'complete' ? upload : await client.completeAttachment(id);
  progress.finish();
  if (stateFile) rmSync(stateFile, { force: true });
  const announced = completed.sha256 ? hexOfBase64Url(completed.sha256) : null;
  if (announced !== sha256) {
    throw new CheckFailed(
      `upload ${id}: the gateway's SHA-256 (${announced ?? 'none'}) is not the file's (${sha256}); the file changed during or between uploads: upload it again without --resume`,
    );
  }
  return {
    id,
    filename: completed.filename,
    mediaType: completed.mediaType,
    size: completed.size,
    chunkSize: completed.chunkSize,
    chunks: completed.chunks,
    chunksSent: plan.toSend,
    chunksPresent: plan.present,
    resumed,
    sha256,
    status: 'complete',
  };
}

/** The result for people: the reference to use, the file, the SHA-256. */
export function formatUpload(result: UploadResult): string[] {
  return [
    `attachment ${result.id}`,
    `  file     ${result.filename}, ${result.mediaType}, ${result.size} bytes in ${result.chunks} chunk${result.chunks === 1 ? '' : 's'}` +
      (result.resumed ? ` (${result.chunksSent} sent now, ${result.chunksPresent} before)` : ''),
    `  sha-256  ${result.sha256} (the gateway's digest matches)`,
    `send it with: comity send ... --attachment-ref ${result.id}`,
  ];
}

function statOf(path: string): { size: number; mtimeMs: number } {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (!stat.isFile()) throw new UsageError(`${path} is not a regular file`);
  if (stat.size === 0) throw new UsageError(`${path} is empty: there is nothing to upload`);
  return { size: stat.size, mtimeMs: stat.mtimeMs };
}

/**
 * Reads the file chunk by chunk in order, hashing every chunk and sending (a few at once)
 * those the plan marks; at most `concurrency` chunks are held. The file's hex SHA-256.
 */
async function sendChunks(
  client: GatewayClient,
  id: string,
  path: string,
  stat: { size: number; mtimeMs: number },
  plan: ReturnType<typeof planChunks>,
  concurrency: number,
  sent: (bytes: number) => void,
): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  try {
    let scratch: Buffer | null = null;
    for (const chunk of plan.chunks) {
      if (failure) break;
      const buffer = chunk.send
        ? Buffer.allocUnsafe(chunk.length)
        : (scratch ??= Buffer.allocUnsafe(chunk.length)).subarray(0, chunk.length);
      await readExactly(handle, buffer, chunk.offset);
      hash.update(buffer);
      if (!chunk.send) continue;
      const task: Promise<void> = putWithRetries(client, id, chunk.index, buffer)
        .then(
          () => sent(chunk.length),
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure) throw (failure as { error: unknown }).error;
    const after = await handle.stat();
    if (after.size !== stat.size || after.mtimeMs !== stat.mtimeMs) {
      throw new CheckFailed(`${path} changed while it was being uploaded`);
    }
  } finally {
    await Promise.allSettled(inFlight);
    await handle.close();
  }
  return hash.digest('hex');
}

async function putWithRetries(
  client: GatewayClient,
  id: string,
  index: number,
  bytes: Buffer,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.putChunk(id, index, bytes);
      return;
    } catch (error) {
      const status = gatewayStatusOf(error);
      const again = isNetworkError(error) || (status !== null && retryable(status));
      if (!again || attempt >= CHUNK_ATTEMPTS) throw error;
      await sleep(retryDelayMs(attempt));
    }
  }
}

async function readExactly(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let read = 0;
  while (read < buffer.length) {
    const { bytesRead } = await handle.read(buffer, read, buffer.length - read, position + read);
    if (bytesRead === 0) throw new CheckFailed('the file became shorter while it was being read');
    read += bytesRead;
  }
}

function readState(path: string): UploadState | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as UploadState;
  } catch {
    return null;
  }
}

function writeState(path: string, state: UploadState): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}
