import { createCipheriv, createHash } from 'node:crypto';
import { GatewayApiError } from '../../apps/cli/src/gateway-client';

/** What the node answers about an upload (GET /v1/attachments/{id}). */
export interface UploadView {
  id: string;
  filename: string;
  mediaType: string;
  size: number;
  chunkSize: number;
  chunks: number;
  status: 'uploading' | 'complete';
  receivedChunks: number;
  missingChunks: Array<[number, number]>;
  sha256: string | null;
}

/**
 * A file of any size made on the fly, never held in memory: AES-128-CTR keystream of a seed,
 * so any byte range can be produced again (a resumed upload re-reads only the chunks it needs).
 */
export class GeneratedFile {
  private readonly key: Buffer;

  constructor(
    readonly size: number,
    seed: string,
  ) {
    this.key = createHash('sha256').update(seed).digest().subarray(0, 16);
  }

  /** Bytes [offset, offset + length). */
  slice(offset: number, length: number): Buffer {
    const end = Math.min(this.size, offset + length);
    const block = Math.floor(offset / 16);
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(block), 8);
    const skip = offset - block * 16;
    const cipher = createCipheriv('aes-128-ctr', this.key, iv);
    return cipher.update(Buffer.alloc(end - offset + skip)).subarray(skip);
  }

  *chunks(chunkSize: number): Generator<Buffer> {
    for (let offset = 0; offset < this.size; offset += chunkSize)
      yield this.slice(offset, chunkSize);
  }

  /** base64url SHA-256 of the whole file, computed chunk by chunk. */
  sha256(): string {
    const hash = createHash('sha256');
    for (const chunk of this.chunks(4 * 1024 * 1024)) hash.update(chunk);
    return hash.digest('base64url');
  }
}

/** The upload API of a node for one clerk (what a case-management system would call). */
export class AttachmentClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
  ) {}

  create(input: { filename: string; mediaType: string; size: number }): Promise<UploadView> {
    return this.json('POST', '/v1/attachments', input);
  }

  status(id: string): Promise<UploadView> {
    return this.json('GET', `/v1/attachments/${id}`);
  }

  complete(id: string): Promise<UploadView> {
    return this.json('POST', `/v1/attachments/${id}/complete`);
  }

  async putChunk(id: string, index: number, bytes: Buffer): Promise<{ stored: boolean }> {
    const response = await fetch(`${this.baseUrl}/v1/attachments/${id}/chunks/${index}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        'content-type': 'application/octet-stream',
      },
      body: bytes,
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) throw new GatewayApiError(response.status, parsed);
    return parsed as { stored: boolean };
  }

  /**
   * Uploads the chunks listed as missing (all of them for a new upload), `parallel` at a time,
   * reading each from the generated file as it goes. `onChunk` may throw to interrupt.
   */
  async uploadMissing(
    upload: UploadView,
    file: GeneratedFile,
    options: { parallel?: number; onChunk?: (index: number) => void } = {},
  ): Promise<number> {
    const indexes = upload.missingChunks.flatMap(([first, last]) =>
      Array.from({ length: last - first + 1 }, (_, offset) => first + offset),
    );
    let next = 0;
    let sent = 0;
    await Promise.all(
      Array.from({ length: options.parallel ?? 2 }, async () => {
        while (next < indexes.length) {
          const index = indexes[next]!;
          next += 1;
          options.onChunk?.(index);
          await this.putChunk(
            upload.id,
            index,
            file.slice(index * upload.chunkSize, upload.chunkSize),
          );
          sent += 1;
        }
      }),
    );
    return sent;
  }

  /** Downloads a large attachment, hashing it as it streams (never held whole); returns bytes and SHA-256. */
  async download(path: string): Promise<{
    status: number;
    bytes: number;
    sha256: string;
    headers: Headers;
  }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    if (!response.ok || !response.body) {
      throw new GatewayApiError(response.status, await response.json().catch(() => null));
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(part);
      bytes += part.length;
    }
    return {
      status: response.status,
      bytes,
      sha256: hash.digest('base64url'),
      headers: response.headers,
    };
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) throw new GatewayApiError(response.status, parsed);
    return parsed as T;
  }
}
