import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { MessageView } from '../gateway-client';
import { readAttachments } from './case.command';
import { runDownload, formatDownload, type DownloadOptions } from './download.command';
import { UsageError } from './exit-codes';
import { calling, gatewayClient, withGateway, type GatewayOptions } from './gateway-options';
import { auditPageOf, formatAudit, formatInbox } from './inbox.command';
import { collect, emit, integerFrom } from './output';
import { PROGRESS_MODES, progressMode } from './progress';
import { threadingOf } from './send.command';
import { defaultStateDirectory, formatUpload, runUpload } from './upload.command';

type Json = { json?: boolean };

/** "<id> <status>", then one line per evidence of the timeline. */
function formatMessage(message: MessageView): string[] {
  return [
    `${message.id} ${message.kind} ${message.from.state} -> ${message.to.state}/${message.to.authority}: ${message.status}${message.statusReason ? ` (${message.statusReason})` : ''}`,
    ...message.timeline.map(
      (evidence) =>
        `  ${evidence.at}  ${evidence.type}${evidence.reason ? ` (${evidence.reason})` : ''}${evidence.detail ? `  ${evidence.detail}` : ''}`,
    ),
  ];
}

interface SendOptions extends GatewayOptions, Json {
  from: string;
  to: string;
  authority: string;
  kind: string;
  legalBasis: string;
  urgency: string;
  deadline?: string;
  subject: string;
  body?: string;
  bodyFile?: string;
  attach?: string[];
  attachmentRef?: string[];
  idempotencyKey?: string;
  thread?: string;
  inReplyTo?: string;
}

/** The body of POST /v1/outbound-messages from `comity send` options. */
export function submissionOf(
  options: SendOptions,
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Record<string, unknown> {
  if (options.body !== undefined && options.bodyFile !== undefined) {
    throw new UsageError('give --body or --body-file, not both');
  }
  const body = options.bodyFile !== undefined ? read(options.bodyFile) : options.body;
  if (!body) throw new UsageError('give --body or --body-file');
  return {
    kind: options.kind,
    senderAuthority: options.from,
    recipient: { state: options.to, authority: options.authority },
    legalBasis: options.legalBasis,
    urgency: options.urgency,
    ...(options.deadline ? { deadline: options.deadline } : {}),
    subject: options.subject,
    body,
    attachments: options.attach?.length ? readAttachments(options.attach) : [],
    ...(options.attachmentRef?.length ? { attachmentRefs: options.attachmentRef } : {}),
    ...threadingOf(options),
  };
}

/** `comity send`, `status`, `upload`, `inbox`, `download` and `audit`. */
export function registerMessageCommands(program: Command): void {
  withGateway(
    program.command('send').description('submit a request to a gateway node'),
    "a clerk's",
  )
    .requiredOption('--from <authority>', "the sending authority's id")
    .requiredOption('--to <state>', 'recipient State code')
    .requiredOption('--authority <id>', 'recipient authority id')
    .option('--kind <kind>', 'mla_request, extradition_request, ...', 'mla_request')
    .requiredOption('--legal-basis <text>', 'treaty or convention article')
    .option('--urgency <level>', 'routine, urgent or immediate', 'routine')
    .option('--deadline <date>', 'YYYY-MM-DD')
    .requiredOption('--subject <text>', 'subject line')
    .option('--body <text>', 'request text')
    .option('--body-file <path>', 'read the request text from a file')
    .option('--attach <path...>', 'files to attach inline (5 MiB in all; media type detected)')
    .option(
      '--attachment-ref <id>',
      'a large file uploaded with `comity upload` (repeatable, at most 10)',
      collect,
    )
    .option(
      '--idempotency-key <key>',
      'a unique key for this request: a retry with the same key returns the first message instead of sending again',
    )
    .option('--thread <id>', 'the case (thread) this message belongs to (default: --in-reply-to)')
    .option('--in-reply-to <id>', 'the message this one answers, e.g. the request of a case')
    .option('--json', 'print the submitted message as JSON')
    .action(async (options: SendOptions) => {
      const submission = submissionOf(options);
      const client = gatewayClient(options);
      const message = await calling(() =>
        client.submit(submission, { idempotencyKey: options.idempotencyKey }),
      );
      emit(options.json, message, () => `${message.id} ${message.status}`);
    });

  withGateway(
    program.command('status <id>').description("show a sent request's status and timeline"),
    "a clerk's, operator's or auditor's",
  )
    .option('--json', 'print the message (status, timeline, content) as JSON')
    .action(async (id: string, options: GatewayOptions & Json) => {
      const message = await calling(() => gatewayClient(options).outbound(id));
      emit(options.json, message, () => formatMessage(message));
    });

  withGateway(
    program
      .command('upload <file>')
      .description(
        'upload a large file in chunks (resumable) and print its attachment reference and SHA-256',
      ),
    "a clerk's",
  )
    .option('--resume <id>', 'resume this upload (by default: the one an interrupted run left)')
    .option('--media-type <type>', 'the media type (default: detected from the bytes)')
    .option('--name <filename>', "the file name the recipient sees (default: the file's)")
    .option('--concurrency <n>', 'chunks sent at once (1 to 8)', integerFrom(1, 8), 4)
    .addOption(
      new Option('--progress <mode>', 'auto: a bar on a terminal, lines otherwise')
        .choices(PROGRESS_MODES)
        .default('auto'),
    )
    .option('--no-state', 'keep no state file (resume only with --resume)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        file: string,
        options: GatewayOptions &
          Json & {
            resume?: string;
            mediaType?: string;
            name?: string;
            concurrency: number;
            progress: (typeof PROGRESS_MODES)[number];
            state: boolean;
          },
      ) => {
        const client = gatewayClient(options);
        const result = await calling(() =>
          runUpload(client, file, {
            resume: options.resume,
            mediaType: options.mediaType,
            name: options.name,
            concurrency: options.concurrency,
            progress: progressMode(options.progress, Boolean(process.stderr.isTTY)),
            stateDirectory: options.state ? defaultStateDirectory() : null,
          }),
        );
        emit(options.json, result, () => formatUpload(result));
      },
    );

  withGateway(
    program.command('inbox').description('requests delivered to this node, newest first'),
    "a clerk's, operator's or auditor's",
  )
    .option('--limit <n>', 'at most this many (1 to 500, default 50)', integerFrom(1, 500))
    .option('--cursor <id>', 'the next page, as the previous list printed it')
    .option('--json', 'print the page as JSON')
    .action(async (options: GatewayOptions & Json & { limit?: number; cursor?: string }) => {
      const client = gatewayClient(options);
      const page = await calling(() =>
        client.inboundMessages({ limit: options.limit, before: options.cursor }),
      );
      emit(options.json, page, () => formatInbox(page));
    });

  withGateway(
    program
      .command('download <id>')
      .description(
        'write a received message (JSON, decrypted) or one of its attachments to a file, checking the SHA-256 the gateway announces',
      ),
    "a clerk's",
  )
    .option('--attachment <n>', 'large attachment n (from 0), streamed', integerFrom(0, 9))
    .option('--inline <n>', 'inline attachment n (from 0)', integerFrom(0, 9))
    .option('--out <file>', 'where to write ("-": stdout; default: its file name, or <id>.json)')
    .option('--outbound', "a request this node sent (the sender's own copy)")
    .option('--force', 'overwrite an existing file')
    .option('--json', 'print what was written as JSON')
    .action(async (id: string, options: GatewayOptions & Json & DownloadOptions) => {
      if (options.json && options.out === '-') {
        throw new UsageError('--json and --out - both want stdout: give --out a file');
      }
      const client = gatewayClient(options);
      const result = await calling(() => runDownload(client, id, options));
      if (result.file === '-') process.stderr.write(`${formatDownload(result)}\n`);
      else emit(options.json, result, () => formatDownload(result));
    });

  withGateway(
    program
      .command('audit')
      .description(
        "the node's audit log, newest first: refused API calls, operator actions, content read",
      ),
    "an auditor's",
  )
    .option('--limit <n>', 'at most this many (1 to 1000)', integerFrom(1, 1000), 100)
    .option('--before <id>', 'older than this event (the next page, as the previous one printed)')
    .option('--json', 'print the page as JSON')
    .action(async (options: GatewayOptions & Json & { limit: number; before?: string }) => {
      const client = gatewayClient(options);
      const events = await calling(() =>
        client.auditEvents({ limit: options.limit, before: options.before }),
      );
      const page = auditPageOf(events, options.limit);
      emit(options.json, page, () => formatAudit(page));
    });
}
