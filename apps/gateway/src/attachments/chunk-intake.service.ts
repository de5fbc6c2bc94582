import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  CHUNK_TAG_BYTES,
  LARGE_ATTACHMENT_LIMITS,
  MAX_SEALED_CHUNK_BYTES,
  ProtocolError,
  STATE_CODE,
  checkBrokerUser,
  isUuidV7,
} from '@comity/protocol';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { BackgroundLoop } from '../common/background-loop';
import { InboundChunkRepository } from '../persistence/inbound-chunk.repository';
import type { InboxContext } from '../transport/message-transport';
import { ACK, type InboxDisposition } from '../transport/inbox-disposition';
import { FederationTrust } from '../trust/federation-trust';
import { CHUNK_HEADERS } from './attachment-transfer.service';
import { ChunkMetrics } from './chunk-metrics';

/** How often chunks of refused envelopes and expired orphans are deleted. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Receives `chunk` messages: sealed pieces of large attachments, published before their
 * envelope. They cannot be authenticated until that envelope arrives (it carries their digests
 * and key), so what a sender may leave here is bounded: each chunk at most the protocol's
 * largest (8 MiB + tag), the sealed bytes pending per sender State at most a quota, and orphans
 * deleted after a while. Stored once per (sender, envelope, attachment, chunk index):
 * duplicates are acknowledged and ignored.
 */
@Injectable()
export class ChunkIntake implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ChunkIntake.name);
  private readonly sweeper: BackgroundLoop;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: InboundChunkRepository,
    private readonly trust: FederationTrust,
    private readonly metrics: ChunkMetrics,
    private readonly clock: Clock,
  ) {
    this.sweeper = new BackgroundLoop({
      name: 'chunk sweep',
      pass: async () => {
        await this.sweep();
      },
      idleMs: SWEEP_INTERVAL_MS,
      sleepFirst: true,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweeper.stop();
  }

  /** The sealed bytes one sender State may leave here before its envelopes are accepted. */
  get maxPendingBytes(): number {
    return this.config.attachments.maxPendingBytes ?? 10 * this.trust.maxAttachmentBytes;
  }

  async receive(bytes: Buffer, context: InboxContext): Promise<InboxDisposition> {
    if (bytes.length > MAX_SEALED_CHUNK_BYTES) {
      // Not even kept in quarantine: bulk nobody vouches for.
      return this.drop(
        'chunk-too-large',
        `a chunk of ${bytes.length} bytes; at most ${MAX_SEALED_CHUNK_BYTES}`,
      );
    }
    const headers = context.headers;
    const envelopeId = headers[CHUNK_HEADERS.envelopeId];
    const fromState = headers[CHUNK_HEADERS.fromState];
    const attachmentIndex = integerHeader(headers[CHUNK_HEADERS.attachmentIndex]);
    const chunkIndex = integerHeader(headers[CHUNK_HEADERS.chunkIndex]);
    const malformed = (detail: string): InboxDisposition => {
      this.metrics.chunkReceived('malformed-chunk');
      return { action: 'quarantine', reason: 'malformed-chunk', detail };
    };
    if (!isUuidV7(envelopeId)) return malformed(`${CHUNK_HEADERS.envelopeId} must be a UUIDv7`);
    if (typeof fromState !== 'string' || !STATE_CODE.test(fromState)) {
      return malformed(`${CHUNK_HEADERS.fromState} must be a State code`);
    }
    if (
      attachmentIndex === null ||
      attachmentIndex < 0 ||
      attachmentIndex >= LARGE_ATTACHMENT_LIMITS.attachments
    ) {
      return malformed(
        `${CHUNK_HEADERS.attachmentIndex} must be an integer from 0 to ${LARGE_ATTACHMENT_LIMITS.attachments - 1}`,
      );
    }
    if (chunkIndex === null || chunkIndex < 0 || chunkIndex >= LARGE_ATTACHMENT_LIMITS.maxChunks) {
      return malformed(
        `${CHUNK_HEADERS.chunkIndex} must be an integer from 0 to ${LARGE_ATTACHMENT_LIMITS.maxChunks - 1}`,
      );
    }
    if (bytes.length <= CHUNK_TAG_BYTES)
      return malformed('a chunk holds at least one byte and the tag');
    if (!this.trust.directory.state(fromState)) {
      return malformed(`${fromState} is not a State of the federation directory`);
    }
    try {
      // A State with a broker account in the directory speaks only through it, chunks included.
      checkBrokerUser(this.trust.directory, fromState, context.userId);
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.metrics.chunkReceived(error.reason);
        return { action: 'quarantine', reason: error.reason, detail: error.message };
      }
      throw error;
    }
    const pending = await this.store.pendingBytes(fromState);
    if (pending + bytes.length > this.maxPendingBytes) {
      return this.drop(
        'chunk-quota-exceeded',
        `${fromState} already has ${pending} bytes of chunks waiting for their envelopes here; the quota is ${this.maxPendingBytes}`,
        envelopeId,
      );
    }
    const stored = await this.store.storeInboundChunk({
      fromState,
      envelopeId,
      attachmentIndex,
      chunkIndex,
      sealed: bytes,
      at: this.clock.now(),
    });
    this.metrics.chunkReceived(stored ? 'stored' : 'duplicate');
    return ACK;
  }

  /** Acknowledged and not kept: its envelope will find it missing and be refused (attachment-incomplete). */
  private drop(reason: string, detail: string, envelopeId?: string): InboxDisposition {
    this.metrics.chunkReceived(reason);
    this.logger.warn({ message: `chunk dropped: ${reason}: ${detail}`, envelopeId });
    return ACK;
  }

  /** Deletes, a batch at a time, chunks of refused envelopes and orphans older than the TTL. */
  async sweep(): Promise<{ sets: number; chunks: number }> {
    const before = new Date(this.clock.now().getTime() - this.config.attachments.orphanChunkTtlMs);
    const total = { sets: 0, chunks: 0 };
    for (;;) {
      const swept = await this.store.sweepInbound(before);
      total.sets += swept.sets;
      total.chunks += swept.chunks;
      if (swept.sets < 50) break;
    }
    if (total.sets > 0) {
      this.logger.log(
        `deleted ${total.chunks} chunk(s) of ${total.sets} envelope(s) refused or never received`,
      );
    }
    return total;
  }
}

/** An AMQP integer field value (amqplib gives numbers; a decimal string is accepted too). */
function integerHeader(value: unknown): number | null {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,9}$/.test(value)
        ? Number(value)
        : Number.NaN;
  return Number.isInteger(number) ? number : null;
}
