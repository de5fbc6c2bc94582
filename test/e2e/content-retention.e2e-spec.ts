import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { Client } from 'pg';
import { sha256Thumbprint } from '@comity/pki';
import { signBundleManifest, type DirectoryDocument } from '@comity/protocol';
import { writeSignedDirectory } from '../../apps/cli/src/federation/dev-certificates';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { GatewayApiError } from '../../apps/cli/src/gateway-client';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { testPki } from '../support/test-pki';

const run = promisify(execFile);

/** Seconds after which the test federation purges the content of an MLA request. */
const RETENTION_SECONDS = 6;

/**
 * Content retention on real gateway processes: a request delivered and acknowledged, its
 * content purged at both ends after its kind's retention, reads of it answered 410, the
 * evidence log still valid, and the bundles of the purged message verified offline; bundles
 * with an altered manifest signature or a receipt signed by a certificate revoked before are
 * refused.
 */
describe('content retention', () => {
  const cli = join(repoRoot(__dirname), 'dist', 'apps', 'cli', 'src', 'main.js');
  let world: TestFederation;
  let dir: string;
  let messageId: string;
  let atBundle: Buffer;

  beforeAll(async () => {
    world = await startTestFederation('retention', {
      COMITY_CHECKPOINT_INTERVAL_SECONDS: '1',
      // Seconds instead of days, so that the test sees a purge; case messages are kept.
      COMITY_RETENTION_SECONDS: `mla_request=${RETENTION_SECONDS}`,
      COMITY_RETENTION_SWEEP_SECONDS: '1',
    });
    dir = mkdtempSync(join(tmpdir(), 'comity-retention-'));
  }, 120_000);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await world?.stop();
  }, 60_000);

  const comity = async (...args: string[]): Promise<{ code: number; out: string }> => {
    try {
      const { stdout } = await run(process.execPath, [cli, 'evidence', ...args]);
      return { code: 0, out: stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: `${failed.stdout}${failed.stderr}` };
    }
  };
  const auditorOf = (state: string) => [
    '--node',
    world.federation.node(state).url,
    '--api-key',
    world.apiKey(state, 'auditor'),
  ];
  const verify = async (bytes: Buffer): Promise<{ code: number; out: string }> => {
    const file = join(dir, `candidate-${Math.random().toString(36).slice(2)}.zip`);
    writeFileSync(file, bytes);
    return comity('verify', file, '--anchor', world.trustAnchorPath);
  };
  const gone = (read: () => Promise<unknown>): Promise<GatewayApiError | null> =>
    read().then(
      () => null,
      (error: unknown) => {
        if (error instanceof GatewayApiError && error.status === 410) return error;
        throw error;
      },
    );
  async function waitForGone(read: () => Promise<unknown>): Promise<GatewayApiError> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const error = await gone(read);
      if (error) return error;
      if (Date.now() > deadline) throw new Error('the content was not purged in time');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it('purges the content at both ends after the retention: reads answer 410 naming the date', async () => {
    const { id } = await world.client('AT').submit(mlaRequest({ subject: 'Purge me' }));
    messageId = id;
    await world.client('AT').waitForStatus(id, ['delivered']);
    // Read while it is there; acknowledged by FR, a case message that is kept.
    expect((await world.client('FR').inbound(id)).content).toBeDefined();
    await world.client('FR').waitForCase(id, () => true);
    await world.client('FR').caseAction(id, { kind: 'acknowledgement', reference: 'FR-RET-1' });
    await world.client('AT').waitForCase(id, (view) => view.state === 'in_progress');

    const atRead = await waitForGone(() => world.client('AT').outbound(id));
    expect(atRead.message).toMatch(
      new RegExp(
        `the content of message ${id} was purged under the retention policy on \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    const frRead = await waitForGone(() => world.client('FR').inbound(id));
    expect(frRead.message).toContain('purged under the retention policy');
    expect((await gone(() => world.client('AT').envelope(id)))?.status).toBe(410);
    // Metadata stays for those who may not read content; the receipt stays.
    expect((await world.client('AT', 'operator').outbound(id)).status).toBe('delivered');
    expect((await world.client('AT').receipt(id)).length).toBeGreaterThan(100);

    for (const state of ['AT', 'FR']) {
      const database = new Client({ connectionString: world.databaseUrls[state] });
      await database.connect();
      try {
        const table = state === 'AT' ? 'outbound_message' : 'inbound_message';
        const stored = await database.query<Record<string, unknown>>(
          `SELECT envelope, envelope_header, content_purged_at FROM ${table} WHERE id = $1`,
          [id],
        );
        expect(stored.rows[0]).toMatchObject({ envelope: null });
        expect(String(stored.rows[0]!.envelope_header)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
        const title = await database.query(`SELECT title FROM case_file WHERE id = $1`, [id]);
        expect(title.rows[0]).toEqual({ title: null });
        const purge = await database.query(
          `SELECT 1 FROM evidence WHERE message_id = $1 AND type = 'content-purged'`,
          [id],
        );
        expect(purge.rowCount).toBe(1);
      } finally {
        await database.end();
      }
    }
  }, 90_000);

  it('leaves the evidence log valid at both ends', async () => {
    for (const state of ['AT', 'FR']) {
      const audit = await comity('audit', ...auditorOf(state));
      expect(audit.out).toMatch(/^valid: \d+ leaves recomputed from their rows/);
      expect(audit.code).toBe(0);
    }
  }, 60_000);

  it("verifies the purged message's bundles offline, saying when the content was purged", async () => {
    const out = join(dir, 'at.zip');
    expect((await comity('export', messageId, '--out', out, ...auditorOf('AT'))).code).toBe(0);
    atBundle = readFileSync(out);
    const names = Object.keys(unzipSync(atBundle));
    expect(names).toContain(`messages/${messageId}/envelope-header.jws`);
    expect(names).not.toContain(`messages/${messageId}/envelope.json`);
    expect(names).toContain('manifest.jws');
    const result = await verify(atBundle);
    expect(result.out).toContain(`AT/at-central-authority sent mla_request ${messageId}`);
    expect(result.out).toMatch(
      /content purged under AT's retention policy on \d{4}-\d\d-\d\dT[\d:.]+Z/,
    );
    expect(result.out).toMatch(/delivered at .*signed by FR's gateway/);
    expect(result.out).toMatch(
      new RegExp(
        `case ${messageId}: 2 messages; its state, as stated by AT's gateway at .*: in_progress`,
      ),
    );
    expect(result.code).toBe(0);

    const frOut = join(dir, 'fr.zip');
    expect((await comity('export', messageId, '--out', frOut, ...auditorOf('FR'))).code).toBe(0);
    const fr = await verify(readFileSync(frOut));
    expect(fr.out).toContain("content purged under FR's retention policy on");
    expect(fr.code).toBe(0);
  }, 60_000);

  /** The AT bundle with some files replaced, the manifest's digests updated and, if asked, signed again by AT. */
  const rebuilt = (changes: Record<string, Uint8Array>, resign: boolean): Buffer => {
    const files: Record<string, Uint8Array> = unzipSync(atBundle);
    Object.assign(files, changes);
    const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as {
      files: Record<string, string>;
    };
    for (const name of Object.keys(changes)) {
      if (name.startsWith('manifest.')) continue;
      manifest.files[name] = createHash('sha256').update(files[name]!).digest('base64url');
    }
    if (resign) {
      files['manifest.json'] = strToU8(JSON.stringify(manifest, null, 2));
      files['manifest.jws'] = strToU8(
        signBundleManifest(files['manifest.json'], world.signingIdentity('AT')),
      );
    }
    return Buffer.from(zipSync(files));
  };

  it('refuses a bundle whose manifest signature was altered', async () => {
    const jws = strFromU8(unzipSync(atBundle)['manifest.jws']!);
    const flipped = `${jws.slice(0, -5)}${jws.at(-5) === 'A' ? 'B' : 'A'}${jws.slice(-4)}`;
    const result = await verify(rebuilt({ 'manifest.jws': strToU8(flipped) }, false));
    expect(result.out).toContain('invalid: manifest.jws:');
    expect(result.out).toContain('signature');
    expect(result.code).toBe(1);

    // A manifest changed (the case state) under the old signature: refused too.
    const files = unzipSync(atBundle);
    const changed = strFromU8(files['manifest.json']!).replace('"in_progress"', '"closed"');
    const forged = Buffer.from(zipSync({ ...files, 'manifest.json': strToU8(changed) }));
    const refused = await verify(forged);
    expect(refused.out).toContain('manifest.jws: it signs another manifest than manifest.json');
    expect(refused.code).toBe(1);
  }, 30_000);

  /** The bundle with a directory (signed by the federation's directory signer) revoking FR's signing certificate. */
  const revokingFr = async (revokedAt: Date): Promise<Buffer> => {
    const { layout } = await testPki();
    const files = unzipSync(atBundle);
    const signed = strFromU8(files['directory.jws']!).trim();
    const document = JSON.parse(
      Buffer.from(signed.split('.')[1]!, 'base64url').toString('utf8'),
    ) as DirectoryDocument;
    const frSigning = new X509Certificate(readFileSync(layout.states.FR!.signingCertificate));
    const revoking: DirectoryDocument = {
      ...document,
      version: document.version + 1,
      revokedCertificates: [
        ...(document.revokedCertificates ?? []),
        {
          sha256: sha256Thumbprint(frSigning),
          revokedAt: revokedAt.toISOString(),
          reason: 'key compromise',
        },
      ],
    };
    const path = join(dir, `directory-${Math.random().toString(36).slice(2)}.jws`);
    writeSignedDirectory(layout, revoking, path);
    return rebuilt({ 'directory.jws': readFileSync(path) }, true);
  };
  const receiptTime = (): Date => {
    const receipt = strFromU8(unzipSync(atBundle)[`messages/${messageId}/receipt.jws`]!);
    return new Date(
      (
        JSON.parse(Buffer.from(receipt.split('.')[1]!, 'base64url').toString('utf8')) as {
          time: string;
        }
      ).time,
    );
  };

  it("refuses a bundle whose receipt signer's certificate was revoked before it signed", async () => {
    const result = await verify(await revokingFr(new Date(receiptTime().getTime() - 1000)));
    expect(result.out).toMatch(
      new RegExp(
        `invalid: messages/${messageId}/receipt.jws was signed at .* by FR's certificate x5t#S256 [\\w-]+, revoked at .* \\(key compromise\\), before it signed`,
      ),
    );
    expect(result.code).toBe(1);
  }, 30_000);

  it('keeps the signatures a certificate made before its revocation valid', async () => {
    // Revoked now: after FR signed the receipt and the acknowledgement in the bundle.
    const result = await verify(await revokingFr(new Date()));
    expect(result.out).toMatch(/delivered at .*signed by FR's gateway/);
    expect(result.code).toBe(0);
  }, 30_000);
});
