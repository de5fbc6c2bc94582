import { CASE_STATES, REQUEST_KINDS } from '@comity/protocol';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { GatewayApiError, type GatewayClient } from '../gateway-client';
import {
  actionCommandName,
  CASE_ACTION_COMMANDS,
  caseActionBody,
  caseListQuery,
  formatCase,
  formatCaseAction,
  formatCaseList,
  type CaseActionCommand,
  type CaseActionOptions,
} from './case.command';
import { calling, gatewayClient, withGateway, type GatewayOptions } from './gateway-options';
import { formatStatistics, statisticsQuery, type StatsOptions } from './stats.command';

const DIRECTIONS = ['outbound', 'inbound'];

const listLimit = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 500)
    throw new InvalidArgumentError('an integer from 1 to 500');
  return parsed;
};

const ACTION_FLAGS: Record<string, (command: Command, required: boolean) => Command> = {
  reference: (command, required) =>
    command.option('--reference <ref>', `your reference number${required ? ' (required)' : ''}`),
  estimatedCompletion: (command, required) =>
    command.option(
      '--estimated-completion <date>',
      `estimated completion, YYYY-MM-DD${required ? ' (required)' : ''}`,
    ),
  respondBy: (command) => command.option('--respond-by <date>', 'needed by, YYYY-MM-DD'),
  grounds: (command, required) =>
    command.option(
      '--grounds <codes>',
      `refusal grounds, comma-separated, e.g. dual-criminality,ne-bis-in-idem${required ? ' (required)' : ''}`,
    ),
  reasons: (command, required) =>
    command.option('--reasons <text>', `the reasons, in words${required ? ' (required)' : ''}`),
  attach: (command) =>
    command.option('--attach <path...>', 'files to attach inline (5 MiB in all)'),
};

/** A refused action (409) names the state; add what this key may do on the case now. */
async function explainConflict(client: GatewayClient, id: string, error: unknown): Promise<never> {
  if (error instanceof GatewayApiError && error.status === 409) {
    const view = await client.case(id).catch(() => null);
    if (view?.allowedActions) {
      const allowed = view.allowedActions.map(actionCommandName).join(', ') || 'nothing';
      throw new Error(`${error.message}; allowed now: ${allowed}`, { cause: error });
    }
  }
  throw error;
}

function registerAction(cases: Command, spec: CaseActionCommand): void {
  const command = withGateway(
    cases
      .command(`${spec.name} <id>`)
      .description(
        `${spec.description} (${spec.kind}; by ${spec.by === 'either' ? 'either State' : `the ${spec.by} State`})`,
      ),
    "a clerk's (of the case's authority)",
  );
  for (const option of spec.options)
    ACTION_FLAGS[option]?.(command, spec.required.includes(option));
  command
    .option('--note <text>', 'the message in words (a standard sentence when absent)')
    .option('--in-reply-to <messageId>', 'the message of this case this one answers')
    .option('--json', 'print the answer as JSON')
    .action(
      async (id: string, options: GatewayOptions & CaseActionOptions & { json?: boolean }) => {
        const body = caseActionBody(spec, options);
        const client = gatewayClient(options);
        const answer = await calling(() =>
          client.caseAction(id, body).catch((error: unknown) => explainConflict(client, id, error)),
        );
        console.log(
          options.json ? JSON.stringify(answer, null, 2) : formatCaseAction(spec, answer),
        );
      },
    );
}

/** `comity case list|show|<action>`: a clerk's work on cases (operators and auditors read). */
export function registerCaseCommands(program: Command): void {
  const cases = program
    .command('case')
    .description('cases: a request and the messages on it, from acknowledgement to closure');
  withGateway(
    cases.command('list').description('cases, most urgent and soonest due first'),
    "a clerk's, operator's or auditor's",
  )
    .addOption(
      new Option('--direction <direction>', 'outbound: this State requested').choices(DIRECTIONS),
    )
    .option('--state <code>', 'the other State, e.g. FR')
    .option('--authority <id>', 'an authority id, e.g. fr-central-authority')
    .addOption(new Option('--kind <kind>', 'the request kind').choices(REQUEST_KINDS))
    .addOption(new Option('--case-state <state>', 'where the case stands').choices(CASE_STATES))
    .option('--overdue', 'only cases whose next step is overdue')
    .option('--not-overdue', 'only cases whose next step is not overdue')
    .option('--due-before <date>', 'only cases due before this date or instant (ISO 8601)')
    .option('--search <text>', 'text in the subject (clerks only)')
    .option('--limit <n>', 'at most this many (1 to 500, default 50)', listLimit)
    .option('--cursor <cursor>', 'the next page, as the previous list printed it')
    .option('--json', 'print the answer as JSON')
    .action(
      async (
        options: GatewayOptions &
          Parameters<typeof caseListQuery>[0] & { notOverdue?: boolean; json?: boolean },
      ) => {
        if (options.overdue && options.notOverdue)
          throw new InvalidArgumentError('give --overdue or --not-overdue, not both');
        const query = caseListQuery({
          ...options,
          overdue: options.overdue ? true : options.notOverdue ? false : undefined,
        });
        const client = gatewayClient(options);
        const page = await calling(() => client.cases(query));
        console.log(options.json ? JSON.stringify(page, null, 2) : formatCaseList(page));
      },
    );
  withGateway(
    cases
      .command('show <id>')
      .description('a case: its state, next step, messages, events and what may be done now'),
    "a clerk's, operator's or auditor's",
  )
    .option('--json', 'print the answer as JSON')
    .action(async (id: string, options: GatewayOptions & { json?: boolean }) => {
      const client = gatewayClient(options);
      const view = await calling(() => client.case(id));
      console.log(options.json ? JSON.stringify(view, null, 2) : formatCase(view));
    });
  for (const spec of CASE_ACTION_COMMANDS) registerAction(cases, spec);
}

/** `comity stats`: requests, outcomes and times by direction, State and kind. */
export function registerStatsCommand(program: Command): void {
  withGateway(
    program
      .command('stats')
      .description('requests, outcomes and times by direction, other State and kind'),
    "a clerk's, operator's or auditor's",
  )
    .option('--from <date>', 'cases opened from this date (YYYY-MM-DD, inclusive)')
    .option('--to <date>', 'cases opened before this date (YYYY-MM-DD)')
    .addOption(
      new Option('--direction <direction>', 'outbound: this State requested').choices(DIRECTIONS),
    )
    .option('--state <code>', 'the other State, e.g. FR')
    .addOption(new Option('--kind <kind>', 'the request kind').choices(REQUEST_KINDS))
    .option('--csv', 'print CSV (RFC 4180) as the gateway writes it')
    .option('--json', 'print the answer as JSON')
    .action(async (options: GatewayOptions & StatsOptions & { csv?: boolean; json?: boolean }) => {
      const query = statisticsQuery(options);
      const client = gatewayClient(options);
      if (options.csv) {
        process.stdout.write(await calling(() => client.statisticsCsv(query)));
        return;
      }
      const report = await calling(() => client.statistics(query));
      console.log(options.json ? JSON.stringify(report, null, 2) : formatStatistics(report));
    });
}
