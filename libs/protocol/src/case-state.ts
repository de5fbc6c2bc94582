import type { CaseDetails, RefusalGround } from './case-details';
import {
  isCaseMessageKind,
  type CaseMessageKind,
  type MessageKind,
  type RequestKind,
  type Urgency,
} from './message-kinds';
import { ProtocolError } from './protocol-error';
import type { TimeFrames } from './time-frames';

/** Where a case stands (protocol §8.4). */
export const CASE_STATES = [
  'awaiting_acknowledgement',
  'in_progress',
  'awaiting_information',
  'postponed',
  'partially_executed',
  'executed',
  'refused',
  'withdrawn',
  'closed',
  /** The sender's own view only: the request itself was refused or never delivered. */
  'not_delivered',
] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** The states in which the requested State still owes an answer. */
export const OPEN_CASE_STATES = [
  'awaiting_acknowledgement',
  'in_progress',
  'awaiting_information',
  'postponed',
  'partially_executed',
] as const satisfies readonly CaseState[];

/** Outcomes: only a closure may follow. */
export const OUTCOME_STATES = [
  'executed',
  'refused',
  'withdrawn',
] as const satisfies readonly CaseState[];

export type CaseSide = 'requesting' | 'requested';

/**
 * What each case message does: which side may send it, in which states, and the state after.
 * `same`: no change; `resume`: back to the state before the information request (else no change).
 */
export interface CaseTransition {
  side: CaseSide | 'either';
  from: readonly CaseState[];
  to: CaseState | 'same' | 'resume';
}

const OPEN = OPEN_CASE_STATES;
const WORKING = ['in_progress', 'postponed', 'partially_executed'] as const;

export const CASE_TRANSITIONS: Record<CaseMessageKind, CaseTransition> = {
  acknowledgement: { side: 'requested', from: ['awaiting_acknowledgement'], to: 'in_progress' },
  information_request: {
    side: 'requested',
    from: ['awaiting_acknowledgement', ...WORKING],
    to: 'awaiting_information',
  },
  additional_information: { side: 'requesting', from: OPEN, to: 'resume' },
  status_inquiry: { side: 'requesting', from: OPEN, to: 'same' },
  status_report: { side: 'requested', from: ['awaiting_information', ...WORKING], to: 'same' },
  postponement: { side: 'requested', from: WORKING, to: 'postponed' },
  consultation: { side: 'either', from: OPEN, to: 'same' },
  partial_execution: { side: 'requested', from: WORKING, to: 'partially_executed' },
  execution_completed: { side: 'requested', from: WORKING, to: 'executed' },
  refusal: { side: 'requested', from: OPEN, to: 'refused' },
  withdrawal: { side: 'requesting', from: OPEN, to: 'withdrawn' },
  closure: { side: 'either', from: OUTCOME_STATES, to: 'closed' },
};

/** The request that opened a case, as both ends know it. */
export interface CaseOpening {
  id: string;
  kind: RequestKind;
  created: string;
  urgency: Urgency;
  /** The requesting State's suggested date (YYYY-MM-DD), if any. */
  deadline: string | null;
  /** The sender's view only: its request was refused or never delivered. */
  undelivered?: boolean;
}

/** One message of a case, as the fold needs it: no content beyond the structured details. */
export interface CaseEntry {
  id: string;
  kind: MessageKind;
  side: CaseSide;
  created: string;
  details: CaseDetails | null;
}

/** What a case's signed messages say, derived the same way at both ends. */
export interface CaseFacts {
  state: CaseState;
  /** Ids of the messages that took effect, in order. */
  applied: string[];
  /** Ids of messages that did not apply at their place in the order (crossings). */
  ignored: string[];
  acknowledgedAt: string | null;
  reference: string | null;
  estimatedCompletion: string | null;
  /** The last postponement's new estimate. */
  postponedUntil: string | null;
  informationRequestedAt: string | null;
  respondBy: string | null;
  /** A status inquiry not answered by a status report (or an outcome) since. */
  statusInquiryAt: string | null;
  partialExecutions: number;
  /** How the request ended: kept after the case is closed. */
  outcome: 'executed' | 'refused' | 'withdrawn' | null;
  outcomeAt: string | null;
  refusalGrounds: RefusalGround[];
  closedAt: string | null;
}

function initialFacts(opening: CaseOpening): CaseFacts {
  return {
    state: opening.undelivered ? 'not_delivered' : 'awaiting_acknowledgement',
    applied: [],
    ignored: [],
    acknowledgedAt: null,
    reference: null,
    estimatedCompletion: null,
    postponedUntil: null,
    informationRequestedAt: null,
    respondBy: null,
    statusInquiryAt: null,
    partialExecutions: 0,
    outcome: null,
    outcomeAt: null,
    refusalGrounds: [],
    closedAt: null,
  };
}

/** Why a case message cannot apply to facts as they stand; null when it can. */
export function caseMessageRefusal(facts: CaseFacts, entry: CaseEntry): ProtocolError | null {
  if (!isCaseMessageKind(entry.kind)) return null;
  const transition = CASE_TRANSITIONS[entry.kind];
  if (transition.side !== 'either' && transition.side !== entry.side) {
    return new ProtocolError(
      'case-party-mismatch',
      `${entry.kind} is sent by the ${transition.side} State, not the ${entry.side} one`,
    );
  }
  if (!transition.from.includes(facts.state)) {
    return new ProtocolError(
      'case-transition-not-allowed',
      `${entry.kind} is not allowed while the case is ${facts.state}`,
    );
  }
  return null;
}

/**
 * The state of a case from its request and its messages: a pure fold over the messages in
 * envelope id order (UUIDv7: creation time, then random). A message that does not apply at its
 * place (two messages that crossed) is recorded as ignored and changes nothing, so that any
 * node given the same signed messages derives the same facts. The free messages of version 1
 * (`reply`, `supplementary_information`) never change the state.
 */
export function deriveCase(opening: CaseOpening, entries: readonly CaseEntry[]): CaseFacts {
  const facts = initialFacts(opening);
  let resumeTo: CaseState = 'awaiting_acknowledgement';
  const ordered = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const entry of ordered) {
    if (!isCaseMessageKind(entry.kind)) {
      facts.applied.push(entry.id);
      continue;
    }
    if (caseMessageRefusal(facts, entry)) {
      facts.ignored.push(entry.id);
      continue;
    }
    const details = entry.details ?? {};
    const transition = CASE_TRANSITIONS[entry.kind];
    const before = facts.state;
    switch (entry.kind) {
      case 'acknowledgement':
        facts.acknowledgedAt = entry.created;
        facts.reference = details.reference ?? null;
        facts.estimatedCompletion = details.estimatedCompletion ?? facts.estimatedCompletion;
        break;
      case 'information_request':
        resumeTo = before;
        facts.informationRequestedAt = entry.created;
        facts.respondBy = details.respondBy ?? null;
        break;
      case 'status_inquiry':
        facts.statusInquiryAt ??= entry.created;
        break;
      case 'status_report':
        facts.statusInquiryAt = null;
        facts.estimatedCompletion = details.estimatedCompletion ?? facts.estimatedCompletion;
        break;
      case 'postponement':
        facts.statusInquiryAt = null;
        facts.postponedUntil = details.estimatedCompletion ?? null;
        facts.estimatedCompletion = details.estimatedCompletion ?? facts.estimatedCompletion;
        break;
      case 'partial_execution':
        facts.statusInquiryAt = null;
        facts.partialExecutions += 1;
        break;
      case 'execution_completed':
      case 'withdrawal':
        facts.outcome = entry.kind === 'withdrawal' ? 'withdrawn' : 'executed';
        facts.outcomeAt = entry.created;
        facts.statusInquiryAt = null;
        break;
      case 'refusal':
        facts.outcome = 'refused';
        facts.outcomeAt = entry.created;
        facts.statusInquiryAt = null;
        facts.refusalGrounds = details.grounds ?? [];
        break;
      case 'closure':
        facts.closedAt = entry.created;
        break;
      default:
        break;
    }
    if (transition.to === 'resume') {
      if (before === 'awaiting_information') {
        facts.state = resumeTo;
        facts.informationRequestedAt = null;
        facts.respondBy = null;
      }
    } else if (transition.to !== 'same') {
      facts.state = transition.to;
    }
    facts.applied.push(entry.id);
  }
  return facts;
}

/** The steps a case waits for, and who owes them. */
export const CASE_STEPS = [
  'acknowledge',
  'provide_information',
  'answer_status_inquiry',
  'execute',
] as const;
export type CaseStep = (typeof CASE_STEPS)[number];

export interface NextStep {
  step: CaseStep;
  /** Who owes it. */
  party: CaseSide;
  dueAt: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A date's end (the next day at 00:00 UTC): a step due "on 2027-03-01" is late from 2 March. */
function endOfDate(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS);
}

function afterDays(instant: string, days: number): Date {
  return new Date(Date.parse(instant) + days * DAY_MS);
}

/**
 * The step a case waits for next and its due date (protocol §8.5): the state's own step, or an
 * unanswered status inquiry when that is due sooner. None once the case has an outcome.
 */
export function nextStepOf(
  opening: CaseOpening,
  facts: CaseFacts,
  frames: TimeFrames,
): NextStep | null {
  let step: NextStep;
  switch (facts.state) {
    case 'awaiting_acknowledgement':
      step = {
        step: 'acknowledge',
        party: 'requested',
        dueAt: afterDays(opening.created, frames.acknowledgeDays),
      };
      break;
    case 'awaiting_information':
      step = {
        step: 'provide_information',
        party: 'requesting',
        dueAt: facts.respondBy
          ? endOfDate(facts.respondBy)
          : afterDays(
              facts.informationRequestedAt ?? opening.created,
              frames.provideInformationDays,
            ),
      };
      break;
    case 'in_progress':
    case 'postponed':
    case 'partially_executed': {
      // The requested State's own new estimate after a postponement, else the date the
      // requesting State suggested, else the federation's time frame.
      const date = facts.postponedUntil ?? opening.deadline;
      step = {
        step: 'execute',
        party: 'requested',
        dueAt: date ? endOfDate(date) : afterDays(opening.created, frames.executeDays),
      };
      break;
    }
    default:
      return null;
  }
  if (facts.statusInquiryAt) {
    const inquiry: NextStep = {
      step: 'answer_status_inquiry',
      party: 'requested',
      dueAt: afterDays(facts.statusInquiryAt, frames.answerStatusInquiryDays),
    };
    if (inquiry.dueAt < step.dueAt) return inquiry;
  }
  return step;
}

/** When the first step of a new case (its acknowledgement) is due. */
export function openingDueAt(opening: CaseOpening, frames: TimeFrames): Date {
  return afterDays(opening.created, frames.acknowledgeDays);
}
