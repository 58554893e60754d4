// End to end in real headless Chromium: type into a writer session, press
// Download, and get exactly what was typed as a .txt file (and .md) — the file
// the server cut at its head seq from replicas on two hosts that agreed.
// Import a file from the picker: a .csv into the sheet, a .png into paint
// (whose video frame and .png download then show the image).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createCanvas, loadImage } from 'canvas';
import { paintApp } from '../../render/apps/index.js';
import { replay } from '../helpers/app-driver.js';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { grabFrame, viewerState, waitAllShown } from '../helpers/e2e-viewer.js';
import { psnr } from '../helpers/image.js';
import { fetchLog, referenceRender } from '../helpers/reference-render.js';
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

  it('imports a .png from the file picker into a new paint session: the video and the .png download show it', async (t) => {
    assert.ok(server && browser);
    const url = server.url;
    const page = await browser.context.newPage();
    await page.goto(`${url}/?token=${encodeURIComponent(server.ownerToken)}`);
    const source = createCanvas(400, 240);
    const sctx = source.getContext('2d');
    ['#d02020', '#20a040', '#2040d0', '#e0c000'].forEach((c, i) => {
      sctx.fillStyle = c;
      sctx.fillRect((i % 2) * 200, Math.floor(i / 2) * 120, 200, 120);
    });
    await page.locator('[data-testid="import-file"]').setInputFiles({
      name: 'photo.png',
      mimeType: 'image/png',
      buffer: source.toBuffer('image/png'),
    });
    await page.waitForURL(/[?&]session=/, { timeout: 20_000 });
    const sessionId = new URL(page.url()).searchParams.get('session') ?? '';
    await waitFor('viewer showing frames', async () => (await viewerState(page))?.ready, 30_000);
    // The viewer may resize the session to its stage: wait for the frame of the last input, whatever it is.
    const headSeq = await waitFor(
      'the shown frame is the head',
      async () => {
        const [s, info] = [await viewerState(page), await getSession(url, sessionId)];
        return s && converged(info, 2) && s.displayedSeq >= info.headSeq ? info.headSeq : undefined;
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 700)); // let the encoder refine the still picture
    const log = (await fetchLog(url, sessionId)).filter((i) => i.seq <= headSeq);
    const created = await getSession(url, sessionId);
    const state = replay(paintApp, paintApp.init({ width: created.width, height: created.height }), log);
    const { width, height } = paintApp.viewport(state);
    assert.deepEqual([state.background?.width, state.background?.height], [400, 240]);
    const shown = await grabFrame(page, width, height);
    const expected = referenceRender('paint', created.width, created.height, log);
    const empty = renderEmpty(width, height);
    const vsExpected = psnr(shown, expected);
    const vsEmpty = psnr(shown, empty);
    t.diagnostic(
      `PSNR shown vs expected ${vsExpected.toFixed(1)} dB, vs a board without the image ${vsEmpty.toFixed(1)} dB`,
    );
    assert.ok(vsExpected > 25, `shown vs expected: ${vsExpected.toFixed(1)} dB`);
    assert.ok(vsExpected > vsEmpty + 3, 'the video shows the image, not an empty board');

    const button = page.locator('[data-testid="download-png"]');
    await button.waitFor({ state: 'visible', timeout: 15_000 });
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), button.click()]);
    const png = createCanvas(width, height).getContext('2d');
    png.drawImage(await loadImage(readFileSync(await download.path())), 0, 0);
    // Inside each quadrant of the image (below the toolbar), the file holds its colour exactly.
    for (const [x, y, rgb] of [
      [100, 80, [0xd0, 0x20, 0x20]],
      [300, 80, [0x20, 0xa0, 0x40]],
      [100, 180, [0x20, 0x40, 0xd0]],
      [300, 180, [0xe0, 0xc0, 0x00]],
    ] as const) {
      assert.deepEqual([...png.getImageData(x, y, 1, 1).data], [...rgb, 255], `(${x}, ${y})`);
    }
    await page.close();
  });
});

/** Paint without an image at this size: what the frame must not look like. */
function renderEmpty(width: number, height: number): Uint8ClampedArray {
  const ctx = createCanvas(width, height).getContext('2d');
  paintApp.render(paintApp.init({ width, height }), ctx);
  return ctx.getImageData(0, 0, width, height).data;
}
