import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import {
  authenticateRetrievalEvidence,
  consistencyProof,
  cosignCheckpoint,
  encodeCheckpointAnnouncement,
  encodeCosignatureReply,
  issueRetrievalEvidence,
  leafHash,
  parseSignedCheckpoint,
  rootOf,
  signBundleManifest,
  signCheckpoint,
  uuidV7,
  verifyEvidenceBundle,
  witnessName,
  type DirectoryDocument,
} from '@comity/protocol';
import { writeSignedDirectory } from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES, buildDevDirectory } from '../../apps/cli/src/federation/dev-directory';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import type { WitnessingStatus } from '../../apps/cli/src/gateway-client';
import { publishToInbox, quarantineReasonOf, quarantineOf } from '../support/quarantine';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { TEST_PKI_DIRECTORY, testPki } from '../support/test-pki';

const RETRIEVAL_SECONDS = 4;
const run = promisify(execFile);
const cliPath = join(repoRoot(__dirname), 'dist', 'apps', 'cli', 'src', 'main.js');

/** Runs the built `comity` CLI; its exit code and everything it printed. */
async function runCli(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [cliPath, ...args]);
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: `${failed.stdout}${failed.stderr}` };
  }
}

/**
 * Protocol version 4 between real gateway processes: retrieval and non-retrieval evidence
 * signed by the recipient and kept by the sender, checkpoints witnessed and cosigned by peers,
 * and forks of a peer's log (or of one's own) caught. KE speaks version 3 only: it is sent none
 * of it and keeps working.
 */
describe('evidence exchange between peers (protocol version 4)', () => {
  const directoryPath = join(TEST_PKI_DIRECTORY, `directory-exchange-${uuidV7()}.jws`);
  let world: TestFederation;
  let at: Client;
  let federation: string;
  let openedId: string;
  let unopenedId: string;

  beforeAll(async () => {
    const { layout } = await testPki();
    const document: DirectoryDocument = buildDevDirectory(layout, DEV_STATES, {
      now: new Date(Date.now() - 60_000),
    });
    document.policy = {
      ...document.policy,
      retrievalTimeoutSeconds: { mla_request: RETRIEVAL_SECONDS },
    };
    for (const state of document.states) {
      if (state.code === 'KE') state.protocolVersions = [1, 2, 3];
    }
    federation = document.federation;
    writeSignedDirectory(layout, document, directoryPath);
    world = await startTestFederation(
      'exchange',
      { COMITY_CHECKPOINT_INTERVAL_SECONDS: '1', COMITY_WATCHDOG_INTERVAL_MS: '200' },
      { directoryPath },
    );
    at = new Client({ connectionString: world.databaseUrls.AT });
    await at.connect();
  }, 120_000);

  afterAll(async () => {
    await at?.end();
    await world?.stop();
    rmSync(directoryPath, { force: true });
  }, 60_000);

  const auditor = (state: string) => world.client(state, 'auditor');

  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The signed evidence of `type` on AT's timeline of an outbound message, once it is there. */
  const signedAtSender = (messageId: string, type: string) =>
    until(`${type} evidence of ${messageId} at AT`, async () => {
      const { rows } = await at.query<{ signed: Buffer }>(
        `SELECT signed FROM evidence WHERE message_id = $1 AND direction = 'outbound' AND type = $2`,
        [messageId, type],
      );
      return rows[0]?.signed;
    });

  it('sends the sender signed retrieval evidence when the recipient clerk first opens a request', async () => {
    const { id } = await world.client('AT').submit(mlaRequest({ subject: 'Opened at once' }));
    openedId = id;
    await world.client('AT').waitForStatus(id, ['delivered']);
    await world.client('FR').inbound(id);
    await world.client('FR').inbound(id);
    const signed = await signedAtSender(id, 'retrieved');
    const { statement, signer } = authenticateRetrievalEvidence(signed, world.verifier);
    expect(signer.state).toBe('FR');
    expect(statement).toMatchObject({
      type: 'retrieval',
      envelopeId: id,
      from: { state: 'FR', authority: 'fr-central-authority' },
      to: { state: 'AT', authority: 'at-central-authority' },
    });
    // Opened twice, evidence once, at both ends; nothing names the clerk at the sender's.
    const { rows } = await at.query(
      `SELECT 1 FROM evidence WHERE message_id = $1 AND type = 'retrieved'`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(signed.toString()).not.toContain('fr-central-clerk');
    const timeline = (await world.client('AT').outbound(id)).timeline.map((entry) => entry.type);
    expect(timeline).toContain('retrieved');
  });

  it('signs non-retrieval evidence when a request is not opened within its time frame, and retrieval once it is', async () => {
    const { id } = await world.client('AT').submit(mlaRequest({ subject: 'Left unopened' }));
    unopenedId = id;
    const delivered = Date.now();
    await world.client('AT').waitForStatus(id, ['delivered']);
    const signed = await signedAtSender(id, 'not-retrieved');
    expect(Date.now() - delivered).toBeGreaterThanOrEqual(RETRIEVAL_SECONDS * 1000 - 500);
    const { statement } = authenticateRetrievalEvidence(signed, world.verifier);
    expect(statement.type).toBe('non-retrieval');
    expect(new Date(statement.due!).getTime()).toBeLessThanOrEqual(
      new Date(statement.time).getTime(),
    );
    await world.client('FR').inbound(id);
    await signedAtSender(id, 'retrieved');
  });

  it('sends a version 3 State none of it, and its requests work as before', async () => {
    // KE's entry lists versions 1 to 3: the others send it no evidence and no checkpoints.
    const { id } = await world.client('KE').submit(
      mlaRequest({
        senderAuthority: 'ke-central-authority',
        recipient: { state: 'AT', authority: 'at-central-authority' },
      }),
    );
    await world.client('KE').waitForStatus(id, ['delivered']);
    await world.client('AT').inbound(id);
    await auditor('AT').announceCheckpoint();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const ke = new Client({ connectionString: world.databaseUrls.KE });
    await ke.connect();
    try {
      const evidence = await ke.query(
        `SELECT type FROM evidence WHERE message_id = $1 AND direction = 'outbound'`,
        [id],
      );
      expect(evidence.rows.map((row: { type: string }) => row.type)).not.toContain('retrieved');
      expect((await ke.query(`SELECT 1 FROM peer_checkpoint`)).rows).toEqual([]);
    } finally {
      await ke.end();
    }
    // AT keeps its own retrieval evidence all the same.
    const { rows } = await at.query(
      `SELECT 1 FROM evidence WHERE message_id = $1 AND direction = 'inbound' AND type = 'retrieved'`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(await quarantineOf(world, 'KE')).toEqual([]);
    const status = await auditor('AT').witnessing();
    expect(status.witnessedBy.map((entry) => entry.state)).toEqual(['FR']);
  });

  it('has each peer witness the log: cosigned checkpoints, consistency-proven as the log grows', async () => {
    const cosignedUpTo = (size: number) =>
      until(`FR to cosign AT's log up to ${size}`, async () => {
        const status = await auditor('AT').witnessing();
        const fr = status.witnessedBy.find((entry) => entry.state === 'FR');
        return fr && fr.cosignedSize >= size ? status : undefined;
      });
    const first = await auditor('AT').announceCheckpoint();
    await cosignedUpTo(first.size);
    const { id } = await world.client('AT').submit(mlaRequest({ subject: 'Grows the log' }));
    await world.client('AT').waitForStatus(id, ['delivered']);
    const second = await auditor('AT').announceCheckpoint();
    expect(second.size).toBeGreaterThan(first.size);
    await cosignedUpTo(second.size);
    // FR holds AT's checkpoints; AT holds FR's: both ways, nothing raised.
    const atHeld = (await auditor('FR').witnessing()).peers.find((peer) => peer.state === 'AT');
    expect(atHeld!.size).toBeGreaterThanOrEqual(second.size);
    await until('AT to witness FR', async () =>
      (await auditor('AT').witnessing()).peers.find((peer) => peer.state === 'FR'),
    );
    expect((await auditor('FR').witnessing()).alerts).toEqual([]);
    // The cosignature is FR's, on AT's checkpoint, kept by AT.
    const { rows } = await at.query<{ note: string }>(
      `SELECT note FROM checkpoint_cosignature WHERE witness = 'FR' ORDER BY size DESC LIMIT 1`,
    );
    expect(rows[0]!.note).toContain(`\u2014 ${witnessName(federation, 'FR')} `);
  });

  it('puts the retrieval evidence and the witnesses in bundles, which verify offline and refuse a forked witness', async () => {
    await auditor('AT').announceCheckpoint();
    const opened = verifyEvidenceBundle(
      await auditor('AT').evidenceBundle(openedId),
      world.verifier,
    );
    expect(opened.account.join('\n')).toMatch(
      /opened by FR\/fr-central-authority at \S+: retrieval evidence \S+ signed by FR's gateway \(verified\)/,
    );
    expect(opened.account.join('\n')).toMatch(
      /witnessed: FR's gateway cosigned this log at size \d+ on \S+, and checkpoint.txt extends it/,
    );
    const unopened = verifyEvidenceBundle(
      await auditor('AT').evidenceBundle(unopenedId),
      world.verifier,
    );
    expect(unopened.account.join('\n')).toMatch(
      /not opened by FR\/fr-central-authority by \S+: non-retrieval evidence/,
    );
    // FR's bundle of the same request holds the evidence FR signed itself.
    const atFr = verifyEvidenceBundle(await auditor('FR').evidenceBundle(openedId), world.verifier);
    expect(atFr.account.join('\n')).toContain('opened by FR/fr-central-authority');

    // A witness's cosignature on a checkpoint the bundle's log does not extend: a fork, even
    // with the manifest's digests fixed and signed again with AT's key.
    const files = unzipSync(await auditor('AT').evidenceBundle(openedId));
    const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as {
      origin: string;
      files: Record<string, string>;
    };
    const at = world.signingIdentity('AT');
    const fr = world.signingIdentity('FR');
    const witnessed = parseSignedCheckpoint(strFromU8(files['witnesses/FR.txt']!)).checkpoint;
    const forged = cosignCheckpoint(
      signCheckpoint(
        { origin: manifest.origin, size: witnessed.size, root: leafHash(Buffer.from('forked')) },
        { keyName: manifest.origin, suite: at.suite, key: at.key },
      ).note,
      { keyName: witnessName(federation, 'FR'), suite: fr.suite, key: fr.key },
      new Date(),
    );
    files['witnesses/FR.txt'] = strToU8(forged);
    manifest.files['witnesses/FR.txt'] = createHash('sha256').update(forged).digest('base64url');
    files['manifest.json'] = strToU8(JSON.stringify(manifest, null, 2));
    files['manifest.jws'] = strToU8(signBundleManifest(files['manifest.json'], at));
    expect(() => verifyEvidenceBundle(Buffer.from(zipSync(files)), world.verifier)).toThrow(
      `witnesses/FR.txt: FR cosigned a checkpoint of size ${witnessed.size} that checkpoint.txt`,
    );
  });

  it('catches a forked log: two checkpoints signed by the peer that cannot both be true', async () => {
    const held = await until('FR to hold a checkpoint of AT', async () =>
      (await auditor('FR').witnessing()).peers.find((peer) => peer.state === 'AT'),
    );
    const signer = world.signingIdentity('AT');
    const origin = parseSignedCheckpoint(
      (await at.query<{ note: string }>(`SELECT note FROM evidence_checkpoint LIMIT 1`)).rows[0]!
        .note,
    ).checkpoint.origin;
    const sign = (size: number, root: Buffer) =>
      signCheckpoint(
        { origin, size, root },
        { keyName: origin, suite: signer.suite, key: signer.key },
      ).note;
    // The same size as FR holds, another root: signed with AT's real key (a compromised or
    // misbehaving log).
    const forged = Array.from({ length: held.size + 3 }, (_, index) =>
      leafHash(Buffer.from(`forged ${index}`)),
    );
    const sameSize = sign(held.size, rootOf(forged.slice(0, held.size)));
    await publishToInbox(
      world.amqpUrl,
      'FR',
      encodeCheckpointAnnouncement({ v: 1, checkpoint: sameSize, oldSize: 0, consistency: [] }),
      'checkpoint',
    );
    // A larger checkpoint whose "proof" from FR's checkpoint does not hold.
    const larger = sign(held.size + 3, rootOf(forged));
    await publishToInbox(
      world.amqpUrl,
      'FR',
      encodeCheckpointAnnouncement({
        v: 1,
        checkpoint: larger,
        oldSize: held.size,
        consistency: consistencyProof(forged, held.size),
      }),
      'checkpoint',
    );
    const alerts = await until('two fork alerts at FR', async () => {
      const status: WitnessingStatus = await auditor('FR').witnessing();
      return status.alerts.length >= 2 ? status.alerts : undefined;
    });
    expect(alerts.map((alert) => [alert.state, alert.kind, alert.detail]).sort()).toEqual([
      [
        'AT',
        'peer-fork',
        `size ${held.size + 3} is not an extension of the checkpoint of size ${held.size} seen before`,
      ],
      ['AT', 'peer-fork', `two checkpoints of size ${held.size} with different roots`],
    ]);
    const sameSizeAlert = alerts.find((alert) => alert.note === sameSize)!;
    expect(parseSignedCheckpoint(sameSizeAlert.conflictingNote!).checkpoint.size).toBe(held.size);
    // The CLI says so too, and exits 1.
    const cli = await runCli(
      'evidence',
      'witnessing',
      '--node',
      world.federation.node('FR').url,
      '--api-key',
      world.apiKey('FR', 'auditor'),
    );
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`ALERT peer-fork (AT)`);
    expect(cli.out).toMatch(/cosigned by AT up to size \d+/);
    // FR kept witnessing AT's real log: the forged head was never taken.
    const after = (await auditor('FR').witnessing()).peers.find((peer) => peer.state === 'AT');
    expect(after!.root).toBe(held.root);
  });

  it("raises its own log's fork when a witness cosigned a checkpoint of it that it never signed", async () => {
    const signer = world.signingIdentity('AT');
    const latest = (
      await at.query<{ note: string }>(
        `SELECT note FROM evidence_checkpoint c ORDER BY c.size DESC LIMIT 1`,
      )
    ).rows[0]!.note;
    const { origin, size } = parseSignedCheckpoint(latest).checkpoint;
    const other = signCheckpoint(
      { origin, size, root: leafHash(Buffer.from('not the real root')) },
      { keyName: origin, suite: signer.suite, key: signer.key },
    ).note;
    const fr = world.signingIdentity('FR');
    const cosigned = cosignCheckpoint(
      other,
      { keyName: witnessName(federation, 'FR'), suite: fr.suite, key: fr.key },
      new Date(),
    );
    await publishToInbox(world.amqpUrl, 'AT', encodeCosignatureReply(cosigned), 'cosignature');
    const alert = await until('an own-fork alert at AT', async () =>
      (await auditor('AT').witnessing()).alerts.find((entry) => entry.kind === 'own-fork'),
    );
    expect(alert).toMatchObject({
      state: 'FR',
      detail: `FR holds a checkpoint of this log of size ${size} that this node did not sign`,
      conflictingNote: latest,
    });
  });

  it('quarantines evidence and checkpoints that are not what they claim, naming why', async () => {
    const fr = world.signingIdentity('FR');
    const ke = world.signingIdentity('KE');
    const origin = parseSignedCheckpoint(
      (await at.query<{ note: string }>(`SELECT note FROM evidence_checkpoint LIMIT 1`)).rows[0]!
        .note,
    ).checkpoint.origin;
    const root = leafHash(Buffer.from('x'));
    const cases: Array<[string, Buffer, string, string]> = [
      ['garbage', Buffer.from('{"v":1}'), 'checkpoint', 'malformed-checkpoint'],
      [
        "AT's log signed by FR's key",
        encodeCheckpointAnnouncement({
          v: 1,
          checkpoint: signCheckpoint(
            { origin, size: 1, root },
            { keyName: origin, suite: fr.suite, key: fr.key },
          ).note,
          oldSize: 0,
          consistency: [],
        }),
        'checkpoint',
        'invalid-signature',
      ],
      [
        'a log of no State',
        encodeCheckpointAnnouncement({
          v: 1,
          checkpoint: signCheckpoint(
            { origin: 'elsewhere/ZZ/evidence', size: 1, root },
            { keyName: 'elsewhere/ZZ/evidence', suite: fr.suite, key: fr.key },
          ).note,
          oldSize: 0,
          consistency: [],
        }),
        'checkpoint',
        'checkpoint-signer-mismatch',
      ],
      [
        'retrieval evidence for an envelope AT never sent',
        issueRetrievalEvidence({
          signer: ke,
          type: 'retrieval',
          envelopeId: uuidV7(),
          envelopeDigest: 'A'.repeat(43),
          from: { state: 'KE', authority: 'ke-central-authority' },
          to: { state: 'AT', authority: 'at-central-authority' },
          now: new Date(),
        }).bytes,
        'evidence',
        'evidence-envelope-mismatch',
      ],
    ];
    for (const [name, bytes, type, reason] of cases) {
      const target = type === 'evidence' ? 'AT' : 'FR';
      const messageId = await publishToInbox(world.amqpUrl, target, bytes, type);
      expect(`${name} → ${await quarantineReasonOf(world, target, messageId)}`).toBe(
        `${name} → ${reason}`,
      );
    }
  });

  it('leaves every log valid under audit, on every node', async () => {
    for (const state of ['AT', 'FR', 'KE']) {
      await auditor(state)
        .signEvidenceCheckpoint()
        .catch(() => undefined);
      expect(await auditor(state).evidenceAudit()).toMatchObject({ ok: true, firstBadLeaf: null });
    }
  });
});
