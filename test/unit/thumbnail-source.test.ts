// One replica per session makes the session list's thumbnails: the server
// keeps a source (preferably a watched replica, whose frame is drawn anyway)
// and declines the others'; a node holds a declined replica back, so a warm
// standby does not draw its state for thumbnails nobody keeps.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
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

test('a live source, sending at least every movingMaxStaleMs + intervalMs while typed into, is never taken for a silent one', () => {
  const { movingMaxStaleMs, intervalMs, sourceStaleMs } = THUMBNAIL_TIMING;
  // One more interval of slack: the source's tick, its draw and encode, and the round trip to the server.
  assert.ok(sourceStaleMs >= movingMaxStaleMs + 2 * intervalMs, `${sourceStaleMs} ms`);
});

test('an offer claims the source for one interval: the other replicas asking at a session start are told no, a watched one still yes', async () => {
  let now = 1_000;
  const store = new ThumbnailStore(() => now);
  const jpeg = await tinyJpeg();
  const watchedNow = new Set<string>();
  const watched = (replicaId: string) => watchedNow.has(replicaId);
  assert.ok(store.offer('s-1', 's-1.r1', watched), 'the first to ask, with no thumbnail yet, is wanted');
  assert.equal(
    store.offer('s-1', 's-1.r2', watched),
    false,
    'the next, a moment later, is not (it would draw in vain)',
  );
  assert.equal(store.wants('s-1', 's-1.r3', watched), false, 'nor a thumbnail sent without asking');
  assert.ok(store.wants('s-1', 's-1.r1', watched), 'the claimant is');
  watchedNow.add('s-1.r3');
  assert.ok(store.offer('s-1', 's-1.r3', watched), 'a watched replica beats an unwatched claim');
  assert.equal(store.offer('s-1', 's-1.r1', watched), false, 'and takes the claim over');
  assert.ok(store.put('s-1', 's-1.r3', jpeg));
  assert.equal(store.offer('s-1', 's-1.r2', watched), false, 'then the stored source rules, as before');
  // A claimant that never sends (its state had not changed after all): the claim lapses after one interval.
  assert.ok(store.offer('s-2', 's-2.r1', watched));
  now += THUMBNAIL_TIMING.intervalMs;
  assert.ok(store.offer('s-2', 's-2.r2', watched), 'a lapsed claim blocks nobody');
});

/**
 * Ticks of a thumbnailer's timer (mocked): each moves the clock by `ms`, then waits for `expected` calls of
 * `settle` (the fakes' sends and offers call it) and a few turns more, so their answers land.
 */
function ticker(t: TestContext, ms: number, advance: (ms: number) => void) {
  let settle: () => void = () => undefined;
  return {
    settle: () => settle(),
    tick: async (expected: number): Promise<void> => {
      const done = new Promise<void>((resolve) => {
        let left = expected;
        settle = () => {
          if (--left === 0) resolve();
        };
      });
      advance(ms);
      t.mock.timers.tick(ms);
      if (expected > 0) await done;
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    },
  };
}

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
  const { tick, settle } = ticker(t, 100, (ms) => (now += ms));
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

test('a standby the server does not want is asked first and never drawn; asked again after the hold-back, drawn once wanted', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let now = 0;
  const offers: string[] = [];
  const sent: string[] = [];
  const { tick, settle } = ticker(t, 100, (ms) => (now += ms));
  // The server's rule (server/thumbnails.ts) with its own knowledge of who is watched.
  const store = new ThumbnailStore(() => now);
  const watchedNow = new Set<string>(['s-1.r1']);
  const isWatched = (id: string) => watchedNow.has(id);
  const jpeg = await tinyJpeg();
  store.put('s-1', 's-1.r1', jpeg);
  let offerFails = false;
  const thumbnailer = new Thumbnailer({
    intervalMs: 100,
    maxStaleMs: 0,
    now: () => now,
    active: () => true,
    offer: (replicaId) => {
      offers.push(replicaId);
      settle();
      if (offerFails) return Promise.reject(new Error('unknown request type'));
      return Promise.resolve({ wanted: store.offer('s-1', replicaId, isWatched) });
    },
    send: (replicaId) => {
      sent.push(replicaId);
      const wanted = store.wants('s-1', replicaId, isWatched);
      if (wanted) store.put('s-1', replicaId, jpeg);
      settle();
      return Promise.resolve({ wanted });
    },
  });
  t.after(() => thumbnailer.close());
  const shown = new FakeReplica('s-1.r1');
  shown.watched = true;
  const standby = new FakeReplica('s-1.r2');
  thumbnailer.track(shown);
  thumbnailer.track(standby);
  // Tick 1: both offered; the shown replica (the source) is drawn and sent, the standby only asked.
  await tick(3);
  assert.deepEqual(offers.splice(0).sort(), ['s-1.r1', 's-1.r2']);
  assert.deepEqual(sent.splice(0), ['s-1.r1']);
  assert.equal(standby.shots, 0, 'the standby drew nothing for a thumbnail the server would decline');
  assert.equal(thumbnailer.counts.offersDeclined, 1);
  assert.equal(thumbnailer.counts.sentDeclined, 0);

  // Typing for the length of the hold-back: the standby is not even asked, and never drawn.
  for (let i = 0; i < 10; i++) {
    shown.stateVersion++;
    standby.stateVersion++;
    await tick(2);
  }
  assert.ok(!offers.includes('s-1.r2'), 'held back: not asked');
  assert.equal(standby.shots, 0);
  offers.length = 0;
  sent.length = 0;

  // After the hold-back it is asked again, and declined again while the source is fresh.
  now += THUMBNAIL_TIMING.declinedRetryMs;
  store.put('s-1', 's-1.r1', jpeg); // the source's thumbnail of a moment ago (the typing above was all moving)
  shown.stateVersion++;
  standby.stateVersion++;
  await tick(3);
  assert.deepEqual(offers.splice(0).sort(), ['s-1.r1', 's-1.r2']);
  assert.equal(standby.shots, 0);
  assert.equal(thumbnailer.counts.offersDeclined, 2);

  // Failover: the viewer switches to the standby; the server wants it at once, so it is drawn and sent.
  watchedNow.delete('s-1.r1');
  watchedNow.add('s-1.r2');
  shown.watched = false;
  standby.watched = true;
  sent.length = 0;
  standby.stateVersion++;
  await tick(2);
  assert.equal(standby.shots, 1, 'drawn once wanted');
  assert.deepEqual(sent.splice(0), ['s-1.r2']);
  assert.equal(store.get('s-1')?.replicaId, 's-1.r2');

  // A server that cannot answer an offer (an older one): drawn and sent as before, its answer decides.
  offerFails = true;
  standby.stateVersion++;
  await tick(2);
  assert.equal(standby.shots, 2);
  assert.deepEqual(sent.splice(0), ['s-1.r2']);
});
