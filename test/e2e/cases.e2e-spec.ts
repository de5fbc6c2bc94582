import { Client } from 'pg';
import { connect, type ChannelModel } from 'amqplib';
import {
  deriveCase,
  openEnvelope,
  readUnverifiedHeader,
  sealEnvelope,
  uuidV7,
  verifyEnvelopeSignature,
  type CaseEntry,
  type RequestContent,
} from '@comity/protocol';
import {
  GatewayApiError,
  type CaseView,
  type GatewayClient,
} from '../../apps/cli/src/gateway-client';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

/** Both ends hold every message's final receipt and derive the same state. */
async function settled(
  at: GatewayClient,
  fr: GatewayClient,
  caseId: string,
): Promise<{ at: CaseView; fr: CaseView }> {
  const done = (view: CaseView) =>
    (view.timeline ?? []).every((message) => !['submitted', 'sent'].includes(message.status));
  const atView = await at.waitForCase(caseId, done);
  const frView = await fr.waitForCase(caseId, done);
  // The sender re-derives a case after a refusal in the background: wait until both agree.
  const agreed = await at.waitForCase(caseId, (view) => done(view) && view.state === frView.state);
  return { at: agreed ?? atView, fr: frView };
}

function tomorrowPlus(days: number): string {
  return new Date(Date.now() + (days + 1) * 86_400_000).toISOString().slice(0, 10);
}

describe('cases between two central authorities (AT requests, FR executes)', () => {
  let world: TestFederation;
  let at: GatewayClient;
  let fr: GatewayClient;
  let broker: ChannelModel;

  beforeAll(async () => {
    world = await startTestFederation('cases', { COMITY_CASE_SWEEP_MS: '100' });
    at = world.client('AT');
    fr = world.client('FR');
    broker = await connect(world.amqpUrl);
  }, 120_000);

  afterAll(async () => {
    await broker?.close();
    await world?.stop();
  }, 60_000);

  async function openCase(overrides: Record<string, unknown> = {}): Promise<string> {
    const { id } = await at.submit(mlaRequest(overrides));
    await at.waitForStatus(id, ['delivered']);
    await fr.waitForCase(id, () => true);
    return id;
  }

  it('goes through every state, both ends agreeing at every step', async () => {
    const id = await openCase({ subject: 'Full case', urgency: 'urgent' });
    let views = await settled(at, fr, id);
    expect(views.at.state).toBe('awaiting_acknowledgement');
    expect(views.fr.state).toBe('awaiting_acknowledgement');
    expect(views.fr.nextStep).toBe('acknowledge');
    expect(views.at.dueAt).toBe(views.fr.dueAt);
    expect(views.at.subject).toBe('Full case');
    expect(views.fr.subject).toBe('Full case');
    const steps: Array<[GatewayClient, Record<string, unknown>, string]> = [
      [
        fr,
        {
          kind: 'acknowledgement',
          reference: 'FR-2026-0042',
          estimatedCompletion: tomorrowPlus(60),
        },
        'in_progress',
      ],
      [
        fr,
        { kind: 'information_request', respondBy: tomorrowPlus(10), note: 'Which accounts?' },
        'awaiting_information',
      ],
      [at, { kind: 'additional_information', note: 'Accounts 1234 and 5678.' }, 'in_progress'],
      [at, { kind: 'status_inquiry' }, 'in_progress'],
      [fr, { kind: 'status_report', estimatedCompletion: tomorrowPlus(50) }, 'in_progress'],
      [
        fr,
        {
          kind: 'postponement',
          reasons: 'Parallel domestic proceedings.',
          estimatedCompletion: tomorrowPlus(90),
        },
        'postponed',
      ],
      [fr, { kind: 'consultation', note: 'May we hear the witness by video?' }, 'postponed'],
      [
        fr,
        {
          kind: 'partial_execution',
          attachments: [
            {
              filename: 'part1.txt',
              mediaType: 'text/plain',
              data: Buffer.from('statements 2019').toString('base64'),
            },
          ],
        },
        'partially_executed',
      ],
      [fr, { kind: 'execution_completed' }, 'executed'],
      [at, { kind: 'closure' }, 'closed'],
    ];
    for (const [client, action, expected] of steps) {
      const { case: answered } = await client.caseAction(id, action);
      expect(answered.state).toBe(expected);
      views = await settled(at, fr, id);
      expect({ action: action.kind, at: views.at.state, fr: views.fr.state }).toEqual({
        action: action.kind,
        at: expected,
        fr: expected,
      });
      expect(views.at.nextStep).toBe(views.fr.nextStep);
      expect(views.at.dueAt).toBe(views.fr.dueAt);
    }
    expect(views.fr.reference).toBe('FR-2026-0042');
    expect(views.at.reference).toBe('FR-2026-0042');
    expect(views.at.partialExecutions).toBe(1);
    expect(views.at.timeline?.map((message) => message.status)).toEqual(
      Array(11).fill('delivered'),
    );
    // The clerk reads the messages' content; the postponement's reasons travel in it.
    const postponement = views.at.timeline?.find((message) => message.kind === 'postponement');
    expect(postponement?.content?.case).toMatchObject({
      reasons: 'Parallel domestic proceedings.',
    });
    expect(postponement?.details).not.toHaveProperty('reasons');

    // A fresh node given the same signed messages derives the same state: open every envelope
    // where it was received, and fold.
    const entries: CaseEntry[] = [];
    for (const message of views.at.timeline!.slice(1)) {
      const receiver = message.direction === 'outbound' ? 'FR' : 'AT';
      const bytes = await envelopeReceivedBy(receiver, message.id);
      const signed = verifyEnvelopeSignature(bytes, world.verifier, new Date());
      const opened = openEnvelope(signed, world.decryptionIdentity(receiver));
      entries.push({
        id: opened.header.id,
        kind: opened.header.kind,
        side: opened.header.from.state === 'AT' ? 'requesting' : 'requested',
        created: opened.header.created,
        details: opened.statement.content.case ?? null,
      });
    }
    const fresh = deriveCase(
      { id, kind: 'mla_request', created: views.at.openedAt, urgency: 'urgent', deadline: null },
      entries,
    );
    expect(fresh.state).toBe('closed');
    expect(fresh.reference).toBe('FR-2026-0042');
    expect(fresh.ignored).toEqual([]);
  }, 120_000);

  async function envelopeReceivedBy(state: string, id: string): Promise<Buffer> {
    const response = await fetch(
      `${world.federation.node(state).url}/v1/inbound-messages/${id}/envelope`,
      {
        headers: world.client(state).authorization,
      },
    );
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  }

  it('refuses actions the case does not allow now, naming the state or the field; nothing is sent', async () => {
    const id = await openCase({ subject: 'Refusals at the API' });
    const refusal = async (client: GatewayClient, action: Record<string, unknown>) =>
      client.caseAction(id, action).then(
        () => {
          throw new Error(`${String(action.kind)} was accepted`);
        },
        (error: unknown) => error as GatewayApiError,
      );
    let error = await refusal(fr, { kind: 'execution_completed' });
    expect(error.status).toBe(409);
    expect(error.message).toContain('awaiting_acknowledgement');
    error = await refusal(at, { kind: 'acknowledgement', reference: 'X' });
    expect(error.status).toBe(409);
    expect(error.message).toContain('requested State');
    error = await refusal(fr, { kind: 'refusal', reasons: 'No.' });
    expect(error.status).toBe(400);
    expect(error.message).toContain('grounds');
    error = await refusal(fr, { kind: 'refusal', grounds: ['dual-criminality'] });
    expect(error.status).toBe(400);
    expect(error.message).toContain('reasons');
    error = await refusal(fr, {
      kind: 'acknowledgement',
      reference: 'R',
      estimatedCompletion: '2020-01-01',
    });
    expect(error.status).toBe(400);
    expect(error.message).toContain('estimatedCompletion: 2020-01-01 is in the past');
    error = await refusal(fr, { kind: 'acknowledgement', reference: 'R', inReplyTo: uuidV7() });
    expect(error.status).toBe(400);
    expect(error.message).toContain('is not a message of case');
    error = await refusal(fr, { kind: 'teleport' });
    expect(error.status).toBe(400);
    // Another authority's clerk does not see the case at all.
    await expect(world.client('FR', 'extradition-clerk').case(id)).rejects.toMatchObject({
      status: 404,
    });
    await expect(fr.caseAction(uuidV7(), { kind: 'closure' })).rejects.toMatchObject({
      status: 404,
    });
    const views = await settled(at, fr, id);
    expect(views.fr.state).toBe('awaiting_acknowledgement');
    expect(views.fr.messages).toBe(0);
    expect(views.at.messages).toBe(0);
    // The refusal of a good request still works afterwards.
    const { case: refused } = await fr.caseAction(id, {
      kind: 'refusal',
      grounds: ['dual-criminality', 'insufficient-information'],
      reasons: 'The acts are not an offence here.',
    });
    expect(refused.state).toBe('refused');
    expect((await settled(at, fr, id)).at.refusalGrounds).toEqual([
      'dual-criminality',
      'insufficient-information',
    ]);
  }, 60_000);

  it("refuses at the receiver, with a signed negative receipt naming the reason, what the sender's API would not send", async () => {
    const id = await openCase({ subject: 'Refusals at the receiver' });
    const database = new Client({ connectionString: world.databaseUrls.FR });
    await database.connect();
    try {
      const cases: Array<[string, CraftedCaseMessage, string]> = [
        [
          'an execution sent by the requesting State',
          { kind: 'execution_completed', thread: id },
          'case-party-mismatch',
        ],
        [
          'an acknowledgement of a case that does not exist',
          { kind: 'acknowledgement', thread: uuidV7(), details: { reference: 'R' } },
          'case-unknown',
        ],
        [
          'a closure of a case still open',
          { kind: 'closure', thread: id },
          'case-transition-not-allowed',
        ],
        [
          'an answer to a message not in the case',
          { kind: 'status_inquiry', thread: id, inReplyTo: uuidV7() },
          'case-message-unknown',
        ],
      ];
      for (const [name, spec, reason] of cases) {
        const envelopeId = await publishCaseMessage(spec);
        const rejection = await waitForRow(
          database,
          `SELECT reason FROM inbound_rejection WHERE envelope_id = $1`,
          [envelopeId],
        );
        expect({ name, reason: rejection.reason }).toEqual({ name, reason });
        const stored = await database.query(
          `SELECT count(*)::int AS n FROM case_message WHERE envelope_id = $1`,
          [envelopeId],
        );
        expect(stored.rows[0].n).toBe(0);
      }
      expect((await fr.case(id)).state).toBe('awaiting_acknowledgement');
      // FR kept running and still works.
      expect(
        (await fr.caseAction(id, { kind: 'acknowledgement', reference: 'FR-1' })).case.state,
      ).toBe('in_progress');
    } finally {
      await database.end();
    }
  }, 60_000);

  /** AT's gateway key seals a case message the API would refuse, and it is published as AT would. */
  async function publishCaseMessage(spec: CraftedCaseMessage): Promise<string> {
    const id = uuidV7();
    const now = new Date();
    const content: RequestContent = {
      legalBasis: 'UNCAC art. 46',
      urgency: 'routine',
      deadline: null,
      subject: 'crafted',
      body: 'crafted',
      attachments: [],
      case: spec.details ?? {},
    };
    const sealed = sealEnvelope({
      routing: {
        id,
        kind: spec.kind as never,
        from: { state: 'AT', authority: 'at-central-authority' },
        to: { state: 'FR', authority: 'fr-central-authority' },
        created: now.toISOString(),
        expires: new Date(now.getTime() + 86_400_000).toISOString(),
        thread: spec.thread,
        inReplyTo: spec.inReplyTo ?? null,
      },
      content,
      signer: world.signingIdentity('AT'),
      recipient: world.encryptionCertificate('FR'),
    });
    expect(readUnverifiedHeader(sealed.bytes).v).toBe(2);
    const channel = await broker.createConfirmChannel();
    channel.publish('comity.transmit', 'FR', sealed.bytes, {
      persistent: true,
      type: 'envelope',
      messageId: `envelope:${id}:crafted`,
    });
    await channel.waitForConfirms();
    await channel.close();
    return id;
  }

  it('resolves a withdrawal crossing an execution the same way at both ends', async () => {
    const id = await openCase({ subject: 'Crossing' });
    await fr.caseAction(id, { kind: 'acknowledgement', reference: 'FR-X' });
    await settled(at, fr, id);
    const [withdrawal, execution] = await Promise.all([
      at.caseAction(id, { kind: 'withdrawal', reasons: 'No longer required.' }),
      fr.caseAction(id, { kind: 'execution_completed' }),
    ]);
    const views = await settled(at, fr, id);
    expect(views.at.state).toBe(views.fr.state);
    const earlier = withdrawal.messageId < execution.messageId ? 'withdrawn' : 'executed';
    expect(views.at.state).toBe(earlier);
    const statusOf = (view: CaseView, kind: string) =>
      view.timeline?.find((message) => message.kind === kind)?.status;
    // The later of the two was refused by its receiver (which never stored it), and its
    // sender no longer counts it; the earlier one is delivered and counted at both ends.
    if (earlier === 'withdrawn') {
      expect(statusOf(views.at, 'withdrawal')).toBe('delivered');
      expect(statusOf(views.fr, 'withdrawal')).toBe('delivered');
      expect(statusOf(views.fr, 'execution_completed')).toBe('rejected');
      expect(statusOf(views.at, 'execution_completed')).toBeUndefined();
    } else {
      expect(statusOf(views.fr, 'execution_completed')).toBe('delivered');
      expect(statusOf(views.at, 'execution_completed')).toBe('delivered');
      expect(statusOf(views.at, 'withdrawal')).toBe('rejected');
      expect(statusOf(views.fr, 'withdrawal')).toBeUndefined();
    }
  }, 60_000);

  it('lists cases with filters, most urgent first, and gives statistics as JSON and CSV', async () => {
    const page = await at.cases({ direction: 'outbound', state: 'FR', limit: 2 });
    expect(page.items.length).toBe(2);
    expect(page.nextCursor).not.toBeNull();
    const next = await at.cases({
      direction: 'outbound',
      state: 'FR',
      limit: 2,
      cursor: page.nextCursor!,
    });
    expect(next.items.map((item) => item.id)).not.toContain(page.items[0]!.id);
    expect((await at.cases({ q: 'full CASE' })).items.map((item) => item.subject)).toEqual([
      'Full case',
    ]);
    expect(
      (await fr.cases({ caseState: 'closed' })).items.every((item) => item.state === 'closed'),
    ).toBe(true);
    const operator = world.client('AT', 'operator');
    const metadata = await operator.cases({ limit: 5 });
    expect(metadata.items.every((item) => item.subject === undefined)).toBe(true);
    await expect(operator.cases({ q: 'x' })).rejects.toMatchObject({ status: 400 });

    const report = await fr.statistics({ direction: 'inbound' });
    const total = report.lines.find((line) => line.counterpartState === null)!;
    const listed = await fr.cases({ direction: 'inbound', limit: 500 });
    expect(total.requests).toBe(listed.items.length);
    expect(total.refused).toBe(
      listed.items.filter((item) => item.refusalGrounds.length > 0).length,
    );
    expect(report.refusalGrounds).toEqual(
      expect.arrayContaining([{ direction: 'inbound', ground: 'dual-criminality', count: 1 }]),
    );
    const csv = await fr.statisticsCsv({ direction: 'inbound' });
    expect(csv.split('\r\n')[0]).toBe(
      'direction,counterpartState,kind,requests,pending,overdue,executed,partiallyExecuted,refused,withdrawn,acknowledgeDaysMedian,acknowledgeDaysP90,executeDaysMedian,executeDaysP90',
    );
  }, 60_000);
});

interface CraftedCaseMessage {
  kind: string;
  thread: string;
  inReplyTo?: string;
  details?: Record<string, unknown>;
}

async function waitForRow(
  database: Client,
  sql: string,
  values: unknown[],
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await database.query(sql, values);
    if (rows[0]) return rows[0] as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`no row for ${sql}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
