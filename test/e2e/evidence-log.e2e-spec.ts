import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createPublicKey } from 'node:crypto';
import { parseSignedCheckpoint, signCheckpoint, verifySignedCheckpoint } from '@comity/protocol';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { GatewayClient } from '../../apps/cli/src/gateway-client';
import { startLocalTsa, type LocalTsa } from '../support/local-tsa';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

const run = promisify(execFile);

/**
 * The evidence log of real gateway processes: every evidence and audit event becomes a leaf,
 * checkpoints are signed with the gateway's key, and `comity evidence audit` recomputes the
 * log from the database and names the first leaf whose row was changed or deleted behind the
 * node's back.
 */
describe('the evidence log', () => {
  const cli = join(repoRoot(__dirname), 'dist', 'apps', 'cli', 'src', 'main.js');
  let world: TestFederation;
  let auditor: GatewayClient;
  let database: Client;
  let tsa: LocalTsa;

  beforeAll(async () => {
    tsa = await startLocalTsa();
    // AT time-stamps its checkpoints at a local RFC 3161 TSA (openssl); FR's nodes share the
    // setting, harmlessly.
    world = await startTestFederation('evidence', {
      COMITY_CHECKPOINT_INTERVAL_SECONDS: '1',
      COMITY_TSA_URL: tsa.url,
      COMITY_TSA_CA: tsa.caPath,
    });
    auditor = new GatewayClient(world.federation.node('AT').url, world.apiKey('AT', 'auditor'));
    database = new Client({ connectionString: world.databaseUrls.AT });
    await database.connect();
  }, 120_000);

  afterAll(async () => {
    await database?.end();
    await world?.stop();
    await tsa?.stop();
  }, 60_000);

  /** Runs `comity evidence …`; the exit code and everything it printed. */
  const comity = async (...args: string[]): Promise<{ code: number; out: string }> => {
    try {
      const { stdout } = await run(process.execPath, [cli, 'evidence', ...args]);
      return { code: 0, out: stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: `${failed.stdout}${failed.stderr}` };
    }
  };
  /** `--node` and `--api-key` of AT's auditor. */
  const atAuditor = () => [
    '--node',
    world.federation.node('AT').url,
    '--api-key',
    world.apiKey('AT', 'auditor'),
  ];
  const audit = () => comity('audit', ...atAuditor());

  it('logs every evidence of a request as a leaf and signs checkpoints over them', async () => {
    for (let i = 0; i < 5; i++) {
      const { id } = await world.client('AT').submit(mlaRequest({ subject: `Evidence ${i}` }));
      await world.client('AT').waitForStatus(id, ['delivered']);
    }
    const checkpoint = await auditor.signEvidenceCheckpoint();
    const { rows } = await database.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM evidence`,
    );
    // Every message evidence, and the audit events, each a leaf; nothing is left queued.
    expect(checkpoint.size).toBeGreaterThanOrEqual(rows[0]!.count);
    // More than ten leaves: their order is numeric (10 after 9), never textual.
    expect(checkpoint.size).toBeGreaterThan(10);
    const pending = await database.query(`SELECT 1 FROM evidence_pending`);
    expect(pending.rowCount).toBe(0);
    // The note verifies with the AT gateway's signing key; its leaves hold no subject.
    const key = createPublicKey(world.signingIdentity('AT').key);
    const signed = verifySignedCheckpoint(checkpoint.note, {
      keyName: checkpoint.note.split('\n')[0]!,
      suite: world.signingIdentity('AT').suite,
      key,
    });
    expect(signed.size).toBe(checkpoint.size);
    const leaves = await database.query<{ leaf: Buffer }>(`SELECT leaf FROM evidence_leaf`);
    expect(leaves.rows.map((row) => row.leaf.toString()).join('\n')).not.toMatch(/Evidence \d/);
    // Who submitted is on the timeline; who read the content is an audit event, both leaves.
    const last = await database.query<{ detail: string; message_id: string }>(
      `SELECT detail, message_id FROM evidence WHERE type = 'submitted' ORDER BY id DESC LIMIT 1`,
    );
    expect(last.rows[0]!.detail).toBe('by at-central-clerk');
    await world.client('FR').inbound(last.rows[0]!.message_id);
    const fr = new Client({ connectionString: world.databaseUrls.FR });
    await fr.connect();
    try {
      const frAuditor = new GatewayClient(
        world.federation.node('FR').url,
        world.apiKey('FR', 'auditor'),
      );
      await frAuditor.signEvidenceCheckpoint();
      const read = await fr.query<{ leaf: Buffer }>(
        `SELECT l.leaf FROM evidence_leaf l JOIN audit_event a ON l.source = 'audit' AND a.id = l.source_id
          WHERE a.action = $1`,
        [`read inbound message ${last.rows[0]!.message_id}`],
      );
      expect(JSON.parse(read.rows[0]!.leaf.toString())).toMatchObject({
        log: 'audit',
        principal: 'fr-central-clerk',
        outcome: 'read',
      });
    } finally {
      await fr.end();
    }
    const ok = await audit();
    expect(ok.out).toMatch(
      /^valid: \d+ leaves recomputed from their rows, \d+ signed checkpoints? verified/,
    );
    expect(ok.code).toBe(0);
  }, 90_000);

  describe('bundles', () => {
    let dir: string;
    let bundle: Buffer;
    let messageId: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'comity-bundle-'));
      const { id } = await world.client('AT').submit(mlaRequest({ subject: 'Bundle me' }));
      await world.client('AT').waitForStatus(id, ['delivered']);
      messageId = id;
      const out = join(dir, 'bundle.zip');
      expect((await comity('export', id, '--out', out, ...atAuditor())).code).toBe(0);
      bundle = readFileSync(out);
    }, 60_000);

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const verify = async (bytes: Buffer): Promise<{ code: number; out: string }> => {
      const file = join(dir, `candidate-${Math.random().toString(36).slice(2)}.zip`);
      writeFileSync(file, bytes);
      return comity('verify', file, '--anchor', world.trustAnchorPath);
    };

    /** The bundle with one file replaced; `manifest: true` also updates the manifest's digest. */
    const tampered = (
      name: string,
      change: (bytes: Uint8Array) => Uint8Array,
      manifest: boolean,
    ): Buffer => {
      const files: Record<string, Uint8Array> = unzipSync(bundle);
      files[name] = change(files[name]!);
      if (manifest) {
        const parsed = JSON.parse(strFromU8(files['manifest.json']!)) as {
          files: Record<string, string>;
        };
        parsed.files[name] = createHash('sha256').update(files[name]!).digest('base64url');
        files['manifest.json'] = strToU8(JSON.stringify(parsed));
      }
      return Buffer.from(zipSync(files));
    };
    const flip = (bytes: Uint8Array, at = 40): Uint8Array => {
      const copy = Uint8Array.from(bytes);
      copy[at] = copy[at]! ^ 1;
      return copy;
    };
    const firstLeaf = () =>
      Object.keys(unzipSync(bundle)).find((name) => name.startsWith('leaves/'))!;

    it('holds the envelope, the receipt and the leaves, and verifies offline with the root alone', async () => {
      const names = Object.keys(unzipSync(bundle)).sort();
      expect(names).toEqual(
        expect.arrayContaining([
          'checkpoint.txt',
          'directory.jws',
          `messages/${messageId}/envelope.json`,
          'manifest.json',
          `messages/${messageId}/receipt.jws`,
          'signing-chain.pem',
        ]),
      );
      expect(names.filter((name) => name.startsWith('leaves/')).length).toBeGreaterThanOrEqual(3);
      const result = await verify(bundle);
      expect(result.out).toContain(`AT/at-central-authority sent mla_request ${messageId}`);
      expect(result.out).toMatch(/delivered at .*signed by FR's gateway/);
      expect(result.out).toMatch(/submitted/);
      expect(result.out).toMatch(
        /checkpoint time-stamped at .* by CN=Comity test TSA \(RFC 3161; TSA certificate not checked/,
      );
      expect(result.code).toBe(0);
      // With the TSA's CA, the token's chain is checked too.
      const file = join(dir, 'with-tsa.zip');
      writeFileSync(file, bundle);
      const chained = await comity(
        'verify',
        file,
        '--anchor',
        world.trustAnchorPath,
        '--tsa-anchor',
        tsa.caPath,
      );
      expect(chained.code).toBe(0);
      expect(chained.out).toContain('TSA certificate chained to the TSA anchor');
      expect(tsa.answered).toBeGreaterThan(0);
    }, 60_000);

    it('bundles a whole case: the request and every case message, each proven', async () => {
      await world.client('FR').waitForCase(messageId, () => true);
      await world
        .client('FR')
        .caseAction(messageId, { kind: 'acknowledgement', reference: 'FR-EV-1' });
      await world.client('AT').waitForCase(messageId, (view) => view.state === 'in_progress');
      const out = join(dir, 'case.zip');
      expect((await comity('export', messageId, '--out', out, ...atAuditor())).code).toBe(0);
      const result = await verify(readFileSync(out));
      expect(result.out).toContain(`case ${messageId}: 2 messages`);
      expect(result.out).toContain('in_progress');
      expect(result.out).toMatch(
        /FR\/fr-central-authority sent acknowledgement .* to AT\/at-central-authority/,
      );
      expect(result.code).toBe(0);
    }, 60_000);

    it.each([
      ['truncated', () => bundle.subarray(0, bundle.length - 200), 'not a readable zip file'],
      ['a leaf changed, manifest kept', () => tampered(firstLeaf(), flip, false), 'was altered'],
      [
        'a leaf changed, manifest updated',
        () => tampered(firstLeaf(), (b) => flip(b, 20), true),
        'is not in the signed tree',
      ],
      [
        'the envelope changed',
        () => tampered(`messages/${messageId}/envelope.json`, (b) => flip(b, 200), true),
        'envelope.json',
      ],
      [
        'the receipt changed',
        () => tampered(`messages/${messageId}/receipt.jws`, (b) => flip(b, 100), true),
        'receipt.jws',
      ],
      [
        'a proof for another tree size',
        () =>
          tampered(
            firstLeaf().replace('leaves/', 'proofs/').replace('.json', '.txt'),
            (b) =>
              strToU8(
                strFromU8(b).replace(/\n(\d+)\n/, (_m, size: string) => `\n${Number(size) + 1}\n`),
              ),
            true,
          ),
        'leads to another checkpoint',
      ],
      [
        'a time-stamp token changed',
        () => tampered('checkpoint.tsr', (b) => flip(b, b.length - 20), true),
        'checkpoint.tsr: the token',
      ],
      [
        'a checkpoint signed by another key',
        () =>
          tampered(
            'checkpoint.txt',
            (b) => {
              const text = strFromU8(b);
              const body = text.slice(0, text.lastIndexOf('\n\n') + 1);
              const { origin, size, root } = parseSignedCheckpoint(text).checkpoint;
              const fr = world.signingIdentity('FR');
              return strToU8(
                signCheckpoint(
                  { origin, size, root },
                  { keyName: origin, suite: fr.suite, key: fr.key },
                ).note.replace(body, body),
              );
            },
            true,
          ),
        'checkpoint.txt: the checkpoint carries no signature',
      ],
    ])(
      'refuses a bundle with %s, exit 1 with the reason',
      async (_what, make, reason) => {
        const result = await verify(make());
        expect(result.out).toContain('invalid:');
        expect(result.out).toContain(reason);
        expect(result.code).toBe(1);
      },
      30_000,
    );
  });

  it('refuses to change or delete a leaf, and the audit finds a row changed behind its back', async () => {
    await expect(database.query(`UPDATE evidence_leaf SET leaf_hash = leaf_hash`)).rejects.toThrow(
      'the evidence log is append-only',
    );
    await expect(database.query(`DELETE FROM evidence_checkpoint`)).rejects.toThrow(
      'the evidence log is append-only',
    );
    const victim = await database.query<{ leaf_index: string; source_id: string }>(
      `SELECT leaf_index::text, source_id::text FROM evidence_leaf
        WHERE source = 'evidence' ORDER BY leaf_index OFFSET 2 LIMIT 1`,
    );
    const { leaf_index: index, source_id: id } = victim.rows[0]!;
    await database.query(`UPDATE evidence SET at = at - interval '1 day' WHERE id = $1`, [id]);
    const changed = await audit();
    expect(changed.code).toBe(1);
    expect(changed.out).toContain(`invalid: leaf ${index}: its evidence row ${id} was changed`);
    expect(changed.out).toContain(`(first bad leaf: ${index})`);

    await database.query(`DELETE FROM evidence WHERE id = $1`, [id]);
    const deleted = await audit();
    expect(deleted.code).toBe(1);
    expect(deleted.out).toContain(`leaf ${index}: its evidence row ${id} was deleted`);
  }, 60_000);
});
