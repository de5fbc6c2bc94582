import { createHash } from 'node:crypto';
import { CheckFailed } from './exit-codes';

/** What the gateway says about an upload, as far as planning the chunks goes. */
export interface UploadShape {
  id: string;
  size: number;
  chunkSize: number;
  chunks: number;
  missingChunks: Array<[number, number]>;
}

export interface ChunkPlan {
  /** Every chunk, in order: where it starts in the file, how long it is, whether to send it. */
  chunks: Array<{ index: number; offset: number; length: number; send: boolean }>;
  /** Chunks to send (missing at the gateway) and their bytes. */
  toSend: number;
  bytesToSend: number;
  /** Chunks the gateway already holds (a resumed upload) and their bytes. */
  present: number;
  bytesPresent: number;
}

/**
 * Which chunks of a file of `fileSize` bytes to send, from the gateway's answer: the missing
 * ones. Refuses an upload that is not for a file of this size (another file, or the file changed).
 */
export function planChunks(upload: UploadShape, fileSize: number): ChunkPlan {
  if (upload.size !== fileSize) {
    throw new CheckFailed(
      `upload ${upload.id} is for a file of ${upload.size} bytes; this file has ${fileSize}`,
    );
  }
  if (
    !Number.isInteger(upload.chunkSize) ||
    upload.chunkSize < 1 ||
    upload.chunks !== Math.ceil(upload.size / upload.chunkSize)
  ) {
    throw new CheckFailed(
      `upload ${upload.id}: ${upload.chunks} chunks of ${upload.chunkSize} bytes cannot hold ${upload.size} bytes`,
    );
  }
  const missing = new Set<number>();
  for (const [first, last] of upload.missingChunks) {
    for (let index = Math.max(0, first); index <= Math.min(last, upload.chunks - 1); index++) {
      missing.add(index);
    }
  }
  const plan: ChunkPlan = { chunks: [], toSend: 0, bytesToSend: 0, present: 0, bytesPresent: 0 };
  for (let index = 0; index < upload.chunks; index++) {
    const offset = index * upload.chunkSize;
    const length = Math.min(upload.chunkSize, upload.size - offset);
    const send = missing.has(index);
    plan.chunks.push({ index, offset, length, send });
    if (send) {
      plan.toSend += 1;
      plan.bytesToSend += length;
    } else {
      plan.present += 1;
      plan.bytesPresent += length;
    }
  }
  return plan;
}

/** What is kept between runs so that `comity upload FILE` again resumes where it stopped. */
export interface UploadState {
  node: string;
  path: string;
  size: number;
  mtimeMs: number;
  uploadId: string;
  startedAt: string;
}

/** The state file's name for a file sent to a node: one per (node, absolute path). */
export function stateFileName(node: string, absolutePath: string): string {
  return `${createHash('sha256').update(`${node}\0${absolutePath}`).digest('hex').slice(0, 32)}.json`;
}

/** Whether a saved state is for this very file as it is now (same node, path, size, modification time). */
export function stateMatches(
  state: UploadState | null,
  file: { node: string; path: string; size: number; mtimeMs: number },
): state is UploadState {
  return (
    state !== null &&
    state.node === file.node &&
    state.path === file.path &&
    state.size === file.size &&
    state.mtimeMs === file.mtimeMs &&
    typeof state.uploadId === 'string'
  );
}

/** Hex SHA-256 from the gateway's base64url form. */
export function hexOfBase64Url(value: string): string {
  return Buffer.from(value, 'base64url').toString('hex');
}

/** Whether a chunk PUT that failed this way is worth trying again (a dropped connection, 5xx, 429). */
export function retryable(status: number | null): boolean {
  return status === null || status === 429 || status >= 500;
}

/** Waits before attempt `attempt` (1 = the first retry): 250 ms, 500 ms, 1 s, 2 s… at most 5 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(5000, 250 * 2 ** (attempt - 1));
}
