import type { Command } from 'commander';
import { calling, gatewayClient, withGateway, type GatewayOptions } from './gateway-options';

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
      if (!report.ok) process.exitCode = 1;
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
}
