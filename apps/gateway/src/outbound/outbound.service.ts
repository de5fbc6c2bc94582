import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import {
  ENVELOPE_MEDIA_TYPE,
  ProtocolError,
  contentForPeer,
  isCaseMessageKind,
  isRequestKind,
  readRequestContent,
  sealEnvelope,
  sha256Base64Url,
  uuidV7,
  type MessageKind,
  type RequestContent,
} from '@comity/protocol';
import type { VerifiedCertificate } from '@comity/pki';
import { AttachmentTransfer } from '../attachments/attachment-transfer.service';
import { AttachmentUploads } from '../attachments/attachment-uploads.service';
import { contentForView } from '../attachments/attachment-views';
import { AuditLog } from '../auth/audit-log.service';
import type { Principal } from '../auth/principal';
import { authorityScope, mayReadContent, requireInScope } from '../auth/scope';
import { Clock } from '../common/clock';
import {
  pageOf,
  timelineOf,
  type MessageDetailView,
  type MessagePageView,
  type MessageSummaryView,
} from '../common/message-views';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { DuplicateError } from '../persistence/duplicate-error';
import { requireEnvelope } from '../common/content-purged';
import type { OutboundMessageEntity } from '../persistence/entities/outbound-message.entity';
import { EvidenceRepository } from '../persistence/evidence.repository';
import {
  OutboundMessageRepository,
  type NewOutboundMessage,
  type AcceptedOutbound,
} from '../persistence/outbound-message.repository';
import type { Transaction } from '../persistence/database';
import { CaseOpenings } from '../content/case-openings';
import { FederationTrust } from '../trust/federation-trust';
import { OutboxRelay } from '../outbox/outbox-relay.service';
import { SenderCopies } from '../content/sender-copies';
import type { SubmitRequestDto } from './submit-request.dto';

/** Submitting, listing and reading the requests this node sends. */
@Injectable()
export class OutboundService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly messages: OutboundMessageRepository,
    private readonly evidence: EvidenceRepository,
    private readonly trust: FederationTrust,
    private readonly relay: OutboxRelay,
    private readonly clock: Clock,
    private readonly uploads: AttachmentUploads,
    private readonly transfers: AttachmentTransfer,
    private readonly senderCopies: SenderCopies,
    private readonly caseOpenings: CaseOpenings,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Seals the request and stores it with its outbox entry in one transaction. When this
   * returns, the request is durably accepted: the relay will publish it even after a crash.
   */
  async submit(
    request: SubmitRequestDto,
    principal: Principal,
    idempotencyKey?: string,
  ): Promise<{ message: MessageDetailView; created: boolean }> {
    if (principal.authority !== request.senderAuthority) {
      throw new ForbiddenException(
        `clerk ${principal.id} acts for ${principal.authority ?? 'no authority'}, not for ${request.senderAuthority}`,
      );
    }
    const requestDigest = idempotencyKey ? sha256Base64Url(JSON.stringify(request)) : null;
    if (idempotencyKey) {
      const existing = await this.messages.findOutboundByIdempotencyKey(idempotencyKey);
      if (existing) return this.replay(existing, requestDigest);
    }
    const self = this.trust.state;
    const directory = this.trust.directory;
    if (!directory.authority(self, request.senderAuthority)) {
      throw fieldError(
        `senderAuthority "${request.senderAuthority}" is not an authority of ${self} in the directory`,
      );
    }
    if (request.recipient.state === self) {
      throw fieldError('recipient.state must be another State than this node’s own');
    }
    let recipientCertificate;
    try {
      recipientCertificate = this.trust.recipientEncryptionCertificate(request.recipient.state);
    } catch (error) {
      if (error instanceof ProtocolError) throw fieldError(`recipient.state: ${error.message}`);
      throw error;
    }
    const recipientAuthority = directory.authority(
      request.recipient.state,
      request.recipient.authority,
    );
    if (!recipientAuthority) {
      throw fieldError(
        `recipient.authority "${request.recipient.authority}" is not an authority of ${request.recipient.state} in the directory`,
      );
    }
    if (!recipientAuthority.requestKinds.includes(request.kind)) {
      throw fieldError(
        `kind: ${request.recipient.authority} does not accept ${request.kind} (it accepts ${recipientAuthority.requestKinds.join(', ')})`,
      );
    }

    if (request.request !== undefined && request.body !== undefined) {
      throw fieldError('body: a structured request carries its free text in request.freeText');
    }
    if (request.request !== undefined && !isRequestKind(request.kind)) {
      throw fieldError(`request: a ${request.kind} has no structured form; send a body`);
    }

    let content: RequestContent;
    try {
      // The receiver applies the protocol's own checks (UTF-16 lengths, non-blank text, 5 MiB
      // of attachments, a complete structured request); apply the same ones here so nothing
      // is accepted that it must refuse.
      content = readRequestContent(
        {
          legalBasis: request.legalBasis,
          urgency: request.urgency,
          deadline: request.deadline ?? null,
          subject: request.subject,
          body:
            request.body ??
            // Rendered once the structure is read; a placeholder passes the body's own check.
            '-',
          ...(request.request === undefined ? {} : { request: request.request }),
          attachments: (request.attachments ?? []).map(({ filename, mediaType, data }) => ({
            filename,
            mediaType,
            data,
          })),
          // Large files by reference (uploaded before): their digests and keys, signed with the rest.
          ...(await this.uploads.contentMembers(principal, request.attachmentRefs)),
        },
        request.kind,
      );
    } catch (error) {
      if (error instanceof ProtocolError) throw fieldError(error.message.replace(/^content\./, ''));
      throw error;
    }
    if (content.request !== undefined) {
      content = contentForPeer(
        content,
        directory.state(request.recipient.state)?.protocolVersions ?? [1],
      );
    }
    try {
      return await this.sealAndStore({
        kind: request.kind,
        fromAuthority: request.senderAuthority,
        to: request.recipient,
        recipientCertificate,
        thread: request.threadId?.toLowerCase() ?? null,
        inReplyTo: request.inReplyTo?.toLowerCase() ?? null,
        content,
        idempotencyKey: idempotencyKey ?? null,
        requestDigest,
        submittedDetail: `by ${principal.id}`,
      });
    } catch (error) {
      // The same key submitted concurrently: the other submit won; answer with its message.
      if (idempotencyKey && error instanceof DuplicateError) {
        const existing = await this.messages.findOutboundByIdempotencyKey(idempotencyKey);
        if (existing) return this.replay(existing, requestDigest);
      }
      throw error;
    }
  }

  /**
   * An operator's retry of a message that failed or was rejected: the same signed content,
   * sealed again as a new envelope (new id, new expiry, same thread) to the recipient's
   * current certificate. The operator never sees the content; the node opens its own copy.
   */
  async retry(id: string, reason: string, principal: Principal): Promise<MessageDetailView> {
    const row = await this.require(id);
    if (isCaseMessageKind(row.kind)) {
      // Sealed again later, it could apply to a case that has moved on: the clerk decides.
      throw new ConflictException(
        `outbound message ${id} is a case message (${row.kind}): its clerk sends it again as a new action on case ${row.threadId}`,
      );
    }
    if (row.status !== 'failed' && row.status !== 'rejected') {
      throw new ConflictException(
        `outbound message ${id} is ${row.status}: only failed or rejected messages can be retried`,
      );
    }
    const content = await this.senderCopies.open(row);
    let recipientCertificate;
    try {
      recipientCertificate = this.trust.recipientEncryptionCertificate(row.toState);
    } catch (error) {
      if (error instanceof ProtocolError) throw new ConflictException(error.message);
      throw error;
    }
    const retried = (await this.evidence.timeline(id, 'outbound')).find(
      (entry) => entry.type === 'retried',
    );
    if (retried) {
      throw new ConflictException(
        `outbound message ${id} was already retried (${retried.detail ?? 'see its timeline'})`,
      );
    }
    // The database allows one retry per message: a concurrent second one fails here.
    const sealed = this.sealAndStore({
      kind: row.kind as MessageKind,
      fromAuthority: row.fromAuthority,
      to: { state: row.toState, authority: row.toAuthority },
      recipientCertificate,
      thread: row.threadId,
      inReplyTo: row.inReplyTo,
      content,
      idempotencyKey: null,
      requestDigest: null,
      submittedDetail: `retry of ${id} by ${principal.id}: ${reason}`,
      retryOf: id,
    });
    const { message } = await sealed.catch((error: unknown) => {
      if (error instanceof DuplicateError) {
        throw new ConflictException(`outbound message ${id} was already retried`);
      }
      throw error;
    });
    return message;
  }

  /**
   * Seals and stores a request with its outbox entry in one transaction. When this returns,
   * the request is durably accepted: the relay will publish it even after a crash.
   */
  private async sealAndStore(
    input: OutboundDraft & {
      idempotencyKey: string | null;
      requestDigest: string | null;
      submittedDetail: string | null;
      retryOf?: string;
    },
  ): Promise<{ message: MessageDetailView; created: boolean }> {
    const prepared = await this.prepare(input);
    const outboxId = await this.messages.acceptOutbound(prepared.item);
    this.release(prepared, outboxId);
    return { message: prepared.view, created: true };
  }

  /**
   * Seals a case message (protocol §8) for the cases module, which stores it with
   * `storeIn` in the transaction that applies it to its case, then calls `release`.
   */
  async sealCaseMessage(draft: OutboundDraft): Promise<PreparedOutbound> {
    return this.prepare({
      ...draft,
      idempotencyKey: null,
      requestDigest: null,
      submittedDetail: null,
    });
  }

  /** Stores a prepared message with its outbox entry in the caller's transaction. */
  storeIn(tx: Transaction, prepared: PreparedOutbound): Promise<string> {
    return this.messages.acceptOutboundIn(tx, prepared.item);
  }

  /** After the commit: the relay (or the attachment transfer first) takes the message over. */
  release(prepared: PreparedOutbound, outboxId: string): void {
    if (prepared.item.together) {
      // Large attachments: the envelope's outbox entry is held until every chunk is confirmed.
      this.transfers.wake();
    } else {
      this.relay.handOver({
        id: outboxId,
        messageId: prepared.item.row.id,
        payloadType: 'envelope',
        routingKey: prepared.item.routingKey,
        payload: prepared.item.row.envelope,
      });
    }
  }

  private async prepare(
    input: OutboundDraft & {
      idempotencyKey: string | null;
      requestDigest: string | null;
      submittedDetail: string | null;
      retryOf?: string;
    },
  ): Promise<PreparedOutbound> {
    const self = this.trust.state;
    const now = this.clock.now();
    const id = uuidV7(now.getTime());
    const sealed = sealEnvelope({
      routing: {
        id,
        kind: input.kind,
        from: { state: self, authority: input.fromAuthority },
        to: input.to,
        created: now.toISOString(),
        expires: new Date(
          now.getTime() + this.config.delivery.messageTtlMs[input.kind],
        ).toISOString(),
        thread: input.thread ?? id,
        inReplyTo: input.inReplyTo,
      },
      content: input.content,
      signer: this.trust.signing,
      recipient: input.recipientCertificate,
    });
    const senderCopy = await this.senderCopies.seal(sealed.contentKey);
    // Large attachments: their chunks are published first; the envelope is held until then.
    const transfer = this.transfers.plan(id, input.to.state, input.content);

    const row: NewOutboundMessage = {
      id,
      threadId: sealed.header.thread,
      inReplyTo: sealed.header.inReplyTo,
      kind: sealed.header.kind,
      fromAuthority: sealed.header.from.authority,
      toState: sealed.header.to.state,
      toAuthority: sealed.header.to.authority,
      status: 'submitted',
      statusReason: null,
      envelope: sealed.bytes,
      envelopeDigest: sealed.digest,
      senderCopy,
      receipt: null,
      transmissions: 0,
      receiptTimeoutMs: this.config.delivery.receiptTimeoutMs[input.kind] + transfer.extraReceiptMs,
      receiptDueAt: null,
      idempotencyKey: input.idempotencyKey,
      requestDigest: input.requestDigest,
      createdAt: now,
      expiresAt: new Date(sealed.header.expires),
      updatedAt: now,
    };
    const item: AcceptedOutbound = {
      row,
      routingKey: this.trust.routingKeyOf(sealed.header.to.state),
      detail: input.submittedDetail,
      retryOf: input.retryOf ?? null,
      leaseUntil: this.relay.leaseUntil(now),
      together: transfer.statement,
      caseOpening: await this.caseOpenings.rowFor({
        kind: input.kind,
        created: sealed.header.created,
        requested: input.to,
        content: input.content,
      }),
    };
    // What was just committed, without reading it back: the answer to a submit is its acceptance.
    const submitted = {
      type: 'submitted',
      at: now.toISOString(),
      reason: null,
      detail: input.submittedDetail,
    };
    return { item, view: { ...this.summary(row), timeline: [submitted] } };
  }

  /** A retried submit: the message the first one created, if the request is the same. */
  private async replay(
    existing: OutboundMessageEntity,
    requestDigest: string | null,
  ): Promise<{ message: MessageDetailView; created: boolean }> {
    if (existing.requestDigest !== requestDigest) {
      throw new UnprocessableEntityException(
        `Idempotency-Key was already used for another request (message ${existing.id})`,
      );
    }
    return { message: await this.get(existing.id), created: false };
  }

  async list(principal: Principal, limit: number, before?: string): Promise<MessagePageView> {
    const rows = await this.messages.listOutbound(limit + 1, before, authorityScope(principal));
    return pageOf(rows, limit, (row) => this.summary(row));
  }

  /** With a principal: scoped to it, with content for a clerk only. Without: metadata only. */
  async get(id: string, principal?: Principal): Promise<MessageDetailView> {
    const row = await this.require(id, principal);
    const evidences = await this.evidence.timeline(id, 'outbound');
    const view: MessageDetailView = { ...this.summary(row), timeline: timelineOf(evidences) };
    if (principal && mayReadContent(principal)) {
      requireEnvelope(row);
      await this.audit.contentRead(principal, `outbound message ${id}`);
      view.content = contentForView(await this.senderCopies.open(row));
    }
    return view;
  }

  async envelope(id: string, principal: Principal): Promise<{ bytes: Buffer; mediaType: string }> {
    const bytes = requireEnvelope(await this.require(id, principal));
    return { bytes, mediaType: ENVELOPE_MEDIA_TYPE };
  }

  async receipt(id: string, principal: Principal): Promise<Buffer> {
    const row = await this.require(id, principal);
    if (!row.receipt)
      throw new NotFoundException(
        `outbound message ${id} has no receipt yet (status ${row.status})`,
      );
    return row.receipt;
  }

  async nonDeliveryEvidence(id: string, principal: Principal): Promise<Buffer> {
    const row = await this.require(id, principal);
    const signed = await this.evidence.signedEvidence(id, 'failed');
    if (!signed) {
      throw new NotFoundException(
        `outbound message ${id} has no non-delivery evidence (status ${row.status})`,
      );
    }
    return signed;
  }

  private async require(id: string, principal?: Principal): Promise<OutboundMessageEntity> {
    const row = await this.messages.findOutbound(id);
    if (!row) throw new NotFoundException(`no outbound message ${id}`);
    if (principal) requireInScope(principal, row.fromAuthority, id);
    return row;
  }

  private summary(row: NewOutboundMessage | OutboundMessageEntity): MessageSummaryView {
    return {
      id: row.id,
      kind: row.kind,
      thread: row.threadId,
      inReplyTo: row.inReplyTo,
      from: { state: this.trust.state, authority: row.fromAuthority },
      to: { state: row.toState, authority: row.toAuthority },
      status: row.status,
      statusReason: row.statusReason,
      createdAt: row.createdAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      envelopeDigest: row.envelopeDigest,
    };
  }
}

/** What to seal: the routing fields this node chooses, and the content. */
export interface OutboundDraft {
  kind: MessageKind;
  fromAuthority: string;
  to: { state: string; authority: string };
  recipientCertificate: VerifiedCertificate;
  thread: string | null;
  inReplyTo: string | null;
  content: RequestContent;
}

/** A sealed message not stored yet, and the view its sender is answered with once it is. */
export interface PreparedOutbound {
  item: AcceptedOutbound;
  view: MessageDetailView;
}

function fieldError(message: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [message] });
}
