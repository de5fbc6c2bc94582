import { join } from 'node:path';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { uuidV7 } from '@comity/protocol';
import { writeSignedDirectory } from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES, buildDevDirectory } from '../../apps/cli/src/federation/dev-directory';
import {
  createTestFederation,
  sealFor,
  type TestFederation as Fixture,
} from '../../libs/protocol/test-support/federation';
import {
  provisionStateAccounts,
  removeStateAccounts,
  stateAmqpUrl,
} from '../support/broker-accounts';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { TEST_PKI_DIRECTORY, testPki } from '../support/test-pki';
import { quarantineOf, quarantineReasons } from '../support/quarantine';

const STATES = DEV_STATES.map((state) => state.code);

/**
 * Each State's gateway connects with its own broker account: it may publish to the transmit
 * exchange and read only its own inbox. The broker validates user_id; the gateways check it
 * against the directory. A State can neither read another's inbox nor speak in its name.
 */
describe('broker least privilege: one account per State', () => {
  let world: TestFederation;
  let f: Fixture;
  let admin: ChannelModel;
  const opened: ChannelModel[] = [];

  beforeAll(async () => {
    const pki = await testPki();
    const directoryPath = join(TEST_PKI_DIRECTORY, 'directory-broker-accounts.jws');
    writeSignedDirectory(
      pki.layout,
      buildDevDirectory(pki.layout, DEV_STATES, { brokerUsers: true }),
      directoryPath,
    );
    world = await startTestFederation(
      'leastprivilege',
      { COMITY_AMQP_DECLARE: 'false' },
      {
        prepareBroker: (vhost, adminUrl) => provisionStateAccounts(vhost, adminUrl, STATES),
        amqpUrlFor: stateAmqpUrl,
        directoryPath,
      },
    );
    f = await createTestFederation(['AT', 'FR', 'KE'], TEST_PKI_DIRECTORY);
    admin = await connect(world.amqpUrl);
  }, 120_000);

  afterAll(async () => {
    for (const model of opened) await model.close().catch(() => undefined);
    await admin?.close();
    await world?.stop();
    await removeStateAccounts(STATES);
  }, 60_000);

  /** A channel on FR's own account, as a hostile FR operator would have. */
  async function asFrance(): Promise<Channel> {
    const model = await connect(stateAmqpUrl('FR', world.amqpUrl));
    model.on('error', () => undefined);
    opened.push(model);
    const channel = await model.createConfirmChannel();
    channel.on('error', () => undefined);
    return channel;
  }

  async function refusal(action: (channel: Channel) => Promise<unknown>): Promise<string> {
    const channel = await asFrance();
    return action(channel).then(
      () => 'allowed',
      (error: Error) => error.message,
    );
  }

  it('delivers requests between States that each use their own account', async () => {
    const fromAustria = await world.client('AT').submit(mlaRequest());
    const fromKenya = await world.client('KE').submit(
      mlaRequest({
        senderAuthority: 'ke-central-authority',
        recipient: { state: 'FR', authority: 'fr-central-authority' },
      }),
    );
    expect(
      (await world.client('AT').waitForStatus(fromAustria.id, ['delivered', 'failed', 'rejected']))
        .status,
    ).toBe('delivered');
    expect(
      (await world.client('KE').waitForStatus(fromKenya.id, ['delivered', 'failed', 'rejected']))
        .status,
    ).toBe('delivered');
  });

  it("refuses FR's account another State's inbox, and any change to the topology", async () => {
    expect(await refusal((channel) => channel.consume('comity.inbox.AT', () => undefined))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await refusal((channel) => channel.get('comity.quarantine.KE'))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await refusal((channel) => channel.deleteQueue('comity.inbox.AT'))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await refusal((channel) => channel.assertQueue('comity.inbox.FR-shadow'))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(
      await refusal((channel) => channel.bindQueue('comity.inbox.FR', 'comity.transmit', 'AT')),
    ).toMatch(/ACCESS_REFUSED/);
  });

  it("refuses FR's account a user_id other than its own (the broker validates it)", async () => {
    const channel = await asFrance();
    channel.publish('comity.transmit', 'KE', Buffer.from('{}'), {
      userId: 'comity-at',
      type: 'envelope',
    });
    const outcome = await (channel as unknown as { waitForConfirms(): Promise<void> })
      .waitForConfirms()
      .then(
        () => 'confirmed',
        (error: Error) => error.message,
      );
    expect(outcome).not.toBe('confirmed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await refusal(async (other) => other.checkQueue('comity.inbox.FR'))).toBe('allowed');
  });

  it("quarantines AT's genuinely signed envelope injected through FR's account, with or without a user_id", async () => {
    const channel = await asFrance();
    const injected = sealFor(f, 'AT', 'KE');
    const withOwnId = `inject-${uuidV7()}`;
    const withoutId = `inject-${uuidV7()}`;
    channel.publish('comity.transmit', 'KE', injected.bytes, {
      persistent: true,
      type: 'envelope',
      messageId: withOwnId,
      userId: 'comity-fr',
    });
    channel.publish('comity.transmit', 'KE', injected.bytes, {
      persistent: true,
      type: 'envelope',
      messageId: withoutId,
    });
    await (channel as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
    expect(
      Object.fromEntries(await quarantineReasons(world, 'KE', [withOwnId, withoutId])),
    ).toEqual({
      [withOwnId]: 'broker-user-mismatch',
      [withoutId]: 'broker-user-mismatch',
    });
    // An operator's release processes it again with every check: it is still refused, and
    // the user id it arrived with (recorded from KE's own quarantine copy) cannot be laundered.
    const held = (await quarantineOf(world, 'KE')).find(
      (entry) => entry.amqpMessageId === withOwnId,
    )!;
    expect(held).toMatchObject({ status: 'held', envelopeId: injected.header.id });
    const release = await fetch(
      `${world.federation.node('KE').url}/v1/operations/quarantine/${held.id}/release`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${world.apiKey('KE', 'operator')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ reason: 'checking it is still refused' }),
      },
    );
    expect(release.status).toBe(409);
    expect(((await release.json()) as { message: string }).message).toMatch(
      /still refused: broker-user-mismatch/,
    );
    const lookup = await fetch(
      `${world.federation.node('KE').url}/v1/inbound-messages/${injected.header.id}`,
      { headers: world.client('KE').authorization },
    );
    expect(lookup.status).toBe(404);
  });
});
