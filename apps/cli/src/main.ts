import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  inspectDirectoryFile,
  revokeInDirectoryFile,
  signDirectoryFile,
} from './commands/directory.command';
import { checkReceiptFiles } from './commands/receipt-verify.command';
import { runDemo } from './commands/demo.command';
import { ensureDevCertificates } from './federation/dev-certificates';
import { DEV_STATES, type DevStateDescription } from './federation/dev-directory';
import { GatewayClient } from './gateway-client';

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
  .action(async (options: Record<string, string | string[] | undefined>) => {
    const body = options.bodyFile ? readFileSync(String(options.bodyFile), 'utf8') : options.body;
    if (!body) throw new InvalidArgumentError('give --body or --body-file');
    const attachments = ((options.attach as string[] | undefined) ?? []).map((path) => ({
      filename: path.split('/').pop() ?? path,
      mediaType: 'application/octet-stream',
      data: readFileSync(path).toString('base64'),
    }));
    const message = await new GatewayClient(
      String(options.node),
      options.apiKey as string | undefined,
    ).submit({
      kind: options.kind,
      senderAuthority: options.from,
      recipient: { state: options.to, authority: options.authority },
      legalBasis: options.legalBasis,
      urgency: options.urgency,
      ...(options.deadline ? { deadline: options.deadline } : {}),
      subject: options.subject,
      body,
      attachments,
    });
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
  .description('run three gateways (AT, FR, KE) locally and send an MLA request from AT to FR')
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

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`comity: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
