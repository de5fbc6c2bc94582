import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { RequestContent } from '@comity/protocol';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import {
  AttachmentTransferRepository,
  transferInsert,
  type TransferRow,
} from '../persistence/attachment-transfer.repository';
import { AttachmentUploadRepository } from '../persistence/attachment-upload.repository';
import type { SealedChunk } from '../persistence/binary-copy';
import {
  MESSAGE_TRANSPORT,
  UnroutableError,
  type MessageTransport,
} from '../transport/message-transport';
import { FederationTrust } from '../trust/federation-trust';
import { ChunkMetrics } from './chunk-metrics';
import { ENVELOPE_RELEASE, type EnvelopeRelease } from './envelope-release';

export const CHUNK_MEDIA_TYPE = 'application/octet-stream';
/** AMQP headers of a `chunk` message (protocol §7.4). */
export const CHUNK_HEADERS = {
  envelopeId: 'x-comity-envelope-id',
  fromState: 'x-comity-from-state',
  attachmentIndex: 'x-comity-attachment-index',
  chunkIndex: 'x-comity-chunk-index',
} as const;

/**
 * A transfer is registered in the same transaction as its message, so it cannot outlive a
 * failed submit; one without its message (left by a version that registered it first) is
 * dropped after this.
 */
const ORPHAN_TRANSFER_MS = 60_000;
/**
 * A conservative end-to-end rate (publish, store at the receiver, verify) for the extra wait
 * before a receipt is overdue: a 1 GiB file adds about two minutes.
 */
const ASSUMED_BYTES_PER_SECOND = 8 * 1024 * 1024;
/** Chunks read from the database at once (each query's result is held whole by the driver). */
const READ_PAGE = 4;

interface InFlight {
  sequence: number;
  confirmed: Promise<void>;
}

/**
 * Publishes the chunks of large attachments to the recipient's inbox before their envelope:
 * persistent, mandatory, with publisher confirms and at most `COMITY_TRANSFER_WINDOW` chunks in
 * flight, read from the database a few at a time (constant memory). The number of chunks
 * confirmed in order is recorded as it grows, so a node that crashes or loses the broker resumes
 * from the first unconfirmed chunk. When every chunk is confirmed the envelope's outbox row
 * (held by the database until then) is released to the outbox relay. One transfer at a time per
 * node; replicas take different transfers (advisory lock per envelope).
 */
@Injectable()
export class AttachmentTransfer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AttachmentTransfer.name);
  private readonly loop: BackgroundLoop;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: AttachmentTransferRepository,
    private readonly uploads: AttachmentUploadRepository,
    @Inject(MESSAGE_TRANSPORT) private readonly transport: MessageTransport,
    @Inject(ENVELOPE_RELEASE) private readonly envelopes: EnvelopeRelease,
    private readonly trust: FederationTrust,
    private readonly metrics: ChunkMetrics,
    private readonly clock: Clock,
  ) {
    this.loop = new BackgroundLoop({
      name: 'attachment transfer',
      pass: () => (this.transport.isConnected ? this.transferNext() : Promise.resolve(false)),
      idleMs: config.outbox.pollIntervalMs * 4,
      // A failed pass waits a little longer than an idle one: the broker or database may be away.
      errorDelayMs: 2000 + config.outbox.pollIntervalMs * 4,
      logger: this.logger,
    });
  }

  /**
   * For a new envelope with large attachments: the statement registering the transfer of their
   * chunks, to be committed with the envelope (the database then holds its outbox row until
   * every chunk is confirmed), and the time to add to the receipt timeout, since the receiver
   * stores and verifies the whole file before it answers. Nothing (and 0) without them.
   */
  plan(
    envelopeId: string,
    toState: string,
    content: RequestContent,
  ): { statement: { text: string; values: unknown[] } | null; extraReceiptMs: number } {
    const attachments = content.largeAttachments;
    if (!attachments) return { statement: null, extraReceiptMs: 0 };
    const totalBytes = attachments.reduce((sum, attachment) => sum + attachment.size, 0);
    return {
      statement: transferInsert({
        envelopeId,
        routingKey: this.trust.routingKeyOf(toState),
        fromState: this.trust.state,
        attachments: attachments.map((attachment) => ({
          attachmentId: attachment.id,
          chunks: attachment.chunks,
        })),
        totalBytes,
        at: this.clock.now(),
      }),
      extraReceiptMs: Math.ceil(totalBytes / ASSUMED_BYTES_PER_SECOND) * 1000,
    };
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  /** Stops at the next chunk boundary; what was confirmed is recorded, the rest resumes later. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Takes the oldest pending transfer no other replica holds and carries it as far as it goes. */
  private async transferNext(): Promise<boolean> {
    for (const transfer of await this.store.pendingTransfers(20)) {
      if (!this.loop.isRunning) return false;
      if (transfer.messageStatus === null) {
        if (this.clock.now().getTime() - transfer.createdAt.getTime() > ORPHAN_TRANSFER_MS) {
          await this.store.abandonTransfer(
            transfer.envelopeId,
            'the message was never stored',
            false,
          );
        }
        continue;
      }
      if (transfer.messageStatus !== 'submitted') {
        await this.store.abandonTransfer(
          transfer.envelopeId,
          `the message is ${transfer.messageStatus}`,
          false,
        );
        continue;
      }
      if (await this.store.withTransferLock(transfer.envelopeId, () => this.carry(transfer))) {
        return true;
      }
    }
    return false;
  }

  private async carry(transfer: TransferRow): Promise<void> {
    const run = await this.store.startRun(transfer.envelopeId);
    if (!run) return;
    const { envelopeId, totalChunks } = transfer;
    if (run.confirmed > 0 || run.runs > 1) {
      this.logger.log({
        message: `resuming the transfer of ${envelopeId} at chunk ${run.confirmed} of ${totalChunks} (run ${run.runs})`,
        envelopeId,
      });
    }
    const started = performance.now();
    const window = this.config.attachments.transferWindow;
    const pace = new Pace(this.config.attachments.transferBytesPerSecond);
    const watermark = new Watermark((value) => this.store.recordConfirmed(envelopeId, value));
    const inFlight: InFlight[] = [];
    let nextToRead = run.confirmed;
    let confirmed = run.confirmed;
    let sentBytes = 0;
    try {
      while (confirmed < totalChunks) {
        // Keep the window full: read the next chunks (one attachment at a time) and publish them.
        while (this.loop.isRunning && inFlight.length < window && nextToRead < totalChunks) {
          const page = await this.readPage(
            transfer,
            nextToRead,
            Math.min(READ_PAGE, window - inFlight.length),
          );
          for (const chunk of page.chunks) {
            await pace.take(chunk.sealed.length);
            const published = this.publish(transfer, page.attachmentIndex, chunk);
            published.catch(() => undefined);
            inFlight.push({ sequence: nextToRead, confirmed: published });
            sentBytes += chunk.sealed.length;
            nextToRead += 1;
          }
        }
        const oldest = inFlight.shift();
        if (!oldest) break; // stopping: nothing in flight, nothing more taken
        await oldest.confirmed;
        confirmed = oldest.sequence + 1;
        this.metrics.chunkSent();
        // Recorded in the background, one write at a time, always the latest value: a crash
        // loses at most the confirms of one database round trip.
        watermark.note(confirmed);
      }
    } catch (error) {
      await Promise.allSettled(inFlight.map((item) => item.confirmed));
      await watermark.flush();
      if (error instanceof UnroutableError) {
        this.logger.error({
          message: `alert: chunks of ${envelopeId} are unroutable: ${error.message}`,
          envelopeId,
        });
        // The envelope goes too: the outbox relay records it as failed (unroutable) with evidence.
        await this.store.abandonTransfer(envelopeId, error.message, true);
        this.envelopes.wake();
        return;
      }
      throw new Error(
        `transfer of ${envelopeId} stopped at chunk ${confirmed} of ${totalChunks}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    await watermark.flush();
    if (confirmed < totalChunks) {
      this.logger.log({
        message: `transfer of ${envelopeId} paused at chunk ${confirmed} of ${totalChunks}`,
        envelopeId,
      });
      return;
    }
    if (await this.store.completeTransfer(envelopeId)) {
      const seconds = (performance.now() - started) / 1000;
      this.logger.log({
        message: `all ${totalChunks} chunks of ${envelopeId} confirmed (${sentBytes} bytes in ${seconds.toFixed(1)} s this run); the envelope follows`,
        envelopeId,
      });
      this.envelopes.wake();
    }
  }

  /** Up to `max` chunks from global position `from`, all of one attachment. */
  private async readPage(
    transfer: TransferRow,
    from: number,
    max: number,
  ): Promise<{ attachmentIndex: number; chunks: SealedChunk[] }> {
    let offset = from;
    for (const [attachmentIndex, attachment] of transfer.attachments.entries()) {
      if (offset < attachment.chunks) {
        const count = Math.min(max, attachment.chunks - offset);
        const chunks = await this.uploads.readChunks(attachment.attachmentId, offset, count);
        if (chunks.length !== count || chunks.some((chunk, i) => chunk.index !== offset + i)) {
          throw new Error(`attachment ${attachment.attachmentId} is missing chunks from ${offset}`);
        }
        return { attachmentIndex, chunks };
      }
      offset -= attachment.chunks;
    }
    throw new Error(`chunk ${from} is past the end of transfer ${transfer.envelopeId}`);
  }

  private publish(transfer: TransferRow, attachmentIndex: number, chunk: SealedChunk) {
    return this.transport.publish({
      routingKey: transfer.routingKey,
      payload: chunk.sealed,
      messageId: `chunk:${transfer.envelopeId}:${attachmentIndex}:${chunk.index}`,
      type: 'chunk',
      contentType: CHUNK_MEDIA_TYPE,
      headers: {
        [CHUNK_HEADERS.envelopeId]: transfer.envelopeId,
        [CHUNK_HEADERS.fromState]: transfer.fromState,
        [CHUNK_HEADERS.attachmentIndex]: attachmentIndex,
        [CHUNK_HEADERS.chunkIndex]: chunk.index,
      },
    });
  }
}

/** Writes a growing value to the database in the background: one write at a time, the latest value each time. */
class Watermark {
  private latest = 0;
  private written = 0;
  private writing: Promise<void> | null = null;

  constructor(private readonly write: (value: number) => Promise<void>) {}

  note(value: number): void {
    this.latest = Math.max(this.latest, value);
    this.writing ??= this.drain();
  }

  /** Waits until the latest value is written (errors propagate: the caller's run stops). */
  async flush(): Promise<void> {
    await this.writing;
    if (this.latest > this.written) await this.write((this.written = this.latest));
  }

  private async drain(): Promise<void> {
    try {
      while (this.latest > this.written) {
        const value = this.latest;
        await this.write(value);
        this.written = value;
      }
    } catch {
      // Retried by flush(); a lost watermark only means re-sending a few chunks after a crash.
    } finally {
      this.writing = null;
    }
  }
}

/** A byte-rate cap (token bucket, one second of burst); 0 = none. */
class Pace {
  private tokens: number;
  private at = performance.now();

  constructor(private readonly bytesPerSecond: number) {
    this.tokens = bytesPerSecond;
  }

  async take(bytes: number): Promise<void> {
    if (this.bytesPerSecond <= 0) return;
    const now = performance.now();
    this.tokens = Math.min(
      this.bytesPerSecond,
      this.tokens + ((now - this.at) / 1000) * this.bytesPerSecond,
    );
    this.at = now;
    this.tokens -= bytes;
    if (this.tokens < 0) {
      await new Promise((resolve) =>
        setTimeout(resolve, (-this.tokens / this.bytesPerSecond) * 1000),
      );
    }
  }
}
