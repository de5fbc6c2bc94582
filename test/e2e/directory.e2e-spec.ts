import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { sha256Thumbprint } from '@comity/pki';
import { uuidV7, type DirectoryDocument } from '@comity/protocol';
import { writeSignedDirectory } from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES, buildDevDirectory } from '../../apps/cli/src/federation/dev-directory';
import { GatewayApiError } from '../../apps/cli/src/gateway-client';
import {
  createTestFederation,
  sealFor,
  type TestFederation as Fixture,
} from '../../libs/protocol/test-support/federation';
import { publishToInbox, quarantineReasonOf } from '../support/quarantine';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { TEST_PKI_DIRECTORY, testPki } from '../support/test-pki';

/**
 * The signed directory of competent authorities: searched through the API, refreshed by the
 * nodes without a restart when a newer signed edition appears, and its revocations enforced.
 */
describe('the signed federation directory', () => {
  let world: TestFederation;
  let f: Fixture;
  let document: DirectoryDocument;
  const directoryPath = join(TEST_PKI_DIRECTORY, `directory-${uuidV7()}.jws`);

  let layout: Awaited<ReturnType<typeof testPki>>['layout'];
  const publish = (edition: DirectoryDocument) =>
    writeSignedDirectory(layout, edition, directoryPath);

  beforeAll(async () => {
    layout = (await testPki()).layout;
    document = buildDevDirectory(layout, DEV_STATES, { now: new Date(Date.now() - 60_000) });
    writeSignedDirectory(layout, document, directoryPath);
    world = await startTestFederation(
      'directory',
      { COMITY_DIRECTORY_REFRESH_SECONDS: '1' },
      { directoryPath },
    );
    f = await createTestFederation(['AT', 'FR', 'KE'], TEST_PKI_DIRECTORY);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
    rmSync(directoryPath, { force: true });
  }, 60_000);

  const versionAt = async (state: string) =>
    (
      (await fetch(`${world.federation.node(state).url}/v1/directory`, {
        headers: world.client(state).authorization,
      }).then((r) => r.json())) as {
        version: number;
      }
    ).version;

  async function waitForVersion(version: number): Promise<void> {
    for (let tries = 0; tries < 100; tries += 1) {
      const versions = await Promise.all(['AT', 'FR', 'KE'].map(versionAt));
      if (versions.every((held) => held === version)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the nodes did not take directory version ${version}`);
  }

  it('lets clerks search the competent authorities by State and type', async () => {
    const url = `${world.federation.node('AT').url}/v1/directory/authorities`;
    const extradition = (await fetch(`${url}?state=FR&type=extradition_authority`, {
      headers: world.client('AT').authorization,
    }).then((r) => r.json())) as Array<{ id: string; state: string }>;
    expect(extradition.map((authority) => `${authority.state}/${authority.id}`)).toEqual([
      'FR/fr-extradition-authority',
    ]);
    const mla = (await fetch(`${url}?type=mla_central_authority`, {
      headers: world.client('AT').authorization,
    }).then((r) => r.json())) as Array<{
      id: string;
    }>;
    expect(mla.map((authority) => authority.id).sort()).toEqual([
      'at-central-authority',
      'fr-central-authority',
      'ke-central-authority',
    ]);
    expect(
      (await fetch(`${url}?type=ministry_of_magic`, { headers: world.client('AT').authorization }))
        .status,
    ).toBe(400);
    expect(await versionAt('AT')).toBe(document.version);
  });

  it('takes a newer signed edition without a restart and ignores older, unsigned or garbled ones', async () => {
    const newer = { ...document, version: document.version + 1, issued: new Date().toISOString() };
    publish(newer);
    await waitForVersion(newer.version);

    publish({ ...document, version: document.version - 5 });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await versionAt('AT')).toBe(newer.version);

    writeFileSync(directoryPath, JSON.stringify({ ...newer, version: newer.version + 10 }));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await versionAt('FR')).toBe(newer.version);
    expect((await fetch(`${world.federation.node('FR').url}/health`)).status).toBe(200);
    document = newer;
  });

  it('applies the federation policy of the edition in force (the stricter size limit)', async () => {
    const strict = {
      ...document,
      version: document.version + 1,
      issued: new Date().toISOString(),
      policy: { maxEnvelopeBytes: 65_536, clockSkewSeconds: 300 },
    };
    publish(strict);
    await waitForVersion(strict.version);
    const big = sealFor(
      f,
      'AT',
      'FR',
      {},
      {
        legalBasis: 'x',
        urgency: 'routine',
        deadline: null,
        subject: 'Large',
        body: 'x'.repeat(100_000),
        attachments: [],
      },
    );
    const messageId = await publishToInbox(world.amqpUrl, 'FR', big.bytes);
    const reason = await quarantineReasonOf(world, 'FR', messageId);
    expect(reason).toBe('envelope-too-large');
    document = strict;
  });

  it("enforces revocation: KE's revoked signing key is refused, and nobody encrypts to KE's revoked encryption key", async () => {
    const kenyaSigning = new X509Certificate(readFileSync(layout.states.KE!.signingCertificate));
    const kenyaEncryption = new X509Certificate(
      readFileSync(layout.states.KE!.encryptionCertificate),
    );
    const now = new Date().toISOString();
    const revoking = {
      ...document,
      version: document.version + 1,
      issued: now,
      revokedCertificates: [
        { sha256: sha256Thumbprint(kenyaSigning), revokedAt: now, reason: 'key compromise' },
        { sha256: sha256Thumbprint(kenyaEncryption), revokedAt: now, reason: 'key compromise' },
      ],
    };
    publish(revoking);
    await waitForVersion(revoking.version);

    // Sending to KE: refused at once, naming why.
    const refusal = await world
      .client('AT')
      .submit(mlaRequest({ recipient: { state: 'KE', authority: 'ke-central-authority' } }))
      .catch((error: unknown) => error);
    expect((refusal as GatewayApiError).status).toBe(400);
    expect((refusal as GatewayApiError).message).toMatch(/revoked/);

    // A message signed with KE's revoked key: quarantined by AT with the reason.
    const messageId = await publishToInbox(world.amqpUrl, 'AT', sealFor(f, 'KE', 'AT').bytes);
    const reason = await quarantineReasonOf(world, 'AT', messageId);
    expect(reason).toBe('certificate-revoked');

    // Between the others, business goes on.
    const { id } = await world.client('AT').submit(mlaRequest());
    expect(
      (await world.client('AT').waitForStatus(id, ['delivered', 'failed', 'rejected'])).status,
    ).toBe('delivered');
  });
});
