import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import {
  ProtocolError,
  caseMessageRefusal,
  isCaseMessageKind,
  readCaseDetails,
  readRequestContent,
  type CaseDetails,
  type CaseSide,
  type CaseState,
  type RequestContent,
} from '@comity/protocol';
import { AttachmentUploads } from '../attachments/attachment-uploads.service';
import type { Principal } from '../auth/principal';
import { authorityScope, mayReadContent, requireInScope } from '../auth/scope';
import { Clock } from '../common/clock';
import { SenderCopies } from '../content/sender-copies';
import { InboundService } from '../inbound/inbound.service';
import { OutboundService } from '../outbound/outbound.service';
import { ReceiptSummaries } from '../outbound/receipt-summaries.service';
import { CaseRepository, type CaseRecord } from '../persistence/case.repository';
import { UnitOfWork } from '../persistence/database';
import { FederationTrust } from '../trust/federation-trust';
import { deriveStoredCase, entryOf, storedDetails } from './case-derivation';
import {
  allowedActionsOf,
  caseMessageViewOf,
  caseSummaryOf,
  type CaseDetailView,
  type CaseMessageView,
  type CasePageView,
} from './case-views';
import type { CaseActionDto, CaseListQueryDto } from './cases.dto';

/** A default sentence per kind, when the clerk writes none. */
const DEFAULT_NOTES: Record<string, string> = {
  acknowledgement: 'We acknowledge receipt of your request.',
  information_request: 'Please provide the additional information described.',
  additional_information: 'Please find the additional information requested.',
  status_inquiry: 'Please let us know how the execution of our request stands.',
  status_report: 'This is a report on the status of the execution of your request.',
  postponement: 'The execution of your request is postponed for the reasons given.',
  consultation: 'We would like to consult you on the execution of this request.',
  partial_execution: 'Please find the results of the partial execution of your request.',
  execution_completed: 'The execution of your request is completed.',
  refusal: 'Your request is refused for the reasons given.',
  withdrawal: 'Our request is withdrawn: the assistance is no longer required.',
  closure: 'This case is closed.',
  supplementary_information: 'Please find supplementary information to our request.',
  reply: 'Reply concerning this request.',
};

/** A clerk's case work: the list, one case with its messages, and actions that send case messages. */
@Injectable()
export class CasesService {
  constructor(
    private readonly cases: CaseRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly outbound: OutboundService,
    private readonly receipts: ReceiptSummaries,
    private readonly inbound: InboundService,
    private readonly uploads: AttachmentUploads,
    private readonly senderCopies: SenderCopies,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {}

  async list(query: CaseListQueryDto, principal: Principal): Promise<CasePageView> {
    const filter = {
      authority: authorityScope(principal),
      direction: query.direction,
      counterpartState: query.state,
      counterpartAuthority: query.authority,
      kind: query.kind,
      state: query.caseState,
      overdue: query.overdue,
      dueBefore: query.dueBefore ? new Date(query.dueBefore) : undefined,
    };
    let ids: string[] | undefined;
    if (query.q !== undefined) {
      if (!mayReadContent(principal)) {
        throw new BadRequestException('q: only clerks search case subjects');
      }
      ids = await this.matchingSubjects(filter, query.q);
    }
    const after = query.cursor ? parseCursor(query.cursor) : undefined;
    const rows = await this.cases.list({ ...filter, ids, after, limit: query.limit });
    const page = rows.slice(0, query.limit);
    const items = await Promise.all(page.map((row) => this.summary(row, principal)));
    const last = page.at(-1);
    return {
      items,
      nextCursor:
        rows.length > query.limit && last
          ? `${last.rank}:${(last.nextDueAt?.getTime() ?? 8.64e15).toString()}:${last.id}`
          : null,
    };
  }

  async get(id: string, principal: Principal): Promise<CaseDetailView> {
    const record = await this.require(id, principal);
    const messages = await this.cases.messagesOf(id);
    const { facts } = deriveStoredCase({
      record,
      messages,
      requestStatus: await this.cases.requestStatus(id),
      self: this.trust.state,
      policy: this.trust.directory.policy.timeFrames,
    });
    const withContent = mayReadContent(principal);
    const request: CaseMessageView = {
      id: record.id,
      kind: record.kind,
      direction: record.direction,
      side: 'requesting',
      createdAt: record.openedAt.toISOString(),
      status: (await this.cases.requestStatus(id)) ?? 'delivered',
      applied: true,
      details: null,
    };
    const timeline = [request, ...messages.map((message) => caseMessageViewOf(message, facts))];
    for (const entry of timeline) {
      if (withContent) entry.content = await this.contentOf(entry, principal);
      if (entry.direction === 'outbound') {
        entry.receipt = await this.receipts.of(entry.id, principal).catch(() => null);
      }
    }
    return {
      ...(await this.summary(record, principal)),
      timeline,
      events: (await this.cases.events(id)).map((event) => ({
        type: event.type,
        step: event.step,
        at: event.at.toISOString(),
        detail: event.detail,
      })),
      allowedActions: allowedActionsOf(record.state as CaseState, this.sideOf(record)),
    };
  }

  /**
   * Sends a case message: sealed, then stored in one transaction with what it does to the case,
   * which is locked meanwhile; refused (409, naming the state) when the case does not allow it.
   */
  async act(
    id: string,
    action: CaseActionDto,
    principal: Principal,
  ): Promise<{ case: CaseDetailView; messageId: string }> {
    const record = await this.require(id, principal);
    const counterpart = { state: record.counterpartState, authority: record.counterpartAuthority };
    if (isCaseMessageKind(action.kind)) {
      const versions = this.trust.directory.state(counterpart.state)?.protocolVersions ?? [1];
      if (!versions.includes(2)) {
        throw new ConflictException(
          `${counterpart.state}'s gateway speaks protocol version 1 only (directory): it cannot receive case messages`,
        );
      }
    }
    const content = await this.contentFor(record, action, principal);
    const recipientCertificate = (() => {
      try {
        return this.trust.recipientEncryptionCertificate(counterpart.state);
      } catch (error) {
        if (error instanceof ProtocolError) throw new ConflictException(error.message);
        throw error;
      }
    })();
    const prepared = await this.outbound.sealCaseMessage({
      kind: action.kind,
      fromAuthority: record.localAuthority,
      to: counterpart,
      recipientCertificate,
      thread: record.id,
      inReplyTo: action.inReplyTo?.toLowerCase() ?? null,
      content,
    });
    const row = prepared.item.row;
    const stored = {
      envelopeId: row.id,
      caseId: record.id,
      direction: 'outbound' as const,
      kind: action.kind,
      side: this.sideOf(record),
      createdAt: row.createdAt,
      details: storedDetails(content.case),
    };
    const outboxId = await this.unitOfWork.run(async (tx) => {
      const locked = await this.cases.lock(tx, record.id);
      if (!locked) throw new NotFoundException(`no case ${record.id}`);
      const messages = await this.cases.messagesOf(record.id, tx);
      if (
        stored.kind !== 'reply' &&
        action.inReplyTo &&
        action.inReplyTo.toLowerCase() !== record.id &&
        !messages.some((message) => message.envelopeId === action.inReplyTo?.toLowerCase())
      ) {
        throw fieldError(`inReplyTo: ${action.inReplyTo} is not a message of case ${record.id}`);
      }
      const input = {
        record: locked,
        messages,
        requestStatus: await this.cases.requestStatus(record.id, tx),
        self: this.trust.state,
        policy: this.trust.directory.policy.timeFrames,
      };
      const entry = entryOf(stored);
      const derivation = deriveStoredCase({ ...input, extra: entry });
      if (!derivation.facts.applied.includes(entry.id)) {
        const refusal = caseMessageRefusal(deriveStoredCase(input).facts, entry);
        throw new ConflictException({
          statusCode: 409,
          error: 'Conflict',
          message: `${action.kind} is not allowed now: case ${record.id} is ${locked.state}${refusal ? ` (${refusal.message})` : ''}`,
          state: locked.state,
        });
      }
      const stored_ = await this.outbound.storeIn(tx, prepared);
      await this.cases.addMessage(tx, stored);
      await this.cases.saveDerived(record.id, derivation.row, tx);
      return stored_;
    });
    this.outbound.release(prepared, outboxId);
    return { case: await this.get(id, principal), messageId: row.id };
  }

  private async contentFor(
    record: CaseRecord,
    action: CaseActionDto,
    principal: Principal,
  ): Promise<RequestContent> {
    const today = this.clock.now().toISOString().slice(0, 10);
    for (const field of ['estimatedCompletion', 'respondBy'] as const) {
      const value = action[field];
      if (value !== undefined && value < today) {
        throw fieldError(`${field}: ${value} is in the past (today is ${today})`);
      }
    }
    try {
      let details: CaseDetails | undefined;
      if (isCaseMessageKind(action.kind)) {
        const source: Record<string, unknown> = {};
        for (const field of [
          'reference',
          'estimatedCompletion',
          'respondBy',
          'grounds',
          'reasons',
        ] as const) {
          if (action[field] !== undefined) source[field] = action[field];
        }
        details = readCaseDetails(source, action.kind);
      }
      return readRequestContent(
        {
          legalBasis: `See request ${record.id}`,
          urgency: record.urgency,
          deadline: null,
          subject: `${action.kind.replaceAll('_', ' ')}: case ${record.id}`,
          body: action.note?.trim() ? action.note : DEFAULT_NOTES[action.kind],
          attachments: (action.attachments ?? []).map(({ filename, mediaType, data }) => ({
            filename,
            mediaType,
            data,
          })),
          ...(await this.uploads.contentMembers(principal, action.attachmentRefs)),
          ...(details === undefined ? {} : { case: details }),
        },
        action.kind,
      );
    } catch (error) {
      if (error instanceof ProtocolError) {
        throw fieldError(error.message.replace(/^content\.(case\.)?/, ''));
      }
      throw error;
    }
  }

  private sideOf(record: CaseRecord): CaseSide {
    return record.direction === 'outbound' ? 'requesting' : 'requested';
  }

  private async require(id: string, principal: Principal): Promise<CaseRecord> {
    const record = await this.cases.find(id.toLowerCase());
    if (!record) throw new NotFoundException(`no case ${id}`);
    requireInScope(principal, record.localAuthority, id);
    return record;
  }

  private async summary(record: CaseRecord, principal: Principal) {
    const view = caseSummaryOf(record, this.trust.state);
    if (mayReadContent(principal) && record.title !== null) {
      const subject = await this.senderCopies.openNote(record.title);
      if (subject !== null) view.subject = subject;
    }
    return view;
  }

  private async contentOf(
    entry: CaseMessageView,
    principal: Principal,
  ): Promise<RequestContent | undefined> {
    try {
      const view =
        entry.direction === 'outbound'
          ? await this.outbound.get(entry.id, principal)
          : await this.inbound.get(entry.id, principal);
      return view.content;
    } catch {
      return undefined;
    }
  }

  private async matchingSubjects(
    filter: Parameters<CaseRepository['titles']>[0],
    text: string,
  ): Promise<string[]> {
    const needle = text.toLocaleLowerCase();
    const matches: string[] = [];
    for (const { id, title } of await this.cases.titles(filter)) {
      if (title === null) continue;
      const subject = await this.senderCopies.openNote(title);
      if (subject?.toLocaleLowerCase().includes(needle)) matches.push(id);
    }
    return matches;
  }
}

function parseCursor(cursor: string): { rank: number; dueAt: string; id: string } {
  const [rank, due, id] = cursor.split(':') as [string, string, string];
  const dueMs = Number(due);
  return {
    rank: Number(rank),
    dueAt: dueMs >= 8.64e15 ? 'infinity' : new Date(dueMs).toISOString(),
    id,
  };
}

function fieldError(message: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [message] });
}
