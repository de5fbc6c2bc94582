import type { CaseView, GatewayClient } from '../gateway-client';

/** The two clerks of the demo's case: the requesting State's and the requested State's. */
export interface DemoCaseParties {
  requesting: { state: string; client: GatewayClient };
  requested: { state: string; client: GatewayClient };
}

interface DemoCaseStep {
  by: 'requesting' | 'requested';
  label: string;
  action: (previous: string | null) => Record<string, unknown>;
  /** The case state both ends must then show. */
  expect: string;
}

/** A date some days from now (YYYY-MM-DD), so that estimates are never in the past. */
const inDays = (days: number): string =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/**
 * The case of a delivered request, from acknowledgement to closure: each step sent by one clerk,
 * then awaited at both ends, whose views must agree (the same messages, folded the same way).
 */
export async function runDemoCase(caseId: string, parties: DemoCaseParties): Promise<void> {
  const reference = 'FR-PNF-2026-0042';
  const steps: DemoCaseStep[] = [
    {
      by: 'requested',
      label: `acknowledgement (reference ${reference})`,
      action: () => ({
        kind: 'acknowledgement',
        reference,
        estimatedCompletion: inDays(60),
        note: 'Your request has been received and assigned to the financial prosecutor.',
      }),
      expect: 'in_progress',
    },
    {
      by: 'requesting',
      label: 'status inquiry',
      action: () => ({ kind: 'status_inquiry', note: 'Could you tell us how the request stands?' }),
      expect: 'in_progress',
    },
    {
      by: 'requested',
      label: 'status report (answering the inquiry)',
      action: (previous) => ({
        kind: 'status_report',
        ...(previous ? { inReplyTo: previous } : {}),
        estimatedCompletion: inDays(30),
        note: 'The bank has been ordered to produce the statements.',
      }),
      expect: 'in_progress',
    },
    {
      by: 'requested',
      label: 'execution completed (results attached)',
      action: () => ({
        kind: 'execution_completed',
        note: 'The account statements 2019-2024 are attached.',
        attachments: [
          {
            filename: 'account-statements.txt',
            mediaType: 'text/plain',
            data: Buffer.from('Account statements 2019-2024 ...').toString('base64'),
          },
        ],
      }),
      expect: 'executed',
    },
    {
      by: 'requesting',
      label: 'closure',
      action: () => ({ kind: 'closure', note: 'Thank you; the case is closed on our side.' }),
      expect: 'closed',
    },
  ];

  const { requesting, requested } = parties;
  const both = (done: (view: CaseView) => boolean): Promise<[CaseView, CaseView]> =>
    Promise.all([
      requesting.client.waitForCase(caseId, done, 15_000),
      requested.client.waitForCase(caseId, done, 15_000),
    ]);
  const line = (label: string, views: [CaseView, CaseView], ms: number): void => {
    console.log(
      `  ${label.padEnd(52)} ${requesting.state}: ${views[0].state.padEnd(24)} ${requested.state}: ${views[1].state.padEnd(24)} ${`${ms} ms`.padStart(7)}`,
    );
  };

  console.log(`\nthe case ${caseId}, as both clerks see it:`);
  let started = Date.now();
  line(
    `${requesting.state} request delivered to ${requested.state}`,
    await both((view) => view.state === 'awaiting_acknowledgement'),
    Date.now() - started,
  );
  let previous: string | null = null;
  for (const step of steps) {
    const sender = step.by === 'requesting' ? requesting : requested;
    started = Date.now();
    const { messageId } = await sender.client.caseAction(caseId, step.action(previous));
    const views = await both(
      (view) =>
        view.state === step.expect &&
        (view.timeline ?? []).some((message) => message.id === messageId),
    );
    if (views[0].state !== views[1].state || views[0].messages !== views[1].messages) {
      throw new Error(
        `the two ends disagree on case ${caseId}: ${views[0].state} (${views[0].messages} messages) vs ${views[1].state} (${views[1].messages} messages)`,
      );
    }
    line(`${sender.state} ${step.label}`, views, Date.now() - started);
    previous = messageId;
  }
  const [final] = await both((view) => view.state === 'closed');
  console.log(
    `  both ends agree: closed, executed with reference ${final.reference ?? '-'}, ${final.messages} messages after the request`,
  );
}
