// The node's watch on its server link (render/link-watch.ts): traffic counts
// as life, so a busy link sends no pings; a quiet one is pinged once per
// interval (one at a time); an unanswered link is left once, after the bound.
import { strict as assert } from 'node:assert';
import { mock, test } from 'node:test';
import { LinkWatch } from '../../render/link-watch.js';

const INTERVAL = 250;
const SILENCE = 2000;

function watch(answer: boolean) {
  let clock = 0;
  let pings = 0;
  const silent: number[] = [];
  const w = new LinkWatch({
    intervalMs: INTERVAL,
    silenceMs: SILENCE,
    ping: () => {
      pings += 1;
      return answer ? Promise.resolve({ ok: true }) : new Promise(() => undefined);
    },
    onSilent: (ms) => silent.push(ms),
    now: () => clock,
  });
  const step = async (ms: number, heard = false) => {
    clock += ms;
    if (heard) w.heard();
    mock.timers.tick(ms);
    await Promise.resolve();
  };
  return { w, step, pings: () => pings, silent };
}

test('a link with traffic every 200 ms is never pinged and never left', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  const { w, step, pings, silent } = watch(true);
  try {
    for (let i = 0; i < 50; i++) {
      await step(50, i % 4 === 0);
    }
    assert.equal(pings(), 0);
    assert.deepEqual(silent, []);
  } finally {
    w.stop();
    mock.timers.reset();
  }
});

test('a quiet link that answers is pinged about once per interval and kept', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  const { w, step, pings, silent } = watch(true);
  try {
    for (let i = 0; i < 40; i++) await step(INTERVAL);
    // Each answer is a sign of life; the next tick finds a full quiet interval since it and pings again.
    assert.ok(pings() >= 35 && pings() <= 40, `${pings()} pings in 40 intervals`);
    assert.deepEqual(silent, []);
  } finally {
    w.stop();
    mock.timers.reset();
  }
});

test('a link that stops answering is left once, after the bound and not before; one ping in flight at a time', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  const { w, step, pings, silent } = watch(false);
  try {
    for (let i = 0; i < SILENCE / INTERVAL - 1; i++) await step(INTERVAL);
    assert.deepEqual(silent, [], 'not left before the bound');
    assert.equal(pings(), 1, 'the unanswered ping is not repeated while it is in flight');
    for (let i = 0; i < 8; i++) await step(INTERVAL);
    assert.equal(silent.length, 1, 'left exactly once');
    assert.ok(silent[0]! >= SILENCE);
  } finally {
    w.stop();
    mock.timers.reset();
  }
});
