import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  LargeAttachmentVerifier,
  ProtocolError,
  type RequestContent,
  type SignedEnvelope,
} from '@comity/protocol';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import type { InboxDisposition } from '../transport/inbox-disposition';
import { FederationTrust } from '../trust/federation-trust';
import type { SealedChunk } from '../persistence/binary-copy';
import { InboundChunkRepository } from '../persistence/inbound-chunk.repository';

/** Chunks read from the database at once while verifying (two pages in memory at most). */
const PAGE = 4;

/**
 * The receiver's check of an envelope's large attachments, after the envelope was authenticated
 * and its content decrypted and bound, before any receipt: size within policy; every chunk here
 * (else the envelope waits: retried by the broker, refused after COMITY_ATTACHMENT_WAIT_SECONDS);
 * then, streaming chunk by chunk from the database, each chunk's SHA-256 against the signed list,
 * its AES-GCM authentication under the file key at its position, and the plaintext SHA-256.
 */
@Injectable()
export class AttachmentVerification {
  private readonly logger = new Logger(AttachmentVerification.name);

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: InboundChunkRepository,
    private readonly trust: FederationTrust,
  ) {}

  /**
   * null: nothing to object (no large attachments, or all verified). A ProtocolError: refuse the
   * envelope with a signed negative receipt. A retry disposition: chunks are still on their way.
   */
  async check(
    envelope: SignedEnvelope,
    content: RequestContent,
    now: Date,
  ): Promise<ProtocolError | InboxDisposition | null> {
    const refs = content.largeAttachments;
    if (!refs) return null;
    const { id, from } = envelope.header;
    const limit = this.trust.maxAttachmentBytes;
    for (const [index, ref] of refs.entries()) {
      if (ref.size > limit) {
        return new ProtocolError(
          'attachment-too-large',
          `largeAttachments[${index}] is ${ref.size} bytes; this node accepts at most ${limit}`,
        );
      }
    }
    const expected = refs.map((ref) => ref.chunks);
    let missing = await this.missingChunks(from.state, id, expected);
    // Chunks published just before the envelope may be being stored right now by other
    // deliveries in hand: wait a little while they keep arriving, rather than a redelivery.
    for (let wait = 50; missing.length > 0 && wait <= 800; wait *= 2) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      const again = await this.missingChunks(from.state, id, expected);
      const progress = sumPresent(again) > sumPresent(missing) || again.length < missing.length;
      missing = again;
      if (!progress) break;
    }
    if (missing.length > 0) {
      const detail = missing
        .map(
          (entry) =>
            `largeAttachments[${entry.index}] has ${entry.present} of ${entry.chunks} chunks (first missing: ${entry.firstMissing})`,
        )
        .join('; ');
      const since = await this.store.envelopeWaitingSince(from.state, id, now);
      if (now.getTime() - since.getTime() >= this.config.attachments.incompleteWaitMs) {
        return new ProtocolError(
          'attachment-incomplete',
          `${detail}, still after ${Math.round((now.getTime() - since.getTime()) / 1000)} s`,
        );
      }
      return { action: 'retry', detail: `envelope ${id} waits for its chunks: ${detail}` };
    }
    const started = performance.now();
    try {
      for (const [index, ref] of refs.entries()) {
        const verifier = new LargeAttachmentVerifier(ref, index);
        for await (const chunk of this.chunksOf(from.state, id, index, ref.chunks)) {
          if (chunk.index !== verifier.expectedIndex) break; // deleted meanwhile: finish() says so
          verifier.next(chunk.sealed);
        }
        verifier.finish();
      }
    } catch (error) {
      if (error instanceof ProtocolError) return error;
      throw error;
    }
    const bytes = refs.reduce((sum, ref) => sum + ref.size, 0);
    this.logger.log({
      message: `verified ${refs.length} large attachment(s), ${bytes} bytes, in ${Math.round(performance.now() - started)} ms`,
      envelopeId: id,
    });
    return null;
  }

  private async missingChunks(
    fromState: string,
    envelopeId: string,
    expected: number[],
  ): Promise<
    Array<{ index: number; present: number; chunks: number; firstMissing: number | null }>
  > {
    const presence = await this.store.presentChunks(fromState, envelopeId, expected);
    return presence
      .map((present, index) => ({ ...present, index, chunks: expected[index]! }))
      .filter((entry) => entry.present < entry.chunks);
  }

  /** The sealed chunks of one attachment in order, the next page read while this one is checked. */
  private async *chunksOf(
    fromState: string,
    envelopeId: string,
    attachmentIndex: number,
    chunks: number,
  ): AsyncGenerator<SealedChunk> {
    const read = (from: number) =>
      this.store.readInboundChunks(fromState, envelopeId, attachmentIndex, from, PAGE);
    let next: Promise<SealedChunk[]> | null = read(0);
    for (let from = 0; next; from += PAGE) {
      const page: SealedChunk[] = await next;
      next = from + PAGE < chunks ? read(from + PAGE) : null;
      next?.catch(() => undefined);
      yield* page;
    }
  }
}

function sumPresent(entries: Array<{ present: number }>): number {
  return entries.reduce((sum, entry) => sum + entry.present, 0);
}
