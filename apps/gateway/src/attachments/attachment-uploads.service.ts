import { createHash, type Hash } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  LARGE_ATTACHMENT_LIMITS,
  chunkCount,
  decryptChunk,
  decryptFromCertificate,
  encryptChunk,
  encryptToCertificate,
  newFileKey,
  plaintextChunkLength,
  sha256Of,
  uuidV7,
  type LargeAttachmentRef,
} from '@comity/protocol';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { FederationTrust } from '../trust/federation-trust';
import {
  AttachmentUploadRepository,
  type AttachmentRow,
} from '../persistence/attachment-upload.repository';
import { BackgroundLoop } from '../common/background-loop';
import { attachmentView, missingRanges, type AttachmentView } from './attachment-views';

/** How often uploads never completed are looked for (and deleted after COMITY_UPLOAD_TTL). */
const UPLOAD_SWEEP_INTERVAL_MS = 600_000;
/** Chunks read from the database at once when hashing a completed upload (bounded memory). */
const READ_PAGE = 4;
/** Running plaintext digests kept in memory for uploads arriving in order (a few bytes each). */
const MAX_RUNNING_DIGESTS = 256;
/** Chunks one upload may be ahead of its running digest (clients upload a few in parallel). */
const MAX_AHEAD_CHUNKS = 8;
/** Plaintext held for all uploads' chunks that arrived ahead, at most. */
const MAX_AHEAD_BYTES = 32 * 1024 * 1024;

/**
 * Uploads of large files by a clerk to its own node, chunk by chunk, resumable: each chunk is
 * sealed (AES-256-GCM under the file's own key) as it arrives and stored; nothing is ever held
 * whole. The file key is kept only wrapped to this node's own encryption certificate.
 */
@Injectable()
export class AttachmentUploads implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AttachmentUploads.name);
  /** Plaintext SHA-256 of chunks 0..next-1, for uploads whose chunks arrived in order. */
  private readonly running = new Map<
    string,
    { next: number; hash: Hash; ahead: Map<number, Buffer> }
  >();
  /** Plaintext of chunks that arrived ahead of the running digests (bounded by MAX_AHEAD_BYTES). */
  private aheadBytes = 0;
  private readonly sweeper: BackgroundLoop;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: AttachmentUploadRepository,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {
    this.sweeper = new BackgroundLoop({
      name: 'upload sweep',
      pass: () => this.sweepStaleUploads(),
      idleMs: UPLOAD_SWEEP_INTERVAL_MS,
      sleepFirst: true,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  private async sweepStaleUploads(): Promise<void> {
    const before = new Date(this.clock.now().getTime() - this.config.attachments.uploadTtlMs);
    const deleted = await this.store.deleteStaleUploads(before);
    if (deleted > 0) this.logger.log(`deleted ${deleted} upload(s) never completed`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
  }

  async create(
    principal: Principal,
    input: { filename: string; mediaType: string; size: number },
  ): Promise<AttachmentView> {
    const authority = principal.authority;
    if (!authority) throw new NotFoundException('only a clerk of an authority uploads files');
    const limit = this.trust.maxAttachmentBytes;
    if (input.size > limit) {
      throw new PayloadTooLargeException(
        `size: ${input.size} bytes is over this node's limit of ${limit} bytes for one file`,
      );
    }
    const chunkSize = this.config.attachments.chunkBytes;
    const chunks = chunkCount(input.size, chunkSize);
    if (chunks > LARGE_ATTACHMENT_LIMITS.maxChunks) {
      throw new PayloadTooLargeException(
        `size: ${input.size} bytes makes ${chunks} chunks of ${chunkSize}; at most ${LARGE_ATTACHMENT_LIMITS.maxChunks}`,
      );
    }
    const now = this.clock.now();
    const key = newFileKey();
    const row: AttachmentRow = {
      id: uuidV7(now.getTime()),
      authority,
      createdBy: principal.id,
      filename: input.filename,
      mediaType: input.mediaType,
      size: input.size,
      chunkSize,
      chunks,
      wrappedKey: encryptToCertificate(
        Buffer.from(key.toString('base64url'), 'ascii'),
        this.trust.ownEncryptionCertificate(),
      ),
      status: 'uploading',
      sha256: null,
      createdAt: now,
      updatedAt: now,
      completedAt: null,
    };
    key.fill(0);
    await this.store.insertAttachment(row);
    return attachmentView(row, []);
  }

  /** What a chunk PUT must carry: exactly this many bytes (checked before the body is read). */
  async expectedChunkBytes(principal: Principal, id: string, index: number): Promise<number> {
    const row = await this.require(principal, id);
    return this.chunkLength(row, index);
  }

  /** Seals and stores one chunk; the same bytes again are accepted (a resumed upload), others refused. */
  async putChunk(
    principal: Principal,
    id: string,
    index: number,
    plaintext: Buffer,
  ): Promise<{ index: number; stored: boolean }> {
    const row = await this.require(principal, id);
    const expected = this.chunkLength(row, index);
    if (plaintext.length !== expected) {
      throw new BadRequestException(
        `chunk ${index} of attachment ${id} must be exactly ${expected} bytes, not ${plaintext.length}`,
      );
    }
    const key = this.fileKey(row);
    // The nonce comes from the index: the same plaintext again gives the same sealed bytes,
    // and different bytes at a stored index are refused, never stored (no nonce is reused).
    const sealed = encryptChunk(
      key,
      { attachmentId: id, index, final: index === row.chunks - 1 },
      plaintext,
    );
    const digest = sha256Of(sealed);
    const existing = await this.store.insertChunk(id, index, sealed, digest, this.clock.now());
    if (existing === null) {
      this.advanceRunningDigest(id, index, plaintext);
      return { index, stored: true };
    }
    if (existing === digest) return { index, stored: false };
    throw new ConflictException(
      `chunk ${index} of attachment ${id} was already uploaded with different bytes; an uploaded chunk cannot be replaced`,
    );
  }

  async status(principal: Principal, id: string): Promise<AttachmentView> {
    const row = await this.require(principal, id);
    return attachmentView(row, await this.store.chunkIndexes(id));
  }

  /** Every chunk present: the file's SHA-256 is computed and the upload can be sent. Idempotent. */
  async complete(principal: Principal, id: string): Promise<AttachmentView> {
    const row = await this.require(principal, id);
    const present = await this.store.chunkIndexes(id);
    if (row.status === 'complete') return attachmentView(row, present);
    if (present.length < row.chunks) {
      const missing = missingRanges(present, row.chunks)
        .slice(0, 20)
        .map(([first, last]) => (first === last ? `${first}` : `${first}-${last}`));
      throw new ConflictException(
        `attachment ${id} has ${present.length} of ${row.chunks} chunks; missing: ${missing.join(', ')}`,
      );
    }
    const sha256 = await this.plaintextDigest(row);
    const now = this.clock.now();
    await this.store.completeAttachment(id, sha256, now);
    const completed = await this.store.findAttachment(id);
    return attachmentView(completed ?? row, present);
  }

  /** The content member for a submit's `attachmentRefs`: `{ largeAttachments }`, or nothing. */
  async contentMembers(
    principal: Principal,
    ids: string[] | undefined,
  ): Promise<{ largeAttachments?: LargeAttachmentRef[] }> {
    if (!ids || ids.length === 0) return {};
    return { largeAttachments: await this.referencesFor(principal, ids) };
  }

  /**
   * For a submit: the signed-content references of the clerk's completed uploads, file keys
   * included (they travel only inside the encrypted content). 400 naming the offending entry.
   */
  async referencesFor(principal: Principal, ids: string[]): Promise<LargeAttachmentRef[]> {
    const refs: LargeAttachmentRef[] = [];
    const seen = new Set<string>();
    for (const [position, rawId] of ids.entries()) {
      const id = rawId.toLowerCase();
      const where = `attachmentRefs[${position}]`;
      if (seen.has(id)) throw fieldError(`${where}: attachment ${id} is listed twice`);
      seen.add(id);
      const row = await this.store.findAttachment(id);
      if (!row || row.authority !== principal.authority) {
        throw fieldError(`${where}: no attachment ${id} uploaded by ${principal.authority}`);
      }
      if (row.status !== 'complete' || !row.sha256) {
        throw fieldError(`${where}: attachment ${id} is not complete (POST …/complete first)`);
      }
      const limit = this.trust.maxAttachmentBytes;
      if (row.size > limit) {
        throw fieldError(`${where}: attachment ${id} is ${row.size} bytes; the limit is ${limit}`);
      }
      const chunkDigests = await this.store.chunkDigests(id);
      if (chunkDigests.length !== row.chunks) {
        throw new ConflictException(`attachment ${id} lost chunks since it was completed`);
      }
      refs.push({
        id,
        filename: row.filename,
        mediaType: row.mediaType,
        size: row.size,
        chunkSize: row.chunkSize,
        chunks: row.chunks,
        sha256: row.sha256,
        chunkDigests,
        key: this.fileKey(row).toString('base64url'),
      });
    }
    return refs;
  }

  private async require(principal: Principal, id: string): Promise<AttachmentRow> {
    const row = await this.store.findAttachment(id.toLowerCase());
    // Another authority's upload is "not found": a clerk learns nothing about it.
    if (!row || row.authority !== principal.authority) {
      throw new NotFoundException(`no attachment ${id}`);
    }
    return row;
  }

  private chunkLength(row: AttachmentRow, index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= row.chunks) {
      throw new NotFoundException(
        `attachment ${row.id} has chunks 0 to ${row.chunks - 1}; there is no chunk ${index}`,
      );
    }
    return plaintextChunkLength(row.size, row.chunkSize, index);
  }

  private fileKey(row: AttachmentRow): Buffer {
    const text = decryptFromCertificate(row.wrappedKey, this.trust.decryption);
    return Buffer.from(text, 'base64url');
  }

  /**
   * Chunks uploaded in order feed a running digest, so completing a file costs no second pass.
   * A client uploading a few chunks in parallel delivers them slightly out of order: those
   * ahead are kept (bounded) until the gap closes; past the bound the digest is given up and
   * completing the file reads it back once.
   */
  private advanceRunningDigest(id: string, index: number, plaintext: Buffer): void {
    let state = this.running.get(id);
    if (!state) {
      if (index !== 0 && !this.startedAhead(index)) return;
      if (this.running.size >= MAX_RUNNING_DIGESTS) {
        const oldest = this.running.keys().next().value;
        if (oldest !== undefined) this.dropRunning(oldest);
      }
      state = { next: 0, hash: createHash('sha256'), ahead: new Map() };
      this.running.set(id, state);
    }
    if (index < state.next) return;
    if (index > state.next) {
      if (
        state.ahead.size >= MAX_AHEAD_CHUNKS ||
        this.aheadBytes + plaintext.length > MAX_AHEAD_BYTES
      ) {
        this.dropRunning(id);
        return;
      }
      state.ahead.set(index, plaintext);
      this.aheadBytes += plaintext.length;
      return;
    }
    state.hash.update(plaintext);
    state.next += 1;
    for (let next = state.ahead.get(state.next); next; next = state.ahead.get(state.next)) {
      state.ahead.delete(state.next);
      this.aheadBytes -= next.length;
      state.hash.update(next);
      state.next += 1;
    }
  }

  /** A parallel upload may deliver chunk 1 before chunk 0: start the digest for an early index. */
  private startedAhead(index: number): boolean {
    return index < MAX_AHEAD_CHUNKS;
  }

  private dropRunning(id: string): void {
    const state = this.running.get(id);
    if (!state) return;
    for (const chunk of state.ahead.values()) this.aheadBytes -= chunk.length;
    this.running.delete(id);
  }

  /** The plaintext SHA-256: from the running digest, finished from the stored chunks where needed. */
  private async plaintextDigest(row: AttachmentRow): Promise<string> {
    const state = this.running.get(row.id) ?? { next: 0, hash: createHash('sha256') };
    this.dropRunning(row.id);
    if (state.next < row.chunks) {
      const key = this.fileKey(row);
      for (let from = state.next; from < row.chunks; from += READ_PAGE) {
        for (const { index, sealed } of await this.store.readChunks(row.id, from, READ_PAGE)) {
          const position = { attachmentId: row.id, index, final: index === row.chunks - 1 };
          state.hash.update(decryptChunk(key, position, sealed));
        }
      }
    }
    return state.hash.digest('base64url');
  }
}

function fieldError(message: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [message] });
}
