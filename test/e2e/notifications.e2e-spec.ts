import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, verifyWebhook, type CloudEvent } from '@comity/protocol';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { launchChromium } from '../support/browser';
import type { FeedEvent } from '../../apps/cli/src/gateway-client';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

const run = promisify(execFile);
const cliPath = join(repoRoot(__dirname), 'dist', 'apps', 'cli', 'src', 'main.js');
const screenshots = join(repoRoot(__dirname), 'test-output', 'screenshots');

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  event: CloudEvent;
  answered: number;
}

/**
 * A national system's webhook endpoint, real HTTP on loopback: it records every delivery and
 * answers as `respond` says (a status, or `hold` to keep the request open).
 */
class Receiver {
  readonly deliveries: Delivery[] = [];
  respond: (delivery: Omit<Delivery, 'answered'>, attempt: number) => number | 'hold' = () => 204;
  private readonly held: Array<() => void> = [];
  private server!: Server;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const received = { headers: request.headers, body, event: JSON.parse(body) as CloudEvent };
        const attempt = this.deliveries.filter(
          (delivery) => delivery.headers['webhook-id'] === request.headers['webhook-id'],
        ).length;
        const answer = this.respond(received, attempt);
        if (answer === 'hold') {
          this.deliveries.push({ ...received, answered: 0 });
          this.held.push(() => response.destroy());
          return;
        }
        this.deliveries.push({ ...received, answered: answer });
        response.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/comity`;
  }

  /** The events accepted (2xx), in the order they were accepted. */
  accepted(): Delivery[] {
    return this.deliveries.filter(
      (delivery) => delivery.answered >= 200 && delivery.answered < 300,
    );
  }

  async stop(): Promise<void> {
    for (const release of this.held.splice(0)) release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Events and webhooks between real gateway processes: the feed (long polling, server-sent
 * events, cursors, scope), deliveries signed per Standard Webhooks and checked with the
 * `standardwebhooks` library, retries, a SIGKILL mid-delivery, edits without a restart, 410,
 * dead letters and their redelivery, the refusals, and the CLI's receiver and follower.
 */
describe('events and webhooks for national systems', () => {
  let world: TestFederation;
  let frSigningKey: KeyObject;
  const receivers: Receiver[] = [];

  const api = async (
    state: string,
    principal: 'central-clerk' | 'extradition-clerk' | 'operator' | 'auditor',
    method: string,
    path: string,
    body?: unknown,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of many shapes
  ): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${world.federation.node(state).url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${world.apiKey(state, principal)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const receiver = async () => {
    const started = await new Receiver().start();
    receivers.push(started);
    return started;
  };
  const send = async (subject: string) => {
    const { id } = await world.client('AT').submit(mlaRequest({ subject }));
    await world.client('AT').waitForStatus(id, ['delivered']);
    return id;
  };
  const latestSeq = async (state: string) =>
    (
      (await api(state, 'operator', 'GET', '/v1/events?after=0&limit=1000')).body as {
        cursor: number;
      }
    ).cursor;

  beforeAll(async () => {
    world = await startTestFederation('events', {
      COMITY_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      COMITY_WEBHOOK_RETRY_BASE_MS: '50',
      COMITY_WEBHOOK_TIMEOUT_SECONDS: '2',
      COMITY_WEBHOOK_GIVE_UP_SECONDS: '4',
    });
    frSigningKey = createPublicKey(world.signingIdentity('FR').key);
  }, 120_000);

  afterAll(async () => {
    for (const started of receivers) await started.stop();
    await world?.stop();
  });

  it('serves the feed in order after a cursor, waits for the next event (long polling and server-sent events), and scopes it by authority', async () => {
    const start = await latestSeq('FR');
    const waiting = api(
      'FR',
      'central-clerk',
      'GET',
      `/v1/events?after=${start}&wait=20&types=message.received`,
    );
    const stream = new AbortController();
    const streamed = fetch(`${world.federation.node('FR').url}/v1/events/stream?after=${start}`, {
      headers: { authorization: `Bearer ${world.apiKey('FR', 'central-clerk')}` },
      signal: stream.signal,
    });
    const id = await send('Feed');

    const page = (await waiting).body as { items: FeedEvent[]; cursor: number };
    expect(page.items).toHaveLength(1);
    const [received] = page.items;
    expect(received).toMatchObject({
      type: 'message.received',
      subject: id,
      authority: 'fr-central-authority',
      data: { messageId: id, kind: 'mla_request', from: { state: 'AT' } },
    });
    expect(received!.seq).toBeGreaterThan(start);
    expect(page.cursor).toBe(received!.seq);
    // Ids and metadata only: neither the subject line nor the text of the request.
    expect(JSON.stringify(page)).not.toContain('Feed');
    expect(JSON.stringify(page)).not.toContain(String(mlaRequest().body));

    // Nothing after the cursor: an empty page that keeps the cursor, after the wait.
    const empty = await api(
      'FR',
      'central-clerk',
      'GET',
      `/v1/events?after=${page.cursor}&wait=1&types=message.received`,
    );
    expect(empty.body).toEqual({ items: [], cursor: page.cursor });
    // Reading again from the same cursor gives the same events (reading never consumes).
    const again = await api(
      'FR',
      'central-clerk',
      'GET',
      `/v1/events?after=${start}&types=message.received`,
    );
    expect(again.body.items.map((event: FeedEvent) => event.id)).toEqual([received!.id]);

    // The server-sent stream carries it with its sequence number as the event id.
    const response = await streamed;
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes(`data: {"seq":${received!.seq},`)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += Buffer.from(chunk.value).toString('utf8');
    }
    expect(text).toContain(`id: ${received!.seq}\nevent: message.received\n`);
    stream.abort();

    // The other authority's clerk does not see it; the sender sees its delivery.
    const other = await api('FR', 'extradition-clerk', 'GET', `/v1/events?after=${start}`);
    expect(other.body.items.filter((event: FeedEvent) => event.subject === id)).toEqual([]);
    const sender = await api(
      'AT',
      'central-clerk',
      'GET',
      '/v1/events?after=0&types=message.delivered&limit=1000',
    );
    expect(sender.body.items.some((event: FeedEvent) => event.subject === id)).toBe(true);

    // Bad cursors and types are refused with the parameter named.
    for (const query of ['after=-1', 'after=abc', 'wait=99', 'types=message.nope', 'limit=0']) {
      const refused = await api('FR', 'central-clerk', 'GET', `/v1/events?${query}`);
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toContain(query.split('=')[0]!);
    }
  }, 60_000);

  it('delivers every event, in order, to an endpoint that fails five times first; signatures verify with the standardwebhooks library (v1) and the node key (v1a)', async () => {
    const endpoint = await receiver();
    endpoint.respond = (_delivery, attempt) =>
      endpoint.deliveries.length < 5 && attempt < 5 ? 500 : 204;
    const created = await api('FR', 'operator', 'POST', '/v1/webhooks', {
      url: endpoint.url,
      eventTypes: ['message.received', 'attachment.available'],
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);

    const ids = [];
    for (const subject of ['One', 'Two', 'Three']) ids.push(await send(subject));
    await until('three events accepted', () => endpoint.accepted().length >= 3 || undefined);

    const accepted = endpoint.accepted();
    expect(accepted.map((delivery) => delivery.event.subject)).toEqual(ids);
    const seqs = accepted.map((delivery) => delivery.event.comityseq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    // The first event took five failures and a sixth try, all with the same webhook-id.
    const firstId = accepted[0]!.headers['webhook-id'];
    expect(
      endpoint.deliveries.filter((delivery) => delivery.headers['webhook-id'] === firstId),
    ).toHaveLength(6);
    expect(endpoint.deliveries.slice(0, 5).every((delivery) => delivery.answered === 500)).toBe(
      true,
    );

    const feed = await api(
      'FR',
      'operator',
      'GET',
      `/v1/events?after=${seqs[0]! - 1}&types=message.received`,
    );
    for (const delivery of accepted) {
      expect(delivery.headers['content-type']).toContain('application/cloudevents+json');
      // The standard's own library, not our code.
      const payload = new Webhook(secret).verify(
        delivery.body,
        delivery.headers as Record<string, string>,
      );
      expect(payload).toMatchObject({
        specversion: '1.0',
        type: 'org.comity.message.received',
        source: 'urn:comity:FR',
      });
      expect(() =>
        verifyWebhook({
          headers: delivery.headers,
          body: delivery.body,
          ed25519PublicKey: frSigningKey,
        }),
      ).not.toThrow();
      expect(() =>
        new Webhook(newWebhookSecret()).verify(
          delivery.body,
          delivery.headers as Record<string, string>,
        ),
      ).toThrow();
      // The body is the event exactly as committed.
      const committed = (feed.body.items as FeedEvent[]).find(
        (event) => event.id === delivery.event.id,
      );
      expect(committed).toBeDefined();
      expect(delivery.event).toMatchObject({
        id: committed!.id,
        comityseq: committed!.seq,
        time: committed!.time,
        data: committed!.data,
      });
      expect(delivery.headers['webhook-id']).toBe(committed!.id);
    }
    await api('FR', 'operator', 'DELETE', `/v1/webhooks/${created.body.id}`);
  }, 60_000);

  it('delivers at least once after the node is SIGKILLed mid-delivery; the repeat carries the same webhook-id', async () => {
    const endpoint = await receiver();
    let holding = true;
    endpoint.respond = () => (holding ? 'hold' : 204);
    const created = await api('FR', 'operator', 'POST', '/v1/webhooks', {
      url: endpoint.url,
      eventTypes: ['message.received'],
    });
    const first = await send('Before the crash');
    await until('the held delivery', () => endpoint.deliveries.length >= 1 || undefined);

    const france = world.federation.node('FR');
    await france.stop('SIGKILL');
    const during = await world.client('AT').submit(mlaRequest({ subject: 'While FR is down' }));
    holding = false;
    france.start();
    await france.waitUntilReady();
    await world.client('AT').waitForStatus(during.id, ['delivered'], 60_000);
    const after = await send('After the restart');

    await until(
      'all three accepted',
      () => (endpoint.accepted().length >= 3 ? true : undefined),
      40_000,
    );
    const accepted = endpoint.accepted().map((delivery) => delivery.event.subject);
    expect(accepted).toEqual([first, during.id, after]);
    const heldId = endpoint.deliveries[0]!.headers['webhook-id'];
    expect(endpoint.accepted()[0]!.headers['webhook-id']).toBe(heldId);
    // Never two acceptances of one event without a crash in between.
    const acceptedIds = endpoint.accepted().map((delivery) => delivery.headers['webhook-id']);
    expect(new Set(acceptedIds).size).toBe(acceptedIds.length);
    await api('FR', 'operator', 'DELETE', `/v1/webhooks/${created.body.id}`);
  }, 120_000);

  it('takes an edited subscription at once: new URL, rotated secret (both signatures during the rotation), pause and resume', async () => {
    const before = await receiver();
    const moved = await receiver();
    const created = await api('FR', 'central-clerk', 'POST', '/v1/webhooks', {
      url: before.url,
      eventTypes: ['message.received'],
    });
    expect(created.body.authority).toBe('fr-central-authority');
    await send('To the first URL');
    await until('the first delivery', () => before.accepted().length >= 1 || undefined);

    const rotated = newWebhookSecret();
    const edited = await api('FR', 'central-clerk', 'PATCH', `/v1/webhooks/${created.body.id}`, {
      url: moved.url,
      secret: rotated,
      keepPreviousSecret: true,
    });
    expect(edited.status).toBe(200);
    expect(edited.body.url).toBe(moved.url);
    const second = await send('To the new URL');
    await until('the delivery at the new URL', () => moved.accepted().length >= 1 || undefined);
    const delivery = moved.accepted()[0]!;
    expect(delivery.event.subject).toBe(second);
    expect(
      String(delivery.headers['webhook-signature'])
        .split(' ')
        .filter((entry) => entry.startsWith('v1,')),
    ).toHaveLength(2);
    for (const secret of [rotated, created.body.secret as string]) {
      expect(
        new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>),
      ).toBeTruthy();
    }
    expect(before.accepted()).toHaveLength(1);

    await api('FR', 'central-clerk', 'PATCH', `/v1/webhooks/${created.body.id}`, { active: false });
    const paused = await send('While paused');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(moved.accepted()).toHaveLength(1);
    await api('FR', 'central-clerk', 'PATCH', `/v1/webhooks/${created.body.id}`, { active: true });
    await until('the paused event after resuming', () => moved.accepted().length >= 2 || undefined);
    expect(moved.accepted()[1]!.event.subject).toBe(paused);

    // A clerk sees and edits only its own authority's subscriptions.
    const other = await api('FR', 'extradition-clerk', 'PATCH', `/v1/webhooks/${created.body.id}`, {
      active: false,
    });
    expect(other.status).toBe(404);
    await api('FR', 'central-clerk', 'DELETE', `/v1/webhooks/${created.body.id}`);
  }, 60_000);

  it('disables a subscription on 410 Gone, gives up after the retry period as a dead letter with an alert, and redelivers it on request', async () => {
    const gone = await receiver();
    gone.respond = () => 410;
    const goneSubscription = await api('FR', 'operator', 'POST', '/v1/webhooks', {
      url: gone.url,
      eventTypes: ['message.received'],
    });
    const failing = await receiver();
    let failingNow = true;
    failing.respond = () => (failingNow ? 503 : 204);
    const failingSubscription = await api('FR', 'operator', 'POST', '/v1/webhooks', {
      url: failing.url,
      eventTypes: ['message.received'],
    });

    const id = await send('Nobody takes this');
    const disabled = await until('the 410 to disable', async () => {
      const view = await api('FR', 'operator', 'GET', `/v1/webhooks/${goneSubscription.body.id}`);
      return view.body.active === false ? view.body : undefined;
    });
    expect(disabled.disabledReason).toContain('410');
    expect(gone.deliveries).toHaveLength(1);

    const letters = await until('a dead letter', async () => {
      const list = await api('FR', 'operator', 'GET', '/v1/webhooks/dead-letters');
      const mine = (
        list.body as Array<{
          subscriptionId: string;
          id: string;
          attempts: number;
          lastError: string;
        }>
      ).filter((letter) => letter.subscriptionId === failingSubscription.body.id);
      return mine.length > 0 ? mine : undefined;
    });
    expect(letters[0]!.lastError).toBe('HTTP 503');
    expect(letters[0]!.attempts).toBeGreaterThan(3);
    const overview = await until('the dead-letter alert', async () => {
      const answer = await api('FR', 'operator', 'GET', '/v1/operations/overview');
      return answer.body.alerts.some(
        (alert: { code: string }) => alert.code === 'webhook-dead-letters',
      )
        ? answer.body
        : undefined;
    });
    expect(overview.alerts.map((alert: { code: string }) => alert.code)).toContain(
      'webhook-dead-letters',
    );

    failingNow = false;
    const redelivered = await run(process.execPath, [
      cliPath,
      'webhook',
      'redeliver',
      letters[0]!.id,
      '--node',
      world.federation.node('FR').url,
      '--api-key',
      world.apiKey('FR', 'operator'),
      '--json',
    ]);
    expect(JSON.parse(redelivered.stdout).redeliveredAt).toBeDefined();
    expect(failing.accepted().map((delivery) => delivery.event.subject)).toEqual([id]);
    const audit = await api('FR', 'auditor', 'GET', '/v1/audit-events?limit=50');
    expect(audit.body.map((event: { action: string }) => event.action)).toContain(
      `webhook redeliver ${letters[0]!.id}`,
    );
    await api('FR', 'operator', 'DELETE', `/v1/webhooks/${goneSubscription.body.id}`);
    await api('FR', 'operator', 'DELETE', `/v1/webhooks/${failingSubscription.body.id}`);
  }, 60_000);

  it('shows subscriptions and dead letters in the operator console, and redelivers one with a click', async () => {
    const endpoint = await receiver();
    let down = true;
    endpoint.respond = () => (down ? 500 : 204);
    const created = await api('FR', 'operator', 'POST', '/v1/webhooks', {
      url: endpoint.url,
      eventTypes: ['message.received'],
    });
    const id = await send('For the console');
    const letter = await until('a dead letter', async () => {
      const list = await api('FR', 'operator', 'GET', '/v1/webhooks/dead-letters');
      return (list.body as Array<{ id: string; subscriptionId: string }>).find(
        (entry) => entry.subscriptionId === created.body.id,
      );
    });

    const browser = await launchChromium();
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (/content security policy/i.test(message.text())) problems.push(message.text());
      });
      await page.goto(`${world.federation.node('FR').url}/console/#webhooks`);
      await page.getByTestId('api-key').fill(world.apiKey('FR', 'operator'));
      await page.getByTestId('sign-in').click();
      const row = page.locator(`[data-testid="webhook-row"][data-id="${created.body.id}"]`);
      await row.waitFor({ timeout: 20_000 });
      expect(await row.textContent()).toContain(endpoint.url);
      const waiting = page.locator(
        `[data-testid="dead-letter-row"][data-id="${letter.id}"][data-status="waiting"]`,
      );
      await waiting.waitFor({ timeout: 20_000 });
      expect(await waiting.textContent()).toContain('HTTP 500');
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({
        path: join(screenshots, 'webhooks-dead-letter.png'),
        fullPage: true,
      });

      down = false;
      await waiting.getByTestId('redeliver').click();
      await page
        .locator(
          `[data-testid="dead-letter-row"][data-id="${letter.id}"][data-status="redelivered"]`,
        )
        .waitFor({ timeout: 20_000 });
      expect(await page.getByTestId('webhook-result').getAttribute('data-kind')).toBe('success');
      expect(endpoint.accepted().map((delivery) => delivery.event.subject)).toEqual([id]);
    } finally {
      await browser.close();
    }
    expect(problems).toEqual([]);
    await api('FR', 'operator', 'DELETE', `/v1/webhooks/${created.body.id}`);
  }, 60_000);

  it('refuses private addresses, unknown event types, bad secrets, another authority, and plain HTTP in production', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: 'http://10.1.2.3/hook' }, 'non-public'],
      [{ url: 'http://192.168.0.10:8080/hook' }, 'non-public'],
      [{ url: 'http://[::1]:9/hook' }, 'non-public'],
      [{ url: 'http://localhost:9/hook' }, 'non-public'],
      [{ url: 'ftp://127.0.0.1/hook' }, 'http or https'],
      [{ url: 'http://user:pw@127.0.0.1/hook' }, 'user name or password'],
      [{ url: 'http://127.0.0.1:9/hook', eventTypes: ['message.nope'] }, 'not an event type'],
      [{ url: 'http://127.0.0.1:9/hook', secret: 'abc' }, 'secret'],
      [{ url: 'http://127.0.0.1:9/hook', secret: 'whsec_c2hvcnQ=' }, 'secret'],
    ];
    for (const [body, reason] of cases) {
      const refused = await api('FR', 'operator', 'POST', '/v1/webhooks', {
        eventTypes: ['message.received'],
        ...body,
      });
      expect([refused.status, JSON.stringify(refused.body)]).toEqual([
        400,
        expect.stringContaining(reason),
      ]);
    }
    const foreign = await api('FR', 'central-clerk', 'POST', '/v1/webhooks', {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['message.received'],
      authority: 'fr-extradition-authority',
    });
    expect(foreign.status).toBe(403);
    const auditor = await api('FR', 'auditor', 'POST', '/v1/webhooks', {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['message.received'],
    });
    expect(auditor.status).toBe(403);

    // KE in production: HTTPS only.
    const kenya = world.federation.node('KE');
    await kenya.stop();
    const production = kenya.reconfigured({ COMITY_ENV: 'production' });
    world.federation.nodes.set('KE', production);
    production.start();
    await production.waitUntilReady();
    const plain = await api('KE', 'operator', 'POST', '/v1/webhooks', {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['message.received'],
    });
    expect(plain.status).toBe(400);
    expect(plain.body.message).toContain('HTTPS');
    const health = await fetch(`${world.federation.node('FR').url}/health`);
    expect(health.status).toBe(200);
  }, 60_000);

  it('`comity webhook listen` verifies and prints deliveries; `comity events --follow` prints events as they happen', async () => {
    const secret = newWebhookSecret();
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const start = await latestSeq('FR');
    const children: ChildProcess[] = [];
    const lines = (child: ChildProcess) => {
      const seen: string[] = [];
      createInterface({ input: child.stdout! }).on('line', (line) => seen.push(line));
      return seen;
    };
    const listener = spawn(process.execPath, [
      cliPath,
      'webhook',
      'listen',
      '--port',
      String(port),
      '--secret',
      secret,
      '--json',
    ]);
    const follower = spawn(process.execPath, [
      cliPath,
      'events',
      '--follow',
      '--after',
      String(start),
      '--types',
      'message.received',
      '--json',
      '--node',
      world.federation.node('FR').url,
      '--api-key',
      world.apiKey('FR', 'central-clerk'),
    ]);
    children.push(listener, follower);
    const heard = lines(listener);
    const followed = lines(follower);
    try {
      await until('the listener', async () =>
        fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => undefined,
        ),
      );
      const subscription = await api('FR', 'operator', 'POST', '/v1/webhooks', {
        url: `http://127.0.0.1:${port}/`,
        eventTypes: ['message.received'],
        secret,
      });
      expect(subscription.status).toBe(201);
      const id = await send('To the reference receiver');
      await until('the listener to print it', () => heard.length >= 1 || undefined);
      await until('the follower to print it', () => followed.length >= 1 || undefined);
      expect(JSON.parse(heard[0]!)).toMatchObject({
        verified: true,
        duplicate: false,
        event: { subject: id, type: 'org.comity.message.received' },
      });
      expect(JSON.parse(followed[0]!)).toMatchObject({ type: 'message.received', subject: id });
      // A forged delivery is refused (401) so the node would retry; the listener keeps running.
      const forged = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: {
          'webhook-id': 'x',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': 'v1,AAAA',
        },
        body: '{}',
      });
      expect(forged.status).toBe(401);
      await api('FR', 'operator', 'DELETE', `/v1/webhooks/${subscription.body.id}`);
    } finally {
      for (const child of children) child.kill('SIGTERM');
    }
  }, 60_000);
});
