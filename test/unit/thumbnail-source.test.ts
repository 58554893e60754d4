// One replica per session makes the session list's thumbnails: the server
// keeps a source (preferably a watched replica, whose frame is drawn anyway)
// and declines the others'; a node holds a declined replica back, so a warm
// standby does not draw its state for thumbnails nobody keeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { THUMBNAIL_TIMING } from '../../protocol/thumbnail-timing.js';
import type { RgbaImage } from '../../render/frame-renderer.js';
import { Thumbnailer, type ThumbnailSource } from '../../render/thumbnailer.js';
import { ThumbnailStore } from '../../server/thumbnails.js';

async function tinyJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
}

test('the store keeps one source per session: a watched replica takes over, the others are declined until it goes quiet', async () => {
  let now = 1_000;
  const store = new ThumbnailStore(() => now);
  const jpeg = await tinyJpeg();
  const watchedNow = new Set<string>();
  const watched = (replicaId: string) => watchedNow.has(replicaId);
  assert.ok(store.wants('s-1', 's-1.r1', watched), 'the first replica is wanted');
  assert.ok(store.put('s-1', 's-1.r1', jpeg));
  assert.equal(store.wants('s-1', 's-1.r2', watched), false, 'another unwatched replica is declined');
  assert.ok(store.wants('s-1', 's-1.r1', watched), 'the source itself stays wanted');
  watchedNow.add('s-1.r3');
  assert.ok(store.wants('s-1', 's-1.r3', watched), 'a watched replica beats an unwatched source');
  store.put('s-1', 's-1.r3', jpeg);
  assert.equal(store.get('s-1')?.replicaId, 's-1.r3');
  assert.equal(store.wants('s-1', 's-1.r1', watched), false, 'the former source is declined now');
  watchedNow.add('s-1.r2');
  assert.equal(store.wants('s-1', 's-1.r2', watched), false, 'a second watched replica too');
  watchedNow.delete('s-1.r3'); // failover: the viewer left r3 for r2
  assert.ok(store.wants('s-1', 's-1.r2', watched), 'the replica switched to takes over at once');
  assert.equal(store.wants('s-1', 's-1.r1', watched), false, 'an unwatched one still waits');
  assert.ok(store.wants('s-2', 's-2.r1', watched), 'sessions are separate');
  now += THUMBNAIL_TIMING.sourceStaleMs;
  assert.equal(store.wants('s-1', 's-1.r1', watched), false, 'a source is kept for sourceStaleMs');
  now += 1;
  assert.ok(store.wants('s-1', 's-1.r1', watched), 'a silent source (host gone) is replaced');
});

class FakeReplica implements ThumbnailSource {
  stateVersion = 1;
  watched = false;
  shots = 0;
  constructor(readonly id: string) {}
  thumbnailImage(): Promise<{ image: RgbaImage; version: number }> {
    this.shots++;
    const image: RgbaImage = { data: Buffer.alloc(16 * 16 * 4, 200), width: 16, height: 16, channels: 4 };
    return Promise.resolve({ image, version: this.stateVersion });
  }
}

test('a declined replica is not drawn again for declinedRetryMs, unless a viewer starts watching it', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let now = 0;
  const sent: string[] = [];
  let settle: () => void = () => undefined;
  const wanted = new Set(['s-1.r1']);
  const thumbnailer = new Thumbnailer({
    intervalMs: 100,
    // This test is about the hold-back of declined replicas: the wait for a pause in typing is off here
    // (test/unit/thumbnail-pause.test.ts covers it), so every changed state is offered at the next tick.
    maxStaleMs: 0,
    now: () => now,
    active: () => true,
    send: (replicaId) => {
      sent.push(replicaId);
      settle();
      return Promise.resolve({ wanted: wanted.has(replicaId) });
    },
  });
  t.after(() => thumbnailer.close());
  const source = new FakeReplica('s-1.r1');
  const standby = new FakeReplica('s-1.r2');
  thumbnailer.track(source);
  thumbnailer.track(standby);
  /** One tick of the thumbnailer's timer, and the sends it causes. */
  const tick = async (expected: number): Promise<void> => {
    const done = new Promise<void>((resolve) => {
      let left = expected;
      settle = () => {
        if (--left === 0) resolve();
      };
    });
    now += 100;
    t.mock.timers.tick(100);
    if (expected > 0) await done;
    // Let the send's answer land (the hold-back is set after it).
    await new Promise((r) => setImmediate(r));
  };

  await tick(2);
  assert.deepEqual(
    sent.splice(0).sort(),
    ['s-1.r1', 's-1.r2'],
    'both offered once (in either order: the JPEG encodes race)',
  );
  source.stateVersion++;
  standby.stateVersion++;
  await tick(1);
  assert.deepEqual(sent.splice(0), ['s-1.r1'], 'the declined standby is held back');
  const shotsHeld = standby.shots;
  for (let i = 0; i < 5; i++) {
    source.stateVersion++;
    standby.stateVersion++;
    await tick(1);
  }
  assert.equal(standby.shots, shotsHeld, 'the held-back standby is not drawn at all');
  sent.length = 0;

  // A warm probe resumes the standby: offered while watched, declined (the shown replica is the source)...
  standby.watched = true;
  standby.stateVersion++;
  source.stateVersion++;
  await tick(2);
  assert.deepEqual(sent.splice(0).sort(), ['s-1.r1', 's-1.r2'], 'a watched standby is offered');
  const shotsProbed = standby.shots;
  // ...and once the probe pauses it again, it is a held-back standby still: not offered, not drawn.
  standby.watched = false;
  for (let i = 0; i < 3; i++) {
    standby.stateVersion++;
    source.stateVersion++;
    await tick(1);
  }
  assert.deepEqual(sent.splice(0), ['s-1.r1', 's-1.r1', 's-1.r1'], 'the end of a probe does not release the hold-back');
  assert.equal(standby.shots, shotsProbed, 'nor draws the standby');
  now += THUMBNAIL_TIMING.declinedRetryMs;
  standby.stateVersion++;
  source.stateVersion++;
  await tick(2);
  sent.length = 0;
  wanted.delete('s-1.r2');

  standby.watched = true; // a viewer resumed it (failover): offered again at once
  wanted.add('s-1.r2');
  standby.stateVersion++;
  source.stateVersion++;
  await tick(2);
  assert.deepEqual(sent.splice(0).sort(), ['s-1.r1', 's-1.r2']);

  // Declined again while watched: held back until declinedRetryMs has passed.
  wanted.delete('s-1.r2');
  standby.stateVersion++;
  source.stateVersion++;
  await tick(2);
  sent.length = 0;
  standby.stateVersion++;
  await tick(0);
  assert.deepEqual(sent, [], 'held back');
  now += THUMBNAIL_TIMING.declinedRetryMs;
  await tick(1);
  assert.deepEqual(sent, ['s-1.r2'], 'offered again after the hold-back');
});
