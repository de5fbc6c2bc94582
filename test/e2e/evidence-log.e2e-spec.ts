import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createPublicKey } from 'node:crypto';
import { verifySignedCheckpoint } from '@comity/protocol';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { GatewayClient } from '../../apps/cli/src/gateway-client';
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

  beforeAll(async () => {
    world = await startTestFederation('evidence', { COMITY_CHECKPOINT_INTERVAL_SECONDS: '1' });
    auditor = new GatewayClient(world.federation.node('AT').url, world.apiKey('AT', 'auditor'));
    database = new Client({ connectionString: world.databaseUrls.AT });
    await database.connect();
  }, 120_000);

  afterAll(async () => {
    await database?.end();
    await world?.stop();
  }, 60_000);

  const audit = async (): Promise<{ code: number; out: string }> => {
    try {
      const { stdout } = await run(process.execPath, [
        cli,
        'evidence',
        'audit',
        '--node',
        world.federation.node('AT').url,
        '--api-key',
        world.apiKey('AT', 'auditor'),
      ]);
      return { code: 0, out: stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: `${failed.stdout}${failed.stderr}` };
    }
  };

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
    const ok = await audit();
    expect(ok.out).toMatch(
      /^valid: \d+ leaves recomputed from their rows, \d+ signed checkpoints? verified/,
    );
    expect(ok.code).toBe(0);
  }, 90_000);

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
