import { readFileSync } from 'node:fs';
import { connect } from 'amqplib';
import { Client } from 'pg';
import { publishToInbox, waitForQuarantined } from '../support/quarantine';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

/**
 * What an operator relies on, through the API the console and the CLI use: health, the
 * overview, search at any depth, timelines, metrics, the quarantine and retries — each action
 * with a reason and audited, and never any request content.
 */
describe('operations: health, overview, search, metrics, quarantine and retry', () => {
  let world: TestFederation;
  const SECRET_BODY = 'Confidential: the account statements of witness 4711';

  beforeAll(async () => {
    world = await startTestFederation('operations', {
      COMITY_RECEIPT_TIMEOUT_SECONDS: '1',
      COMITY_RETRANSMIT_MAX_SECONDS: '2',
      COMITY_MESSAGE_TTLS: 'supplementary_information=10',
      COMITY_WATCHDOG_INTERVAL_MS: '200',
    });
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  const url = (state: string, path: string) => `${world.federation.node(state).url}${path}`;
  const as = (state: string, principal: 'operator' | 'auditor' | 'central-clerk' = 'operator') => ({
    authorization: `Bearer ${world.apiKey(state, principal)}`,
  });
  const getJson = async <T>(state: string, path: string, principal?: 'operator' | 'auditor') => {
    const response = await fetch(url(state, path), { headers: as(state, principal) });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };
  const post = (
    state: string,
    path: string,
    body: unknown,
    principal: 'operator' | 'auditor' = 'operator',
  ) =>
    fetch(url(state, path), {
      method: 'POST',
      headers: { ...as(state, principal), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  interface Item {
    direction: string;
    id: string;
    status: string;
    peerState: string;
    kind: string;
    statusReason: string | null;
  }

  it('answers liveness and readiness without credentials', async () => {
    const live = await fetch(url('AT', '/health/live'));
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive', state: 'AT' });
    for (const path of ['/health/ready', '/health']) {
      const ready = await fetch(url('FR', path));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ready',
        database: 'up',
        broker: 'up',
        inbox: 'consuming',
        directory: { status: 'valid' },
        keys: 'loaded',
      });
    }
  });

  it('lets operators and auditors look, only operators act, and nobody else in', async () => {
    expect((await fetch(url('AT', '/v1/operations/overview'))).status).toBe(401);
    expect((await fetch(url('AT', '/metrics'))).status).toBe(401);
    const clerk = await fetch(url('AT', '/v1/operations/overview'), {
      headers: as('AT', 'central-clerk'),
    });
    expect(clerk.status).toBe(403);
    await getJson('AT', '/v1/operations/overview', 'auditor');
    const auditorAct = await post(
      'AT',
      '/v1/operations/quarantine/1/discard',
      { reason: 'try' },
      'auditor',
    );
    expect(auditorAct.status).toBe(403);
  });

  it('shows a delivered request in the overview, the search, the timeline and the metrics, without its content', async () => {
    const austria = world.client('AT');
    const { id } = await austria.submit(mlaRequest({ body: SECRET_BODY }));
    expect((await austria.waitForStatus(id, ['delivered', 'rejected', 'failed'])).status).toBe(
      'delivered',
    );

    type Overview = {
      state: string;
      components: Record<string, unknown>;
      queues: Array<{ name: string; role: string; consumers: number }>;
      peers: Array<{ state: string; sent: Record<string, number> }>;
      alerts: Array<{ code: string }>;
    };
    // The overview is computed at most every quarter second: wait for it to catch up.
    let overview = await getJson<Overview>('AT', '/v1/operations/overview');
    for (
      let tries = 0;
      tries < 20 && !overview.peers.some((peer) => peer.state === 'FR');
      tries += 1
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      overview = await getJson<Overview>('AT', '/v1/operations/overview');
    }
    expect(overview.state).toBe('AT');
    expect(overview.components).toMatchObject({ database: 'up', broker: 'up', inbox: 'consuming' });
    expect(overview.queues).toEqual([
      expect.objectContaining({ name: 'comity.inbox.AT', role: 'inbox', consumers: 1 }),
      expect.objectContaining({ name: 'comity.quarantine.AT', role: 'quarantine', consumers: 1 }),
    ]);
    const peerFr = overview.peers.find((peer) => peer.state === 'FR')!;
    expect(peerFr.sent.delivered).toBeGreaterThanOrEqual(1);

    const byId = await getJson<{ items: Item[] }>('FR', `/v1/operations/messages?id=${id}`);
    expect(byId.items).toEqual([
      expect.objectContaining({ direction: 'inbound', id, status: 'delivered', peerState: 'AT' }),
    ]);
    const detail = await getJson<{ timeline: Array<{ type: string }> }>(
      'AT',
      `/v1/operations/messages/outbound/${id}`,
    );
    expect(detail.timeline.map((entry) => entry.type)).toEqual(['submitted', 'sent', 'delivered']);

    const metrics = await fetch(url('AT', '/metrics'), { headers: as('AT') }).then((r) => r.text());
    const database = new Client({ connectionString: world.databaseUrls.AT });
    await database.connect();
    const { rows } = await database.query(
      `SELECT count(*)::int AS n FROM outbound_message WHERE to_state = 'FR' AND status = 'delivered'`,
    );
    await database.end();
    expect(metrics).toContain(
      `comity_messages{direction="outbound",peer="FR",status="delivered"} ${(rows[0] as { n: number }).n}`,
    );
    expect(metrics).toMatch(/comity_submit_to_delivered_seconds_count\{peer="FR"\} [1-9]/);
    expect(metrics).toContain('comity_queue_consumers{queue="comity.inbox.AT",role="inbox"} 1');
    expect(metrics).toContain('comity_up{component="broker"} 1');
    expect(metrics).toMatch(
      /comity_certificate_expiry_timestamp_seconds\{state="AT",use="signing"/,
    );
    expect(metrics).toMatch(/comity_inbox_messages_total\{type="receipt",outcome="ack"\} [1-9]/);

    // Content never reaches the operator's views.
    for (const body of [
      JSON.stringify(overview),
      JSON.stringify(byId),
      JSON.stringify(detail),
      metrics,
    ])
      expect(body).not.toContain('witness 4711');

    // Both nodes log the exchange as JSON lines carrying the envelope id, and no content.
    const frLog = readFileSync(world.federation.node('FR').logPath, 'utf8');
    expect(frLog).not.toContain('witness 4711');
    const lines = frLog
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.node === 'FR' && typeof line.time === 'string')).toBe(true);
  });

  it('pages through search results with a cursor and filters by State, kind and status', async () => {
    const austria = world.client('AT');
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push((await austria.submit(mlaRequest({ subject: `Paging ${i}` }))).id);
    for (const id of ids) await austria.waitForStatus(id, ['delivered']);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Item[]; nextCursor: string | null } = await getJson(
        'AT',
        `/v1/operations/messages?direction=outbound&state=FR&kind=mla_request&status=delivered&limit=2${cursor ? `&before=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort().reverse()).toEqual(seen);
    for (const id of ids) expect(seen).toContain(id);

    const since = new Date(Date.now() + 60_000).toISOString();
    expect(
      (await getJson<{ items: Item[] }>('AT', `/v1/operations/messages?since=${since}`)).items,
    ).toEqual([]);
    expect(
      (
        await getJson<{ items: Item[] }>('AT', '/v1/operations/messages?state=KE&status=delivered')
      ).items.every((item) => item.peerState === 'KE'),
    ).toBe(true);

    for (const [query, names] of [
      ['state=France', 'state'],
      ['status=lost', 'status'],
      ['id=42', 'id'],
      ['since=yesterday', 'since'],
      ['limit=100000', 'limit'],
      ['before=abc', 'before'],
      // A rank beyond any row's (bigint) is a malformed cursor, not a database error.
      [`before=${ids[0]}:9999999999999999999`, 'before'],
    ]) {
      const response = await fetch(url('AT', `/v1/operations/messages?${query}`), {
        headers: as('AT'),
      });
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toContain(names);
    }
    expect(
      (
        await fetch(url('AT', `/v1/operations/messages/outbound/${ids[0]!.replace(/.$/, '0')}`), {
          headers: as('AT'),
        })
      ).status,
    ).toBe(ids[0]!.endsWith('0') ? 200 : 404);
  });

  it('keeps quarantined messages for the operator, who discards one with a reason, audited', async () => {
    const messageId = await publishToInbox(
      world.amqpUrl,
      'FR',
      Buffer.from('{"comity":1,"header":"not.a.jws","content":"x"}'),
    );
    const [held] = await waitForQuarantined(
      world,
      'FR',
      (entry) => entry.amqpMessageId === messageId,
    );
    expect(held).toMatchObject({
      reason: 'malformed-envelope',
      status: 'held',
      messageType: 'envelope',
    });

    const overview = await getJson<{
      quarantine: { held: number };
      alerts: Array<{ code: string }>;
    }>('FR', '/v1/operations/overview');
    expect(overview.quarantine.held).toBeGreaterThanOrEqual(1);
    expect(overview.alerts.map((alert) => alert.code)).toContain('quarantine-held');

    const noReason = await post('FR', `/v1/operations/quarantine/${held!.id}/discard`, {});
    expect(noReason.status).toBe(400);
    expect(JSON.stringify(await noReason.json())).toContain('reason');
    const discarded = await post('FR', `/v1/operations/quarantine/${held!.id}/discard`, {
      reason: 'garbage from the broker, reported to the network team',
    });
    expect(discarded.status).toBe(200);
    expect(await discarded.json()).toMatchObject({
      status: 'discarded',
      resolvedBy: expect.any(String),
      resolutionReason: 'garbage from the broker, reported to the network team',
    });
    const again = await post('FR', `/v1/operations/quarantine/${held!.id}/release`, {
      reason: 'changed my mind',
    });
    expect(again.status).toBe(409);
    expect(
      (await post('FR', '/v1/operations/quarantine/999999/release', { reason: 'nope' })).status,
    ).toBe(404);

    const audit = await getJson<Array<{ action: string; outcome: string; reason: string }>>(
      'FR',
      '/v1/audit-events?limit=20',
      'auditor',
    );
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: `quarantine discarded ${held!.id}`,
        outcome: 'discarded',
        reason: 'garbage from the broker, reported to the network team',
      }),
    );
  });

  it('lets an operator retry a request that failed, as a new envelope that is delivered', async () => {
    const kenya = world.federation.node('KE');
    await kenya.stop('SIGKILL');
    const austria = world.client('AT');
    let failedId: string;
    try {
      ({ id: failedId } = await austria.submit(
        mlaRequest({
          kind: 'supplementary_information',
          recipient: { state: 'KE', authority: 'ke-central-authority' },
          body: SECRET_BODY,
        }),
      ));
      expect((await austria.waitForStatus(failedId, ['failed', 'delivered'], 30_000)).status).toBe(
        'failed',
      );
      const overview = await getJson<{ alerts: Array<{ code: string }> }>(
        'AT',
        '/v1/operations/overview',
      );
      expect(overview.alerts.map((alert) => alert.code)).toContain('delivery-failed');
      const notFailed = await post('AT', `/v1/operations/messages/${failedId}/retry`, {});
      expect(notFailed.status).toBe(400);
    } finally {
      // KE comes back with its inbox emptied (rebuilt after the outage): the copies AT sent are
      // gone, so only a retry can still deliver the request.
      const broker = await connect(world.amqpUrl);
      const channel = await broker.createChannel();
      await channel.purgeQueue('comity.inbox.KE');
      await broker.close();
      kenya.start();
      await kenya.waitUntilReady();
    }
    const retried = await post('AT', `/v1/operations/messages/${failedId}/retry`, {
      reason: 'KE was down for maintenance; sent again',
    });
    expect([retried.status, retried.status === 201 ? '' : await retried.text()]).toEqual([201, '']);
    const { retriedAs } = (await retried.json()) as { retriedAs: string };
    expect(retriedAs).not.toBe(failedId);
    expect(
      (await austria.waitForStatus(retriedAs, ['delivered', 'rejected', 'failed'])).status,
    ).toBe('delivered');
    // The clerk reads the same content in the new message; the operator never saw it.
    expect((await austria.outbound(retriedAs)).content).toMatchObject({ body: SECRET_BODY });
    const old = await getJson<{ timeline: Array<{ type: string; detail: string | null }> }>(
      'AT',
      `/v1/operations/messages/outbound/${failedId}`,
    );
    expect(old.timeline.map((entry) => entry.type)).toContain('retried');
    expect(old.timeline.find((entry) => entry.type === 'retried')?.detail).toContain(retriedAs);
    // One retry per message: a second one (another operator, a double click) is refused.
    const again = await post('AT', `/v1/operations/messages/${failedId}/retry`, {
      reason: 'retrying again',
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { message: string }).message).toMatch(/already retried/);
    const twice = await post('AT', `/v1/operations/messages/${retriedAs}/retry`, {
      reason: 'delivered already',
    });
    expect(twice.status).toBe(409);
  }, 90_000);
});
