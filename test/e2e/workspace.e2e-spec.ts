import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Browser, Page } from 'playwright-core';
import { completeMlaRequest } from '../../libs/protocol/test-support/structured-requests';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { launchChromium } from '../support/browser';
import { startTestFederation, type TestFederation } from '../support/test-federation';

/**
 * The clerks' workspace (apps/gateway/workspace/) in a real browser (Debian's Chromium,
 * headless) against gateway processes: people sign in, and a case is worked from FR's
 * acknowledgement to AT seeing it executed and downloading the result, both clerks in the
 * browser; an operator's session sees no content.
 */
describe('the clerks’ workspace', () => {
  const root = repoRoot(__dirname);
  const screenshots = join(root, 'test-output', 'screenshots');
  const WAIT = 30_000;
  let world: TestFederation;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    world = await startTestFederation('workspace', {
      COMITY_CASE_SWEEP_MS: '200',
      COMITY_ATTACHMENT_CHUNK_BYTES: String(256 * 1024),
    });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  }, 60_000);

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  /** A fresh browser (its own cookies) on a node's workspace, signed in as one of its people. */
  async function signedIn(state: string, person: 'clerk' | 'operator'): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) problems.push(message.text());
    });
    // localhost: a potentially trustworthy origin, where the Secure session cookie is kept over http.
    const url = world.federation.node(state).url.replace('127.0.0.1', 'localhost');
    await page.goto(`${url}/workspace/`);
    const { username, password } = world.account(state, person);
    await page.getByTestId('username').fill(username);
    await page.getByTestId('password').fill(password);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('app').waitFor({ timeout: WAIT });
    return page;
  }

  async function openCase(page: Page, tab: 'inbound' | 'outbound', subject: string): Promise<void> {
    await page.getByTestId(`tab-${tab}`).click();
    await page.getByTestId('open-case').filter({ hasText: subject }).click();
    await page.getByTestId('case-subject').filter({ hasText: subject }).waitFor({ timeout: WAIT });
  }

  async function act(
    page: Page,
    kind: string,
    fill: (page: Page) => Promise<void> = async () => undefined,
  ) {
    await page.getByTestId(`action-${kind}`).click();
    await fill(page);
    await page.getByTestId('action-send').click();
  }

  const caseState = (page: Page) => page.getByTestId('case-view-state');

  it('refuses a wrong password with a clear message', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(
      `${world.federation.node('FR').url.replace('127.0.0.1', 'localhost')}/workspace/`,
    );
    await page.getByTestId('username').fill(world.account('FR', 'clerk').username);
    await page.getByTestId('password').fill('not the password');
    await page.getByTestId('sign-in').click();
    await expectText(page.getByTestId('sign-in-error'), /wrong username or password/);
    await context.close();
  }, 60_000);

  /** Fills a field of the request writer (data-testid `w-<field>`). */
  async function write(page: Page, field: string, value: string): Promise<void> {
    await page.getByTestId(`w-${field}`).first().fill(value);
  }

  it('writes a request in the browser and works its case to the end across two nodes', async () => {
    const subject = `Workspace case ${Date.now()}`;
    const at = await signedIn('AT', 'clerk');
    await at.getByTestId('tab-writer').click();
    await at.getByTestId('w-kind').waitFor({ timeout: WAIT });
    // The counterparts come from the signed directory; the writer leaves out the own State.
    await at
      .getByTestId('w-recipient')
      .locator('option[value^="FR/"]')
      .waitFor({ state: 'attached' });
    expect(await at.getByTestId('w-recipient').locator('option[value^="AT/"]').count()).toBe(0);
    const fr = await at
      .getByTestId('w-recipient')
      .locator('option[value^="FR/"]')
      .first()
      .getAttribute('value');
    await at.getByTestId('w-recipient').selectOption(fr!);
    await write(at, 'subject', subject);
    await write(at, 'legalBasis', 'UNCAC art. 46');
    // German is not among the languages FR's authority accepts: a warning, not a refusal.
    await at.getByTestId('w-language').selectOption('de');
    await expectText(at.getByTestId('writer-warnings'), /not in de: attach a translation/);
    await at.getByTestId('w-language').selectOption('en');
    await at.getByTestId('w-assistance').getByRole('checkbox').nth(5).check();
    await write(at, 'requestingAuthority', 'Public Prosecutor’s Office Vienna');
    await write(at, 'proceedings.subjectMatter', 'Bribery in a procurement procedure');
    await write(at, 'proceedings.conductingAuthority', 'Public Prosecutor’s Office Vienna');
    await write(at, 'proceedings.conductingAuthorityFunctions', 'Directs the investigation');
    await write(at, 'facts', 'Between 2023 and 2025 the suspect paid EUR 400,000 to an official.');
    await write(at, 'assistanceSought', 'Certified copies of the statements of account 1234.');
    await at.getByTestId('w-add-offences').click();
    await write(at, 'offences.description', 'Bribery');
    await write(at, 'offences.legalProvision', '§ 307 StGB');
    await at.getByTestId('w-template-name').fill('Vienna bank records');
    await at.getByTestId('w-save-template').click();
    await expectText(at.getByTestId('w-templates'), /Vienna bank records/);

    // The purpose (UNCAC art. 46(15)(f)) is still missing: sending is held back and says why.
    await at.getByTestId('w-send').click();
    await expectText(at.getByTestId('writer-notice'), /Not sent: 1 required field is missing/);
    await expectText(at.getByTestId('writer-missing'), /Purpose/);
    await at.getByTestId('w-save').click();
    await expectText(at.getByTestId('writer-drafts'), new RegExp(subject));
    await at.getByTestId('w-letter').click();
    await at.getByTestId('w-letter-link').waitFor({ timeout: WAIT });
    expect(
      Number(await at.getByTestId('w-letter-link').getAttribute('data-bytes')),
    ).toBeGreaterThan(1000);

    await write(at, 'purpose', 'To prove the flow of the bribes.');
    await expectText(at.getByTestId('writer-check'), /^Complete/);
    // The preview is the text a reader of the body gets, section by section.
    expect(await at.getByTestId('writer-preview').textContent()).toContain(
      'PURPOSE\nTo prove the flow of the bribes.',
    );
    await at.screenshot({ path: join(screenshots, 'workspace-writer.png'), fullPage: true });
    // Every control of the writer has a name a screen reader can say.
    const unlabelled = await at.getByTestId('writer').evaluate((writer) =>
      Array.from(writer.querySelectorAll('input, select, textarea, button'))
        .filter((control) => {
          const c = control as unknown as {
            labels?: { length: number } | null;
            getAttribute(name: string): string | null;
            textContent: string | null;
            tagName: string;
            id: string;
          };
          if (c.tagName === 'BUTTON') return !(c.textContent ?? '').trim();
          return !(c.labels && c.labels.length) && !c.getAttribute('aria-label');
        })
        .map((control) => (control as unknown as { outerHTML: string }).outerHTML.slice(0, 80)),
    );
    expect(unlabelled).toEqual([]);
    await at.getByTestId('w-send').click();
    await at.getByTestId('case-subject').filter({ hasText: subject }).waitFor({ timeout: WAIT });
    const id = (await world.client('AT').cases({ q: subject, direction: 'outbound' })).items[0]
      ?.id as string;
    expect(id).toBeDefined();
    await world.client('AT').waitForStatus(id, ['delivered']);
    // The draft was sent: it is gone.
    await at.getByTestId('tab-writer').click();
    await expectText(at.getByTestId('writer-drafts'), /No drafts/);

    const frPage = await signedIn('FR', 'clerk');
    await openCase(frPage, 'inbound', subject);
    await expectText(caseState(frPage), /awaiting acknowledgement/);
    // The structured request arrives whole, section by section.
    await expectText(frPage.getByTestId('timeline'), /PURPOSE\s+To prove the flow of the bribes\./);
    // The browser's own check first: the reference is required.
    await act(frPage, 'acknowledgement');
    expect(
      await frPage
        .getByTestId('action-reference')
        .evaluate(
          (input) =>
            (input as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing,
        ),
    ).toBe(true);
    await frPage.getByTestId('action-reference').fill('FR-WS-1');
    await frPage.getByTestId('action-send').click();
    await expectText(caseState(frPage), /in progress/);
    await act(frPage, 'information_request', async (page) => {
      await page.getByTestId('action-note').fill('Which accounts exactly?');
    });
    await expectText(caseState(frPage), /awaiting information/);

    await world.client('AT').waitForCase(id, (view) => view.state === 'awaiting_information');
    await at.getByTestId('tab-outbound').click();
    await openCase(at, 'outbound', subject);
    await expectText(at.getByTestId('timeline'), /Which accounts exactly\?/);
    await act(at, 'additional_information', async (page) => {
      await page.getByTestId('action-note').fill('Accounts 1234 and 5678.');
    });
    await expectText(caseState(at), /in progress/);

    await world
      .client('FR')
      .waitForCase(id, (view) => view.state === 'in_progress' && view.messages === 3);
    await frPage.getByTestId('back').click();
    await openCase(frPage, 'inbound', subject);
    // The result is too large to travel inline: it is uploaded in chunks. The connection drops
    // under the second chunk once; the upload tries again and completes.
    const result = Buffer.alloc(5 * 256 * 1024 + 1000, 7);
    let dropped = 0;
    await frPage.route(/\/v1\/attachments\/[^/]+\/chunks\/1$/, async (route) => {
      if (dropped++ === 0) return route.abort('connectionreset');
      return route.continue();
    });
    await act(frPage, 'execution_completed', async (page) => {
      await page.getByTestId('action-attachments').setInputFiles({
        name: 'statements.bin',
        mimeType: 'application/octet-stream',
        buffer: result,
      });
    });
    await expectText(caseState(frPage), /^executed$/);
    expect(dropped).toBe(2);

    await world.client('AT').waitForCase(id, (view) => view.state === 'executed');
    await at.getByTestId('back').click();
    await openCase(at, 'outbound', subject);
    await expectText(caseState(at), /^executed$/);
    // The request's receipt, verified again when the case is shown, and FR's signed retrieval
    // evidence (its clerk opened the case).
    await expectText(
      at.getByTestId('receipt'),
      /^Delivered, signed by FR at .* signature verified\. Opened by FR at .* UTC \(signed evidence\)$/,
    );
    const large = at.getByTestId('download-large').filter({ hasText: 'statements.bin' });
    await large.waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([at.waitForEvent('download'), large.click()]);
    expect(download.suggestedFilename()).toBe('statements.bin');
    const path = await download.path();
    expect(readFileSync(path).equals(result)).toBe(true);
    await at.screenshot({ path: join(screenshots, 'workspace-case.png'), fullPage: true });

    await at.getByTestId('tab-statistics').click();
    const sent = at.locator(
      '[data-testid="statistics-line"][data-direction="outbound"][data-total="true"]',
    );
    await expectText(sent.locator('[data-column="executed"]'), /^1$/);
    // The charts draw the same figures: this month's sent requests, FR as the other State.
    const month = new Date().toISOString().slice(0, 7);
    const monthBar = at
      .getByTestId('chart-months')
      .locator(`[data-testid="bar"][data-series="outbound"][data-category="${month}"]`);
    expect(Number(await monthBar.getAttribute('data-value'))).toBeGreaterThanOrEqual(1);
    const frBar = at
      .getByTestId('chart-counterparts')
      .locator('[data-testid="bar"][data-series="outbound"][data-category="FR"]');
    expect(Number(await frBar.getAttribute('data-value'))).toBeGreaterThanOrEqual(1);
    // Acknowledged and executed within the test: the durations have bars (0 days, not blank).
    expect(
      await at.getByTestId('chart-durations').locator('[data-testid="bar"]').count(),
    ).toBeGreaterThan(0);
    await at.screenshot({ path: join(screenshots, 'workspace-statistics.png'), fullPage: true });
  }, 180_000);

  describe('the request writer’s API', () => {
    /** A raw call with a development API key: {status, body}. */
    async function call(
      state: string,
      principal: 'central-clerk' | 'extradition-clerk' | 'operator',
      method: string,
      path: string,
      body?: unknown,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers' JSON, read by the assertions
    ): Promise<{ status: number; body: any; bytes: Buffer; type: string }> {
      const response = await fetch(`${world.federation.node(state).url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${world.apiKey(state, principal)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      const type = response.headers.get('content-type') ?? '';
      const parsed = type.includes('json') ? JSON.parse(bytes.toString('utf8')) : null;
      return { status: response.status, body: parsed, bytes, type };
    }

    const structured = (overrides: Record<string, unknown> = {}) => ({
      kind: 'mla_request',
      senderAuthority: 'at-central-authority',
      recipient: { state: 'FR', authority: 'fr-central-authority' },
      legalBasis: 'UNCAC art. 46',
      urgency: 'routine',
      subject: `Structured ${Date.now()}`,
      request: completeMlaRequest(),
      ...overrides,
    });

    it('keeps drafts per clerk, sealed at rest, and refuses a stale revision', async () => {
      const secret = `Secret draft ${Date.now()}`;
      const created = await call('AT', 'central-clerk', 'POST', '/v1/drafts', {
        kind: 'mla_request',
        name: secret,
        form: { subject: secret, request: { facts: 'confidential facts' } },
      });
      expect(created.status).toBe(201);
      expect(created.body.revision).toBe(1);
      const id = created.body.id as string;

      // Another clerk of the node (another authority) neither lists nor opens it.
      const other = await call('AT', 'extradition-clerk', 'GET', '/v1/drafts');
      expect(other.body.map((d: { id: string }) => d.id)).not.toContain(id);
      expect((await call('AT', 'extradition-clerk', 'GET', `/v1/drafts/${id}`)).status).toBe(404);
      expect((await call('AT', 'operator', 'GET', '/v1/drafts')).status).toBe(403);

      const saved = await call('AT', 'central-clerk', 'PUT', `/v1/drafts/${id}`, {
        kind: 'mla_request',
        name: secret,
        revision: 1,
        form: { subject: secret, request: { facts: 'more confidential facts' } },
      });
      expect(saved.status).toBe(200);
      expect(saved.body.revision).toBe(2);
      const stale = await call('AT', 'central-clerk', 'PUT', `/v1/drafts/${id}`, {
        kind: 'mla_request',
        name: secret,
        revision: 1,
        form: {},
      });
      expect(stale.status).toBe(409);
      const read = await call('AT', 'central-clerk', 'GET', `/v1/drafts/${id}`);
      expect(read.body.form.request.facts).toBe('more confidential facts');

      // At rest: nothing the clerk typed, in any column.
      const database = new Client({ connectionString: world.databaseUrls.AT });
      await database.connect();
      try {
        const { rows } = await database.query(
          'SELECT row_to_json(d)::text AS row FROM request_draft d',
        );
        const dump = rows.map((row: { row: string }) => row.row).join('\n');
        expect(dump).toContain(id);
        expect(dump).not.toContain('confidential');
        expect(dump).not.toContain(secret);
      } finally {
        await database.end();
      }

      expect((await call('AT', 'central-clerk', 'DELETE', `/v1/drafts/${id}`)).status).toBe(204);
      expect((await call('AT', 'central-clerk', 'GET', `/v1/drafts/${id}`)).status).toBe(404);
      const unnamed = await call('AT', 'central-clerk', 'POST', '/v1/templates', {
        kind: 'mla_request',
        form: {},
      });
      expect(unnamed.status).toBe(400);
      expect(JSON.stringify(unnamed.body)).toContain('a template needs a name');
    }, 60_000);

    it('checks a structured request as it is written and prints its letter', async () => {
      const partial = await call('AT', 'central-clerk', 'POST', '/v1/requests/check', {
        kind: 'mla_request',
        recipient: { state: 'FR', authority: 'fr-central-authority' },
        request: completeMlaRequest({ purpose: '', language: 'de' }),
      });
      expect(partial.status).toBe(200);
      expect(partial.body.missing.map((m: { field: string }) => m.field)).toEqual(['purpose']);
      expect(partial.body.warnings.join(' ')).toContain('not in de');
      const malformed = await call('AT', 'central-clerk', 'POST', '/v1/requests/check', {
        kind: 'mla_request',
        request: { ...completeMlaRequest(), assistance: ['mind_reading'] },
      });
      expect(malformed.status).toBe(400);
      expect(JSON.stringify(malformed.body)).toContain('request.assistance[0] must be one of');

      const letter = await call('AT', 'central-clerk', 'POST', '/v1/requests/letter', {
        ...structured(),
        urgency: 'urgent',
      });
      expect(letter.status).toBe(200);
      expect(letter.type).toBe('application/pdf');
      expect(letter.bytes.subarray(0, 5).toString()).toBe('%PDF-');
      const wrongAuthority = await call('AT', 'central-clerk', 'POST', '/v1/requests/letter', {
        ...structured(),
        senderAuthority: 'at-extradition-authority',
      });
      expect(wrongAuthority.status).toBe(403);
    }, 60_000);

    it('sends a structured request that FR reads as structure, and refuses an incomplete one', async () => {
      const incomplete = await call(
        'AT',
        'central-clerk',
        'POST',
        '/v1/outbound-messages',
        structured({ request: completeMlaRequest({ purpose: '' }) }),
      );
      expect(incomplete.status).toBe(400);
      expect(JSON.stringify(incomplete.body)).toContain('purpose (Purpose of the evidence');
      const both = await call(
        'AT',
        'central-clerk',
        'POST',
        '/v1/outbound-messages',
        structured({ body: 'free text as well' }),
      );
      expect(both.status).toBe(400);

      const sent = await world.client('AT').submit(structured());
      await world.client('AT').waitForStatus(sent.id, ['delivered']);
      const received = await world.client('FR').inbound(sent.id);
      expect(received.content?.request).toEqual(completeMlaRequest());
      expect(received.content?.body).toContain('PURPOSE\nTo prove the flow of the bribes.');
    }, 60_000);
  });

  it("shows an operator the cases' metadata, never their content", async () => {
    const operator = await signedIn('FR', 'operator');
    await operator.getByTestId('case-row').first().waitFor({ timeout: WAIT });
    const text = await operator.getByTestId('case-rows').innerText();
    expect(text).not.toMatch(/Workspace case/);
  }, 60_000);
});

async function expectText(
  locator: import('playwright-core').Locator,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    last = (
      (await locator
        .first()
        .textContent()
        .catch(() => '')) ?? ''
    ).trim();
    if (pattern.test(last)) return;
    if (Date.now() > deadline) throw new Error(`expected ${pattern}, saw "${last}"`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
