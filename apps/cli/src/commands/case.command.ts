import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CONTENT_LIMITS, REFUSAL_GROUNDS } from '@comity/protocol';
import type { CasePage, CaseView } from '../gateway-client';
import { UsageError } from './exit-codes';
import { mediaTypeByExtension, mediaTypeOfBytes, OCTET_STREAM } from './media-type';
import { formatTime, renderTable } from './queues.command';

/** A detail an action subcommand takes besides --note and --in-reply-to. */
export type CaseActionOption =
  'reference' | 'estimatedCompletion' | 'respondBy' | 'grounds' | 'reasons' | 'attach';

export interface CaseActionCommand {
  /** The subcommand: `comity case <name> <id>`. */
  name: string;
  /** The case message it sends. */
  kind: string;
  /** Who sends it: the requesting State, the requested one, or either. */
  by: 'requesting' | 'requested' | 'either';
  description: string;
  options: readonly CaseActionOption[];
  required: readonly CaseActionOption[];
}

/** One subcommand per case action, in the order a case usually runs. */
export const CASE_ACTION_COMMANDS: readonly CaseActionCommand[] = [
  {
    name: 'acknowledge',
    kind: 'acknowledgement',
    by: 'requested',
    description: 'acknowledge a request, giving your reference number',
    options: ['reference', 'estimatedCompletion'],
    required: ['reference'],
  },
  {
    name: 'request-information',
    kind: 'information_request',
    by: 'requested',
    description: 'ask the requesting State for more information (say what in --note)',
    options: ['respondBy', 'attach'],
    required: [],
  },
  {
    name: 'provide-information',
    kind: 'additional_information',
    by: 'requesting',
    description: 'send the information the requested State asked for',
    options: ['attach'],
    required: [],
  },
  {
    name: 'inquire',
    kind: 'status_inquiry',
    by: 'requesting',
    description: 'ask how the request stands',
    options: [],
    required: [],
  },
  {
    name: 'report',
    kind: 'status_report',
    by: 'requested',
    description: 'report how the request stands (answers a status inquiry)',
    options: ['estimatedCompletion'],
    required: [],
  },
  {
    name: 'postpone',
    kind: 'postponement',
    by: 'requested',
    description: 'postpone execution, with reasons and a new estimated completion',
    options: ['reasons', 'estimatedCompletion'],
    required: ['reasons', 'estimatedCompletion'],
  },
  {
    name: 'consult',
    kind: 'consultation',
    by: 'either',
    description: 'consult the other State (e.g. before a refusal or a postponement)',
    options: ['attach'],
    required: [],
  },
  {
    name: 'execute-partially',
    kind: 'partial_execution',
    by: 'requested',
    description: 'send part of the results',
    options: ['attach'],
    required: [],
  },
  {
    name: 'complete',
    kind: 'execution_completed',
    by: 'requested',
    description: 'report the request executed, with the results',
    options: ['attach'],
    required: [],
  },
  {
    name: 'refuse',
    kind: 'refusal',
    by: 'requested',
    description: 'refuse the request, giving grounds and reasons',
    options: ['grounds', 'reasons'],
    required: ['grounds', 'reasons'],
  },
  {
    name: 'withdraw',
    kind: 'withdrawal',
    by: 'requesting',
    description: 'withdraw the request',
    options: ['reasons'],
    required: [],
  },
  {
    name: 'close',
    kind: 'closure',
    by: 'either',
    description: 'close a case that has an outcome (executed, refused or withdrawn)',
    options: [],
    required: [],
  },
  {
    name: 'supplement',
    kind: 'supplementary_information',
    by: 'either',
    description: 'send supplementary information on the case',
    options: ['attach'],
    required: [],
  },
  {
    name: 'reply',
    kind: 'reply',
    by: 'either',
    description: 'send a free reply on the case',
    options: ['attach'],
    required: [],
  },
];

/** The subcommand that sends a kind ("acknowledgement" -> "acknowledge"); the kind if none does. */
export function actionCommandName(kind: string): string {
  return CASE_ACTION_COMMANDS.find((command) => command.kind === kind)?.name ?? kind;
}

/** The options of an action subcommand, as commander parses them. */
export interface CaseActionOptions {
  note?: string;
  inReplyTo?: string;
  reference?: string;
  estimatedCompletion?: string;
  respondBy?: string;
  grounds?: string;
  reasons?: string;
  attach?: string[];
}

export interface InlineAttachment {
  filename: string;
  mediaType: string;
  data: string;
}

/** A media type from a file name's extension; application/octet-stream when unknown. */
export function mediaTypeOf(path: string): string {
  return mediaTypeByExtension(path) ?? OCTET_STREAM;
}

/** A file to attach inline, refused before it is read when it alone is over the inline limit. */
function readInlineFile(path: string): Buffer {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (size > CONTENT_LIMITS.attachmentBytesTotal) {
    throw new UsageError(INLINE_LIMIT_HINT(`${path} is ${size} bytes`));
  }
  return readFileSync(path);
}

const INLINE_LIMIT_HINT = (what: string): string =>
  `${what}; inline attachments take ${CONTENT_LIMITS.attachmentBytesTotal} bytes in all: upload large files with \`comity upload\` and send them with --attachment-ref`;

/** Files to attach inline, read from disk, each with the media type its bytes show. */
export function readAttachments(
  paths: readonly string[],
  read: (path: string) => Buffer = readInlineFile,
): InlineAttachment[] {
  let total = 0;
  return paths.map((path) => {
    const bytes = read(path);
    total += bytes.length;
    if (total > CONTENT_LIMITS.attachmentBytesTotal) {
      throw new UsageError(INLINE_LIMIT_HINT(`the files to attach make ${total} bytes or more`));
    }
    const filename = basename(path);
    return {
      filename,
      mediaType: mediaTypeOfBytes(filename, bytes),
      data: bytes.toString('base64'),
    };
  });
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const FLAGS: Record<CaseActionOption, string> = {
  reference: '--reference',
  estimatedCompletion: '--estimated-completion',
  respondBy: '--respond-by',
  grounds: '--grounds',
  reasons: '--reasons',
  attach: '--attach',
};

/** Refusal grounds from "a,b" (spaces allowed), each checked against the protocol's codes. */
export function parseGrounds(value: string): string[] {
  const grounds = value
    .split(',')
    .map((ground) => ground.trim())
    .filter(Boolean);
  const unknown = grounds.filter(
    (ground) => !(REFUSAL_GROUNDS as readonly string[]).includes(ground),
  );
  if (grounds.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `${unknown.length ? `unknown refusal ground ${unknown.join(', ')}; ` : ''}--grounds takes one or more of ${REFUSAL_GROUNDS.join(', ')}`,
    );
  }
  return grounds;
}

/**
 * The body of POST /v1/cases/{id}/actions from a subcommand's options; throws (before any
 * call) when a required detail is missing or a date is not YYYY-MM-DD.
 */
export function caseActionBody(
  command: CaseActionCommand,
  options: CaseActionOptions,
  attachments: (paths: readonly string[]) => InlineAttachment[] = readAttachments,
): Record<string, unknown> {
  for (const option of command.required) {
    const value = options[option];
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
      throw new UsageError(`case ${command.name} needs ${FLAGS[option]}`);
    }
  }
  for (const option of ['estimatedCompletion', 'respondBy'] as const) {
    const value = options[option];
    if (value !== undefined && !DATE.test(value)) {
      throw new UsageError(`${FLAGS[option]} must be a date (YYYY-MM-DD), not ${value}`);
    }
  }
  const has = (option: CaseActionOption): boolean => command.options.includes(option);
  const body: Record<string, unknown> = { kind: command.kind };
  if (options.note) body.note = options.note;
  if (options.inReplyTo) body.inReplyTo = options.inReplyTo;
  if (has('reference') && options.reference) body.reference = options.reference;
  if (has('estimatedCompletion') && options.estimatedCompletion)
    body.estimatedCompletion = options.estimatedCompletion;
  if (has('respondBy') && options.respondBy) body.respondBy = options.respondBy;
  if (has('grounds') && options.grounds) body.grounds = parseGrounds(options.grounds);
  if (has('reasons') && options.reasons) body.reasons = options.reasons;
  if (has('attach') && options.attach?.length) body.attachments = attachments(options.attach);
  return body;
}

/** Query parameters of GET /v1/cases from `case list` options (unset ones left out). */
export function caseListQuery(options: {
  direction?: string;
  state?: string;
  authority?: string;
  kind?: string;
  caseState?: string;
  overdue?: boolean;
  dueBefore?: string;
  search?: string;
  limit?: number;
  cursor?: string;
}): Record<string, string | number | boolean> {
  const query: Record<string, string | number | boolean> = {};
  if (options.direction) query.direction = options.direction;
  if (options.state) query.state = options.state.toUpperCase();
  if (options.authority) query.authority = options.authority;
  if (options.kind) query.kind = options.kind;
  if (options.caseState) query.caseState = options.caseState;
  if (options.overdue !== undefined) query.overdue = options.overdue;
  if (options.dueBefore) query.dueBefore = options.dueBefore;
  if (options.search) query.q = options.search;
  if (options.limit !== undefined) query.limit = options.limit;
  if (options.cursor) query.cursor = options.cursor;
  return query;
}

const counterpart = (view: CaseView): string => {
  const other = view.direction === 'outbound' ? view.requested : view.requesting;
  return `${view.direction === 'outbound' ? 'to' : 'from'} ${other.state}/${other.authority}`;
};

const due = (view: CaseView): string | null =>
  view.dueAt ? `${formatTime(view.dueAt)}${view.overdue ? ' OVERDUE' : ''}` : null;

/** Cases as a table, most urgent first as the gateway orders them. */
export function formatCaseList(page: CasePage): string {
  if (page.items.length === 0) return 'No cases.';
  const lines = renderTable(
    [
      { header: 'CASE' },
      { header: 'KIND' },
      { header: 'COUNTERPART' },
      { header: 'STATE' },
      { header: 'NEXT STEP' },
      { header: 'BY' },
      { header: 'DUE' },
      { header: 'REFERENCE' },
      { header: 'MSGS', align: 'right' },
      { header: 'SUBJECT' },
    ],
    page.items.map((view) => [
      view.id,
      view.kind,
      counterpart(view),
      view.state,
      view.nextStep,
      view.nextStepBy,
      due(view),
      view.reference,
      view.messages,
      view.subject,
    ]),
  );
  lines.push('');
  lines.push(
    `${page.items.length} case${page.items.length === 1 ? '' : 's'}${page.nextCursor ? ` (more: --cursor ${page.nextCursor})` : ''}`,
  );
  return lines.join('\n');
}

/** One case: its facts, every message in order, what happened, and what this side may do now. */
export function formatCase(view: CaseView): string {
  const lines = [
    `case ${view.id}  ${view.kind} (${view.urgency}), ${view.direction} ${counterpart(view)}`,
  ];
  if (view.subject) lines.push(`  subject:      ${view.subject}`);
  lines.push(`  state:        ${view.state}`);
  if (view.nextStep) {
    lines.push(
      `  next step:    ${view.nextStep}${view.nextStepBy ? ` by ${view.nextStepBy}` : ''}${view.dueAt ? `, due ${due(view)}` : ''}`,
    );
  }
  const facts: Array<[string, string | null]> = [
    ['reference', view.reference],
    ['deadline', view.deadline],
    ['est. complete', view.estimatedCompletion],
    ['opened', formatTime(view.openedAt)],
    ['acknowledged', view.acknowledgedAt && formatTime(view.acknowledgedAt)],
    ['outcome at', view.outcomeAt && formatTime(view.outcomeAt)],
    ['closed', view.closedAt && formatTime(view.closedAt)],
    ['refused for', view.refusalGrounds.length ? view.refusalGrounds.join(', ') : null],
    ['partial', view.partialExecutions ? String(view.partialExecutions) : null],
  ];
  for (const [label, value] of facts) {
    if (value) lines.push(`  ${`${label}:`.padEnd(14)}${value}`);
  }
  if (view.timeline?.length) {
    lines.push('', 'messages:');
    lines.push(
      ...renderTable(
        [
          { header: 'AT' },
          { header: 'KIND' },
          { header: 'FROM' },
          { header: 'STATUS' },
          { header: 'ID' },
        ],
        view.timeline.map((message) => [
          formatTime(message.createdAt),
          `${message.kind}${message.applied ? '' : ' (not applied)'}`,
          message.side,
          message.status,
          message.id,
        ]),
      ).map((line) => `  ${line}`),
    );
  }
  if (view.events?.length) {
    lines.push('', 'events:');
    for (const event of view.events) {
      lines.push(
        `  ${formatTime(event.at)}  ${event.type}${event.step ? ` ${event.step}` : ''}${event.detail ? `  ${event.detail}` : ''}`,
      );
    }
  }
  if (view.allowedActions) {
    lines.push(
      '',
      `allowed now: ${view.allowedActions.length ? view.allowedActions.map(actionCommandName).join(', ') : 'nothing'}`,
    );
  }
  return lines.join('\n');
}

/** One line for an action's answer. */
export function formatCaseAction(
  command: CaseActionCommand,
  answer: { case: CaseView; messageId: string },
): string {
  return `${command.kind} ${answer.messageId} sent on case ${answer.case.id}: now ${answer.case.state}`;
}
