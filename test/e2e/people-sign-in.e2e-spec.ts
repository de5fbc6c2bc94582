import { Client } from 'pg';
import { uuidV7 } from '@comity/protocol';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

/** A browser-like client: keeps the session cookie, sends the CSRF token when asked to. */
class Person {
  cookie: string | null = null;
  csrf: string | null = null;

  constructor(private readonly baseUrl: string) {}

  async call(
    method: string,
    path: string,
    options: { body?: unknown; csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Record<string, unknown> | null; setCookie: string | null }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(options.csrf && this.csrf ? { 'x-csrf-token': this.csrf } : {}),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const setCookie = response.headers.get('set-cookie');
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
      setCookie,
    };
  }

  async signIn(username: string, password: string) {
    const answer = await this.call('POST', '/v1/session', { body: { username, password } });
    if (answer.status === 201) {
      this.cookie = answer.setCookie!.split(';')[0]!;
      this.csrf = answer.body!.csrfToken as string;
    }
    return answer;
  }
}

describe('people sign in to the workspace: sessions, CSRF, lockout, audit', () => {
  let world: TestFederation;
  let audit: Client;

  beforeAll(async () => {
    world = await startTestFederation('people', { COMITY_SIGN_IN_LOCKOUT_FAILURES: '3' });
    audit = new Client({ connectionString: world.databaseUrls.FR });
    await audit.connect();
  }, 120_000);

  afterAll(async () => {
    await audit?.end();
    await world?.stop();
  }, 60_000);

  const fr = () => world.federation.node('FR').url;

  it('signs a clerk in with an HttpOnly, Secure, SameSite=Strict cookie, scoped to their authority', async () => {
    const { id } = await world
      .client('AT')
      .submit(mlaRequest({ subject: 'Seen through a session' }));
    await world.client('AT').waitForStatus(id, ['delivered']);
    const { username, password } = world.account('FR', 'clerk');
    const clerk = new Person(fr());
    const answer = await clerk.signIn(username, password);
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      username,
      role: 'clerk',
      authority: 'fr-central-authority',
    });
    expect(answer.setCookie).toMatch(/^comity_session=[A-Za-z0-9_-]{43};/);
    expect(answer.setCookie).toMatch(/HttpOnly/);
    expect(answer.setCookie).toMatch(/Secure/);
    expect(answer.setCookie).toMatch(/SameSite=Strict/);
    expect(JSON.stringify(answer.body)).not.toContain(password);
    const cases = await clerk.call('GET', `/v1/cases/${id}`);
    expect(cases.status).toBe(200);
    expect(cases.body?.subject).toBe('Seen through a session');
    expect((await clerk.call('GET', '/v1/session')).body).toMatchObject({
      username,
      csrfToken: clerk.csrf,
    });
    // Another authority's clerk does not see it.
    const other = new Person(fr());
    const account = world.account('FR', 'extradition-clerk');
    expect((await other.signIn(account.username, account.password)).status).toBe(201);
    expect((await other.call('GET', `/v1/cases/${id}`)).status).toBe(404);
    // An operator's session sees metadata, never content.
    const operator = new Person(fr());
    const operatorAccount = world.account('FR', 'operator');
    expect((await operator.signIn(operatorAccount.username, operatorAccount.password)).status).toBe(
      201,
    );
    const metadata = await operator.call('GET', `/v1/cases/${id}`);
    expect(metadata.status).toBe(200);
    expect(metadata.body?.subject).toBeUndefined();
    expect(JSON.stringify(metadata.body)).not.toContain('Seen through a session');
  }, 60_000);

  it('refuses a change without the CSRF token, and accepts it with', async () => {
    const { username, password } = world.account('FR', 'clerk');
    const clerk = new Person(fr());
    await clerk.signIn(username, password);
    const unknownCase = `/v1/cases/${uuidV7()}/actions`;
    const without = await clerk.call('POST', unknownCase, { body: { kind: 'closure' } });
    expect(without.status).toBe(403);
    expect(without.body?.message).toContain('CSRF token missing or wrong');
    const wrong = await clerk.call('POST', unknownCase, {
      body: { kind: 'closure' },
      headers: { 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrong.status).toBe(403);
    // With the token, the request reaches the route (and the case is unknown).
    expect(
      (await clerk.call('POST', unknownCase, { body: { kind: 'closure' }, csrf: true })).status,
    ).toBe(404);
    const denial = await audit.query(
      `SELECT reason FROM audit_event WHERE outcome = 'denied' AND status = 403 AND reason LIKE 'CSRF%' LIMIT 1`,
    );
    expect(denial.rows).toHaveLength(1);
  }, 30_000);

  it('answers every failed sign-in the same way, locks the account after repeated failures, and audits it', async () => {
    const { username, password } = world.account('FR', 'auditor');
    const person = new Person(fr());
    const unknown = await person.signIn('nobody-here', 'whatever');
    const wrong = await person.signIn(username, 'not the password');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body?.message).toBe(wrong.body?.message);
    expect(unknown.setCookie).toBeNull();
    await person.signIn(username, 'still wrong');
    await person.signIn(username, 'wrong again');
    // Three failures (the limit here): even the right password is refused for a while.
    const locked = await person.signIn(username, password);
    expect(locked.status).toBe(401);
    const reasons = await audit.query(
      `SELECT reason FROM audit_event WHERE principal = $1 AND action = 'POST /v1/session' ORDER BY id`,
      [username],
    );
    expect(reasons.rows.map((row: { reason: string }) => row.reason)).toEqual([
      'wrong password',
      'wrong password',
      'wrong password',
      'account locked after 3 failed sign-ins within 15 min',
    ]);
    const logged = await audit.query(
      `SELECT count(*)::int AS n FROM audit_event WHERE reason LIKE $1`,
      [`%${password}%`],
    );
    expect(logged.rows[0].n).toBe(0);
  }, 30_000);

  it('signs out: the cookie no longer opens anything', async () => {
    const { username, password } = world.account('FR', 'clerk');
    const clerk = new Person(fr());
    await clerk.signIn(username, password);
    expect((await clerk.call('DELETE', '/v1/session')).status).toBe(403); // no CSRF token
    const out = await clerk.call('DELETE', '/v1/session', { csrf: true });
    expect(out.status).toBe(204);
    expect(out.setCookie).toMatch(/comity_session=;/);
    const after = await clerk.call('GET', '/v1/cases');
    expect(after.status).toBe(401);
    expect(after.body?.message).toContain('sign in again');
    // Machines keep their API keys, unaffected.
    expect((await world.client('FR').cases()).items).toBeDefined();
  }, 30_000);
});
