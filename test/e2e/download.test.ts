// End to end in real headless Chromium: type into a writer session, press
// Download, and get exactly what was typed as a .txt file (and .md) — the file
// the server cut at its head seq from replicas on two hosts that agreed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { viewerState, waitAllShown } from '../helpers/e2e-viewer.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

describe('e2e: Download gives the document as a file', () => {
  let server: ServerProc | undefined;
  let browser: TestBrowser | undefined;
  let sessionId = '';
  before(async () => {
    server = await startServer();
    for (const h of ['host-a', 'host-b']) await startNode({ url: server.url, hostId: h });
    const v = await TestViewer.connect(server.url);
    const { session } = await v.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: 640,
      height: 400,
    });
    v.close();
    sessionId = session.sessionId;
    const url = server.url;
    await waitFor('2 live', async () => converged(await getSession(url, sessionId), 2), 30_000);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('types, downloads .txt and .md, and the files hold every keystroke', async () => {
    assert.ok(server && browser);
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?session=${sessionId}&token=${encodeURIComponent(server.ownerToken)}`);
    await waitFor('viewer showing frames', async () => (await viewerState(page))?.ready, 30_000);
    await page.locator('[data-testid="stage"]').click();
    const text = 'Report, line one.\nLine two: naïve café.';
    await page.keyboard.type(text, { delay: 15 });
    await waitAllShown(page, server.url, sessionId);

    for (const format of ['txt', 'md']) {
      const button = page.locator(`[data-testid="download-${format}"]`);
      await button.waitFor({ state: 'visible', timeout: 15_000 });
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), button.click()]);
      assert.equal(download.suggestedFilename(), `${sessionId}.${format}`);
      const path = await download.path();
      assert.equal(readFileSync(path, 'utf8'), text, `.${format} holds exactly what was typed`);
    }
    // The app offers no other format: no other button.
    assert.equal(await page.locator('[data-testid="download-png"]').count(), 0);
    await page.close();
  });

  it('imports a .csv from the file picker into a new sheet session and downloads it back', async () => {
    assert.ok(server && browser);
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?token=${encodeURIComponent(server.ownerToken)}`);
    const csv = 'month,spent\r\njan,410\r\nfeb,385\r\n"total, so far",=B2+B3\r\n';
    await page.locator('[data-testid="import-file"]').setInputFiles({
      name: 'budget.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    });
    await page.waitForURL(/[?&]session=/, { timeout: 20_000 });
    await waitFor('viewer showing frames', async () => (await viewerState(page))?.ready, 30_000);
    const button = page.locator('[data-testid="download-csv"]');
    await button.waitFor({ state: 'visible', timeout: 15_000 });
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), button.click()]);
    assert.equal(readFileSync(await download.path(), 'utf8'), csv.replace('=B2+B3', '795'));
    await page.close();
  });
});
