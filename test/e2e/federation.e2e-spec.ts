import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type ChannelModel } from 'amqplib';
import { loadGatewayCredentials } from '@comity/pki';
import { sealEnvelope, uuidV7, type RequestContent } from '@comity/protocol';
import { GatewayApiError } from '../../apps/cli/src/gateway-client';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { testPki } from '../support/test-pki';
import { waitForQuarantined } from '../support/quarantine';

const runCli = promisify(execFile);
const cli = join(repoRoot(__dirname), 'dist', 'apps', 'cli', 'src', 'main.js');

describe('a federation of three gateways (AT, FR on Ed25519/X25519; KE on RSA)', () => {
  let world: TestFederation;
  let broker: ChannelModel;

  beforeAll(async () => {
    world = await startTestFederation('e2e');
    broker = await connect(world.amqpUrl);
  }, 120_000);

  afterAll(async () => {
    await broker?.close();
    await world?.stop();
  }, 60_000);

  /** Publishes raw bytes into a State's inbox queue, as a party on the broker could. */
  async function publishToInbox(state: string, bytes: Buffer, type = 'envelope'): Promise<void> {
    const channel = await broker.createConfirmChannel();
    channel.publish('comity.transmit', state, bytes, {
      persistent: true,
      type,
      messageId: uuidV7(),
    });
    await channel.waitForConfirms();
    await channel.close();
  }

  it('delivers an MLA request AT → FR and the sender holds a verified, signed receipt', async () => {
    const austria = world.client('AT');
    const submitted = await austria.submit(mlaRequest());
    expect(submitted.status).toMatch(/^(submitted|sent)$/);

    const delivered = await austria.waitForStatus(submitted.id, [
      'delivered',
      'rejected',
      'failed',
    ]);
    expect(delivered.status).toBe('delivered');
    expect(delivered.timeline.map((evidence) => evidence.type)).toEqual([
      'submitted',
      'sent',
      'delivered',
    ]);
    expect(delivered.timeline[2]?.detail).toContain('signed by FR');
    expect(delivered.content?.subject).toBe('Bank records');

    const received = await world.client('FR').inbound(submitted.id);
    expect(received.from).toEqual({ state: 'AT', authority: 'at-central-authority' });
    expect(received.content?.body).toBe(mlaRequest().body);
    expect(received.envelopeDigest).toBe(delivered.envelopeDigest);
    expect(received.timeline.map((evidence) => evidence.type)).toEqual([
      'received',
      'receipt-sent',
    ]);
  });

  it('verifies the receipt offline with `comity receipt verify` (exit 0), and refuses a changed envelope (exit 1)', async () => {
    const austria = world.client('AT');
    const { id } = await austria.submit(mlaRequest({ subject: 'Offline check' }));
    await austria.waitForStatus(id, ['delivered']);
    const directory = mkdtempSync(join(tmpdir(), 'comity-receipt-'));
    const envelope = await austria.envelope(id);
    writeFileSync(join(directory, 'envelope.json'), envelope);
    writeFileSync(join(directory, 'receipt.jws'), await austria.receipt(id));
    const anchor = (await testPki()).layout.trustAnchor;
    const args = [
      'receipt',
      'verify',
      '--receipt',
      join(directory, 'receipt.jws'),
      '--anchor',
      anchor,
    ];

    const good = await runCli(process.execPath, [
      cli,
      ...args,
      '--envelope',
      join(directory, 'envelope.json'),
    ]);
    expect(good.stdout).toContain('valid: receipt');
    expect(good.stdout).toContain('"delivered"');

    const changed = Buffer.from(envelope);
    changed[changed.length - 10] = changed[changed.length - 10]! ^ 0x01;
    writeFileSync(join(directory, 'changed.json'), changed);
    const bad = await runCli(process.execPath, [
      cli,
      ...args,
      '--envelope',
      join(directory, 'changed.json'),
    ]).then(
      () => null,
      (error: { code: number; stdout: string }) => error,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stdout).toMatch(/^invalid: /);
  });

  it('works across suites: KE (RSA: PS256, RSA-OAEP-256) ↔ AT (Ed25519, X25519)', async () => {
    const fromKenya = await world.client('KE', 'extradition-clerk').submit(
      mlaRequest({
        senderAuthority: 'ke-extradition-authority',
        kind: 'extradition_request',
        recipient: { state: 'AT', authority: 'at-extradition-authority' },
      }),
    );
    const toKenya = await world
      .client('AT')
      .submit(mlaRequest({ recipient: { state: 'KE', authority: 'ke-central-authority' } }));
    expect(
      (
        await world
          .client('KE', 'extradition-clerk')
          .waitForStatus(fromKenya.id, ['delivered', 'rejected', 'failed'])
      ).status,
    ).toBe('delivered');
    expect(
      (await world.client('AT').waitForStatus(toKenya.id, ['delivered', 'rejected', 'failed']))
        .status,
    ).toBe('delivered');
    expect(
      (await world.client('AT', 'extradition-clerk').inbound(fromKenya.id)).content?.subject,
    ).toBe('Bank records');
  });

  it('refuses an unknown recipient State or authority at once, naming the field', async () => {
    const austria = world.client('AT');
    const unknownState = await austria
      .submit(mlaRequest({ recipient: { state: 'ZZ', authority: 'zz-central-authority' } }))
      .catch((error: unknown) => error);
    expect(unknownState).toBeInstanceOf(GatewayApiError);
    expect((unknownState as GatewayApiError).status).toBe(400);
    expect((unknownState as GatewayApiError).message).toContain('recipient.state');
    expect((unknownState as GatewayApiError).message).toContain(
      'ZZ is not in the federation directory',
    );

    const unknownAuthority = await austria
      .submit(mlaRequest({ recipient: { state: 'FR', authority: 'fr-ministry-of-magic' } }))
      .catch((error: unknown) => error);
    expect((unknownAuthority as GatewayApiError).status).toBe(400);
    expect((unknownAuthority as GatewayApiError).message).toContain('recipient.authority');
  });

  it('makes a retried submit idempotent with an Idempotency-Key: one request, the same answer', async () => {
    const url = `${world.federation.node('AT').url}/v1/outbound-messages`;
    const post = (body: Record<string, unknown>, key: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': key,
          ...world.client('AT').authorization,
        },
        body: JSON.stringify(body),
      });
    const key = `retry-${uuidV7()}`;
    const first = await post(mlaRequest({ subject: 'Idempotent' }), key);
    const again = await post(mlaRequest({ subject: 'Idempotent' }), key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    const firstId = ((await first.json()) as { id: string }).id;
    expect(((await again.json()) as { id: string }).id).toBe(firstId);
    const other = await post(mlaRequest({ subject: 'Something else' }), key);
    expect(other.status).toBe(422);
    expect(((await other.json()) as { message: string }).message).toContain(firstId);
    const bad = await post(mlaRequest(), 'has spaces in it');
    expect(bad.status).toBe(400);
  });

  it('answers malformed requests with 400s that name the field', async () => {
    const austria = world.client('AT');
    const cases: Array<[Record<string, unknown>, string]> = [
      [mlaRequest({ subject: undefined }), 'subject'],
      [mlaRequest({ kind: 'tea_request' }), 'kind'],
      [mlaRequest({ urgency: 42 }), 'urgency'],
      [
        mlaRequest({ recipient: { state: 'fr', authority: 'fr-central-authority' } }),
        'recipient.state',
      ],
      [
        mlaRequest({
          attachments: [{ filename: 'a.pdf', mediaType: 'application/pdf', data: 'not base64!' }],
        }),
        'data',
      ],
      [mlaRequest({ deadline: '31/01/2027' }), 'deadline'],
      [mlaRequest({ unexpected: true }), 'unexpected'],
    ];
    for (const [body, field] of cases) {
      const error = (await austria
        .submit(body)
        .catch((caught: unknown) => caught)) as GatewayApiError;
      expect(error).toBeInstanceOf(GatewayApiError);
      expect(error.status).toBe(400);
      expect(error.message).toContain(field);
    }
    const raw = await fetch(`${austria.baseUrl}/v1/outbound-messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...austria.authorization },
      body: '{"kind": ',
    });
    expect(raw.status).toBe(400);
  });

  it('rejects a tampered envelope published straight into the inbox, stores nothing, answers a negative receipt and keeps serving', async () => {
    // A genuine sender (AT's keys) whose content is changed after sealing: the signed header
    // still verifies, the content digest does not.
    const pki = await testPki();
    const credentials = loadGatewayCredentials(pki.layout.states.AT!);
    const now = new Date();
    const id = uuidV7();
    const content: RequestContent = {
      legalBasis: 'UNCAC art. 46',
      urgency: 'routine',
      deadline: null,
      subject: 'Tampered in transit',
      body: 'original',
      attachments: [],
    };
    const sealed = sealEnvelope({
      routing: {
        id,
        kind: 'mla_request',
        from: { state: 'AT', authority: 'at-central-authority' },
        to: { state: 'FR', authority: 'fr-central-authority' },
        created: now.toISOString(),
        expires: new Date(now.getTime() + 3_600_000).toISOString(),
        thread: id,
        inReplyTo: null,
      },
      content,
      signer: world.signingIdentity('AT'),
      recipient: world.verifier.verifyChain(
        [
          loadGatewayCredentials(pki.layout.states.FR!).encryptionCertificate,
          ...loadGatewayCredentials(pki.layout.states.FR!).encryptionChain.slice(1),
        ],
        'encryption',
        now,
      ),
    });
    expect(credentials.state).toBe('AT');
    const wrapper = JSON.parse(sealed.bytes.toString('utf8')) as {
      comity: number;
      header: string;
      content: string;
    };
    const parts = wrapper.content.split('.');
    const ciphertext = parts[3]!;
    parts[3] = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1);
    const tampered = Buffer.from(JSON.stringify({ ...wrapper, content: parts.join('.') }));
    await publishToInbox('FR', tampered);

    // Garbage from someone on the broker: no sender to answer, so it goes to quarantine.
    await publishToInbox('FR', Buffer.from('{"comity":1,"header":"not.a.jws","content":"x"}'));
    const held = await waitForQuarantined(
      world,
      'FR',
      (entry) => entry.reason === 'malformed-envelope',
    );
    expect(held.length).toBeGreaterThan(0);

    // FR answered the tampered copy with a signed negative receipt, and keeps the refusal.
    const operator = { authorization: `Bearer ${world.apiKey('FR', 'operator')}` };
    const refusals = (await fetch(
      `${world.federation.node('FR').url}/v1/operations/messages?direction=inbound&status=rejected&id=${id}`,
      { headers: operator },
    ).then((response) => response.json())) as { items: Array<{ statusReason: string }> };
    expect(refusals.items.map((item) => item.statusReason)).toEqual(['content-digest-mismatch']);

    // The negative receipt reaches AT, which never sent that id: AT quarantines it.
    const atQuarantine = await waitForQuarantined(
      world,
      'AT',
      (entry) => entry.reason === 'receipt-envelope-mismatch' && entry.detail.includes(id),
    );
    expect(atQuarantine).toHaveLength(1);
    expect(atQuarantine[0]).toMatchObject({ messageType: 'receipt', status: 'held' });

    const lookup = await world
      .client('FR')
      .inbound(id)
      .catch((error: unknown) => error);
    expect((lookup as GatewayApiError).status).toBe(404);

    const health = await fetch(`${world.federation.node('FR').url}/health`);
    expect(health.status).toBe(200);
    const after = await world.client('AT').submit(mlaRequest({ subject: 'After the attack' }));
    expect(
      (await world.client('AT').waitForStatus(after.id, ['delivered', 'rejected', 'failed']))
        .status,
    ).toBe('delivered');
  });

  it('stores a re-published envelope once and answers it with the same receipt again', async () => {
    const austria = world.client('AT');
    const { id } = await austria.submit(mlaRequest({ subject: 'Sent twice' }));
    await austria.waitForStatus(id, ['delivered']);
    const envelope = await austria.envelope(id);
    const firstReceipt = await world.client('FR').inbound(id);
    await publishToInbox('FR', envelope);
    const deadline = Date.now() + 10_000;
    let timeline = firstReceipt.timeline;
    while (Date.now() < deadline && !timeline.some((evidence) => evidence.type === 'duplicate')) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      timeline = (await world.client('FR').inbound(id)).timeline;
    }
    // The first read above was the clerk's first opening: signed retrieval evidence follows it.
    expect(timeline.map((evidence) => evidence.type)).toEqual([
      'received',
      'receipt-sent',
      'retrieved',
      'duplicate',
      'receipt-sent',
    ]);
    const page = await fetch(`${world.federation.node('FR').url}/v1/inbound-messages?limit=500`, {
      headers: world.client('FR').authorization,
    }).then((response) => response.json() as Promise<{ items: Array<{ id: string }> }>);
    expect(page.items.filter((item) => item.id === id)).toHaveLength(1);
    const sender = await austria.outbound(id);
    expect(sender.status).toBe('delivered');
    expect(sender.timeline.filter((evidence) => evidence.type === 'delivered')).toHaveLength(1);
  });
});
