// Pure parts of the viewer/operator extras: fit-to-window sizes, bitrate from
// RTC stats, thumbnails from I420 frames, metric causes, copy text bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { LIMITS } from '../../protocol/limits.js';
import { STAMP_HEIGHT } from '../../protocol/frame-stamp.js';
import { CHROME_BELOW_PX, fitArea, fitSize, keyboardOpen, needsResize, type FitSpace } from '../../viewer/fit-size.js';
import { bitrateKbps, sampleRtcStats } from '../../viewer/rtc-stats.js';
import { encodeThumbnail } from '../../render/thumbnailer.js';
import { FrameRenderer } from '../../render/frame-renderer.js';
import type { App } from '../../render/app-types.js';
import { boundText } from '../../render/copy-text.js';
import { isJpeg, ThumbnailStore } from '../../server/thumbnails.js';

test('fitSize clamps to the viewport limits and rounds down to even', () => {
  assert.deepEqual(fitSize(1001.7, 599), { width: 1000, height: 598 });
  assert.deepEqual(fitSize(10, 10), { width: LIMITS.minViewport, height: LIMITS.minViewport });
  assert.deepEqual(fitSize(99_999, 99_999), { width: LIMITS.maxViewportWidth, height: LIMITS.maxViewportHeight });
  assert.deepEqual(fitSize(Number.NaN, 300), { width: LIMITS.minViewport, height: 300 });
  assert.ok(!needsResize({ width: 800, height: 600 }, { width: 802, height: 600 }));
  assert.ok(needsResize({ width: 800, height: 600 }, { width: 900, height: 600 }));
});

test('fitArea: desktop below the header, phones what is visible, above an open on-screen keyboard', () => {
  const phone: FitSpace = {
    fullscreen: false,
    compact: true,
    wrapWidth: 370,
    wrapHeight: 300,
    wrapTop: 212,
    layoutHeight: 844,
    visibleHeight: 844,
  };
  assert.deepEqual(fitArea(phone), { width: 370, height: 844 - 212 - 8 });
  // Rotated: the same rule with the new numbers.
  assert.deepEqual(fitArea({ ...phone, wrapWidth: 824, layoutHeight: 390, visibleHeight: 390, wrapTop: 160 }), {
    width: 824,
    height: 390 - 160 - 8,
  });
  // The keyboard took 330 px: the whole visible height, the page scrolls the stage up to it.
  const typing = { ...phone, visibleHeight: 514 };
  assert.ok(keyboardOpen(typing));
  assert.deepEqual(fitArea(typing), { width: 370, height: 506 });
  // A browser toolbar hiding or showing (tens of px) is not a keyboard.
  assert.ok(!keyboardOpen({ ...phone, visibleHeight: 790 }));
  assert.deepEqual(fitArea({ ...phone, compact: false, wrapWidth: 1200, layoutHeight: 800 }), {
    width: 1200,
    height: 800 - CHROME_BELOW_PX,
  });
  assert.deepEqual(fitArea({ ...phone, fullscreen: true }), { width: 370, height: 300 });
});

test('bitrate from two inbound-rtp samples', () => {
  const report = (bytes: number, ts: number) => [
    { type: 'inbound-rtp', kind: 'video', packetsReceived: 100, packetsLost: 0, bytesReceived: bytes, timestamp: ts },
  ];
  const a = sampleRtcStats(report(10_000, 1000));
  const b = sampleRtcStats(report(135_000, 2000));
  assert.equal(bitrateKbps(a, b), 1000);
  assert.equal(bitrateKbps(null, b), null);
  assert.equal(bitrateKbps(b, a), null, 'time going backwards gives nothing');
});

test('thumbnails: the app area of a drawn frame (stamp strip excluded), then a small real JPEG', async () => {
  // A 64x48 mid-grey app drawn by the frame renderer: the RGBA app area, without the stamp strip below it.
  const grey: App<null> = {
    name: 'grey',
    title: 'Grey',
    init: () => null,
    apply: (s) => s,
    viewport: () => ({ width: 64, height: 48 }),
    render: (_s, ctx) => {
      ctx.fillStyle = 'rgb(128,128,128)';
      ctx.fillRect(0, 0, 64, 48);
    },
    snapshot: () => Buffer.alloc(0),
    restore: () => null,
  };
  const renderer = new FrameRenderer();
  assert.equal(renderer.appArea(), undefined, 'nothing drawn yet');
  renderer.draw(grey.viewport(null), 1, (ctx) => grey.render(null, ctx));
  const rgb = renderer.appArea();
  assert.ok(rgb);
  assert.equal(rgb.width, 64);
  assert.equal(rgb.height, 48);
  assert.equal(renderer.canvas.height, 48 + STAMP_HEIGHT);
  assert.equal(rgb.data[0], 128, `grey ${rgb.data[0]}`);
  const jpeg = await encodeThumbnail(rgb, 32, 70);
  assert.ok(isJpeg(jpeg));
  const meta = await sharp(jpeg).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, 32);
  assert.equal(meta.height, 24);
  const store = new ThumbnailStore(() => 42);
  assert.ok(store.put('s-1', 's-1.r1', jpeg));
  assert.equal(store.get('s-1')?.at, 42);
  assert.ok(!store.put('s-1', 's-1.r1', Buffer.from('not a jpeg')), 'only JPEGs are kept');
  assert.ok(!store.put('s-1', 's-1.r1', Buffer.concat([jpeg, Buffer.alloc(LIMITS.maxThumbnailBytes)])));
  store.forget('s-1');
  assert.equal(store.size, 0);
});

test('copy text is bounded without splitting a surrogate pair', () => {
  assert.equal(boundText(null), null);
  assert.equal(boundText('abc'), 'abc');
  const long = 'a'.repeat(LIMITS.maxPasteChars - 1) + '😀';
  const cut = boundText(long) ?? '';
  assert.equal(cut.length, LIMITS.maxPasteChars - 1);
  assert.equal(cut, 'a'.repeat(LIMITS.maxPasteChars - 1));
});
