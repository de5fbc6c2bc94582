import 'reflect-metadata';
import { resolve } from 'node:path';
import { hashPassword } from '../../gateway/src/auth/password-hash';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  inspectDirectoryFile,
  revokeInDirectoryFile,
  signDirectoryFile,
} from './commands/directory.command';
import { checkReceiptFiles } from './commands/receipt-verify.command';
import { runDemo } from './commands/demo.command';
import { registerMessageCommands } from './commands/message-commands';
import { registerEventCommands } from './commands/event-commands';
import { CheckFailed, EXIT, exitCodeFor, gatewayStatusOf, UsageError } from './commands/exit-codes';
import { emit, integerFrom } from './commands/output';
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
  describeGatewayError,
  gatewayClient,
  withGateway,
  type GatewayOptions,
} from './commands/gateway-options';
import { ensureDevCertificates } from './federation/dev-certificates';
import { DEV_STATES, type DevStateDescription } from './federation/dev-directory';
import type { QuarantineStatus } from './gateway-client';

/** Errors commander printed itself (usage errors, help); others are printed here. */
const printedByCommander = new WeakSet<Error>();

const program = new Command()
  .name('comity')
  .description(
    'Comity: signed, encrypted transmission of MLA and extradition requests between States',
  )
  // Usage errors throw instead of exiting, so that they exit 2 (subcommands inherit this).
  .exitOverride((error) => {
    printedByCommander.add(error);
    throw error;
  })
  .addHelpText(
    'after',
    `
--json (every command but demo): one JSON document on stdout (docs/cli.md). Exit codes:
  ${EXIT.ok}  ok
  ${EXIT.failed}  a check failed or something is invalid
  ${EXIT.usage}  usage error (bad flags or values)
  ${EXIT.refused}  the gateway refused (HTTP 4xx)
  ${EXIT.unavailable}  the gateway could not be reached, or answered HTTP 5xx`,
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
  .option('--json', 'print the paths as JSON')
  .action(async (options: { dir: string; states: string; rsa: string; json?: boolean }) => {
    const rsa = new Set(options.rsa.split(',').filter(Boolean));
    const states: DevStateDescription[] = options.states.split(',').map((code) => ({
      code,
      name: DEV_STATES.find((state) => state.code === code)?.name ?? code,
      suite: rsa.has(code) ? 'rsa' : 'ed25519-x25519',
      languages: DEV_STATES.find((state) => state.code === code)?.languages ?? ['en'],
    }));
    const result = await ensureDevCertificates(resolve(options.dir), states);
    const directories = Object.fromEntries(
      Object.entries(result.layout.states).map(([code, paths]) => [
        code,
        resolve(paths.signingCertificate, '..'),
      ]),
    );
    emit(
      options.json,
      {
        trustAnchor: result.layout.trustAnchor,
        states: directories,
        directory: result.directoryPath,
      },
      () => [
        `trust anchor: ${result.layout.trustAnchor}`,
        ...Object.entries(directories).map(([code, path]) => `${code}: ${path}`),
        `directory: ${result.directoryPath}`,
      ],
    );
  });

registerMessageCommands(program);
registerEventCommands(program);

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
  ${EXIT.ok}  no critical alert (warnings only, or none)
  ${CRITICAL_EXIT_CODE}  at least one critical alert
  ${EXIT.refused}  the gateway refused (HTTP 4xx, e.g. a key without the operator or auditor role)
  ${EXIT.unavailable}  the gateway could not be reached, or answered HTTP 5xx
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
      emit(options.json, page, () => formatQuarantine(page));
    },
  );
for (const action of ['release', 'discard'] as const) {
  withGateway(
    quarantine
      .command(`${action} <id>`)
      .description(
        action === 'release'
          ? 'process a held message again, with every check in force now (exit 3 if still refused)'
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
      emit(options.json, item, () => formatResolution(item));
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
  .option('--json', 'print the result as JSON')
  .action(
    (options: {
      document: string;
      key: string;
      certificate: string;
      out: string;
      json?: boolean;
    }) => {
      const message = signDirectoryFile(options);
      emit(options.json, { signed: true, out: options.out, message }, () => message);
    },
  );
directory
  .command('revoke')
  .description('revoke a certificate in a directory document (a new edition; sign it afterwards)')
  .requiredOption('--document <path>', 'the directory document')
  .requiredOption('--certificate <path>', 'the certificate to revoke (PEM)')
  .requiredOption('--reason <text>', 'why, e.g. "key compromise"')
  .option('--valid-days <days>', 'validity of the new edition', integerFrom(1, 3650), 30)
  .option('--json', 'print the result as JSON')
  .action(
    (options: {
      document: string;
      certificate: string;
      reason: string;
      validDays: number;
      json?: boolean;
    }) => {
      const message = revokeInDirectoryFile(options);
      emit(options.json, { revoked: true, document: options.document, message }, () => message);
    },
  );
directory
  .command('inspect <file>')
  .description(
    'verify a signed directory against the trust anchor and list its States and authorities',
  )
  .option('--anchor <path>', 'the federation trust anchor', 'certs-dev/federation-root.crt.pem')
  .option('--json', 'print { valid, lines } as JSON')
  .action((file: string, options: { anchor: string; json?: boolean }) => {
    let lines: string[];
    try {
      lines = inspectDirectoryFile({ file, anchor: options.anchor });
    } catch (error) {
      throw new CheckFailed(`invalid: ${(error as Error).message}`, { cause: error });
    }
    emit(options.json, { valid: true, lines }, () => lines);
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
  .option('--json', 'print { valid, lines } as JSON')
  .action((options: { receipt: string; envelope: string; anchor: string; json?: boolean }) => {
    const result = checkReceiptFiles(options);
    emit(options.json, result, () => result.lines);
    process.exitCode = result.valid ? EXIT.ok : EXIT.failed;
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
  .option('--json', 'print { hash } as JSON')
  .action(async (options: { json?: boolean }) => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (password.length < 12) throw new UsageError('a password of at least 12 characters, please');
    const hash = await hashPassword(password);
    emit(options.json, { hash }, () => hash);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = exitCodeFor(error);
  process.exitCode = code;
  const printed = error instanceof CommanderError && printedByCommander.has(error);
  if (printed && code === EXIT.ok) return; // --help
  if (!printed) console.error(`comity: ${describeGatewayError(error)}`);
  // With --json, scripts get one JSON document on stdout whatever happened.
  if (process.argv.includes('--json')) {
    const message = printed
      ? (error as CommanderError).message.replace(/^error: /, '')
      : describeGatewayError(error);
    console.log(
      JSON.stringify(
        { error: { exitCode: code, status: gatewayStatusOf(error), message } },
        null,
        2,
      ),
    );
  }
});
