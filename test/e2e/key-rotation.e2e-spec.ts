import { GatewayClient } from '../../apps/cli/src/gateway-client';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { generateKeyPair, issueCertificate } from '@comity/pki';
import { uuidV7 } from '@comity/protocol';
import { writeSignedDirectory } from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES, buildDevDirectory } from '../../apps/cli/src/federation/dev-directory';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { TEST_PKI_DIRECTORY, testPki } from '../support/test-pki';

/** Issues FR a new signing and encryption key under its State CA, in a folder of its own. */
async function issueNewFranceKeys(directory: string): Promise<void> {
  const stateDirectory = join(TEST_PKI_DIRECTORY, 'states', 'FR');
  const stateCa = {
    certificate: new X509Certificate(readFileSync(join(stateDirectory, 'state-ca.crt.pem'))),
    privateKey: createPrivateKey(readFileSync(join(stateDirectory, 'state-ca.key.pem'))),
  };
  mkdirSync(directory, { recursive: true });
  copyFileSync(join(stateDirectory, 'state-ca.crt.pem'), join(directory, 'state-ca.crt.pem'));
  const period = {
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 30 * 86_400_000),
  };
  for (const [purpose, kind] of [
    ['signing', 'ed25519'],
    ['encryption', 'x25519'],
  ] as const) {
    const keys = await generateKeyPair(kind);
    const certificate = await issueCertificate({
      profile: purpose,
      subject: {
        country: 'FR',
        organization: 'Comity Federation (development)',
        commonName: `Comity gateway FR ${purpose} (rolled)`,
      },
      publicKey: keys.publicKey,
      issuer: stateCa,
      ...period,
    });
    writeFileSync(join(directory, `gateway-${purpose}.crt.pem`), certificate.toString());
    writeFileSync(
      join(directory, `gateway-${purpose}.key.pem`),
      keys.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      { mode: 0o600 },
    );
  }
}

/**
 * FR rolls to new keys while requests are in flight: the directory lists old and new keys during
 * the overlap, FR keeps its old decryption key for envelopes sealed before the switch, and
 * nothing is lost.
 */
describe('key rotation with messages in flight', () => {
  let world: TestFederation;
  const directoryPath = join(TEST_PKI_DIRECTORY, `directory-rotation-${uuidV7()}.jws`);
  const newKeys = join(TEST_PKI_DIRECTORY, `fr-rolled-${uuidV7()}`);

  beforeAll(async () => {
    const { layout } = await testPki();
    writeSignedDirectory(
      layout,
      buildDevDirectory(layout, DEV_STATES, { now: new Date(Date.now() - 60_000) }),
      directoryPath,
    );
    world = await startTestFederation(
      'rotation',
      { COMITY_DIRECTORY_REFRESH_SECONDS: '1', COMITY_RECEIPT_TIMEOUT_SECONDS: '3' },
      { directoryPath },
    );
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
    rmSync(directoryPath, { force: true });
    rmSync(newKeys, { recursive: true, force: true });
  }, 60_000);

  it('delivers everything sent before, during and after the switch; receipts signed with the new key are accepted', async () => {
    const { layout } = await testPki();
    const austria = world.client('AT');
    const france = world.federation.node('FR');

    // FR's evidence log signs a checkpoint with the old key before the switch.
    const frAuditor = () =>
      new GatewayClient(world.federation.node('FR').url, world.apiKey('FR', 'auditor'));
    const first = await austria.submit(mlaRequest({ subject: 'Before the checkpoint' }));
    await austria.waitForStatus(first.id, ['delivered']);
    const beforeSwitch = await frAuditor().signEvidenceCheckpoint();

    // In flight: sealed to FR's old encryption key while FR is down for the switch.
    await france.stop();
    const before = await Promise.all(
      Array.from({ length: 20 }, () =>
        austria.submit(mlaRequest({ subject: 'Before the switch' })),
      ),
    );

    // 1. The directory lists both keys, the new one first (senders take the first valid one).
    await issueNewFranceKeys(newKeys);
    const overlap = buildDevDirectory(layout, DEV_STATES);
    const fr = overlap.states.find((state) => state.code === 'FR')!;
    fr.signingCertificates = [
      readFileSync(join(newKeys, 'gateway-signing.crt.pem'), 'utf8'),
      ...fr.signingCertificates,
    ];
    fr.encryptionCertificates = [
      readFileSync(join(newKeys, 'gateway-encryption.crt.pem'), 'utf8'),
      ...fr.encryptionCertificates,
    ];
    writeSignedDirectory(layout, overlap, directoryPath);

    // 2. FR restarts on its new keys and keeps the old ones for what was sealed to them.
    const rolled = france.reconfigured({
      COMITY_CREDENTIALS_DIR: newKeys,
      COMITY_RETIRED_CREDENTIALS_DIRS: join(layout.states.FR!.signingCertificate, '..'),
    });
    world.federation.replace('FR', rolled);
    rolled.start();
    await rolled.waitUntilReady();

    // 3. New requests: AT takes the new directory and seals to FR's new key.
    for (let tries = 0; tries < 100; tries += 1) {
      const { version } = (await fetch(`${world.federation.node('AT').url}/v1/directory`, {
        headers: austria.authorization,
      }).then((r) => r.json())) as { version: number };
      if (version === overlap.version) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const after = await Promise.all(
      Array.from({ length: 20 }, () => austria.submit(mlaRequest({ subject: 'After the switch' }))),
    );

    for (const message of [...before, ...after]) {
      const settled = await austria.waitForStatus(
        message.id,
        ['delivered', 'rejected', 'failed'],
        60_000,
      );
      expect(`${message.id} ${settled.status}`).toBe(`${message.id} delivered`);
    }
    // The receipts of both groups are signed by FR's new signing key.
    const newSigning = new X509Certificate(readFileSync(join(newKeys, 'gateway-signing.crt.pem')));
    for (const message of [before[0]!, after[0]!]) {
      const receipt = (await austria.receipt(message.id)).toString('ascii');
      const header = JSON.parse(Buffer.from(receipt.split('.')[0]!, 'base64url').toString()) as {
        x5c: string[];
      };
      expect(header.x5c[0]).toBe(newSigning.raw.toString('base64'));
    }
    // FR's clerk reads both: old-key and new-key envelopes open.
    const frClerk = world.client('FR');
    expect((await frClerk.inbound(before[0]!.id)).content?.subject).toBe('Before the switch');
    expect((await frClerk.inbound(after[0]!.id)).content?.subject).toBe('After the switch');
    // FR's log: the checkpoint signed with the old key still verifies beside the new ones.
    const afterSwitch = await frAuditor().signEvidenceCheckpoint();
    expect(afterSwitch.size).toBeGreaterThan(beforeSwitch.size);
    expect(await frAuditor().evidenceAudit()).toMatchObject({ ok: true, problem: null });
  }, 120_000);
});
