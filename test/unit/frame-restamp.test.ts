// A frame whose picture did not change is restamped (render/frame-renderer.ts
// restamp): only the stamp strip is drawn and converted. It must give the very
// frame a full render of the same state gives, at any surface size, and refuse
// when the canvas no longer holds the last converted frame.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { keyEvent, sequenced } from '../../bench/lib/writer-inputs.js';
import { writerApp } from '../../render/apps/index.js';
import { FrameRenderer, type RenderedFrame } from '../../render/frame-renderer.js';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { createBenchReplica } from '../../bench/lib/bench-replica.js';
import { NEUTRAL_RESTAMP_MS } from '../../protocol/freshness.js';
import type { App } from '../../render/app-types.js';
import type { WriterState } from '../../render/apps/writer/state.js';
import { statusHashOf } from '../../render/app-hash.js';
import { toReplicaApp } from '../../render/replica-app.js';

const settle = async (turns = 20) => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};

function writerState(width: number, height: number, keys: number): WriterState {
  let state = writerApp.init({ width, height });
  for (let i = 0; i < keys; i++) state = writerApp.apply(state, sequenced(i + 1, keyEvent(i)));
  return state;
}

function fullFrame(state: WriterState, seq: number): RenderedFrame {
  const r = new FrameRenderer();
  return r.render(writerApp.viewport(state), seq, (ctx) => writerApp.render(state, ctx));
}

for (const [width, height] of [
  [320, 200],
  [321, 201],
  [640, 479],
] as const) {
  test(`a restamped frame equals a full render of the same state (${width}x${height})`, () => {
    const state = writerState(width, height, 12);
    const view = writerApp.viewport(state);
    const r = new FrameRenderer();
    r.render(view, 12, (ctx) => writerApp.render(state, ctx));
    const restamped = r.restamp(view, 0x5a5a5a5);
    assert.ok(restamped, 'restamped');
    const expected = fullFrame(state, 0x5a5a5a5);
    assert.equal(restamped.width, expected.width);
    assert.equal(restamped.height, expected.height);
    assert.equal(restamped.seq, 0x5a5a5a5);
    assert.ok(Buffer.from(restamped.i420).equals(Buffer.from(expected.i420)), 'same I420 bytes');
    // And it differs from the frame it was made from (the stamp moved).
    assert.ok(!Buffer.from(restamped.i420).equals(Buffer.from(fullFrame(state, 12).i420)));
  });
}

test('restamp refuses before the first frame, after a draw without conversion, and for another viewport', () => {
  const state = writerState(320, 200, 3);
  const view = writerApp.viewport(state);
  const r = new FrameRenderer();
  assert.equal(r.restamp(view, 4), undefined);
  r.render(view, 3, (ctx) => writerApp.render(state, ctx));
  assert.equal(r.restamp({ width: 320, height: 198 }, 4), undefined);
  assert.ok(r.restamp(view, 4));
  // A thumbnail draw paints the canvas without converting: the I420 no longer matches it.
  r.draw(view, 5, (ctx) => writerApp.render(state, ctx));
  assert.equal(r.restamp(view, 6), undefined);
});

test('a replica restamps a key-up (state unchanged) and fully draws a key-down, both as a full render would', async () => {
  // The writer, counting the frames it is asked to draw.
  let draws = 0;
  const app: App<WriterState> = {
    ...writerApp,
    render: (state, ctx) => {
      draws++;
      writerApp.render(state, ctx);
    },
  };
  const replica = await createBenchReplica<WriterState>({
    id: 's-restamp',
    app,
    width: 320,
    height: 200,
    headSeq: 0,
    read: () => [],
  });
  const frames: RenderedFrame[] = [];
  const copies: Buffer[] = [];
  const drawsAt = new Map<number, number>();
  replica.on('frame', (f) => {
    frames.push(f);
    copies.push(Buffer.from(f.i420));
    drawsAt.set(f.seq, draws);
  });
  try {
    await new Promise((r) => setTimeout(r, 60));
    await settle();
    const down = keyEvent(0);
    const up: InputEvent = { type: 'key', action: 'up', key: 'x', code: '', mods: NO_MODS };
    for (const [seq, ev] of [
      [1, down],
      [2, up],
      [3, keyEvent(1)],
    ] as const) {
      replica.receive([sequenced(seq, ev)]);
      // Past the frame-rate cap and the key-up's deferral (NEUTRAL_RESTAMP_MS), so each input gets its own frame.
      await new Promise((r) => setTimeout(r, NEUTRAL_RESTAMP_MS + 50));
      await settle();
    }
    const bySeq = new Map(frames.map((f, i) => [f.seq, copies[i]]));
    let state = writerApp.init({ width: 320, height: 200 });
    for (const [seq, ev] of [
      [1, down],
      [2, up],
      [3, keyEvent(1)],
    ] as const) {
      state = writerApp.apply(state, sequenced(seq, ev));
      const got = bySeq.get(seq);
      assert.ok(got, `a frame for seq ${seq}`);
      assert.ok(got.equals(Buffer.from(fullFrame(state, seq).i420)), `frame ${seq} equals a full render`);
    }
    // The key-up's frame was only restamped; both key-downs were drawn.
    assert.equal(drawsAt.get(2), drawsAt.get(1));
    assert.equal(drawsAt.get(3), (drawsAt.get(2) ?? 0) + 1);
    // The status hash taken for the frames serves the status report too, and is the state's.
    const s = await replica.status();
    assert.equal(s.appliedSeq, 3);
    assert.equal(s.stateHash, await statusHashOf(toReplicaApp(writerApp), state));
  } finally {
    replica.close();
  }
});

test('a key-up gets no frame of its own when the next key-down comes within NEUTRAL_RESTAMP_MS; alone, it gets one then', async () => {
  const replica = await createBenchReplica<WriterState>({
    id: 's-neutral',
    app: writerApp,
    width: 320,
    height: 200,
    headSeq: 0,
    read: () => [],
  });
  const frames: Array<{ seq: number; at: number }> = [];
  replica.on('frame', (f) => frames.push({ seq: f.seq, at: performance.now() }));
  const up: InputEvent = { type: 'key', action: 'up', key: 'x', code: '', mods: NO_MODS };
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await wait(60);
    await settle();
    frames.length = 0;
    // Typing: down, up at once, the next down well within the deferral (past the frame-rate cap).
    replica.receive([sequenced(1, keyEvent(0))]);
    await wait(5);
    replica.receive([sequenced(2, up)]);
    await wait(50);
    replica.receive([sequenced(3, keyEvent(1))]);
    await wait(NEUTRAL_RESTAMP_MS + 80);
    await settle();
    assert.deepEqual(
      frames.map((f) => f.seq),
      [1, 3],
      "the key-up was covered by the next key-down's frame",
    );
    // The last key-up of a burst: restamped once the deferral has passed, not before.
    const upAt = performance.now();
    replica.receive([sequenced(4, up)]);
    await wait(NEUTRAL_RESTAMP_MS + 80);
    await settle();
    const last = frames.at(-1);
    assert.equal(last?.seq, 4, 'the key-up alone is restamped');
    assert.ok((last?.at ?? 0) - upAt >= NEUTRAL_RESTAMP_MS - 5, 'not before the deferral');
    assert.equal(frames.length, 3);
  } finally {
    replica.close();
  }
});
