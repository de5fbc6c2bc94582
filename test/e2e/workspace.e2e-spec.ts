import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';
import { launchChromium } from '../support/browser';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

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
    world = await startTestFederation('workspace', { COMITY_CASE_SWEEP_MS: '200' });
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

  it('works a case across two nodes in the browser, both clerks signed in', async () => {
    const subject = `Workspace case ${Date.now()}`;
    const { id } = await world.client('AT').submit(mlaRequest({ subject }));
    await world.client('AT').waitForStatus(id, ['delivered']);

    const fr = await signedIn('FR', 'clerk');
    await openCase(fr, 'inbound', subject);
    await expectText(caseState(fr), /awaiting acknowledgement/);
    // The browser's own check first: the reference is required.
    await act(fr, 'acknowledgement');
    expect(
      await fr
        .getByTestId('action-reference')
        .evaluate(
          (input) =>
            (input as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing,
        ),
    ).toBe(true);
    await fr.getByTestId('action-reference').fill('FR-WS-1');
    await fr.getByTestId('action-send').click();
    await expectText(caseState(fr), /in progress/);
    await act(fr, 'information_request', async (page) => {
      await page.getByTestId('action-note').fill('Which accounts exactly?');
    });
    await expectText(caseState(fr), /awaiting information/);

    const at = await signedIn('AT', 'clerk');
    await world.client('AT').waitForCase(id, (view) => view.state === 'awaiting_information');
    await openCase(at, 'outbound', subject);
    await expectText(at.getByTestId('timeline'), /Which accounts exactly\?/);
    await act(at, 'additional_information', async (page) => {
      await page.getByTestId('action-note').fill('Accounts 1234 and 5678.');
    });
    await expectText(caseState(at), /in progress/);

    await world
      .client('FR')
      .waitForCase(id, (view) => view.state === 'in_progress' && view.messages === 3);
    await fr.getByTestId('back').click();
    await openCase(fr, 'inbound', subject);
    await act(fr, 'execution_completed', async (page) => {
      await page.getByTestId('action-attachments').setInputFiles({
        name: 'statements.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from('account,balance\n1234,100\n'),
      });
    });
    await expectText(caseState(fr), /^executed$/);

    await world.client('AT').waitForCase(id, (view) => view.state === 'executed');
    await at.getByTestId('back').click();
    await openCase(at, 'outbound', subject);
    await expectText(caseState(at), /^executed$/);
    const [download] = await Promise.all([
      at.waitForEvent('download'),
      at.getByTestId('download').click(),
    ]);
    expect(download.suggestedFilename()).toBe('statements.csv');
    await at.screenshot({ path: join(screenshots, 'workspace-case.png'), fullPage: true });

    await at.getByTestId('tab-statistics').click();
    const sent = at.locator(
      '[data-testid="statistics-line"][data-direction="outbound"][data-total="true"]',
    );
    await expectText(sent.locator('[data-column="executed"]'), /^1$/);
  }, 120_000);

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
