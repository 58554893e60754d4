// End to end in real headless Chromium: open the viewer, type, and check that
// the frame the <video> displays matches a reference render of the expected
// state (rebuilt from the durable log with the same app code).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { psnr } from '../helpers/image.js';
import { authHeaders } from '../helpers/credentials.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { fetchLog, referenceRender } from '../helpers/reference-render.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { grabFrame, viewerState, waitAllShown } from '../helpers/e2e-viewer.js';

const W = 640;
const H = 480;

describe('e2e: typing in Chromium shows up in the video', () => {
  let server: ServerProc;
  let browser: TestBrowser;
  let sessionId: string;

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-a' });
    const v = await TestViewer.connect(server.url);
    const { session } = await v.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: W,
      height: H,
    });
    sessionId = session.sessionId;
    v.close();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('types "Hello, Lockstep" and the displayed frame matches the reference render', async (t) => {
    const page = await browser.context.newPage();
    // Record every SDP Chromium applies, to check what media profile it negotiated.
    await page.addInitScript(() => {
      const sdps: string[] = [];
      (window as unknown as { __sdps: string[] }).__sdps = sdps;
      type SetDescription = (this: RTCPeerConnection, d?: { sdp?: string }) => Promise<void>;
      const proto = RTCPeerConnection.prototype as unknown as Record<string, SetDescription>;
      for (const name of ['setLocalDescription', 'setRemoteDescription']) {
        const original = proto[name];
        if (!original) continue;
        proto[name] = function (this: RTCPeerConnection, d?: { sdp?: string }) {
          if (d?.sdp) sdps.push(d.sdp);
          return original.call(this, d);
        };
      }
    });
    await page.goto(`${server.url}/?session=${sessionId}&token=${encodeURIComponent(server.ownerToken)}`);
    await waitFor('viewer showing frames', async () => (await viewerState(page))?.ready, 30_000);

    // Media is DTLS-SRTP end to end: Chromium negotiated UDP/TLS/RTP/SAVPF with a
    // DTLS fingerprint in every media section, and the SFU's transports (the
    // node's and this viewer's) are all WebRTC transports whose DTLS handshake completed.
    const sdps = await page.evaluate(() => (window as unknown as { __sdps: string[] }).__sdps);
    assert.ok(sdps.length >= 2, 'an offer and an answer were applied');
    for (const sdp of sdps) {
      const media = sdp.split(/\r?\n/).filter((l) => l.startsWith('m='));
      assert.ok(media.length > 0);
      for (const m of media) assert.match(m, /^m=\w+ \d+ UDP\/TLS\/RTP\/SAVPF /, `media line ${m}`);
      assert.match(sdp, /a=fingerprint:sha-\d+ [0-9A-F:]+/i);
      assert.doesNotMatch(sdp, / RTP\/AVP /);
    }
    const stats = await waitFor('viewer and node transports DTLS-connected', async () => {
      const res = await fetch(`${server.url}/api/sessions/${sessionId}/stats`, { headers: authHeaders(server.url) });
      const body = (await res.json()) as { transports: Array<{ class: string; side: string; dtlsState: string }> };
      const sides = new Set(body.transports.filter((t) => t.dtlsState === 'connected').map((t) => t.side));
      return sides.has('viewer') && sides.has('node') ? body : undefined;
    });
    for (const t of stats.transports) assert.equal(t.class, 'WebRtcTransport');

    // The viewer shows the pinned app version.
    const pinned = (await getSession(server.url, sessionId)).app;
    const version = page.locator('[data-testid="app-version"]');
    assert.equal(await version.textContent(), `@${pinned.hash.slice(0, 8)}`);
    assert.equal(await version.getAttribute('title'), `app version ${pinned.name}@${pinned.hash}`);

    const blank = await grabFrame(page, W, H);
    await page.locator('[data-testid="stage"]').click();
    const sentInputs = () =>
      page.evaluate(() => (window as unknown as { __lockstep: { sentInputs: number } }).__lockstep.sentInputs);
    const sentBefore = await sentInputs();
    await page.keyboard.type('Hello, Lockstep', { delay: 30 });

    await waitAllShown(page, server.url, sessionId);
    // One input per key: the writer's manifest says it reads no key-ups, so the viewer sends none.
    assert.equal((await sentInputs()) - sentBefore, 'Hello, Lockstep'.length, 'inputs the viewer sent for 15 keys');
    // Let the encoder refine the static picture (VP8 improves a still image over a few frames).
    await new Promise((r) => setTimeout(r, 700));
    const shown = await grabFrame(page, W, H);

    const log = await fetchLog(server.url, sessionId);
    const typed = log
      .filter((i) => i.event.type === 'key' && i.event.action === 'down')
      .map((i) => (i.event.type === 'key' ? i.event.text : ''));
    assert.equal(typed.join(''), 'Hello, Lockstep', 'the log holds exactly what was typed');
    assert.equal(log.filter((i) => i.event.type === 'key').length, 'Hello, Lockstep'.length, 'no key-up was logged');
    const expected = referenceRender('writer', W, H, log);
    const empty = referenceRender('writer', W, H, []);

    const matchExpected = psnr(shown, expected);
    const matchEmpty = psnr(shown, empty);
    const blankMatchEmpty = psnr(blank, empty);
    t.diagnostic(`PSNR shown/expected ${matchExpected.toFixed(1)} dB, shown/empty ${matchEmpty.toFixed(1)} dB`);
    if (process.env.LOCKSTEP_SCREENSHOTS) await page.screenshot({ path: process.env.LOCKSTEP_SCREENSHOTS });
    // The video before typing looked like an empty document; after typing it
    // looks like the expected state, clearly more than like an empty one.
    assert.ok(blankMatchEmpty > 25, `initial frame vs empty reference: ${blankMatchEmpty.toFixed(1)} dB`);
    assert.ok(matchExpected > 25, `shown vs expected: ${matchExpected.toFixed(1)} dB`);
    assert.ok(
      matchExpected > matchEmpty + 3,
      `expected ${matchExpected.toFixed(1)} dB vs empty ${matchEmpty.toFixed(1)} dB`,
    );
    await page.close();
  });

  // The default source is a track processor (no frame callback at all); `?stamps=frame` asks for frame callbacks,
  // whose samples carry the presentation times the latency bench splits.
  for (const c of [
    { query: '', what: 'by default the stamps come from a track processor', frameCallbacks: false },
    { query: '&stamps=frame', what: 'with ?stamps=frame they come from frame callbacks', frameCallbacks: true },
  ]) {
    it(`${c.what}: typed seqs shown, samples taken`, async () => {
      const page = await browser.context.newPage();
      // Counts the viewer's frame-callback requests.
      await page.addInitScript(() => {
        const w = window as unknown as { __rvfcCalls: number };
        w.__rvfcCalls = 0;
        const proto = HTMLVideoElement.prototype as unknown as Record<string, (...a: unknown[]) => number>;
        const original = proto.requestVideoFrameCallback;
        if (original)
          proto.requestVideoFrameCallback = function (this: HTMLVideoElement, ...a: unknown[]) {
            w.__rvfcCalls++;
            return original.apply(this, a);
          };
      });
      await page.goto(`${server.url}/?session=${sessionId}${c.query}&token=${encodeURIComponent(server.ownerToken)}`);
      await waitFor('viewer showing frames', async () => (await viewerState(page))?.ready, 30_000);
      const before = await viewerState(page);
      await page.locator('[data-testid="stage"]').click();
      await page.keyboard.type(' again', { delay: 60 });
      const info = await waitAllShown(page, server.url, sessionId);
      // The viewer matches acks to shown frames every 250 ms (session-view.ts): wait for the typed keys' samples.
      const after = await waitFor('input-to-photon samples of the typed keys', async () => {
        const got = await page.evaluate(() => {
          const w = window as unknown as {
            __rvfcCalls: number;
            __lockstep: {
              latencySamples: Array<{ seq: number; sentAt: number; shownAt: number; presentedAt?: number }>;
            };
          };
          return { rvfc: w.__rvfcCalls, samples: w.__lockstep.latencySamples.map((s) => ({ ...s })) };
        });
        return got.samples.filter((s) => s.seq > (before?.displayedSeq ?? 0)).length >= 3 ? got : undefined;
      });
      assert.ok(before && before.displayedSeq < info.headSeq, 'the typed seqs were not on screen before');
      const typedSamples = after.samples.filter((s) => s.seq > (before?.displayedSeq ?? 0));
      assert.ok(typedSamples.length >= 3, `input-to-photon samples of the typed keys: ${typedSamples.length}`);
      for (const s of typedSamples) assert.ok(s.shownAt >= s.sentAt, 'shown after sent');
      if (c.frameCallbacks) {
        assert.ok(after.rvfc > 0, 'frame callbacks requested');
        assert.ok(
          typedSamples.every((s) => typeof s.presentedAt === 'number'),
          'samples carry the presentation time',
        );
      } else {
        assert.equal(after.rvfc, 0, 'no requestVideoFrameCallback with the processor source');
        assert.ok(
          typedSamples.every((s) => s.presentedAt === undefined),
          'no presentation time: read at decode',
        );
      }
      // The picture is the typed state, whichever the source.
      await new Promise((r) => setTimeout(r, 700));
      const log = await fetchLog(server.url, sessionId);
      assert.ok(psnr(await grabFrame(page, W, H), referenceRender('writer', W, H, log)) > 25, 'shown matches the log');
      await page.close();
    });
  }
});
