import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  CASE_TRANSITIONS,
  isCaseMessageKind,
  type CaseFacts,
  type CaseSide,
  type CaseState,
  type MessageKind,
  type RequestContent,
} from '@comity/protocol';
import type { CaseMessageRecord, CaseRecord } from '../persistence/case.repository';
import { requestedPartyOf } from './case-derivation';

export class CasePartyView {
  @ApiProperty({ example: 'AT' }) state!: string;
  @ApiProperty({ example: 'at-central-authority' }) authority!: string;
}

export class CaseSummaryView {
  @ApiProperty({ description: "The case id: the request's envelope id" }) id!: string;
  @ApiProperty({ enum: ['outbound', 'inbound'], description: 'outbound: this State requested' })
  direction!: 'outbound' | 'inbound';
  @ApiProperty() kind!: string;
  @ApiProperty() urgency!: string;
  @ApiProperty() state!: string;
  @ApiProperty({ type: CasePartyView }) requesting!: CasePartyView;
  @ApiProperty({ type: CasePartyView }) requested!: CasePartyView;
  @ApiPropertyOptional({ nullable: true }) nextStep!: string | null;
  @ApiPropertyOptional({ nullable: true, enum: ['requesting', 'requested'] })
  nextStepBy!: CaseSide | null;
  @ApiPropertyOptional({ nullable: true }) dueAt!: string | null;
  @ApiProperty() overdue!: boolean;
  @ApiPropertyOptional({ nullable: true }) overdueSince!: string | null;
  @ApiPropertyOptional({ nullable: true, description: "The requesting State's suggested date" })
  deadline!: string | null;
  @ApiPropertyOptional({ nullable: true, description: "The requested State's reference" })
  reference!: string | null;
  @ApiPropertyOptional({ nullable: true }) estimatedCompletion!: string | null;
  @ApiProperty() openedAt!: string;
  @ApiPropertyOptional({ nullable: true }) acknowledgedAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) outcomeAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) closedAt!: string | null;
  @ApiProperty({ type: [String] }) refusalGrounds!: string[];
  @ApiProperty() partialExecutions!: number;
  @ApiProperty() messages!: number;
  @ApiProperty() lastMessageAt!: string;
  @ApiPropertyOptional({ description: "The request's subject (clerks only)" }) subject?: string;
}

export class CaseMessageView {
  @ApiProperty() id!: string;
  @ApiProperty() kind!: string;
  @ApiProperty({ enum: ['outbound', 'inbound'] }) direction!: 'outbound' | 'inbound';
  @ApiProperty({ enum: ['requesting', 'requested'] }) side!: CaseSide;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ description: 'Delivery status (a sent message) or delivered (a received one)' })
  status!: string;
  @ApiProperty({ description: 'Whether it changed the case (false: it crossed another)' })
  applied!: boolean;
  @ApiPropertyOptional({ description: 'Reference, estimate, grounds: the structured part' })
  details!: Record<string, unknown> | null;
  @ApiPropertyOptional({ description: 'The decrypted content (clerks only)' })
  content?: RequestContent;
  @ApiPropertyOptional({
    type: () => ReceiptSummaryView,
    nullable: true,
    description:
      "A sent message's receipt, verified again when the case is read; null until it comes",
  })
  receipt?: ReceiptSummaryView | null;
}

export class ReceiptSummaryView {
  @ApiPropertyOptional({ nullable: true, enum: ['delivered', 'rejected'] })
  status!: 'delivered' | 'rejected' | null;
  @ApiPropertyOptional({ nullable: true, description: 'Reason code of a rejection' })
  reason!: string | null;
  @ApiProperty({ description: 'The State whose gateway certificate signed the receipt' })
  signedBy!: string;
  @ApiPropertyOptional({ nullable: true }) signedAt!: string | null;
  @ApiProperty({ description: 'SHA-256 (base64url) of the envelope bytes the receipt binds' })
  envelopeDigest!: string;
  @ApiPropertyOptional({ nullable: true, description: "x5t#S256 of the signer's certificate" })
  certificateThumbprint!: string | null;
  @ApiProperty() verified!: boolean;
  @ApiPropertyOptional({ nullable: true, description: 'Reason code when it no longer verifies' })
  problem!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    description:
      "When the recipient authority first opened it (the recipient's signed retrieval evidence)",
  })
  openedAt!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    description: 'When it was due to be opened, if signed non-retrieval evidence came',
  })
  notOpenedBy!: string | null;
}

export class CaseEventView {
  @ApiProperty() type!: string;
  @ApiPropertyOptional({ nullable: true }) step!: string | null;
  @ApiProperty() at!: string;
  @ApiPropertyOptional({ nullable: true }) detail!: string | null;
}

export class CaseDetailView extends CaseSummaryView {
  @ApiProperty({ type: [CaseMessageView], description: 'The request, then every message in order' })
  timeline!: CaseMessageView[];
  @ApiProperty({ type: [CaseEventView] }) events!: CaseEventView[];
  @ApiProperty({ type: [String], description: 'The case messages this node may send now' })
  allowedActions!: string[];
}

export class CasePageView {
  @ApiProperty({ type: [CaseSummaryView] }) items!: CaseSummaryView[];
  @ApiPropertyOptional({ nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor!: string | null;
}

export function stepPartyOf(step: string | null): CaseSide | null {
  if (step === null) return null;
  return step === 'provide_information' ? 'requesting' : 'requested';
}

export function caseSummaryOf(record: CaseRecord, self: string): CaseSummaryView {
  const local = { state: self, authority: record.localAuthority };
  const requested = requestedPartyOf(record, self);
  const iso = (date: Date | null): string | null => date?.toISOString() ?? null;
  return {
    id: record.id,
    direction: record.direction,
    kind: record.kind,
    urgency: record.urgency,
    state: record.state,
    requesting:
      record.direction === 'outbound'
        ? local
        : { state: record.counterpartState, authority: record.counterpartAuthority },
    requested,
    nextStep: record.nextStep,
    nextStepBy: stepPartyOf(record.nextStep),
    dueAt: iso(record.nextDueAt),
    overdue: record.overdueSince !== null,
    overdueSince: iso(record.overdueSince),
    deadline: record.deadline,
    reference: record.reference,
    estimatedCompletion: record.estimatedCompletion,
    openedAt: record.openedAt.toISOString(),
    acknowledgedAt: iso(record.acknowledgedAt),
    outcomeAt: iso(record.outcomeAt),
    closedAt: iso(record.closedAt),
    refusalGrounds: record.refusalGrounds,
    partialExecutions: record.partialExecutions,
    messages: record.messages,
    lastMessageAt: record.lastMessageAt.toISOString(),
  };
}

/** The case messages a side may send in a state (the free messages always, while not closed). */
export function allowedActionsOf(state: CaseState, side: CaseSide): string[] {
  const allowed: string[] = Object.entries(CASE_TRANSITIONS)
    .filter(([, transition]) => transition.from.includes(state))
    .filter(([, transition]) => transition.side === 'either' || transition.side === side)
    .map(([kind]) => kind);
  if (state !== 'closed' && state !== 'not_delivered') {
    allowed.push(...(side === 'requesting' ? ['supplementary_information'] : []), 'reply');
  }
  return allowed;
}

export function caseMessageViewOf(message: CaseMessageRecord, facts: CaseFacts): CaseMessageView {
  return {
    id: message.envelopeId,
    kind: message.kind,
    direction: message.direction,
    side: message.side,
    createdAt: message.createdAt.toISOString(),
    status: message.status,
    applied:
      !isCaseMessageKind(message.kind as MessageKind) || facts.applied.includes(message.envelopeId),
    details: message.details,
  };
}
