import { Injectable, NotFoundException } from '@nestjs/common';
import {
  LargeAttachmentVerifier,
  openEnvelope,
  verifyEnvelopeSignature,
  type LargeAttachmentRef,
  type RequestContent,
} from '@comity/protocol';
import { AuditLog } from '../auth/audit-log.service';
import type { Principal } from '../auth/principal';
import { requireInScope } from '../auth/scope';
import { requireEnvelope } from '../common/content-purged';
import { contentUnavailable } from '../common/content-unavailable';
import { SenderCopies } from '../content/sender-copies';
import { AttachmentUploadRepository } from '../persistence/attachment-upload.repository';
import type { SealedChunk } from '../persistence/binary-copy';
import { InboundChunkRepository } from '../persistence/inbound-chunk.repository';
import { InboundMessageRepository } from '../persistence/inbound-message.repository';
import { OutboundMessageRepository } from '../persistence/outbound-message.repository';
import { FederationTrust } from '../trust/federation-trust';

/** Chunks read from the database at once while streaming a file out. */
const PAGE = 2;

export interface Download {
  ref: LargeAttachmentRef;
  /** The decrypted file, chunk by chunk; the last chunk only after the file's SHA-256 checked out. */
  body: AsyncGenerator<Buffer>;
}

/**
 * A large attachment, decrypted for the clerk of the authority concerned: the recipient's clerk
 * (inbound) or the sending clerk (its own copy, outbound). Streamed from the sealed chunks in
 * the database, each authenticated as it is decrypted (constant memory).
 */
@Injectable()
export class AttachmentDownloads {
  constructor(
    private readonly inboundMessages: InboundMessageRepository,
    private readonly outboundMessages: OutboundMessageRepository,
    private readonly inboundChunks: InboundChunkRepository,
    private readonly uploads: AttachmentUploadRepository,
    private readonly trust: FederationTrust,
    private readonly senderCopies: SenderCopies,
    private readonly audit: AuditLog,
  ) {}

  async inbound(id: string, index: number, principal: Principal): Promise<Download> {
    const row = await this.inboundMessages.findInbound(id);
    if (!row) throw new NotFoundException(`no inbound message ${id}`);
    requireInScope(principal, row.toAuthority, id);
    const bytes = requireEnvelope(row);
    await this.audit.contentRead(principal, `inbound message ${id} attachment ${index}`);
    let content: RequestContent;
    try {
      const envelope = verifyEnvelopeSignature(bytes, this.trust.verifier, row.receivedAt);
      content = openEnvelope(envelope, this.trust.decryption).statement.content;
    } catch (error) {
      throw contentUnavailable(id, error);
    }
    const ref = refAt(content, id, index);
    return {
      ref,
      body: decrypted(ref, index, (from, count) =>
        this.inboundChunks.readInboundChunks(row.fromState, id, index, from, count),
      ),
    };
  }

  async outbound(id: string, index: number, principal: Principal): Promise<Download> {
    const row = await this.outboundMessages.findOutbound(id);
    if (!row) throw new NotFoundException(`no outbound message ${id}`);
    requireInScope(principal, row.fromAuthority, id);
    requireEnvelope(row);
    await this.audit.contentRead(principal, `outbound message ${id} attachment ${index}`);
    const ref = refAt(await this.senderCopies.open(row), id, index);
    return {
      ref,
      body: decrypted(ref, index, (from, count) => this.uploads.readChunks(ref.id, from, count)),
    };
  }
}

function refAt(content: RequestContent, id: string, index: number): LargeAttachmentRef {
  const ref = content.largeAttachments?.[index];
  if (!ref) throw new NotFoundException(`message ${id} has no large attachment ${index}`);
  return ref;
}

async function* decrypted(
  ref: LargeAttachmentRef,
  index: number,
  read: (from: number, count: number) => Promise<SealedChunk[]>,
): AsyncGenerator<Buffer> {
  const verifier = new LargeAttachmentVerifier(ref, index);
  for (let from = 0; from < ref.chunks; from += PAGE) {
    for (const chunk of await read(from, PAGE)) {
      if (chunk.index !== verifier.expectedIndex) break;
      const plaintext = verifier.next(chunk.sealed);
      // Hold the end back until the whole file is proven: a client never receives all
      // Content-Length bytes of a file that is not the one signed.
      if (verifier.expectedIndex === ref.chunks) verifier.finish();
      yield plaintext;
    }
    if (verifier.expectedIndex < Math.min(from + PAGE, ref.chunks)) break;
  }
  // A chunk missing from the database (it never should be): refused, naming how far it got.
  if (verifier.expectedIndex < ref.chunks) verifier.finish();
}
