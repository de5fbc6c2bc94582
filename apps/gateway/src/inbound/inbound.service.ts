import { Injectable, NotFoundException } from '@nestjs/common';
import { ENVELOPE_MEDIA_TYPE, openEnvelope, verifyEnvelopeSignature } from '@comity/protocol';
import {
  pageOf,
  timelineOf,
  type MessageDetailView,
  type MessagePageView,
  type MessageSummaryView,
} from '../common/message-views';
import { contentForView } from '../attachments/attachment-views';
import type { InboundMessageEntity } from '../persistence/entities/inbound-message.entity';
import { AuditLog } from '../auth/audit-log.service';
import type { Principal } from '../auth/principal';
import { authorityScope, mayReadContent, requireInScope } from '../auth/scope';
import { EvidenceRepository } from '../persistence/evidence.repository';
import { InboundMessageRepository } from '../persistence/inbound-message.repository';
import { requireEnvelope } from '../common/content-purged';
import { contentUnavailable } from '../common/content-unavailable';
import { RetrievalEvidence } from '../retrieval/retrieval-evidence.service';
import { FederationTrust } from '../trust/federation-trust';

/** Reading the requests delivered to this node. Content is decrypted on read, never stored in clear. */
@Injectable()
export class InboundService {
  constructor(
    private readonly messages: InboundMessageRepository,
    private readonly evidence: EvidenceRepository,
    private readonly trust: FederationTrust,
    private readonly audit: AuditLog,
    private readonly retrieval: RetrievalEvidence,
  ) {}

  async list(principal: Principal, limit: number, before?: string): Promise<MessagePageView> {
    const rows = await this.messages.listInbound(limit + 1, before, authorityScope(principal));
    return pageOf(rows, limit, (row) => this.summary(row));
  }

  /** Content is decrypted only for the clerk of the authority it is addressed to. */
  async get(id: string, principal: Principal): Promise<MessageDetailView> {
    const row = await this.require(id, principal);
    const evidences = await this.evidence.timeline(id, 'inbound');
    const view: MessageDetailView = { ...this.summary(row), timeline: timelineOf(evidences) };
    if (mayReadContent(principal)) {
      const bytes = requireEnvelope(row);
      await this.audit.contentRead(principal, `inbound message ${id}`);
      // The stored bytes were authenticated on arrival; they are checked again at the time they
      // arrived (certificates may have expired since), then decrypted for this reader only.
      try {
        const envelope = verifyEnvelopeSignature(bytes, this.trust.verifier, row.receivedAt);
        view.content = contentForView(
          openEnvelope(envelope, this.trust.decryption).statement.content,
        );
      } catch (error) {
        throw contentUnavailable(id, error);
      }
      // The first opening by the recipient authority's clerk is signed retrieval evidence.
      await this.retrieval.opened(id, principal);
    }
    return view;
  }

  async envelope(id: string, principal: Principal): Promise<{ bytes: Buffer; mediaType: string }> {
    const bytes = requireEnvelope(await this.require(id, principal));
    return { bytes, mediaType: ENVELOPE_MEDIA_TYPE };
  }

  async receipt(id: string, principal: Principal): Promise<Buffer> {
    return (await this.require(id, principal)).receipt;
  }

  private async require(id: string, principal: Principal): Promise<InboundMessageEntity> {
    const row = await this.messages.findInbound(id);
    if (!row) throw new NotFoundException(`no inbound message ${id}`);
    requireInScope(principal, row.toAuthority, id);
    return row;
  }

  private summary(row: InboundMessageEntity): MessageSummaryView {
    return {
      id: row.id,
      kind: row.kind,
      thread: row.threadId,
      inReplyTo: row.inReplyTo,
      from: { state: row.fromState, authority: row.fromAuthority },
      to: { state: this.trust.state, authority: row.toAuthority },
      status: row.status,
      statusReason: null,
      createdAt: row.createdAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      envelopeDigest: row.envelopeDigest,
    };
  }
}
