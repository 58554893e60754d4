// Tokens in the browser (real Chromium): a `?token=` is checked with the
// server before it is kept; a stored owner token is never silently replaced by
// a crafted link (the page asks); an invalid token is not kept; a share link is
// used for its page and never stored. The page runs under the server's CSP
// without a single violation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { authHeaders } from '../helpers/credentials.js';
import { removeDir, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { TestViewer, waitFor } from '../helpers/viewer-client.js';

describe('e2e: tokens in the browser', () => {
  let server: ServerProc;
  let browser: TestBrowser;
  let page: Page;
  let mallory: string;
  let shareUrl: string;

  before(async () => {
    server = await startServer();
    // Another owner's token: what a crafted link would carry.
    const res = await fetch(`${server.url}/api/owners`, {
      method: 'POST',
      headers: { ...authHeaders(server.url), 'content-type': 'application/json' },
      body: JSON.stringify({ owner: 'mallory' }),
    });
    mallory = ((await res.json()) as { token: string }).token;
    const owner = await TestViewer.connect(server.url);
    const { session } = await owner.request({ type: 'sessions.create', app: 'writer', width: 320, height: 240 });
    const link = await owner.request({ type: 'share.create', sessionId: session.sessionId, role: 'view' });
    shareUrl = link.url.startsWith('http') ? link.url : `${server.url}${link.url}`;
    owner.close();
    browser = await launchChromium();
    page = await browser.context.newPage();
    // Every CSP violation the page would report.
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
  });

  after(async () => {
    await browser?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  const stored = (): Promise<string | null> => page.evaluate(() => localStorage.getItem('lockstep.token'));
  const violations = (): Promise<string[]> =>
    page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  const connected = () =>
    waitFor('connected', async () =>
      (await page.locator('#conn-dot').getAttribute('class'))?.includes('conn-connected'),
    );

  it('an owner token from the URL is checked, remembered and taken out of the address bar', async () => {
    await page.goto(`${server.url}/?token=${encodeURIComponent(server.ownerToken)}`);
    await waitFor('remembered', async () => (await stored()) === server.ownerToken);
    assert.doesNotMatch(page.url(), /token=/);
    await connected();
  });

  it('an invalid token is not kept and replaces nothing', async () => {
    await page.goto(`${server.url}/?token=lso_not-a-real-token-0000000000000000`);
    await page.locator('[data-testid="token-notice"]').waitFor();
    assert.equal(await stored(), server.ownerToken);
    assert.doesNotMatch(page.url(), /token=/);
    await connected();
  });

  it('a share link is used for its page and never stored', async () => {
    await page.goto(shareUrl);
    await page.locator('[data-testid="view-only"]').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await stored(), server.ownerToken);
  });

  it('a link with another owner token asks first; ignoring keeps mine, replacing needs the click', async () => {
    await page.goto(`${server.url}/?token=${encodeURIComponent(mallory)}`);
    await page.locator('[data-testid="token-ask"]').waitFor();
    assert.match((await page.locator('[data-testid="token-ask"]').textContent()) ?? '', /mallory/);
    assert.equal(await stored(), server.ownerToken, 'nothing replaced before the person chooses');
    await page.locator('[data-testid="token-ask-ignore"]').click();
    assert.equal(await stored(), server.ownerToken);
    assert.doesNotMatch(page.url(), /token=/);
    await connected();

    await page.goto(`${server.url}/?token=${encodeURIComponent(mallory)}`);
    await page.locator('[data-testid="token-ask-tab"]').click();
    await connected();
    assert.equal(await stored(), server.ownerToken, 'this tab only: the remembered token stays');

    await page.goto(`${server.url}/?token=${encodeURIComponent(mallory)}`);
    await page.locator('[data-testid="token-ask-replace"]').click();
    await waitFor('replaced', async () => (await stored()) === mallory);
    assert.deepEqual(await violations(), [], 'no CSP violation on the way');
  });
});
