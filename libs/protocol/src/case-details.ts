import { FieldReader } from './fields';
import type { CaseMessageKind } from './message-kinds';

/**
 * Grounds for refusing or not executing a request, from UNCAC art. 46(21), the EIO Directive
 * art. 11 and the usual extradition treaties. Codes, so that statistics can count them; the
 * reasons themselves are written out in `reasons`.
 */
export const REFUSAL_GROUNDS = [
  'insufficient-information',
  'sovereignty-security-public-order',
  'domestic-law-prohibits',
  'contrary-to-legal-system',
  'dual-criminality',
  'ne-bis-in-idem',
  'immunity-or-privilege',
  'fundamental-rights',
  'political-offence',
  'death-penalty',
  'nationality',
  'limitation-period',
  'other',
] as const;
export type RefusalGround = (typeof REFUSAL_GROUNDS)[number];

/**
 * The structured part of a case message (`content.case`, protocol §8.3): what the state
 * machine and the time frames need besides the free text. Signed and encrypted with the rest.
 */
export interface CaseDetails {
  /** acknowledgement: the requested State's own reference number. */
  reference?: string;
  /** acknowledgement, status_report (optional), postponement (required): YYYY-MM-DD. */
  estimatedCompletion?: string;
  /** information_request: by when the information is needed, YYYY-MM-DD. */
  respondBy?: string;
  /** refusal: one or more grounds. */
  grounds?: RefusalGround[];
  /** refusal and postponement (required), withdrawal (optional): the reasons, in words. */
  reasons?: string;
}

export const CASE_DETAIL_LIMITS = { referenceChars: 100, reasonsChars: 10_000 } as const;

type Member = keyof CaseDetails;
/** Per kind: the members it may carry, and those it must. */
const MEMBERS: Record<CaseMessageKind, { allowed: Member[]; required: Member[] }> = {
  acknowledgement: { allowed: ['reference', 'estimatedCompletion'], required: ['reference'] },
  information_request: { allowed: ['respondBy'], required: [] },
  additional_information: { allowed: [], required: [] },
  status_inquiry: { allowed: [], required: [] },
  status_report: { allowed: ['estimatedCompletion'], required: [] },
  postponement: {
    allowed: ['reasons', 'estimatedCompletion'],
    required: ['reasons', 'estimatedCompletion'],
  },
  consultation: { allowed: [], required: [] },
  partial_execution: { allowed: [], required: [] },
  execution_completed: { allowed: [], required: [] },
  refusal: { allowed: ['grounds', 'reasons'], required: ['grounds', 'reasons'] },
  withdrawal: { allowed: ['reasons'], required: [] },
  closure: { allowed: [], required: [] },
};

export function caseDetailMembers(kind: CaseMessageKind): {
  allowed: readonly Member[];
  required: readonly Member[];
} {
  return MEMBERS[kind];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar date (YYYY-MM-DD) that exists: 2027-02-30 is not one. */
export function isCalendarDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** Reads `content.case` for a case message of `kind`; a wrong member names itself. */
export function readCaseDetails(value: unknown, kind: CaseMessageKind): CaseDetails {
  const reader = new FieldReader('malformed-content', 'content.case');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FieldReader('malformed-content', 'content').fail('case', 'must be an object');
  }
  const source = value as Record<string, unknown>;
  const { allowed, required } = MEMBERS[kind];
  reader.onlyMembers(source, allowed);
  for (const member of required) {
    if (source[member] === undefined) reader.fail(member, `is required for ${kind}`);
  }
  const details: CaseDetails = {};
  const date = (member: 'estimatedCompletion' | 'respondBy'): void => {
    if (source[member] === undefined) return;
    const text = reader.string(source, member, DATE, 10);
    if (!isCalendarDate(text)) reader.fail(member, 'must be a calendar date (YYYY-MM-DD)');
    details[member] = text;
  };
  if (source.reference !== undefined) {
    details.reference = reader.string(
      source,
      'reference',
      /^\S(.*\S)?$/,
      CASE_DETAIL_LIMITS.referenceChars,
    );
  }
  date('estimatedCompletion');
  date('respondBy');
  if (source.grounds !== undefined) {
    const grounds = source.grounds;
    if (
      !Array.isArray(grounds) ||
      grounds.length === 0 ||
      grounds.length > REFUSAL_GROUNDS.length ||
      grounds.some((ground) => !(REFUSAL_GROUNDS as readonly unknown[]).includes(ground)) ||
      new Set(grounds).size !== grounds.length
    ) {
      reader.fail('grounds', `must list one or more distinct of ${REFUSAL_GROUNDS.join(', ')}`);
    }
    details.grounds = grounds as RefusalGround[];
  }
  if (source.reasons !== undefined) {
    details.reasons = reader.string(source, 'reasons', /\S/, CASE_DETAIL_LIMITS.reasonsChars);
  }
  return details;
}
