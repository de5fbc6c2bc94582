import { REQUEST_KINDS, URGENCIES, type RequestKind, type Urgency } from './message-kinds';

/** How long each expected step of a case may take, in days (protocol §8.5). */
export interface TimeFrames {
  /** The requested State acknowledges a request (EIO Directive art. 16: one week). */
  acknowledgeDays: number;
  /** The requesting State answers a request for additional information. */
  provideInformationDays: number;
  /** The requested State answers a status inquiry (UNCAC art. 46(24)). */
  answerStatusInquiryDays: number;
  /** The requested State executes, when the requesting State suggested no date (EIO art. 12: 90). */
  executeDays: number;
}

const FRAME_MEMBERS = [
  'acknowledgeDays',
  'provideInformationDays',
  'answerStatusInquiryDays',
  'executeDays',
] as const;

/** The protocol's defaults: urgency shortens every step. */
export const DEFAULT_TIME_FRAMES: Record<Urgency, TimeFrames> = {
  routine: {
    acknowledgeDays: 7,
    provideInformationDays: 30,
    answerStatusInquiryDays: 14,
    executeDays: 90,
  },
  urgent: {
    acknowledgeDays: 2,
    provideInformationDays: 10,
    answerStatusInquiryDays: 5,
    executeDays: 30,
  },
  immediate: {
    acknowledgeDays: 1,
    provideInformationDays: 3,
    answerStatusInquiryDays: 2,
    executeDays: 7,
  },
};

type FrameOverrides = Partial<Record<Urgency, Partial<TimeFrames>>>;

/**
 * The federation's time frames from the signed directory's `policy.timeFrames`: per urgency,
 * then per request kind, then per requested authority (`"<State>/<authority id>"`), each level
 * overriding the one before for the steps it names.
 */
export interface TimeFramePolicy {
  defaults: FrameOverrides;
  kinds: Partial<Record<RequestKind, FrameOverrides>>;
  authorities: Record<string, FrameOverrides>;
}

export const NO_TIME_FRAME_POLICY: TimeFramePolicy = { defaults: {}, kinds: {}, authorities: {} };

/** The time frames of one case: its kind, its urgency, and the authority asked to act. */
export function timeFramesFor(
  policy: TimeFramePolicy,
  input: { kind: string; urgency: Urgency; requested: { state: string; authority: string } },
): TimeFrames {
  const { urgency } = input;
  return {
    ...DEFAULT_TIME_FRAMES[urgency],
    ...policy.defaults[urgency],
    ...policy.kinds[input.kind as RequestKind]?.[urgency],
    ...policy.authorities[`${input.requested.state}/${input.requested.authority}`]?.[urgency],
  };
}

const AUTHORITY_KEY = /^[A-Z]{2}\/[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;

/** Reads `policy.timeFrames`; `fail` names the member that is wrong (the edition is then invalid). */
export function readTimeFramePolicy(
  value: unknown,
  fail: (where: string, what: string) => never,
): TimeFramePolicy {
  if (value === undefined || value === null) return NO_TIME_FRAME_POLICY;
  const object = (raw: unknown, where: string): Record<string, unknown> => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return fail(where, 'must be an object');
    }
    return raw as Record<string, unknown>;
  };
  const frames = (raw: unknown, where: string): Partial<TimeFrames> => {
    const source = object(raw, where);
    const read: Partial<TimeFrames> = {};
    for (const [member, days] of Object.entries(source)) {
      if (!(FRAME_MEMBERS as readonly string[]).includes(member)) {
        fail(`${where}.${member}`, `is not a time frame (${FRAME_MEMBERS.join(', ')})`);
      }
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650) {
        fail(`${where}.${member}`, 'must be a whole number of days from 1 to 3650');
      }
      read[member as keyof TimeFrames] = days as number;
    }
    return read;
  };
  const perUrgency = (raw: unknown, where: string): FrameOverrides => {
    const source = object(raw, where);
    const read: FrameOverrides = {};
    for (const [urgency, value] of Object.entries(source)) {
      if (!(URGENCIES as readonly string[]).includes(urgency)) {
        fail(`${where}.${urgency}`, `is not an urgency (${URGENCIES.join(', ')})`);
      }
      read[urgency as Urgency] = frames(value, `${where}.${urgency}`);
    }
    return read;
  };
  const source = object(value, 'policy.timeFrames');
  const keyed = <K extends string>(
    member: 'kinds' | 'authorities',
    valid: (key: string) => key is K,
    what: string,
  ): Partial<Record<K, FrameOverrides>> => {
    if (source[member] === undefined) return {};
    const where = `policy.timeFrames.${member}`;
    const read: Partial<Record<K, FrameOverrides>> = {};
    for (const [key, overrides] of Object.entries(object(source[member], where))) {
      if (!valid(key)) fail(`${where}.${key}`, what);
      read[key as K] = perUrgency(overrides, `${where}.${key}`);
    }
    return read;
  };
  const defaults = { ...source };
  delete defaults.kinds;
  delete defaults.authorities;
  return {
    defaults: perUrgency(defaults, 'policy.timeFrames'),
    kinds: keyed(
      'kinds',
      (key): key is RequestKind => (REQUEST_KINDS as readonly string[]).includes(key),
      `is not a request kind (${REQUEST_KINDS.join(', ')})`,
    ),
    authorities: keyed(
      'authorities',
      (key): key is string => AUTHORITY_KEY.test(key),
      'must be "<State code>/<authority id>"',
    ) as Record<string, FrameOverrides>,
  };
}
