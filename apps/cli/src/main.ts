import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hashPassword } from '../../gateway/src/auth/password-hash';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  inspectDirectoryFile,
  revokeInDirectoryFile,
  signDirectoryFile,
} from './commands/directory.command';
import { checkReceiptFiles } from './commands/receipt-verify.command';
import { runDemo } from './commands/demo.command';
import { threadingOf } from './commands/send.command';
import { registerCaseCommands, registerStatsCommand } from './commands/case-commands';
import { registerEvidenceCommands } from './commands/evidence-commands';
import {
  formatQuarantine,
  formatResolution,
  QUARANTINE_STATUSES,
} from './commands/quarantine.command';
import { CRITICAL_EXIT_CODE, runQueues } from './commands/queues.command';
import {
  calling,
  gatewayClient,
  withGateway,
  type GatewayOptions,
} from './commands/gateway-options';
import { ensureDevCertificates } from './federation/dev-certificates';
import { DEV_STATES, type DevStateDescription } from './federation/dev-directory';
import { GatewayClient, type QuarantineStatus } from './gateway-client';

const program = new Command()
  .name('comity')
  .description(
    'Comity: signed, encrypted transmission of MLA and extradition requests between States',
  );

const port = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535)
    throw new InvalidArgumentError('not a port');
  return parsed;
};

const certs = program.command('certs').description('certificates');
certs
  .command('dev')
  .description('create (or keep) a DEVELOPMENT-ONLY federation PKI and directory under certs-dev/')
  .option('--dir <path>', 'where to write it', 'certs-dev')
  .option(
    '--states <codes>',
    'comma-separated State codes',
    DEV_STATES.map((state) => state.code).join(','),
  )
  .option('--rsa <codes>', 'States that use the RSA suite (PS256, RSA-OAEP-256)', 'KE')
  .action(async (options: { dir: string; states: string; rsa: string }) => {
    const rsa = new Set(options.rsa.split(',').filter(Boolean));
    const states: DevStateDescription[] = options.states.split(',').map((code) => ({
      code,
      name: DEV_STATES.find((state) => state.code === code)?.name ?? code,
      suite: rsa.has(code) ? 'rsa' : 'ed25519-x25519',
      languages: DEV_STATES.find((state) => state.code === code)?.languages ?? ['en'],
    }));
    const result = await ensureDevCertificates(resolve(options.dir), states);
    console.log(`trust anchor: ${result.layout.trustAnchor}`);
    for (const [code, paths] of Object.entries(result.layout.states)) {
      console.log(`${code}: ${resolve(paths.signingCertificate, '..')}`);
    }
    console.log(`directory: ${result.directoryPath}`);
  });

program
  .command('send')
  .description('submit a request to a gateway node')
  .requiredOption('--node <url>', 'the sending gateway, e.g. http://127.0.0.1:4101')
  .option(
    '--api-key <key>',
    "the clerk's API key (default: $COMITY_API_KEY)",
    process.env.COMITY_API_KEY,
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
  .option('--attach <path...>', 'files to attach inline (5 MiB in all)')
  .option('--thread <id>', 'the case (thread) this message belongs to (default: --in-reply-to)')
  .option('--in-reply-to <id>', 'the message this one answers, e.g. the request of a case')
  .action(async (options: Record<string, string | string[] | undefined>) => {
    const body = options.bodyFile ? readFileSync(String(options.bodyFile), 'utf8') : options.body;
    if (!body) throw new InvalidArgumentError('give --body or --body-file');
    const attachments = ((options.attach as string[] | undefined) ?? []).map((path) => ({
      filename: path.split('/').pop() ?? path,
      mediaType: 'application/octet-stream',
      data: readFileSync(path).toString('base64'),
    }));
    const client = new GatewayClient(String(options.node), options.apiKey as string | undefined);
    const message = await calling(() =>
      client.submit({
        kind: options.kind,
        senderAuthority: options.from,
        recipient: { state: options.to, authority: options.authority },
        legalBasis: options.legalBasis,
        urgency: options.urgency,
        ...(options.deadline ? { deadline: options.deadline } : {}),
        subject: options.subject,
        body,
        attachments,
        ...threadingOf(options),
      }),
    );
    console.log(`${message.id} ${message.status}`);
  });

program
  .command('status <id>')
  .description("show a sent request's status and timeline")
  .requiredOption('--node <url>', 'the sending gateway')
  .option('--api-key <key>', 'an API key (default: $COMITY_API_KEY)', process.env.COMITY_API_KEY)
  .action(async (id: string, options: { node: string; apiKey?: string }) => {
    const message = await new GatewayClient(options.node, options.apiKey).outbound(id);
    console.log(
      `${message.id} ${message.kind} ${message.from.state} -> ${message.to.state}/${message.to.authority}: ${message.status}${message.statusReason ? ` (${message.statusReason})` : ''}`,
    );
    for (const evidence of message.timeline) {
      console.log(
        `  ${evidence.at}  ${evidence.type}${evidence.reason ? ` (${evidence.reason})` : ''}${evidence.detail ? `  ${evidence.detail}` : ''}`,
      );
    }
  });

const positiveNumber = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new InvalidArgumentError('not a positive number');
  return parsed;
};

const limit = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 200)
    throw new InvalidArgumentError('an integer from 1 to 200');
  return parsed;
};

withGateway(
  program
    .command('queues')
    .description(
      "a node's operations overview: components, alerts, queues, outbox, traffic per peer, quarantine",
    ),
  "an operator's or auditor's",
)
  .option('--json', 'print the overview as JSON')
  .option(
    '--watch [seconds]',
    'refresh every so many seconds (default 5) until Ctrl-C',
    positiveNumber,
  )
  .addHelpText(
    'after',
    `
Exit codes:
  0  no critical alert (warnings only, or none)
  ${CRITICAL_EXIT_CODE}  at least one critical alert
  1  an error, e.g. the gateway answered an HTTP error or could not be reached
With --watch, stopped with Ctrl-C: the code for the last view.`,
  )
  .action(async (options: GatewayOptions & { json?: boolean; watch?: number | true }) => {
    const client = gatewayClient(options);
    const watchSeconds = options.watch === true ? 5 : options.watch;
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    if (watchSeconds !== undefined) process.once('SIGINT', stop);
    try {
      process.exitCode = await calling(() =>
        runQueues(client, {
          json: options.json ?? false,
          watchSeconds,
          signal: abort.signal,
          color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
          clear: Boolean(process.stdout.isTTY),
        }),
      );
    } finally {
      process.removeListener('SIGINT', stop);
    }
  });

const quarantine = program
  .command('quarantine')
  .description('messages the node could not accept and keeps aside (operator actions are audited)');
withGateway(
  quarantine.command('list').description('list quarantined messages, newest first'),
  "an operator's or auditor's",
)
  .addOption(
    new Option('--status <status>', 'which ones').choices(QUARANTINE_STATUSES).default('held'),
  )
  .option('--limit <n>', 'at most this many (1 to 200)', limit)
  .option('--json', 'print the answer as JSON')
  .action(
    async (
      options: GatewayOptions & {
        status: QuarantineStatus | 'all';
        limit?: number;
        json?: boolean;
      },
    ) => {
      const client = gatewayClient(options);
      const page = await calling(() => client.quarantine(options.status, options.limit));
      console.log(options.json ? JSON.stringify(page, null, 2) : formatQuarantine(page));
    },
  );
for (const action of ['release', 'discard'] as const) {
  withGateway(
    quarantine
      .command(`${action} <id>`)
      .description(
        action === 'release'
          ? 'process a held message again, with every check in force now (exit 1 if still refused)'
          : 'drop a held message for good',
      ),
    "an operator's",
  )
    .requiredOption('--reason <text>', 'why (3 to 500 characters; audited)')
    .option('--json', 'print the answer as JSON')
    .action(async (id: string, options: GatewayOptions & { reason: string; json?: boolean }) => {
      const client = gatewayClient(options);
      const item = await calling(() =>
        action === 'release'
          ? client.releaseQuarantined(id, options.reason)
          : client.discardQuarantined(id, options.reason),
      );
      console.log(options.json ? JSON.stringify(item, null, 2) : formatResolution(item));
    });
}

registerCaseCommands(program);
registerStatsCommand(program);
registerEvidenceCommands(program);

const directory = program.command('directory').description('the signed federation directory');
directory
  .command('sign')
  .description('sign a directory document (JSON) with the directory signer: the file nodes load')
  .requiredOption('--document <path>', 'the directory document, e.g. certs-dev/directory.json')
  .option(
    '--key <path>',
    "the directory signer's private key",
    'certs-dev/directory-signer.key.pem',
  )
  .option(
    '--certificate <path>',
    "the directory signer's certificate",
    'certs-dev/directory-signer.crt.pem',
  )
  .option('--out <path>', 'where to write the signed directory', 'certs-dev/directory.jws')
  .action((options: { document: string; key: string; certificate: string; out: string }) => {
    console.log(signDirectoryFile(options));
  });
directory
  .command('revoke')
  .description('revoke a certificate in a directory document (a new edition; sign it afterwards)')
  .requiredOption('--document <path>', 'the directory document')
  .requiredOption('--certificate <path>', 'the certificate to revoke (PEM)')
  .requiredOption('--reason <text>', 'why, e.g. "key compromise"')
  .option('--valid-days <days>', 'validity of the new edition', (value) => Number(value), 30)
  .action(
    (options: { document: string; certificate: string; reason: string; validDays: number }) => {
      console.log(revokeInDirectoryFile(options));
    },
  );
directory
  .command('inspect <file>')
  .description(
    'verify a signed directory against the trust anchor and list its States and authorities',
  )
  .option('--anchor <path>', 'the federation trust anchor', 'certs-dev/federation-root.crt.pem')
  .action((file: string, options: { anchor: string }) => {
    for (const line of inspectDirectoryFile({ file, anchor: options.anchor })) console.log(line);
  });

const receipt = program.command('receipt').description('delivery receipts');
receipt
  .command('verify')
  .description(
    'verify a receipt offline against the envelope it answers and the trust anchor (exit 0 valid, 1 invalid)',
  )
  .requiredOption('--receipt <path>', 'the receipt (compact JWS)')
  .requiredOption('--envelope <path>', 'the envelope exactly as sent')
  .requiredOption('--anchor <path>', 'the federation trust anchor (PEM)')
  .action((options: { receipt: string; envelope: string; anchor: string }) => {
    const result = checkReceiptFiles(options);
    for (const line of result.lines) console.log(line);
    process.exitCode = result.valid ? 0 : 1;
  });

program
  .command('demo')
  .description(
    'run three gateways (AT, FR, KE) locally, send an MLA request from AT to FR and work its case to closure',
  )
  .option('--once', 'exit after the exchange instead of keeping the gateways running')
  .option('--base-port <port>', 'HTTP port of the first gateway', port, 4101)
  .option(
    '--postgres <url>',
    'PostgreSQL URL of a user that may create databases',
    process.env.COMITY_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  )
  .option(
    '--amqp <url>',
    'RabbitMQ URL',
    process.env.COMITY_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  )
  .action(async (options: { once?: boolean; basePort: number; postgres: string; amqp: string }) => {
    await runDemo({
      once: options.once ?? false,
      basePort: options.basePort,
      postgresUrl: options.postgres,
      amqpUrl: options.amqp,
    });
  });

program
  .command('accounts')
  .description("people's accounts for the workspace (COMITY_ACCOUNTS)")
  .command('hash')
  .description('read a password on standard input and print its scrypt hash for accounts.json')
  .action(async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (password.length < 12) throw new Error('a password of at least 12 characters, please');
    console.log(await hashPassword(password));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`comity: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
