import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { uuidV7, type DirectoryDocument } from '@comity/protocol';
import { writeSignedDirectory } from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES, buildDevDirectory } from '../../apps/cli/src/federation/dev-directory';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { launchChromium } from '../support/browser';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { TEST_PKI_DIRECTORY, testPki } from '../support/test-pki';

/**
 * The operator console (apps/gateway/console/) driven in a real browser (Debian's Chromium,
 * headless) against a federation of gateway processes: sign-in, the live overview, watching a
 * message travel, and releasing a message from quarantine once the directory allows it.
 */
describe('the operator console', () => {
  const root = repoRoot(__dirname);
  const screenshots = join(root, 'test-output', 'screenshots');
  const directoryPath = join(TEST_PKI_DIRECTORY, `directory-console-${uuidV7()}.jws`);
  const WAIT = 30_000;

  let world: TestFederation;
  let browser: Browser;
  let layout: Awaited<ReturnType<typeof testPki>>['layout'];
  let document: DirectoryDocument;
  /** Script errors and content-security-policy refusals seen in any tab. */
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    layout = (await testPki()).layout;
    document = buildDevDirectory(layout, DEV_STATES, { now: new Date(Date.now() - 60_000) });
    writeSignedDirectory(layout, document, directoryPath);
    world = await startTestFederation(
      'console',
      // No retransmission while a message waits in quarantine: the release delivers it.
      { COMITY_DIRECTORY_REFRESH_SECONDS: '1', COMITY_RECEIPT_TIMEOUT_SECONDS: '600' },
      { directoryPath },
    );
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
    rmSync(directoryPath, { force: true });
  }, 60_000);

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  const consoleUrl = (state: string) => `${world.federation.node(state).url}/console/`;

  /** A fresh browser tab (its own sessionStorage) on a node's console. */
  async function openConsole(state: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) problems.push(message.text());
    });
    await page.goto(consoleUrl(state));
    await page.getByTestId('api-key').waitFor({ timeout: WAIT });
    return page;
  }

  async function signIn(page: Page, key: string, state: string): Promise<void> {
    await page.getByTestId('api-key').fill(key);
    await page.getByTestId('sign-in').click();
    await page
      .locator(`[data-testid="state"]:text-is("${state}")`)
      .waitFor({ state: 'visible', timeout: WAIT });
  }

  async function operatorConsole(state: string, tab?: 'messages' | 'quarantine'): Promise<Page> {
    const page = await openConsole(state);
    await signIn(page, world.apiKey(state, 'operator'), state);
    if (tab) await page.getByTestId(`tab-${tab}`).click();
    return page;
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

  const text = async (page: Page, selector: string) =>
    ((await page.locator(selector).first().textContent()) ?? '').trim();

  async function directoryVersionAt(state: string): Promise<number> {
    const answer = await fetch(`${world.federation.node(state).url}/v1/directory`, {
      headers: world.client(state).authorization,
    });
    return ((await answer.json()) as { version: number }).version;
  }

  async function publishDirectory(edition: DirectoryDocument, states: string[]): Promise<void> {
    writeSignedDirectory(layout, edition, directoryPath);
    const deadline = Date.now() + WAIT;
    for (;;) {
      const versions = await Promise.all(states.map(directoryVersionAt));
      if (versions.every((version) => version === edition.version)) break;
      if (Date.now() > deadline) throw new Error(`nodes hold ${versions}, not ${edition.version}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    document = edition;
  }

  it("signs in with FR's operator key and shows FR's live overview", async () => {
    const page = await operatorConsole('FR');
    expect(await text(page, '[data-testid="state"]')).toBe('FR');
    expect(await page.evaluate('sessionStorage.length')).toBe(1);

    const inbox = page.locator('[data-testid="queue-row"][data-name="comity.inbox.FR"]');
    await inbox.waitFor({ timeout: WAIT });
    await page
      .locator(
        '[data-testid="queue-row"][data-name="comity.inbox.FR"] [data-testid="queue-consumers"]:text-is("1")',
      )
      .waitFor({ timeout: WAIT });
    expect(await text(page, '[data-testid="queue-row"][data-name="comity.inbox.FR"] td')).toBe(
      'comity.inbox.FR',
    );
    await page
      .locator('[data-testid="component-database"][data-status="ok"]')
      .waitFor({ timeout: WAIT });
    expect(await text(page, '[data-testid="component-inbox"]')).toContain('consuming');
    expect(await page.getByTestId('connection').getAttribute('data-state')).toBe('ok');
    expect(await text(page, '[data-testid="last-updated"]')).toMatch(
      /^last updated \d\d:\d\d:\d\d$/,
    );

    // The overview is polled: "last updated" moves on without a reload.
    const first = await text(page, '[data-testid="last-updated"]');
    await page
      .locator(`[data-testid="last-updated"]:not(:text-is("${first}"))`)
      .waitFor({ timeout: WAIT });
    await shot(page, '1-overview');
  });

  it('shows a message sent by AT arriving at FR and reaching delivered at AT, with its timeline', async () => {
    const fr = await operatorConsole('FR', 'messages');
    const at = await operatorConsole('AT', 'messages');
    await fr.getByTestId('results').waitFor({ timeout: WAIT });

    const { id } = await world.client('AT').submit(mlaRequest({ subject: 'Console watch' }));

    // Without a click or reload: FR's list shows the inbound message, AT's reaches delivered.
    const inbound = fr.locator(`[data-testid="result-row"][data-id="${id}"]`);
    await inbound.waitFor({ timeout: WAIT });
    expect(await inbound.getAttribute('data-direction')).toBe('inbound');
    await fr
      .locator(`[data-testid="result-row"][data-id="${id}"][data-status="delivered"]`)
      .waitFor({ timeout: WAIT });
    await at
      .locator(`[data-testid="result-row"][data-id="${id}"][data-status="delivered"]`)
      .waitFor({ timeout: WAIT });
    const atRow = at.locator(`[data-testid="result-row"][data-id="${id}"]`);
    expect(await atRow.getAttribute('data-direction')).toBe('outbound');
    expect(((await atRow.textContent()) ?? '').replace(/\s+/g, ' ')).toContain(
      'at-central-authority → fr-central-authority',
    );
    expect(await atRow.locator('[data-testid="status"]').textContent()).toBe('delivered');

    // Found by id through the search form.
    await at.getByTestId('search-id').fill(id);
    await at.getByTestId('search-submit').click();
    await at.waitForFunction(
      `document.querySelectorAll('[data-testid="result-row"]').length === 1`,
      undefined,
      { timeout: WAIT },
    );
    expect(await at.getByTestId('result-row').getAttribute('data-id')).toBe(id);
    expect(await at.getByTestId('result-id').getAttribute('title')).toBe(id);

    // Its timeline, AT side.
    await at.getByTestId('result-row').click();
    await at.locator(`[data-testid="detail"][data-id="${id}"]`).waitFor({ timeout: WAIT });
    await at
      .locator('[data-testid="timeline-entry"][data-type="delivered"]')
      .waitFor({ timeout: WAIT });
    const outboundTypes = await at
      .getByTestId('timeline-entry')
      .evaluateAll((entries) => entries.map((entry) => entry.getAttribute('data-type')));
    expect(outboundTypes).toEqual(expect.arrayContaining(['submitted', 'sent', 'delivered']));
    expect(await at.getByTestId('retry-form').isVisible()).toBe(false);
    await shot(at, '2-messages-at-timeline');

    // FR side: received, then the receipt sent back.
    await inbound.click();
    await fr
      .locator('[data-testid="timeline-entry"][data-type="receipt-sent"]')
      .waitFor({ timeout: WAIT });
    const inboundTypes = await fr
      .getByTestId('timeline-entry')
      .evaluateAll((entries) => entries.map((entry) => entry.getAttribute('data-type')));
    expect(inboundTypes).toEqual(expect.arrayContaining(['received', 'receipt-sent']));
    await shot(fr, '2-messages-fr-timeline');

    // AT's overview now shows the traffic with FR.
    await at.getByTestId('tab-overview').click();
    const peer = at.locator('[data-testid="peer-row"][data-state="FR"]');
    await peer.waitFor({ timeout: WAIT });
    await shot(at, '2-overview-at-traffic');
  }, 120_000);

  it('quarantines an envelope over the directory size limit and delivers it when released after the limit is raised', async () => {
    const strict: DirectoryDocument = {
      ...document,
      version: document.version + 1,
      issued: new Date().toISOString(),
      policy: { maxEnvelopeBytes: 65_536, clockSkewSeconds: 300 },
    };
    await publishDirectory(strict, ['AT', 'FR']);

    const fr = await operatorConsole('FR', 'quarantine');
    const { id } = await world
      .client('AT')
      .submit(mlaRequest({ subject: 'Large', body: 'x'.repeat(100_000) }));

    const held = fr.locator(
      `[data-testid="quarantine-row"][data-envelope-id="${id}"][data-status="held"]`,
    );
    await held.waitFor({ timeout: WAIT });
    expect(await held.getAttribute('data-reason')).toBe('envelope-too-large');
    expect(await held.locator('[data-testid="quarantine-reason"]').textContent()).toBe(
      'envelope-too-large',
    );
    expect(await held.locator('[data-testid="quarantine-envelope-id"]').getAttribute('title')).toBe(
      id,
    );
    // What the unverified header says is shown as claimed.
    const sender = held.getByTestId('quarantine-sender');
    expect(await sender.locator('.claimed-tag').textContent()).toBe('claimed');
    expect(await sender.textContent()).toMatch(/^claimed\s*AT\s*at-central-authority/);
    expect(await held.getByTestId('quarantine-kind').textContent()).toBe('mla_request');
    // FR's overview counts it and raises an alert; the tab shows the count.
    await fr
      .locator('[data-testid="tab-quarantine-count"]:not([hidden])')
      .waitFor({ timeout: WAIT });
    await shot(fr, '3-quarantine-held');
    await fr.getByTestId('tab-overview').click();
    await fr
      .locator('[data-testid="alert"][data-code="quarantine-held"][data-severity="warning"]')
      .waitFor({ timeout: WAIT });
    expect(await text(fr, '[data-testid="quarantine-held"]')).toBe('1');
    await fr.locator('[data-testid="peer-row"][data-state="AT"]').waitFor({ timeout: WAIT });
    await shot(fr, '3-overview-fr-held');
    await fr.getByTestId('tab-quarantine').click();

    // While the strict edition is in force, a release is refused again and the row stays held.
    await held.getByTestId('release').click();
    await fr.getByTestId('release-reason').fill('checking the limit is still enforced');
    await fr.getByTestId('release-submit').click();
    const result = fr.getByTestId('action-result');
    await fr.locator('[data-testid="action-result"][data-kind="error"]').waitFor({ timeout: WAIT });
    expect(await result.textContent()).toMatch(/409.*still refused: envelope-too-large/);
    await shot(fr, '3-quarantine-still-refused');
    await fr.getByTestId('quarantine-action-cancel').click();
    await held.waitFor({ timeout: WAIT });

    // The directory raises the limit; the operator releases it with a reason.
    const relaxed: DirectoryDocument = {
      ...strict,
      version: strict.version + 1,
      issued: new Date().toISOString(),
      policy: { maxEnvelopeBytes: 10 * 1024 * 1024, clockSkewSeconds: 300 },
    };
    await publishDirectory(relaxed, ['AT', 'FR']);
    await held.getByTestId('release').click();
    await fr.getByTestId('release-reason').fill('directory raised the size limit to 10 MiB');
    await fr.getByTestId('release-submit').click();
    await fr
      .locator('[data-testid="action-result"][data-kind="success"]')
      .waitFor({ timeout: WAIT });
    expect(await result.textContent()).toContain('delivered');
    expect(await result.getAttribute('data-outcome')).toBe('delivered');
    await held.waitFor({ state: 'detached', timeout: WAIT });

    await fr.getByTestId('quarantine-status').selectOption('released');
    const released = fr.locator(
      `[data-testid="quarantine-row"][data-envelope-id="${id}"][data-status="released"]`,
    );
    await released.waitFor({ timeout: WAIT });
    expect(((await released.textContent()) ?? '').replace(/\s+/g, ' ')).toContain(
      'directory raised the size limit',
    );
    await shot(fr, '3-quarantine-released');

    // The sender gets its receipt: AT's console shows the message delivered.
    const at = await operatorConsole('AT', 'messages');
    await at
      .locator(`[data-testid="result-row"][data-id="${id}"][data-status="delivered"]`)
      .waitFor({ timeout: WAIT });
    expect((await world.client('AT').outbound(id)).status).toBe('delivered');
  }, 150_000);

  it('refuses a wrong API key with a clear message and keeps nothing', async () => {
    const page = await openConsole('FR');
    await page.getByTestId('api-key').fill('comity_not-a-key-of-this-gateway');
    await page.getByTestId('sign-in').click();
    const error = page.getByTestId('sign-in-error');
    await error.waitFor({ state: 'visible', timeout: WAIT });
    expect(await error.textContent()).toContain('refused this API key (401 Unauthorized)');
    expect(await page.getByTestId('app').isVisible()).toBe(false);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await shot(page, '4-sign-in-refused');

    // A clerk's key is valid but not for the console.
    await page.getByTestId('api-key').fill(world.apiKey('FR', 'central-clerk'));
    await page.getByTestId('sign-in').click();
    await page
      .locator('[data-testid="sign-in-error"]:has-text("403 Forbidden")')
      .waitFor({ timeout: WAIT });

    // Signing out forgets the key.
    const signedIn = await operatorConsole('FR');
    await signedIn.getByTestId('sign-out').click();
    await signedIn.getByTestId('sign-in-panel').waitFor({ timeout: WAIT });
    expect(await signedIn.evaluate('sessionStorage.length')).toBe(0);
  });
});
