// End to end in real headless Chromium: the viewer's extras. Live thumbnails
// in the session list (real JPEGs of the app), paste and copy, the stats
// overlay, fit-to-window resizes applied identically by every replica, and
// drawing in the paint app matching a reference render.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { authHeaders } from '../helpers/credentials.js';
import { psnr } from '../helpers/image.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { fetchLog, referenceRender, referenceState, renderState } from '../helpers/reference-render.js';
import { grab, openViewer, settled, viewerPageState, type GrabbedFrame } from '../helpers/viewer-page.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

interface StreamSize {
  replicaId: string;
  frameWidth: number | null;
  frameHeight: number | null;
}

const W = 640;
const H = 480;

async function createSession(url: string, app: string, replicationFactor: number): Promise<string> {
  const v = await TestViewer.connect(url);
  try {
    const { session } = await v.request({ type: 'sessions.create', app, replicationFactor, width: W, height: H });
    return session.sessionId;
  } finally {
    v.close();
  }
}

describe('e2e: viewer extras in Chromium', () => {
  let server: ServerProc;
  let browser: TestBrowser;
  let writerId: string;
  const nodes = new Map<string, Proc>();

  before(async () => {
    server = await startServer();
    nodes.set('host-a', await startNode({ url: server.url, hostId: 'host-a' }));
    nodes.set('host-b', await startNode({ url: server.url, hostId: 'host-b' }));
    writerId = await createSession(server.url, 'writer', 2);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('paste puts the text into the writer; Ctrl+C copies the selection back; F2 shows stats, not sent', async () => {
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await browser.context.newPage();
    await openViewer(page, server.url, writerId);
    const pasted = 'Pasted into Lockstep ✓\nsecond line';
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', text);
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, pasted);
    await settled(page, server.url, writerId);
    const state = (await referenceState(server.url, 'writer', W, H, writerId)) as { text: string };
    assert.equal(state.text, pasted, 'the reference state from the log holds the pasted text');

    // Select all in the app, copy: the app's selection lands on the clipboard.
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+C');
    const copied = await waitFor('clipboard holds the app selection', async () => {
      const t = await page.evaluate(() => navigator.clipboard.readText().catch(() => ''));
      return t === pasted ? t : undefined;
    });
    assert.equal(copied, pasted);

    // The stats overlay toggles with F2 and F2 never reaches the app.
    await page.keyboard.press('F2');
    const overlay = page.locator('[data-testid="stats-overlay"]');
    await waitFor('stats overlay visible', async () => (await overlay.isVisible()) || undefined);
    await waitFor('stats overlay shows the live stream', async () => {
      const text = (await overlay.textContent()) ?? '';
      return /host-[ab]/.test(text) && text.includes('input→photon') ? text : undefined;
    });
    await page.keyboard.press('F2');
    await waitFor('stats overlay hidden', async () => !(await overlay.isVisible()) || undefined);
    const log = await fetchLog(server.url, writerId);
    assert.ok(!log.some((i) => i.event.type === 'key' && i.event.key === 'F2'), 'F2 is the viewer’s, not the app’s');
    await page.close();
  });

  it('the session list shows a live thumbnail that is a real JPEG of the app', async (t) => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?token=${encodeURIComponent(server.ownerToken)}`);
    const img = page.locator(`img[data-testid="thumbnail"][data-session="${writerId}"]`);
    await waitFor(
      'thumbnail loaded in the list',
      async () => (await img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)) || undefined,
      20_000,
    );
    const natural = await img.evaluate((el: HTMLImageElement) => ({ w: el.naturalWidth, h: el.naturalHeight }));
    assert.equal(natural.w, 320);
    assert.equal(natural.h, 240);

    // Without credentials there is nothing to see.
    const anon = await fetch(`${server.url}/api/sessions/${writerId}/thumbnail.jpg`);
    assert.ok(anon.status === 401 || anon.status === 404, `anonymous thumbnail: ${anon.status}`);
    // It shows the app: close to the reference render of the logged state at the
    // same size (live: a thumbnail taken before the last inputs is replaced within seconds).
    const state = await referenceState(server.url, 'writer', W, H, writerId);
    const small = (rgba: Uint8ClampedArray) =>
      sharp(Buffer.from(rgba), { raw: { width: W, height: H, channels: 4 } })
        .resize({ width: 320 })
        .ensureAlpha()
        .raw()
        .toBuffer();
    const ref = await small(renderState('writer', state));
    const empty = await small(referenceRender('writer', W, H, []));
    const scores = await waitFor(
      'thumbnail shows the current state',
      async () => {
        const res = await fetch(`${server.url}/api/sessions/${writerId}/thumbnail.jpg`, {
          headers: authHeaders(server.url),
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'image/jpeg');
        const jpeg = Buffer.from(await res.arrayBuffer());
        const meta = await sharp(jpeg).metadata();
        assert.equal(meta.format, 'jpeg');
        const rgba = await sharp(jpeg).ensureAlpha().raw().toBuffer();
        const match = psnr(rgba, ref);
        const matchEmpty = psnr(rgba, empty);
        return match > 22 && match > matchEmpty + 1 ? { match, matchEmpty } : undefined;
      },
      15_000,
      250,
    );
    t.diagnostic(`thumbnail PSNR vs state ${scores.match.toFixed(1)} dB, vs empty ${scores.matchEmpty.toFixed(1)} dB`);
    await page.close();
  });

  it('fit to window: resizing the browser resizes the app identically on every replica', async () => {
    const sessionId = await createSession(server.url, 'writer', 2);
    await waitFor('two live replicas', async () => {
      const s = await getSession(server.url, sessionId);
      return s.replicas.filter((r) => r.state === 'live').length === 2 || undefined;
    });
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1200, height: 800 });
    await page.goto(
      `${server.url}/?session=${sessionId}&mode=hot&fit=1&token=${encodeURIComponent(server.ownerToken)}`,
    );
    const sizes = async () =>
      page.evaluate(() => {
        const l = (window as unknown as { __lockstep: { appWidth: number; appHeight: number; streams: StreamSize[] } })
          .__lockstep;
        return { w: l.appWidth, h: l.appHeight, streams: l.streams.map((s) => ({ ...s })) };
      });
    /** Every replica's stream shows frames of one size, different from `not`, and returns it. */
    const allAt = async (what: string, not: { w: number; h: number }) =>
      waitFor(
        what,
        async () => {
          const s = await sizes();
          const ok =
            s.streams.length === 2 &&
            s.streams.every((v) => v.frameWidth === s.w && v.frameHeight === s.h) &&
            (s.w !== not.w || s.h !== not.h);
          return ok ? { w: s.w, h: s.h } : undefined;
        },
        30_000,
      );
    const first = await allAt('both replicas resized to the window', { w: W, h: H });
    assert.ok(first.w % 2 === 0 && first.h % 2 === 0, `even size ${first.w}x${first.h}`);

    await page.setViewportSize({ width: 900, height: 640 });
    const second = await allAt('both replicas resized again', first);
    assert.ok(second.w < first.w && second.h < first.h, `${first.w}x${first.h} → ${second.w}x${second.h}`);

    // Same state on every replica at the same seq, and the logged state has the new size.
    const info = await waitFor('replicas agree at the head', async () => {
      const s = await getSession(server.url, sessionId);
      const hashes = new Set(s.replicas.map((r) => `${r.appliedSeq}:${r.stateHash}`));
      return s.replicas.length === 2 && hashes.size === 1 && s.replicas[0]?.appliedSeq === s.headSeq ? s : undefined;
    });
    assert.equal(info.replicas.length, 2);
    const state = (await referenceState(server.url, 'writer', W, H, sessionId)) as { width: number; height: number };
    assert.deepEqual({ w: state.width, h: state.height }, second);
    const log = await fetchLog(server.url, sessionId);
    assert.ok(log.filter((i) => i.event.type === 'resize').length >= 2, 'resizes are logged inputs');
    await page.close();
  });

  it('a 720p app shows unscaled in a 1400x900 window, and the page fits the window at smaller sizes', async () => {
    // Unscaled, each frame is copied instead of filtered into the page (the viewer's largest CPU cost).
    const v = await TestViewer.connect(server.url);
    const { session } = await v.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: 1280,
      height: 720,
    });
    try {
      const page = await browser.context.newPage();
      const layout = () =>
        page.evaluate(() => {
          // No named helpers in here: tsx would wrap them in a __name() the page lacks.
          const [stage, video, status] = ['[data-testid="stage"]', '.stream.live', '.status-line'].map((sel) =>
            document.querySelector(sel)?.getBoundingClientRect(),
          );
          return {
            stage: stage && { w: stage.width, h: stage.height },
            video: video && { w: video.width },
            statusBottom: status?.bottom ?? Number.NaN,
            scrollHeight: document.documentElement.scrollHeight,
          };
        });
      for (const vp of [
        { width: 1400, height: 900 },
        { width: 1280, height: 800 },
      ]) {
        await page.setViewportSize(vp);
        await openViewer(page, server.url, session.sessionId);
        const l = await layout();
        if (vp.height === 900) {
          assert.deepEqual(l.stage, { w: 1280, h: 720 }, 'the stage is the app size');
          assert.deepEqual(l.video, { w: 1280 }, 'the video is not scaled');
        } else {
          assert.ok(l.stage && l.stage.w < 1280 && l.stage.w > 1000, `scaled to fit: ${JSON.stringify(l.stage)}`);
        }
        assert.ok(l.statusBottom <= vp.height, `status line in view at ${vp.width}x${vp.height}: ${l.statusBottom}`);
        assert.ok(l.scrollHeight <= vp.height, `no scrolling at ${vp.width}x${vp.height}: ${l.scrollHeight}`);
      }
      await page.close();
      // The nodes hold a few replicas each: leave room for the tests after this one.
      await v.request({ type: 'sessions.close', sessionId: session.sessionId });
    } finally {
      v.close();
    }
  });

  it('paint: dragging the mouse draws, and the frame matches the reference render', async (t) => {
    const sessionId = await createSession(server.url, 'paint', 2);
    const page = await browser.context.newPage();
    await openViewer(page, server.url, sessionId);
    const blank = await grab(page);
    const box = await page.locator('[data-testid="stage"]').boundingBox();
    assert.ok(box);
    // Scale from app pixels to the displayed stage (1:1 at this window size, but don't assume it).
    const at = (x: number, y: number): [number, number] => [box.x + (x * box.width) / W, box.y + (y * box.height) / H];
    await page.mouse.move(...at(150, 200));
    await page.mouse.down();
    for (let i = 1; i <= 20; i++) await page.mouse.move(...at(150 + i * 15, 200 + Math.round(60 * Math.sin(i / 3))));
    await page.mouse.up();
    await settled(page, server.url, sessionId);
    await new Promise((r) => setTimeout(r, 700)); // let VP8 refine the still picture
    const shown = await grab(page);
    assert.equal(shown.width, W);
    assert.equal(shown.height, H);

    const log = await fetchLog(server.url, sessionId);
    assert.ok(log.some((i) => i.event.type === 'pointer' && i.event.action === 'down'));
    const expected = referenceRender('paint', W, H, log);
    const empty = referenceRender('paint', W, H, []);
    const px = (f: GrabbedFrame) => new Uint8Array(Buffer.from(f.rgbaBase64, 'base64'));
    const matchExpected = psnr(px(shown), expected);
    const matchEmpty = psnr(px(shown), empty);
    const blankVsEmpty = psnr(px(blank), empty);
    t.diagnostic(`PSNR shown/expected ${matchExpected.toFixed(1)} dB, shown/empty ${matchEmpty.toFixed(1)} dB`);
    assert.ok(blankVsEmpty > 25, `initial frame vs blank board: ${blankVsEmpty.toFixed(1)} dB`);
    assert.ok(psnr(px(shown), px(blank)) < 60, 'the displayed frame differs from the blank board');
    assert.ok(matchExpected > 25, `shown vs expected: ${matchExpected.toFixed(1)} dB`);
    assert.ok(
      matchExpected > matchEmpty + 1,
      `expected ${matchExpected.toFixed(1)} vs blank ${matchEmpty.toFixed(1)} dB`,
    );
    await page.close();
  });

  // Last: it kills a node.
  it('a failover shows a clear banner naming the new host', async () => {
    const sessionId = await createSession(server.url, 'writer', 2);
    await waitFor('two live replicas', async () => {
      const s = await getSession(server.url, sessionId);
      return s.replicas.filter((r) => r.state === 'live').length === 2 || undefined;
    });
    const page = await browser.context.newPage();
    await openViewer(page, server.url, sessionId);
    const liveHost = (await viewerPageState(page))?.liveHostId;
    assert.ok(liveHost && nodes.has(liveHost), `live host ${liveHost}`);
    const other = liveHost === 'host-a' ? 'host-b' : 'host-a';
    await nodes.get(liveHost)?.kill('SIGKILL');
    const banner = page.locator('.banner-warn', { hasText: 'Switched to replica' });
    await waitFor('failover banner', async () => (await banner.count()) > 0 || undefined, 15_000);
    assert.match((await banner.first().textContent()) ?? '', new RegExp(`host ${other}`));
    await page.close();
  });
});
