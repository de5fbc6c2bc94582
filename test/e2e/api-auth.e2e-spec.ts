import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

/**
 * Who may do what through the API: clerks act for their own authority only, operators see
 * metadata and never content, auditors see evidence and the audit log; every refusal is audited.
 */
describe('API authentication and roles', () => {
  let world: TestFederation;
  let url: string;

  beforeAll(async () => {
    world = await startTestFederation('apiauth', { COMITY_RATE_LIMIT_PER_SECOND: '20' });
    url = world.federation.node('AT').url;
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  const as = (
    principal: 'central-clerk' | 'extradition-clerk' | 'operator' | 'auditor' | null,
    key?: string,
  ): Record<string, string> => {
    const token = principal ? world.apiKey('AT', principal) : key;
    return token ? { authorization: `Bearer ${token}` } : {};
  };

  const get = (path: string, headers: Record<string, string>) =>
    fetch(`${url}${path}`, { headers });
  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  let centralMessage: string;
  let extraditionMessage: string;

  it('refuses calls without a key or with an unknown one (401), but health stays open', async () => {
    expect((await get('/v1/outbound-messages', as(null))).status).toBe(401);
    expect((await get('/v1/outbound-messages', as(null, 'comity_not-a-real-key'))).status).toBe(
      401,
    );
    expect((await post('/v1/outbound-messages', mlaRequest(), as(null))).status).toBe(401);
    expect((await get('/health', as(null))).status).toBe(200);
  });

  it('lets a clerk submit only for its own authority', async () => {
    const own = await post('/v1/outbound-messages', mlaRequest(), as('central-clerk'));
    expect(own.status).toBe(201);
    centralMessage = ((await own.json()) as { id: string }).id;
    const forOther = await post('/v1/outbound-messages', mlaRequest(), as('extradition-clerk'));
    expect(forOther.status).toBe(403);
    const extradition = await post(
      '/v1/outbound-messages',
      mlaRequest({
        senderAuthority: 'at-extradition-authority',
        kind: 'extradition_request',
        recipient: { state: 'FR', authority: 'fr-extradition-authority' },
      }),
      as('extradition-clerk'),
    );
    expect(extradition.status).toBe(201);
    extraditionMessage = ((await extradition.json()) as { id: string }).id;
    await world.client('AT').waitForStatus(centralMessage, ['delivered']);
    await world.client('AT', 'extradition-clerk').waitForStatus(extraditionMessage, ['delivered']);
  });

  it("shows a clerk its authority's requests only, with content; another clerk's are not found", async () => {
    const list = (await (
      await get('/v1/outbound-messages?limit=500', as('central-clerk'))
    ).json()) as { items: Array<{ id: string; from: { authority: string } }> };
    expect(list.items.map((item) => item.id)).toContain(centralMessage);
    expect(list.items.every((item) => item.from.authority === 'at-central-authority')).toBe(true);
    const own = (await (
      await get(`/v1/outbound-messages/${centralMessage}`, as('central-clerk'))
    ).json()) as { content?: { subject: string } };
    expect(own.content?.subject).toBe('Bank records');
    expect(
      (await get(`/v1/outbound-messages/${extraditionMessage}`, as('central-clerk'))).status,
    ).toBe(404);
    expect(
      (await get(`/v1/outbound-messages/${extraditionMessage}/envelope`, as('central-clerk')))
        .status,
    ).toBe(404);
  });

  it('shows an operator every message’s metadata and status, never content, envelopes or receipts', async () => {
    const list = (await (await get('/v1/outbound-messages?limit=500', as('operator'))).json()) as {
      items: Array<{ id: string }>;
    };
    expect(list.items.map((item) => item.id)).toEqual(
      expect.arrayContaining([centralMessage, extraditionMessage]),
    );
    const detail = (await (
      await get(`/v1/outbound-messages/${centralMessage}`, as('operator'))
    ).json()) as Record<string, unknown>;
    expect(detail.status).toBe('delivered');
    expect(detail).not.toHaveProperty('content');
    expect(JSON.stringify(detail)).not.toContain('Bank records');
    expect(
      (await get(`/v1/outbound-messages/${centralMessage}/envelope`, as('operator'))).status,
    ).toBe(403);
    expect((await post('/v1/outbound-messages', mlaRequest(), as('operator'))).status).toBe(403);
  });

  it('gives an auditor the evidence (envelope, receipt) and the audit log of refusals, not content', async () => {
    expect(
      (await get(`/v1/outbound-messages/${centralMessage}/receipt`, as('auditor'))).status,
    ).toBe(200);
    expect(
      (await get(`/v1/outbound-messages/${centralMessage}/envelope`, as('auditor'))).status,
    ).toBe(200);
    const detail = (await (
      await get(`/v1/outbound-messages/${centralMessage}`, as('auditor'))
    ).json()) as Record<string, unknown>;
    expect(detail).not.toHaveProperty('content');
    expect((await get('/v1/audit-events', as('central-clerk'))).status).toBe(403);
    const events = (await (
      await get('/v1/audit-events?limit=1000', as('auditor'))
    ).json()) as Array<{ status: number; reason: string; principal: string | null }>;
    expect(events.filter((event) => event.status === 401).length).toBeGreaterThanOrEqual(3);
    expect(events).toEqual(
      expect.arrayContaining([expect.objectContaining({ status: 403, principal: 'at-operator' })]),
    );
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          status: 403,
          principal: 'at-central-clerk',
          reason: 'role clerk may not GET /v1/audit-events',
        }),
      ]),
    );
  });

  it('rate-limits a caller that floods the API (429), and audits it', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 80 }, () => get('/v1/directory', as('operator')).then((r) => r.status)),
    );
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const events = (await (
      await get('/v1/audit-events?limit=1000', as('auditor'))
    ).json()) as Array<{ status: number; reason: string }>;
    expect(events.some((event) => event.status === 429 && event.reason === 'rate limit')).toBe(
      true,
    );
  });
});
