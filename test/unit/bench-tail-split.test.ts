// The latency benches' tail split (bench/lib/tail-split.ts): over the slowest
// tenth of keystrokes, how far each stage ran over its own median, so the
// stage whose variance makes p95 is named.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { keystrokeStages, tailSplit, type KeystrokeStages } from '../../bench/lib/tail-split.js';
import type { LatencySample } from '../../viewer/lockstep-hook.js';

const row = (send: number, wait: number): KeystrokeStages => ({
  total: send + wait,
  stages: { send, wait },
});

test('the stage the slow keystrokes ran long in carries the excess', () => {
  // 18 keystrokes of 10 + 2 ms; 2 slow ones wait 16 ms more (a missed frame), one with a slower send.
  const rows = [...Array.from({ length: 18 }, () => row(10, 2)), row(10, 18), row(12, 18)];
  const t = tailSplit(rows);
  assert.equal(t['tail.excess.total'], 17);
  assert.equal(t['tail.excess.wait'], 16);
  assert.equal(t['tail.excess.send'], 1);
});

test('too few keystrokes: no split; a stage missing in some keystrokes counts where present', () => {
  assert.deepEqual(tailSplit([row(1, 1)]), {});
  const rows: KeystrokeStages[] = [
    ...Array.from({ length: 9 }, () => ({ total: 12, stages: { send: 10 } })),
    { total: 40, stages: {} },
  ];
  const t = tailSplit(rows);
  assert.equal(t['tail.excess.total'], 28);
  assert.equal(t['tail.excess.send'], undefined);
});

const sample = (over: Partial<LatencySample>): LatencySample => ({
  seq: 1,
  sentAt: 100,
  ackedAt: 104,
  shownAt: 130,
  receivedAt: 115,
  presentedAt: 118,
  replicaId: 'r1',
  ...over,
});

test("a keystroke's stages add up to its total; the node's stages replace sent → packets in", () => {
  const sum = (k: KeystrokeStages) => Object.values(k.stages).reduce((a: number, b) => a + (b ?? 0), 0);
  const page = keystrokeStages(sample({ frameAt: 127 }), null);
  assert.deepEqual(page.stages, {
    sentToPacketsIn: 15,
    packetsInToCompositor: 3,
    compositorToFrame: 9,
    frameToCallback: 3,
  });
  assert.equal(sum(page), page.total);
  const node = { viewerToNode: 3, apply: 1, waitToRender: 0, renderReadbackI420: 6, handOff: 1, encodeToPacketsIn: 4 };
  const withNode = keystrokeStages(sample({}), node);
  assert.equal(withNode.stages.sentToPacketsIn, undefined);
  assert.equal(withNode.stages.compositorToCallback, 12);
  assert.equal(sum(withNode), withNode.total);
});
