import type { CaseView } from '../gateway-client';
import {
  actionCommandName,
  CASE_ACTION_COMMANDS,
  caseActionBody,
  caseListQuery,
  formatCase,
  formatCaseAction,
  formatCaseList,
  mediaTypeOf,
  parseGrounds,
  readAttachments,
  type CaseActionCommand,
} from './case.command';
import { describeGatewayError } from './gateway-options';
import { GatewayApiError } from '../gateway-client';
import { threadingOf } from './send.command';

const command = (name: string): CaseActionCommand => {
  const found = CASE_ACTION_COMMANDS.find((spec) => spec.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};
const noFiles = (): never => {
  throw new Error('no file should be read');
};

const view: CaseView = {
  id: '0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e8f',
  direction: 'inbound',
  kind: 'mla_request',
  urgency: 'urgent',
  state: 'in_progress',
  requesting: { state: 'AT', authority: 'at-central-authority' },
  requested: { state: 'FR', authority: 'fr-central-authority' },
  nextStep: 'execution',
  nextStepBy: 'requested',
  dueAt: '2027-01-31T00:00:00.000Z',
  overdue: false,
  overdueSince: null,
  deadline: '2027-01-31',
  reference: 'FR-2026-0042',
  estimatedCompletion: null,
  openedAt: '2026-11-29T00:56:40.123Z',
  acknowledgedAt: '2026-11-29T01:00:00.000Z',
  outcomeAt: null,
  closedAt: null,
  refusalGrounds: [],
  partialExecutions: 0,
  messages: 2,
  lastMessageAt: '2026-11-29T01:00:00.000Z',
  subject: 'Bank records',
};

describe('CASE_ACTION_COMMANDS', () => {
  it('has one subcommand per action kind the gateway takes, each name once', () => {
    expect(CASE_ACTION_COMMANDS.map((spec) => spec.kind).sort()).toEqual(
      [
        'acknowledgement',
        'information_request',
        'additional_information',
        'status_inquiry',
        'status_report',
        'postponement',
        'consultation',
        'partial_execution',
        'execution_completed',
        'refusal',
        'withdrawal',
        'closure',
        'supplementary_information',
        'reply',
      ].sort(),
    );
    expect(new Set(CASE_ACTION_COMMANDS.map((spec) => spec.name)).size).toBe(
      CASE_ACTION_COMMANDS.length,
    );
    for (const spec of CASE_ACTION_COMMANDS) {
      for (const required of spec.required) expect(spec.options).toContain(required);
    }
  });

  it('names the subcommand for an allowed action kind', () => {
    expect(actionCommandName('acknowledgement')).toBe('acknowledge');
    expect(actionCommandName('execution_completed')).toBe('complete');
    expect(actionCommandName('something_new')).toBe('something_new');
  });
});

describe('caseActionBody', () => {
  it('maps acknowledge options to the action body', () => {
    expect(
      caseActionBody(
        command('acknowledge'),
        { reference: 'FR-2026-0042', estimatedCompletion: '2027-03-31', note: 'Received.' },
        noFiles,
      ),
    ).toEqual({
      kind: 'acknowledgement',
      reference: 'FR-2026-0042',
      estimatedCompletion: '2027-03-31',
      note: 'Received.',
    });
  });

  it('requires what the gateway requires, before any call', () => {
    expect(() => caseActionBody(command('acknowledge'), {}, noFiles)).toThrow(
      'case acknowledge needs --reference',
    );
    expect(() =>
      caseActionBody(command('postpone'), { reasons: 'witness abroad' }, noFiles),
    ).toThrow('case postpone needs --estimated-completion');
    expect(() => caseActionBody(command('refuse'), { reasons: 'no' }, noFiles)).toThrow(
      'case refuse needs --grounds',
    );
  });

  it('checks dates', () => {
    expect(() =>
      caseActionBody(command('report'), { estimatedCompletion: '31/03/2027' }, noFiles),
    ).toThrow('--estimated-completion must be a date (YYYY-MM-DD), not 31/03/2027');
  });

  it('splits and checks refusal grounds', () => {
    expect(
      caseActionBody(
        command('refuse'),
        { grounds: 'dual-criminality, ne-bis-in-idem', reasons: 'Not an offence in France.' },
        noFiles,
      ),
    ).toEqual({
      kind: 'refusal',
      grounds: ['dual-criminality', 'ne-bis-in-idem'],
      reasons: 'Not an offence in France.',
    });
    expect(() => parseGrounds('dual-criminality,lazy')).toThrow(/unknown refusal ground lazy/);
    expect(() => parseGrounds(' , ')).toThrow(/--grounds takes one or more of/);
  });

  it('attaches files and passes in-reply-to', () => {
    const body = caseActionBody(
      command('complete'),
      { attach: ['/tmp/results.pdf'], inReplyTo: '0195f0a1-0000-7000-8000-000000000001' },
      (paths) => readAttachments(paths, () => Buffer.from('%PDF-1.7 results')),
    );
    expect(body).toEqual({
      kind: 'execution_completed',
      inReplyTo: '0195f0a1-0000-7000-8000-000000000001',
      attachments: [
        {
          filename: 'results.pdf',
          mediaType: 'application/pdf',
          data: Buffer.from('%PDF-1.7 results').toString('base64'),
        },
      ],
    });
  });

  it('leaves out what the action does not take', () => {
    expect(caseActionBody(command('close'), { reference: 'X', reasons: 'Y' }, noFiles)).toEqual({
      kind: 'closure',
    });
  });
});

describe('mediaTypeOf', () => {
  it('knows the usual extensions, case-insensitively', () => {
    expect(mediaTypeOf('a/Letter.PDF')).toBe('application/pdf');
    expect(mediaTypeOf('notes.txt')).toBe('text/plain');
    expect(mediaTypeOf('blob')).toBe('application/octet-stream');
  });
});

describe('caseListQuery', () => {
  it('keeps only what was given, renaming --search and --case-state', () => {
    expect(
      caseListQuery({
        direction: 'inbound',
        state: 'fr',
        caseState: 'in_progress',
        overdue: false,
        search: 'bank',
        limit: 20,
      }),
    ).toEqual({
      direction: 'inbound',
      state: 'FR',
      caseState: 'in_progress',
      overdue: false,
      q: 'bank',
      limit: 20,
    });
    expect(caseListQuery({})).toEqual({});
  });
});

describe('formatCaseList', () => {
  it('lines the cases up, with "-" for what is missing', () => {
    const outbound: CaseView = {
      ...view,
      id: '0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e90',
      direction: 'outbound',
      state: 'awaiting_acknowledgement',
      requesting: { state: 'FR', authority: 'fr-central-authority' },
      requested: { state: 'KE', authority: 'ke-central-authority' },
      nextStep: 'acknowledgement',
      dueAt: '2026-11-01T00:00:00.000Z',
      overdue: true,
      reference: null,
      messages: 1,
      subject: undefined,
    };
    expect(formatCaseList({ items: [outbound, view], nextCursor: '1:2:x' }).split('\n')).toEqual([
      'CASE                                  KIND         COUNTERPART                   STATE                     NEXT STEP        BY         DUE                           REFERENCE     MSGS  SUBJECT',
      '0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e90  mla_request  to KE/ke-central-authority    awaiting_acknowledgement  acknowledgement  requested  2026-11-01 00:00:00Z OVERDUE  -                1  -',
      '0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e8f  mla_request  from AT/at-central-authority  in_progress               execution        requested  2027-01-31 00:00:00Z          FR-2026-0042     2  Bank records',
      '',
      '2 cases (more: --cursor 1:2:x)',
    ]);
  });

  it('says when there is nothing', () => {
    expect(formatCaseList({ items: [], nextCursor: null })).toBe('No cases.');
  });
});

describe('formatCase', () => {
  it('prints the facts, the messages, the events and the allowed subcommands', () => {
    const text = formatCase({
      ...view,
      timeline: [
        {
          id: view.id,
          kind: 'mla_request',
          direction: 'inbound',
          side: 'requesting',
          createdAt: '2026-11-29T00:56:40.123Z',
          status: 'delivered',
          applied: true,
          details: null,
        },
        {
          id: '0195f0a1-0000-7000-8000-000000000001',
          kind: 'acknowledgement',
          direction: 'outbound',
          side: 'requested',
          createdAt: '2026-11-29T01:00:00.000Z',
          status: 'delivered',
          applied: true,
          details: { reference: 'FR-2026-0042' },
        },
      ],
      events: [{ type: 'opened', step: null, at: '2026-11-29T00:56:40.123Z', detail: null }],
      allowedActions: ['status_report', 'execution_completed', 'refusal'],
    });
    expect(text.split('\n')).toEqual([
      'case 0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e8f  mla_request (urgent), inbound from AT/at-central-authority',
      '  subject:      Bank records',
      '  state:        in_progress',
      '  next step:    execution by requested, due 2027-01-31 00:00:00Z',
      '  reference:    FR-2026-0042',
      '  deadline:     2027-01-31',
      '  opened:       2026-11-29 00:56:40Z',
      '  acknowledged: 2026-11-29 01:00:00Z',
      '',
      'messages:',
      '  AT                    KIND             FROM        STATUS     ID',
      '  2026-11-29 00:56:40Z  mla_request      requesting  delivered  0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e8f',
      '  2026-11-29 01:00:00Z  acknowledgement  requested   delivered  0195f0a1-0000-7000-8000-000000000001',
      '',
      'events:',
      '  2026-11-29 00:56:40Z  opened',
      '',
      'allowed now: report, complete, refuse',
    ]);
  });

  it('prints one line for an action', () => {
    expect(
      formatCaseAction(command('acknowledge'), {
        case: view,
        messageId: '0195f0a1-0000-7000-8000-000000000001',
      }),
    ).toBe(
      'acknowledgement 0195f0a1-0000-7000-8000-000000000001 sent on case 0195f0a1-7c2e-7d3a-9b1e-2f4a5c6d7e8f: now in_progress',
    );
  });
});

describe('describeGatewayError', () => {
  it("prints the gateway's answer, with a hint for the usual statuses", () => {
    expect(
      describeGatewayError(
        new GatewayApiError(409, {
          message: 'closure is not allowed now: case x is in_progress',
          state: 'in_progress',
        }),
      ),
    ).toBe('gateway answered 409: closure is not allowed now: case x is in_progress');
    expect(describeGatewayError(new GatewayApiError(401, { message: 'Unauthorized' }))).toBe(
      'gateway answered 401: Unauthorized (check --api-key or $COMITY_API_KEY)',
    );
    expect(
      describeGatewayError(new GatewayApiError(400, { message: ['note too long', 'bad date'] })),
    ).toBe('gateway answered 400: note too long; bad date');
  });
});

describe('threadingOf (send --thread/--in-reply-to)', () => {
  it('puts a reply in the thread of the message it answers unless --thread says otherwise', () => {
    expect(threadingOf({})).toEqual({});
    expect(threadingOf({ inReplyTo: 'a' })).toEqual({ threadId: 'a', inReplyTo: 'a' });
    expect(threadingOf({ inReplyTo: 'a', thread: 'c' })).toEqual({ threadId: 'c', inReplyTo: 'a' });
    expect(threadingOf({ thread: 'c' })).toEqual({ threadId: 'c' });
  });
});
