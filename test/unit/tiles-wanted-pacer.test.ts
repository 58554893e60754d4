// TilesWantedPacer (server/tiles-wanted-pacer.ts): whole tile frames asked of a
// display channel's node at most once per interval however many viewers start
// it: the first ask at once, later ones in the interval coalesced into one at
// its end; channels apart; a closed channel's pending ask is dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TilesWantedPacer } from '../../server/tiles-wanted-pacer.js';
import { fakeTimers } from '../helpers/fake-timers.js';

function rig() {
  const clock = fakeTimers();
  const pacer = new TilesWantedPacer({ intervalMs: 250, now: () => clock.now, schedule: clock.schedule });
  const asked: string[] = [];
  const want = (id: string) => pacer.want(id, () => asked.push(`${id}@${clock.now}`));
  return { clock, pacer, asked, want };
}

test('a storm of starts asks the node once now and once at the end of the interval', () => {
  const { clock, asked, want } = rig();
  for (let i = 0; i < 100; i++) want('dp1');
  assert.deepEqual(asked, ['dp1@0']);
  clock.advance(100);
  for (let i = 0; i < 100; i++) want('dp1');
  assert.deepEqual(asked, ['dp1@0']);
  clock.advance(150);
  assert.deepEqual(asked, ['dp1@0', 'dp1@250'], 'the starts in between share one whole frame');
  clock.advance(1000);
  assert.deepEqual(asked, ['dp1@0', 'dp1@250'], 'nothing more without a start');
  want('dp1');
  assert.deepEqual(asked, ['dp1@0', 'dp1@250', 'dp1@1250'], 'a start after a quiet interval is asked at once');
});

test('at most one ask per interval under a steady stream of starts', () => {
  const { clock, asked, want } = rig();
  for (let t = 0; t < 10_000; t += 10) {
    want('dp1');
    clock.advance(10);
  }
  assert.ok(asked.length <= 10_000 / 250 + 1, `${asked.length} asks in 10 s`);
  assert.ok(asked.length >= 10_000 / 250 - 1, 'and the starts keep getting whole frames');
});

test('channels are paced apart, and a forgotten channel asks nothing more', () => {
  const { clock, pacer, asked, want } = rig();
  want('dp1');
  want('dp2');
  want('dp1');
  want('dp2');
  assert.deepEqual(asked, ['dp1@0', 'dp2@0']);
  pacer.forget('dp1');
  clock.advance(300);
  assert.deepEqual(asked, ['dp1@0', 'dp2@0', 'dp2@300']);
  assert.equal(pacer.size, 1);
});
