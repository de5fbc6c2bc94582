import {
  deriveCase,
  nextStepOf,
  timeFramesFor,
  type CaseDetails,
  type CaseEntry,
  type CaseFacts,
  type CaseOpening,
  type MessageKind,
  type NextStep,
  type Party,
  type RequestKind,
  type TimeFramePolicy,
  type Urgency,
} from '@comity/protocol';
import type { CaseMessageRecord, CaseRecord, DerivedCaseRow } from '../persistence/case.repository';

/** Statuses of a message this node sent that leave it out of its case: never received there. */
const NOT_RECEIVED = ['rejected', 'failed'];

export function requestedPartyOf(record: CaseRecord, self: string): Party {
  return record.direction === 'outbound'
    ? { state: record.counterpartState, authority: record.counterpartAuthority }
    : { state: self, authority: record.localAuthority };
}

export function openingOf(record: CaseRecord, requestStatus: string | null): CaseOpening {
  return {
    id: record.id,
    kind: record.kind as RequestKind,
    created: record.openedAt.toISOString(),
    urgency: record.urgency as Urgency,
    deadline: record.deadline,
    undelivered: record.direction === 'outbound' && NOT_RECEIVED.includes(requestStatus ?? ''),
  };
}

export function entryOf(message: Omit<CaseMessageRecord, 'status'>): CaseEntry {
  return {
    id: message.envelopeId,
    kind: message.kind as MessageKind,
    side: message.side,
    created: message.createdAt.toISOString(),
    details: message.details as CaseDetails | null,
  };
}

/**
 * What of a case message's structured part is kept beside the envelope: what the state machine,
 * the time frames and the statistics need. The reasons, written out, stay in the envelope.
 */
export function storedDetails(details: CaseDetails | undefined): Record<string, unknown> | null {
  if (!details) return null;
  const kept: Record<string, unknown> = { ...details };
  delete kept.reasons;
  return kept;
}

/** The messages that count: every received one, and those this node sent that were not refused or lost. */
export function countedEntries(messages: readonly CaseMessageRecord[]): CaseEntry[] {
  return messages.filter((message) => !NOT_RECEIVED.includes(message.status)).map(entryOf);
}

export interface Derivation {
  facts: CaseFacts;
  step: NextStep | null;
  row: DerivedCaseRow;
}

/** A case's facts and next step from its stored messages: the same fold at both ends. */
export function deriveStoredCase(input: {
  record: CaseRecord;
  messages: readonly CaseMessageRecord[];
  extra?: CaseEntry;
  requestStatus: string | null;
  self: string;
  policy: TimeFramePolicy;
}): Derivation {
  const { record, messages } = input;
  const opening = openingOf(record, input.requestStatus);
  const entries = countedEntries(messages);
  if (input.extra) entries.push(input.extra);
  const facts = deriveCase(opening, entries);
  const frames = timeFramesFor(input.policy, {
    kind: record.kind,
    urgency: opening.urgency,
    requested: requestedPartyOf(record, input.self),
  });
  const step = nextStepOf(opening, facts, frames);
  const date = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));
  const all = input.extra ? [...messages.map(entryOf), input.extra] : messages.map(entryOf);
  const last = all.reduce(
    (latest, entry) => (entry.created > latest ? entry.created : latest),
    opening.created,
  );
  return {
    facts,
    step,
    row: {
      state: facts.state,
      nextStep: step?.step ?? null,
      nextDueAt: step?.dueAt ?? null,
      reference: facts.reference,
      estimatedCompletion: facts.estimatedCompletion,
      acknowledgedAt: date(facts.acknowledgedAt),
      outcome: facts.outcome,
      outcomeAt: date(facts.outcomeAt),
      closedAt: date(facts.closedAt),
      refusalGrounds: facts.refusalGrounds,
      partialExecutions: facts.partialExecutions,
      messages: all.length,
      lastMessageAt: new Date(last),
      hasFailedMessage: messages.some((message) => message.status === 'failed'),
    },
  };
}
