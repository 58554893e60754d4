// The tile display (`?display=tiles`, docs/tile-display.md) in real Chromium:
// three replicas on three renderer processes. The shown stream starts as video,
// moves to the canvas its replica's display channel draws once a whole frame is
// drawn, and then no video is received or decoded in the tab while the typed
// text's seqs and pixels arrive as tiles. SIGKILL of the shown renderer: the
// viewer fails over as always (video first), nothing typed is lost, and the new
// shown replica's tiles take over again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { psnr } from '../helpers/image.js';
import { removeDir, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { fetchLog, referenceRender } from '../helpers/reference-render.js';
import { waitFor } from '../helpers/viewer-client.js';
import { writerOnHosts } from '../helpers/writer-session.js';
import { observeFailover, viewerPageState } from '../helpers/viewer-page.js';
import { grabFrame } from '../helpers/e2e-viewer.js';

const W = 640;
const H = 360;
const GAP_BOUND_MS = 2000;

interface TileState {
  replicaId: string | null;
  shown: boolean;
  drawnSeq: number | null;
  failures: number;
  refusals: number;
  lastFailure: string | null;
  counters: { frames: number; tiles: number } | null;
}

async function tileState(page: Page): Promise<TileState | null> {
  return page.evaluate(() => {
    const t = (window as unknown as { __lockstep?: { tiles?: TileState | null } }).__lockstep?.tiles;
    return t ? { ...t, counters: t.counters ? { ...t.counters } : null } : null;
  });
}

/**
 * Video packets received and frames decoded (every peer connection's inbound-rtp): in the whole tab, and of the
 * shown stream's track alone (its <video>'s data-track-id, kept while its sink is detached).
 */
async function videoCounters(
  page: Page,
): Promise<{ packets: number; frames: number; shownPackets: number; shownFrames: number }> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const shownTrack = document.querySelector<HTMLVideoElement>('video.stream.live')?.dataset.trackId;
    let packets = 0;
    let frames = 0;
    let shownPackets = 0;
    let shownFrames = 0;
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach(
        (s: {
          type: string;
          kind?: string;
          packetsReceived?: number;
          framesDecoded?: number;
          trackIdentifier?: string;
        }) => {
          if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
          packets += s.packetsReceived ?? 0;
          frames += s.framesDecoded ?? 0;
          if (shownTrack === undefined || s.trackIdentifier !== shownTrack) return;
          shownPackets += s.packetsReceived ?? 0;
          shownFrames += s.framesDecoded ?? 0;
        },
      );
    }
    if (shownTrack === undefined) throw new Error('no shown <video>');
    return { packets, frames, shownPackets, shownFrames };
  });
}

async function typedShown(page: Page) {
  return waitFor('typed text shown', async () => {
    const st = await viewerPageState(page);
    return st && st.pendingInputs === 0 && st.ackedSeq > 0 && st.displayedSeq >= st.ackedSeq ? st : undefined;
  });
}

for (const mode of ['warm', 'hot'] as const) {
  describe(`e2e: the tile display (?display=tiles, ${mode} standbys)`, () => {
    let server: ServerProc;
    let browser: TestBrowser;
    let nodes: Map<string, Proc>;
    let sessionId: string;

    before(async () => {
      ({ server, nodes, sessionId } = await writerOnHosts(['host-a', 'host-b', 'host-c'], W, H));
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await stopAll();
      if (server) removeDir(server.dataDir);
    });

    it('types into the canvas: the seqs and pixels come as tiles, no video is received, a SIGKILL fails over', async (t) => {
      const page = await browser.context.newPage();
      await page.addInitScript(() => {
        const pcs: RTCPeerConnection[] = [];
        const dcs: RTCDataChannel[] = [];
        (window as unknown as { __pcs: RTCPeerConnection[]; __dcs: RTCDataChannel[] }).__pcs = pcs;
        (window as unknown as { __dcs: RTCDataChannel[] }).__dcs = dcs;
        const Original = window.RTCPeerConnection;
        window.RTCPeerConnection = class extends Original {
          constructor(config?: RTCConfiguration) {
            super(config);
            pcs.push(this);
          }
          override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
            const dc = super.createDataChannel(label, init);
            dcs.push(dc);
            return dc;
          }
        };
      });
      await page.goto(
        `${server.url}/?session=${sessionId}&mode=${mode}&display=tiles&token=${encodeURIComponent(server.ownerToken)}`,
      );
      await waitFor('viewer showing frames', async () => (await viewerPageState(page))?.ready, 30_000);
      const shownTiles = await waitFor('the canvas is the display', async () => {
        const s = await tileState(page);
        return s?.shown ? s : undefined;
      });
      const first = await viewerPageState(page);
      assert.equal(shownTiles.replicaId, first?.liveReplicaId, 'the tiles are the shown replica’s');
      await page.locator('[data-testid="stage"]').click();
      // The pause reaches the SFU a moment after the canvas goes on top.
      await new Promise((r) => setTimeout(r, 500));
      const video0 = await videoCounters(page);
      await page.keyboard.type('Tiles, not video. ', { delay: 40 });
      const typed = await typedShown(page);
      const tiles = await waitFor('the canvas drew the last typed seq', async () => {
        const s = await tileState(page);
        return s && s.drawnSeq !== null && s.drawnSeq >= typed.ackedSeq ? s : undefined;
      });
      const video1 = await videoCounters(page);
      t.diagnostic(
        `tiles ${JSON.stringify(tiles.counters)}; video packets ${video0.packets} → ${video1.packets} (shown ${video0.shownPackets} → ${video1.shownPackets})`,
      );
      assert.ok(tiles.shown && tiles.replicaId === typed.liveReplicaId, 'still the canvas of the shown replica');
      assert.equal(tiles.failures, 0, `no channel failed (${tiles.lastFailure})`);
      assert.equal(video1.shownPackets, video0.shownPackets, 'the shown stream’s video consumer is paused at the SFU');
      if (mode === 'warm') {
        // Warm standbys are paused too: nothing at all is received or decoded as video in the tab.
        assert.equal(video1.frames, video0.frames, 'no video frame decoded while typing into the canvas');
        assert.equal(video1.packets, video0.packets, 'no video packet received');
      } else assert.ok(video1.packets > video0.packets, 'hot standbys keep playing their video');
      await new Promise((r) => setTimeout(r, 300));
      const log0 = await fetchLog(server.url, sessionId);
      const match0 = psnr(await grabFrame(page, W, H), referenceRender('writer', W, H, log0));
      t.diagnostic(`PSNR canvas / reference ${match0.toFixed(1)} dB`);
      assert.ok(match0 > 40, `the canvas is the typed state, lossless (${match0.toFixed(1)} dB)`);

      // Shown from tiles with its video paused, the stream keeps its score: no switch away while typing, nor
      // once its node has encoded no video for longer than mediasoup takes to call the stream inactive (1.5 s).
      assert.equal(typed.switches, first?.switches, 'no switch while the canvas was the display');
      const liveStream = () =>
        page.evaluate(
          () =>
            (
              window as unknown as {
                __lockstep: { streams: Array<{ live: boolean; score: number; reasons: string[] }> };
              }
            ).__lockstep.streams.find((s) => s.live) ?? null,
        );
      t.diagnostic(`live stream while tiles shown: ${JSON.stringify(await liveStream())}`);
      await new Promise((r) => setTimeout(r, 2500));
      const idle = await liveStream();
      t.diagnostic(`live stream after 2.5 s idle on tiles: ${JSON.stringify(idle)}`);
      assert.ok(idle && !idle.reasons.some((r) => /score/.test(r)), 'an idle video producer costs the stream no score');
      const stillTiles = await tileState(page);
      assert.ok(stillTiles?.shown && stillTiles.replicaId === typed.liveReplicaId, 'still the canvas, same replica');
      assert.equal((await viewerPageState(page))?.switches, first?.switches, 'no switch while idle on tiles');

      // The channel ends under the page (as on a refusal): the same replica's video is resumed and, though its
      // node encoded no video for seconds, decodes at once (a key frame), with no switch.
      const video2 = await videoCounters(page);
      await page.evaluate(() => {
        for (const dc of (window as unknown as { __dcs: RTCDataChannel[] }).__dcs) dc.close();
      });
      const fellBack = await waitFor('the tile display given up', async () => {
        const s = await tileState(page);
        return s && !s.shown && s.failures > 0 ? s : undefined;
      });
      t.diagnostic(`fallback: ${fellBack.lastFailure}`);
      const t0 = Date.now();
      await waitFor(
        'the shown video decoding again',
        async () => (await videoCounters(page)).shownFrames > video2.shownFrames,
        3000,
        20,
      );
      t.diagnostic(`same replica's video decoding ${Date.now() - t0} ms after the channel closed`);
      await page.keyboard.type('Video. ', { delay: 40 });
      const onVideo = await typedShown(page);
      assert.equal(onVideo.liveReplicaId, typed.liveReplicaId, 'the same replica, now on video');
      assert.equal(onVideo.switches, first?.switches, 'no switch for the fallback');

      // Failover: the shown renderer dies; the viewer switches (video first) and the new replica's tiles take over.
      const before = onVideo;
      assert.ok(before.liveReplicaId && before.liveHostId);
      const killedAt = Date.now();
      await nodes.get(before.liveHostId)?.kill('SIGKILL');
      const obs = await observeFailover(page, before.liveReplicaId, before.displayedSeq, killedAt);
      t.diagnostic(`${before.liveHostId} → ${obs.toHost} in ${obs.gapMs} ms`);
      assert.notEqual(obs.toHost, before.liveHostId);
      assert.ok(obs.gapMs < GAP_BOUND_MS, `visible gap ${obs.gapMs} ms exceeds ${GAP_BOUND_MS} ms`);
      await page.keyboard.type('After it.', { delay: 40 });
      const done = await typedShown(page);
      assert.notEqual(done.liveHostId, before.liveHostId);
      const again = await waitFor('the new shown replica’s canvas drew the last seq', async () => {
        const s = await tileState(page);
        return s?.shown && s.replicaId === done.liveReplicaId && (s.drawnSeq ?? -1) >= done.ackedSeq ? s : undefined;
      });
      // The killed replica's channel closed (a failure, not a refusal); nothing was refused.
      assert.equal(again.refusals, 0, `no message refused (${again.lastFailure})`);
      assert.ok(again.failures <= 2, `only the closed and the killed replica's channels ended (${again.lastFailure})`);
      await new Promise((r) => setTimeout(r, 300));
      const log = await fetchLog(server.url, sessionId);
      const text = log
        .filter((i) => i.event.type === 'key' && i.event.action === 'down' && i.event.text)
        .map((i) => (i.event.type === 'key' ? i.event.text : ''))
        .join('');
      assert.equal(text, 'Tiles, not video. Video. After it.', 'no keystroke lost or duplicated');
      const match = psnr(await grabFrame(page, W, H), referenceRender('writer', W, H, log));
      assert.ok(match > 40, `the canvas after failover is the typed state (${match.toFixed(1)} dB)`);
      await page.close();
    });
  });
}
