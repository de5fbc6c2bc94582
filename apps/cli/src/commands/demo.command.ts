import { dirname, join, relative } from 'node:path';
import { CertificateVerifier, readCertificatesPem } from '@comity/pki';
import { verifyReceiptOffline } from '@comity/protocol';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { devApiKey } from '../federation/dev-api-keys';
import { ensureDevCertificates } from '../federation/dev-certificates';
import { DEV_STATES } from '../federation/dev-directory';
import { Federation, dropDatabase } from '../federation/federation-launcher';
import { repoRoot } from '../federation/repo-root';
import { GatewayClient } from '../gateway-client';
import { runDemoCase } from './demo-case';
import { checkBundleFile } from './evidence-commands';

export interface DemoOptions {
  once: boolean;
  basePort: number;
  postgresUrl: string;
  amqpUrl: string;
}

/**
 * The main job: three States' gateways as separate processes on the local RabbitMQ and
 * PostgreSQL; Austria sends an MLA request to France; the timeline up to "delivered, receipt
 * verified" is printed, and the receipt is verified again offline from the two files; then
 * the case it opened runs from acknowledgement to closure, both ends' views printed at each step.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const root = repoRoot();
  const started = Date.now();
  const certificates = await ensureDevCertificates(join(root, 'certs-dev'), DEV_STATES);
  console.log(
    `dev PKI and directory ready in certs-dev/ (${DEV_STATES.map((s) => `${s.code}:${s.suite}`).join(', ')})`,
  );

  // A demo starts from empty databases: what an earlier run (perhaps under another dev PKI)
  // left there would not verify under this one.
  for (const state of DEV_STATES) {
    await dropDatabase(options.postgresUrl, `comity_${state.code.toLowerCase()}`);
  }

  const federation = await Federation.launch({
    layout: certificates.layout,
    directoryPath: certificates.directoryPath,
    nodes: DEV_STATES.map((state, index) => ({
      state: state.code,
      port: options.basePort + index,
      databaseName: `comity_${state.code.toLowerCase()}`,
    })),
    postgresAdminUrl: options.postgresUrl,
    amqpUrl: options.amqpUrl,
    logDirectory: join(root, 'var', 'logs'),
  });
  try {
    console.log(`three gateways up in ${Date.now() - started} ms:`);
    for (const node of federation.nodes.values()) {
      console.log(`  ${node.state}  ${node.url}  (API docs ${node.url}/docs, log ${node.logPath})`);
    }
    // The central authorities' clerks, with their development API keys.
    const stateDirectory = (state: string) =>
      join(certificates.layout.states[state]!.signingCertificate, '..');
    const austria = new GatewayClient(
      federation.node('AT').url,
      devApiKey(stateDirectory('AT'), 'central-clerk'),
    );
    const france = new GatewayClient(
      federation.node('FR').url,
      devApiKey(stateDirectory('FR'), 'central-clerk'),
    );

    const submittedAt = Date.now();
    const submitted = await austria.submit({
      kind: 'mla_request',
      senderAuthority: 'at-central-authority',
      recipient: { state: 'FR', authority: 'fr-central-authority' },
      legalBasis: 'United Nations Convention against Corruption, article 46',
      urgency: 'urgent',
      deadline: '2027-01-31',
      subject: 'Bank records of a suspected bribery intermediary',
      // A structured request (protocol version 3): FR's gateway checks it is complete.
      request: {
        language: 'en',
        assistance: ['records'],
        requestingAuthority: 'Central Authority of Austria, Federal Ministry of Justice',
        proceedings: {
          nature: 'investigation',
          subjectMatter: 'Bribery of a public official in a public procurement procedure',
          conductingAuthority: 'Public Prosecutor’s Office for Economic Crimes and Corruption',
          conductingAuthorityFunctions: 'Directs the criminal investigation',
          reference: '12 St 34/26k',
        },
        facts:
          'Between 2019 and 2024 an intermediary is suspected of passing bribes to an official through an account held in France.',
        assistanceSought:
          'Certified copies of the statements of the account (2019-2024) and of its opening documents.',
        procedure: '',
        purpose: 'To trace the payments and prove the bribery.',
        persons: [
          {
            role: 'suspect',
            name: 'A. Intermediary',
            dateOfBirth: '',
            nationality: 'AT',
            location: 'Paris',
            description: '',
          },
        ],
        offences: [
          {
            description: 'Bribery',
            legalProvision: '§ 307 StGB',
            maximumPenalty: '10 years',
            acts: '',
            limitation: '',
          },
        ],
        confidentiality: 'The account holder must not be informed.',
        documents: [{ role: 'letter_of_request', filename: 'request-letter.txt' }],
        freeText: '',
      },
      attachments: [
        {
          filename: 'request-letter.txt',
          mediaType: 'text/plain',
          data: Buffer.from('Formal letter of request').toString('base64'),
        },
      ],
    });
    console.log(`\nAT submitted MLA request ${submitted.id} to FR`);
    const delivered = await austria.waitForStatus(submitted.id, [
      'delivered',
      'rejected',
      'failed',
    ]);
    const elapsed = Date.now() - submittedAt;
    console.log('timeline at the sender (AT):');
    const origin = Date.parse(delivered.timeline[0]?.at ?? delivered.createdAt);
    for (const evidence of delivered.timeline) {
      const offset = `+${Date.parse(evidence.at) - origin} ms`.padStart(9);
      console.log(
        `  ${offset}  ${evidence.type.padEnd(10)} ${evidence.detail ?? ''}${evidence.reason ? ` (${evidence.reason})` : ''}`,
      );
    }
    if (delivered.status !== 'delivered') {
      throw new Error(`the request ended ${delivered.status}: ${delivered.statusReason ?? ''}`);
    }
    console.log(`delivered, receipt verified: ${elapsed} ms from submit to verified receipt`);

    const received = await france.inbound(submitted.id);
    const structured = received.content?.request as { assistance: string[] } | undefined;
    console.log(
      `FR holds it once, decrypted for its clerk: "${String(received.content?.subject)}"` +
        (structured
          ? `, a structured request (${structured.assistance.length} type of assistance, complete)`
          : ''),
    );

    // FR's gateway signs retrieval evidence on that first opening and sends it to AT.
    const opened = await waitFor('the retrieval evidence at AT', async () =>
      (await austria.outbound(submitted.id)).timeline.find((entry) => entry.type === 'retrieved'),
    );
    console.log(`AT holds FR's signed retrieval evidence: ${opened.detail ?? ''}`);

    const verifier = new CertificateVerifier(
      readCertificatesPem(readFileSync(certificates.layout.trustAnchor, 'utf8')),
    );
    const offline = verifyReceiptOffline({
      envelope: await austria.envelope(submitted.id),
      receipt: await austria.receipt(submitted.id),
      verifier,
    });
    console.log(
      `offline check of the receipt against the envelope and the trust anchor: ${offline.receipt.statement.status}, signed by ${offline.receipt.signer.state}`,
    );

    // The case the request opened, worked by the two central authorities' clerks.
    await runDemoCase(submitted.id, {
      requesting: { state: 'AT', client: austria },
      requested: { state: 'FR', client: france },
    });

    // Each node's evidence log holds all of it: signed, then recomputed from the database.
    console.log(
      '\nevidence logs (every evidence and audit event a leaf; checkpoint signed, then audited):',
    );
    for (const state of ['AT', 'FR']) {
      const auditor = new GatewayClient(
        federation.node(state).url,
        devApiKey(stateDirectory(state), 'auditor'),
      );
      const checkpoint = await auditor.signEvidenceCheckpoint();
      const report = await auditor.evidenceAudit();
      console.log(
        `  ${state}  ${checkpoint.size} leaves, root ${checkpoint.root.slice(0, 16)}…, audit ${report.ok ? `valid (${report.checkpoints} checkpoint${report.checkpoints === 1 ? '' : 's'} verified)` : `INVALID: ${report.problem}`}`,
      );
      if (!report.ok)
        throw new Error(`the evidence log of ${state} does not audit: ${report.problem}`);
    }

    // Each log is witnessed by the other gateways: they cosign its checkpoints.
    console.log('\nwitnessing (the checkpoints of each log cosigned by the peers, no fork seen):');
    for (const state of ['AT', 'FR']) {
      const auditor = new GatewayClient(
        federation.node(state).url,
        devApiKey(stateDirectory(state), 'auditor'),
      );
      const { size } = await auditor.announceCheckpoint();
      const status = await waitFor(`the peers to cosign ${state}'s log`, async () => {
        const current = await auditor.witnessing();
        return current.witnessedBy.every((entry) => entry.cosignedSize >= size)
          ? current
          : undefined;
      });
      const by = status.witnessedBy.map((entry) => `${entry.state} (up to ${entry.cosignedSize})`);
      console.log(
        `  ${state}  size ${size}, cosigned by ${by.join(', ')}; ${status.alerts.length} fork alert(s)`,
      );
      if (status.alerts.length > 0) throw new Error(`${state} reports a forked log`);
    }

    // The request's evidence bundle, checked offline with the federation root alone.
    const bundlePath = join(root, 'var', `evidence-${submitted.id}.zip`);
    const bundle = await new GatewayClient(
      federation.node('AT').url,
      devApiKey(stateDirectory('AT'), 'auditor'),
    ).evidenceBundle(submitted.id);
    mkdirSync(dirname(bundlePath), { recursive: true });
    writeFileSync(bundlePath, bundle);
    const check = checkBundleFile(bundlePath, certificates.layout.trustAnchor);
    console.log(
      `\nevidence bundle ${relative(process.cwd(), bundlePath)} (${bundle.length} bytes), \`comity evidence verify\` offline:`,
    );
    for (const line of check.lines) console.log(`  ${line}`);
    if (!check.valid) throw new Error('the evidence bundle does not verify');

    if (options.once) return;
    // Where the key is, not the key: even development secrets stay out of terminals and logs.
    console.log('\noperator consoles (sign in with the "operator" key from the file shown):');
    for (const node of federation.nodes.values()) {
      console.log(
        `  ${node.state}  ${node.url}/console/  key in ${relative(process.cwd(), join(stateDirectory(node.state), 'api-keys.secret.json'))}`,
      );
    }
    console.log(
      "\nclerks' workspaces (sign in as <state>-clerk with the password from the file shown):",
    );
    for (const node of federation.nodes.values()) {
      const workspace = `${node.url.replace('127.0.0.1', 'localhost')}/workspace/`;
      console.log(
        `  ${node.state}  ${workspace}  user ${node.state.toLowerCase()}-clerk, password in ${relative(process.cwd(), join(stateDirectory(node.state), 'accounts.secret.json'))}`,
      );
    }
    console.log('\nthe gateways keep running; press Ctrl-C to stop them.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await federation.stop();
    console.log('gateways stopped.');
  }
}

/** Polls `probe` until it returns a value (at most 30 s). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
