import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CertificateVerifier, readCertificatesPem } from '@comity/pki';
import { BundleError, verifyEvidenceBundle } from '@comity/protocol';
import { EXIT } from './exit-codes';
import { calling, gatewayClient, withGateway, type GatewayOptions } from './gateway-options';
import { emit } from './output';

type Options = GatewayOptions & { json?: boolean };

/**
 * `comity evidence audit` and `comity evidence checkpoint`: a node's evidence log, recomputed
 * from its database and checked against its signed checkpoints (docs/evidence.md).
 */
export function registerEvidenceCommands(program: Command): void {
  const evidence = program.command('evidence').description("a node's tamper-evident evidence log");
  withGateway(
    evidence
      .command('audit')
      .description(
        'recompute the log: every leaf from its row, every hash, every signed checkpoint; exit 1 naming the first bad leaf',
      ),
    "an auditor's",
  )
    .option('--json', 'print the report as JSON')
    .action(async (options: Options) => {
      const report = await calling(() => gatewayClient(options).evidenceAudit());
      if (options.json) console.log(JSON.stringify(report, null, 2));
      else if (report.ok) {
        console.log(
          `valid: ${report.leaves} leaves recomputed from their rows, ${report.checkpoints} signed checkpoint${report.checkpoints === 1 ? '' : 's'} verified`,
        );
      } else {
        console.log(
          `invalid: ${report.problem}${report.firstBadLeaf === null ? '' : ` (first bad leaf: ${report.firstBadLeaf})`}`,
        );
      }
      if (!report.ok) process.exitCode = EXIT.failed;
    });
  withGateway(
    evidence
      .command('checkpoint')
      .description('sign a checkpoint of the log now (if it grew) and print the signed note'),
    "an auditor's or operator's",
  )
    .option('--json', 'print size, root, time and note as JSON')
    .action(async (options: Options) => {
      const checkpoint = await calling(() => gatewayClient(options).signEvidenceCheckpoint());
      if (options.json) console.log(JSON.stringify(checkpoint, null, 2));
      else process.stdout.write(checkpoint.note);
    });
  withGateway(
    evidence
      .command('witnessing')
      .description(
        "who cosigned this node's log, the peers' logs it witnesses, and forks seen; exit 1 if any",
      ),
    "an auditor's or operator's",
  )
    .option('--announce', 'sign a checkpoint and send it to the peers first')
    .option('--json', 'print the status as JSON')
    .action(async (options: Options & { announce?: boolean }) => {
      const client = gatewayClient(options);
      if (options.announce) await calling(() => client.announceCheckpoint());
      const status = await calling(() => client.witnessing());
      if (options.json) console.log(JSON.stringify(status, null, 2));
      else {
        console.log(`this log: size ${status.logSize}`);
        for (const entry of status.witnessedBy) {
          console.log(`  cosigned by ${entry.state} up to size ${entry.cosignedSize}`);
        }
        for (const peer of status.peers) {
          console.log(`witnessing ${peer.state}: size ${peer.size}, received ${peer.receivedAt}`);
        }
        for (const alert of status.alerts) {
          console.log(`ALERT ${alert.kind} (${alert.state}) at ${alert.at}: ${alert.detail}`);
        }
      }
      if (status.alerts.length > 0) process.exitCode = EXIT.failed;
    });
  withGateway(
    evidence
      .command('export <id>')
      .description("a message's evidence bundle (zip) from the node, for `comity evidence verify`"),
    "an auditor's",
  )
    .requiredOption('--out <file>', 'where to write the bundle')
    .option('--json', 'print { file, bytes, sha256 } as JSON')
    .action(async (id: string, options: Options & { out: string }) => {
      const bytes = await calling(() => gatewayClient(options).evidenceBundle(id));
      writeFileSync(options.out, bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      emit(
        options.json,
        { file: options.out, bytes: bytes.length, sha256 },
        () => `${options.out}: ${bytes.length} bytes`,
      );
    });
  evidence
    .command('verify <file>')
    .description(
      'check a bundle offline against the federation root: exit 0 valid (with an account of what it proves), 1 invalid with the reason',
    )
    .requiredOption('--anchor <pem>', "the federation's root certificate(s)")
    .option(
      '--tsa-anchor <pem>',
      "the time-stamping authority's CA, to check the checkpoint's RFC 3161 token chain",
    )
    .option('--json', 'print { valid, lines } as JSON')
    .action((file: string, options: { anchor: string; tsaAnchor?: string; json?: boolean }) => {
      const result = checkBundleFile(file, options.anchor, options.tsaAnchor);
      emit(options.json, result, () => result.lines);
      if (!result.valid) process.exitCode = EXIT.failed;
    });
}

/** Offline: the bundle file and the trust anchor, nothing else. */
export function checkBundleFile(
  file: string,
  anchor: string,
  tsaAnchor?: string,
): { valid: boolean; lines: string[] } {
  let verifier: CertificateVerifier;
  let bundle: Buffer;
  let tsaAnchors: X509Certificate[] | undefined;
  try {
    verifier = new CertificateVerifier(readCertificatesPem(readFileSync(anchor, 'utf8')));
    tsaAnchors = tsaAnchor ? readCertificatesPem(readFileSync(tsaAnchor, 'utf8')) : undefined;
    bundle = readFileSync(file);
  } catch (error) {
    return {
      valid: false,
      lines: [`invalid: cannot read the inputs: ${(error as Error).message}`],
    };
  }
  try {
    const { account } = verifyEvidenceBundle(bundle, verifier, { tsaAnchors });
    return { valid: true, lines: ['valid:', ...account.map((line) => `  ${line}`)] };
  } catch (error) {
    if (error instanceof BundleError) return { valid: false, lines: [`invalid: ${error.message}`] };
    return { valid: false, lines: [`invalid: ${(error as Error).message}`] };
  }
}
