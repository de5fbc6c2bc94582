import {
  CASE_STATES,
  CASE_TRANSITIONS,
  deriveCase,
  nextStepOf,
  type CaseEntry,
  type CaseOpening,
} from './case-state';
import { readCaseDetails } from './case-details';
import { CASE_MESSAGE_KINDS } from './message-kinds';
import { DEFAULT_TIME_FRAMES, readTimeFramePolicy, timeFramesFor } from './time-frames';
import { ProtocolError } from './protocol-error';

const opening: CaseOpening = {
  id: '0190a000-0000-7000-8000-000000000000',
  kind: 'mla_request',
  created: '2027-01-01T00:00:00.000Z',
  urgency: 'routine',
  deadline: null,
};

let sequence = 0;
function entry(kind: CaseEntry['kind'], side: CaseEntry['side'], details = {}): CaseEntry {
  sequence += 1;
  const id = `0190a000-0000-7000-8000-${sequence.toString().padStart(12, '0')}`;
  return {
    id,
    kind,
    side,
    created: new Date(Date.parse(opening.created) + sequence * 60_000).toISOString(),
    details,
  };
}

describe('deriveCase', () => {
  it('follows the table for every state and kind: allowed messages move it, others are ignored', () => {
    // Reach each state by a path of allowed messages, then try every kind from both sides.
    const paths: Record<string, CaseEntry['kind'][]> = {
      awaiting_acknowledgement: [],
      in_progress: ['acknowledgement'],
      awaiting_information: ['acknowledgement', 'information_request'],
      postponed: ['acknowledgement', 'postponement'],
      partially_executed: ['acknowledgement', 'partial_execution'],
      executed: ['acknowledgement', 'execution_completed'],
      refused: ['refusal'],
      withdrawn: ['withdrawal'],
      closed: ['withdrawal', 'closure'],
    };
    const details: Record<string, object> = {
      acknowledgement: { reference: 'R' },
      postponement: { reasons: 'r', estimatedCompletion: '2027-06-01' },
      refusal: { grounds: ['other'], reasons: 'r' },
    };
    for (const [state, path] of Object.entries(paths)) {
      const prefix = path.map((kind) =>
        entry(
          kind,
          CASE_TRANSITIONS[kind as keyof typeof CASE_TRANSITIONS].side === 'requesting'
            ? 'requesting'
            : 'requested',
          details[kind],
        ),
      );
      expect(deriveCase(opening, prefix).state).toBe(state);
      for (const kind of CASE_MESSAGE_KINDS) {
        for (const side of ['requesting', 'requested'] as const) {
          const transition = CASE_TRANSITIONS[kind];
          const next = entry(kind, side, details[kind]);
          const facts = deriveCase(opening, [...prefix, next]);
          const allowed =
            (transition.side === 'either' || transition.side === side) &&
            (transition.from as readonly string[]).includes(state);
          expect({ state, kind, side, applied: facts.applied.includes(next.id) }).toEqual({
            state,
            kind,
            side,
            applied: allowed,
          });
          if (!allowed) expect(facts.state).toBe(state);
          if (allowed && transition.to !== 'same' && transition.to !== 'resume') {
            expect(facts.state).toBe(transition.to);
          }
        }
      }
    }
  });

  it('answers an information request back to the state it interrupted', () => {
    const ack = entry('acknowledgement', 'requested', { reference: 'R' });
    const postpone = entry('postponement', 'requested', {
      reasons: 'r',
      estimatedCompletion: '2027-06-01',
    });
    const ask = entry('information_request', 'requested');
    const answer = entry('additional_information', 'requesting');
    expect(deriveCase(opening, [ack, postpone, ask, answer]).state).toBe('postponed');
    expect(
      deriveCase(opening, [
        entry('information_request', 'requested'),
        entry('additional_information', 'requesting'),
      ]).state,
    ).toBe('awaiting_acknowledgement');
  });

  it('is a function of the set of messages: any arrival order gives the same facts', () => {
    const messages = [
      entry('acknowledgement', 'requested', { reference: 'R' }),
      entry('information_request', 'requested'),
      entry('withdrawal', 'requesting'),
      entry('additional_information', 'requesting'),
      entry('execution_completed', 'requested'),
      entry('closure', 'requesting'),
    ];
    const expected = deriveCase(opening, messages);
    expect(expected.state).toBe('closed');
    expect(expected.outcome).toBe('withdrawn');
    expect(expected.ignored).toEqual([messages[3]!.id, messages[4]!.id]);
    for (let shuffle = 0; shuffle < 50; shuffle += 1) {
      const order = [...messages].sort(() => Math.random() - 0.5);
      expect(deriveCase(opening, order)).toEqual(expected);
    }
  });

  it('keeps the outcome and the refusal grounds after closure, and never leaves not_delivered', () => {
    const facts = deriveCase(opening, [
      entry('refusal', 'requested', { grounds: ['dual-criminality'], reasons: 'r' }),
      entry('closure', 'requested'),
    ]);
    expect(facts).toMatchObject({
      state: 'closed',
      outcome: 'refused',
      refusalGrounds: ['dual-criminality'],
    });
    expect(
      deriveCase({ ...opening, undelivered: true }, [entry('acknowledgement', 'requested')]).state,
    ).toBe('not_delivered');
    expect(CASE_STATES).toContain('not_delivered');
  });
});

describe('nextStepOf', () => {
  const frames = DEFAULT_TIME_FRAMES.routine;
  it('dates each step: acknowledgement, information, execution (estimate > deadline > frame), status inquiry when sooner', () => {
    expect(nextStepOf(opening, deriveCase(opening, []), frames)).toEqual({
      step: 'acknowledge',
      party: 'requested',
      dueAt: new Date('2027-01-08T00:00:00.000Z'),
    });
    const ack = entry('acknowledgement', 'requested', { reference: 'R' });
    expect(nextStepOf(opening, deriveCase(opening, [ack]), frames)?.dueAt).toEqual(
      new Date('2027-04-01T00:00:00.000Z'),
    );
    const withDeadline = { ...opening, deadline: '2027-02-15' };
    expect(nextStepOf(withDeadline, deriveCase(withDeadline, [ack]), frames)?.dueAt).toEqual(
      new Date('2027-02-16T00:00:00.000Z'),
    );
    const postponed = [
      ack,
      entry('postponement', 'requested', { reasons: 'r', estimatedCompletion: '2027-09-30' }),
    ];
    expect(nextStepOf(withDeadline, deriveCase(withDeadline, postponed), frames)?.dueAt).toEqual(
      new Date('2027-10-01T00:00:00.000Z'),
    );
    const asked = [ack, entry('information_request', 'requested', { respondBy: '2027-03-01' })];
    expect(nextStepOf(opening, deriveCase(opening, asked), frames)).toMatchObject({
      step: 'provide_information',
      party: 'requesting',
      dueAt: new Date('2027-03-02T00:00:00.000Z'),
    });
    const inquiry = entry('status_inquiry', 'requesting');
    const facts = deriveCase(opening, [ack, inquiry]);
    expect(nextStepOf(opening, facts, frames)).toEqual({
      step: 'answer_status_inquiry',
      party: 'requested',
      dueAt: new Date(Date.parse(inquiry.created) + 14 * 86_400_000),
    });
    expect(
      nextStepOf(
        opening,
        deriveCase(opening, [ack, inquiry, entry('status_report', 'requested')]),
        frames,
      )?.step,
    ).toBe('execute');
    expect(
      nextStepOf(opening, deriveCase(opening, [entry('withdrawal', 'requesting')]), frames),
    ).toBeNull();
  });
});

describe('time frames from the directory policy', () => {
  const fail = (where: string, what: string): never => {
    throw new Error(`${where} ${what}`);
  };
  it('overrides per urgency, then kind, then requested authority', () => {
    const policy = readTimeFramePolicy(
      {
        routine: { acknowledgeDays: 5 },
        kinds: { extradition_request: { routine: { executeDays: 180 } } },
        authorities: { 'FR/fr-central-authority': { urgent: { acknowledgeDays: 1 } } },
      },
      fail,
    );
    const requested = { state: 'FR', authority: 'fr-central-authority' };
    expect(timeFramesFor(policy, { kind: 'mla_request', urgency: 'routine', requested })).toEqual({
      ...DEFAULT_TIME_FRAMES.routine,
      acknowledgeDays: 5,
    });
    expect(
      timeFramesFor(policy, { kind: 'extradition_request', urgency: 'routine', requested })
        .executeDays,
    ).toBe(180);
    expect(
      timeFramesFor(policy, { kind: 'mla_request', urgency: 'urgent', requested }).acknowledgeDays,
    ).toBe(1);
    expect(
      timeFramesFor(policy, {
        kind: 'mla_request',
        urgency: 'urgent',
        requested: { state: 'KE', authority: 'ke-central-authority' },
      }).acknowledgeDays,
    ).toBe(2);
  });
  it.each([
    [
      { routine: { acknowledgeDays: 0 } },
      'policy.timeFrames.routine.acknowledgeDays must be a whole number of days from 1 to 3650',
    ],
    [{ sometimes: {} }, 'policy.timeFrames.sometimes is not an urgency'],
    [{ routine: { replyDays: 3 } }, 'policy.timeFrames.routine.replyDays is not a time frame'],
    [{ kinds: { reply: {} } }, 'policy.timeFrames.kinds.reply is not a request kind'],
    [
      { authorities: { fr: {} } },
      'policy.timeFrames.authorities.fr must be "<State code>/<authority id>"',
    ],
  ])('refuses %j naming the member', (value, message) => {
    expect(() => readTimeFramePolicy(value, fail)).toThrow(message);
  });
});

describe('readCaseDetails', () => {
  it.each([
    ['acknowledgement', {}, 'content.case.reference is required for acknowledgement'],
    ['refusal', { reasons: 'r' }, 'content.case.grounds is required for refusal'],
    ['refusal', { grounds: [], reasons: 'r' }, 'content.case.grounds must list one or more'],
    [
      'refusal',
      { grounds: ['because'], reasons: 'r' },
      'content.case.grounds must list one or more',
    ],
    [
      'postponement',
      { reasons: 'r', estimatedCompletion: '2027-02-30' },
      'content.case.estimatedCompletion must be a calendar date',
    ],
    ['closure', { reference: 'R' }, 'content.case has an unknown member "reference"'],
    ['refusal', { grounds: ['other'], reasons: '   ' }, 'content.case.reasons must match'],
  ] as const)('%s %j → malformed-content naming it', (kind, value, message) => {
    let error: unknown;
    try {
      readCaseDetails(value, kind);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).reason).toBe('malformed-content');
    expect((error as ProtocolError).message).toContain(message);
  });
});
