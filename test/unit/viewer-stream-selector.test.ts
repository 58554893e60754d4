import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamSelector, type Candidate } from '../../viewer/stream-selector.js';

const c = (id: string, score: number, hardFailure = false): Candidate => ({ id, score, hardFailure });

/** Runs the selector every 250 ms from `from` to `to` with candidates computed per time. */
function run(
  sel: StreamSelector,
  from: number,
  to: number,
  cands: (t: number) => Candidate[],
): Array<{ t: number; to: string; reason: string }> {
  const switches: Array<{ t: number; to: string; reason: string }> = [];
  for (let t = from; t <= to; t += 250) {
    const r = sel.update(t, cands(t));
    if (r.switched) switches.push({ t, to: r.switched.to, reason: r.switched.reason });
  }
  return switches;
}

test('the initial pick is the best healthy stream', () => {
  const sel = new StreamSelector();
  const r = sel.update(0, [c('a', 80), c('b', 95), c('c', 100, true)]);
  assert.equal(r.liveId, 'b');
  assert.equal(r.switched?.reason, 'initial');
  assert.equal(r.switched?.from, null);
});

test('a hard failure switches at once, even right after a switch', () => {
  const sel = new StreamSelector();
  sel.update(0, [c('a', 100), c('b', 90)]);
  const r = sel.update(10, [c('a', 0, true), c('b', 90)]);
  assert.equal(r.liveId, 'b');
  assert.equal(r.switched?.reason, 'hard-failure');
  assert.equal(r.switched?.from, 'a');
});

test('a vanished live stream is replaced at once', () => {
  const sel = new StreamSelector();
  sel.update(0, [c('a', 100), c('b', 90)]);
  const r = sel.update(100, [c('b', 90)]);
  assert.equal(r.liveId, 'b');
  assert.equal(r.switched?.reason, 'gone');
});

test('with no healthy alternative the failed live stream is kept', () => {
  const sel = new StreamSelector();
  sel.update(0, [c('a', 100), c('b', 90)]);
  const r = sel.update(100, [c('a', 0, true), c('b', 0, true)]);
  assert.equal(r.liveId, 'a');
  assert.equal(r.switched, null);
});

test('a slightly better standby never causes a switch', () => {
  const sel = new StreamSelector();
  sel.update(0, [c('a', 80), c('b', 70)]);
  const sw = run(sel, 250, 60_000, () => [c('a', 80), c('b', 94)]);
  assert.deepEqual(sw, []);
  assert.equal(sel.current, 'a');
});

test('a clearly better standby switches only after the hold time', () => {
  const sel = new StreamSelector({ holdMs: 1500, minDwellMs: 0 });
  sel.update(0, [c('a', 100), c('b', 90)]);
  // From t=10 000 the live stream degrades to 60 while b stays at 90.
  const sw = run(sel, 250, 20_000, (t) => (t < 10_000 ? [c('a', 100), c('b', 90)] : [c('a', 60), c('b', 90)]));
  assert.equal(sw.length, 1);
  assert.equal(sw[0]?.to, 'b');
  assert.equal(sw[0]?.reason, 'better');
  assert.ok(sw[0].t >= 11_500 && sw[0].t <= 11_750, `switched at ${sw[0]?.t}`);
});

test('a lead that is interrupted restarts the hold', () => {
  const sel = new StreamSelector({ holdMs: 1500, minDwellMs: 0 });
  sel.update(0, [c('a', 60), c('b', 50)]);
  // b leads by 30 except for a dip every 1 s: it never holds the lead for 1.5 s.
  const sw = run(sel, 250, 20_000, (t) => [c('a', 60), c('b', t % 1000 === 0 ? 60 : 90)]);
  assert.deepEqual(sw, []);
});

test('no flapping between two equal, noisy streams', () => {
  const sel = new StreamSelector();
  sel.update(0, [c('a', 85), c('b', 85)]);
  let seed = 1;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed % 21) - 10; // -10..+10
  };
  const sw = run(sel, 250, 120_000, () => [c('a', 85 + noise()), c('b', 85 + noise())]);
  assert.deepEqual(sw, []);
});

test('streams that take turns being clearly better switch with growing back-off', () => {
  const sel = new StreamSelector({ holdMs: 1500, minDwellMs: 3000 });
  sel.update(0, [c('a', 90), c('b', 90)]);
  // Whichever is live degrades after 1 s live: the worst case for flapping.
  let liveSince = 0;
  let live = 'a';
  const sw: number[] = [];
  for (let t = 250; t <= 60_000; t += 250) {
    const bad = t - liveSince > 1000;
    const r = sel.update(t, [c('a', live === 'a' && bad ? 50 : 90), c('b', live === 'b' && bad ? 50 : 90)]);
    if (r.switched) {
      sw.push(t);
      live = r.switched.to;
      liveSince = t;
    }
  }
  assert.ok(sw.length >= 2, 'it still reacts');
  const gaps = sw.slice(1).map((t, i) => t - (sw[i] ?? 0));
  for (let i = 1; i < gaps.length; i++) assert.ok((gaps[i] ?? 0) >= (gaps[i - 1] ?? 0), `gaps grow: ${gaps.join(',')}`);
  assert.ok(sw.length <= 6, `switched ${sw.length} times in a minute`);
});

test('prefer() keeps the chosen stream across a reconnect', () => {
  const sel = new StreamSelector();
  sel.prefer('b');
  const r = sel.update(0, [c('a', 95), c('b', 90)]);
  assert.equal(r.liveId, 'b');
  assert.equal(r.switched, null);
});
