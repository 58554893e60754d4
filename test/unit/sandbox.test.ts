// The app sandbox: hostile app code is refused or contained, the process
// survives every attempt, other instances are untouched, and an app in the
// sandbox computes exactly what it computes in process (state and pixels).
// Calls are asynchronous: the node's loop keeps serving while app code runs.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stateHashOf } from '../../render/app-hash.js';
import { generateInputLog } from '../../render/app-check/input-generator.js';
import type { App } from '../../render/app-types.js';
import { writerApp, paintApp } from '../../render/apps/index.js';
import { loadSandboxLimits } from '../../render/config.js';
import type { AppInstance } from '../../render/sandbox/app-instance.js';
import { sandboxedAppFromFolder } from '../../render/sandbox/app-folder.js';
import { AppCodeError, AppStoppedError } from '../../render/sandbox/errors.js';
import type { SequencedInput } from '../../protocol/input.js';
import { createBenchReplica } from '../../bench/lib/bench-replica.js';
import { keyEvent, sequenced } from '../../bench/lib/writer-inputs.js';
import { AppFailedError } from '../../render/errors.js';
import { renderPixels, renderPixelsOf } from '../helpers/app-driver.js';
import { waitFor } from '../../scripts/lib/wait-for.js';
import { createCanvas } from 'canvas';
import { CommandReplayer } from '../../render/sandbox/command-replay.js';
import { FrameRenderer } from '../../render/frame-renderer.js';
import { rgbaParts } from '../../server/image-import.js';

const dir = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const limits = loadSandboxLimits({ callMs: 400, heapMb: 64 });
const hostile = sandboxedAppFromFolder(dir('../fixtures/apps/hostile/'), limits);
const open: AppInstance[] = [];
after(() => open.forEach((i) => hostile.dispose(i)));

let seq = 0;
const paste = (text: string): SequencedInput => ({
  seq: ++seq,
  time: 1_700_000_000_000 + seq,
  clientId: 'test',
  clientSeq: seq,
  event: { type: 'paste', text },
});

async function instance(): Promise<AppInstance> {
  const i = await hostile.init({ width: 200, height: 120 });
  open.push(i);
  return i;
}

describe('hostile app code', () => {
  const bystander = instance();

  test('globals a host would have are simply not there; dynamic import is refused', async () => {
    const i = await instance();
    await hostile.apply(i, paste('probe'));
    await hostile.apply(i, paste('import'));
    await hostile.apply(i, paste('nothing')); // the import's rejection settles by the next call
    const log = (await hostile.copyText(i)) ?? '';
    for (const name of [
      'process',
      'require',
      'module',
      'setTimeout',
      'setInterval',
      'queueMicrotask',
      'fetch',
      'Buffer',
      'performance',
      'Intl',
      'WebAssembly',
      'SharedArrayBuffer',
      'Atomics',
      'FinalizationRegistry',
      'WeakRef',
    ])
      assert.match(log, new RegExp(`\\b${name}:undefined`), name);
    assert.match(log, /import:refused/);
    assert.doesNotMatch(log, /import:loaded/);
  });

  const refused: [string, RegExp][] = [
    ['date', /Date\.now is not available/],
    ['newdate', /Date is not available/],
    ['random', /Math\.random is not available/],
    ['settimeout', /is not a function/],
    ['fetch', /is not a function/],
    ['require', /is not a function/],
    ['process', /Cannot read properties of undefined/],
    ['escape', /Code generation from strings disallowed/],
    ['eval', /Code generation from strings disallowed/],
    ['locale', /localeCompare is not available/],
    ['tolocale', /toLocaleString is not available/],
    ['pollute', /not extensible/],
    ['throw', /threw on purpose/],
  ];
  for (const [attempt, why] of refused) {
    test(`${attempt}: refused with a typed error, and the instance is stopped`, async () => {
      const i = await instance();
      await assert.rejects(
        hostile.apply(i, paste(attempt)),
        (err: unknown) => err instanceof AppCodeError && why.test(err.message),
      );
      assert.ok(i.stopped);
      await assert.rejects(hostile.apply(i, paste('probe')), AppStoppedError, 'a failed instance takes no more calls');
    });
  }

  test('an endless loop is stopped at the time bound, and this thread keeps running meanwhile', async () => {
    const i = await instance();
    const t0 = performance.now();
    let ticks = 0;
    const heartbeat = setInterval(() => ticks++, 20);
    try {
      await assert.rejects(hostile.apply(i, paste('loop')), AppStoppedError);
    } finally {
      clearInterval(heartbeat);
    }
    const took = performance.now() - t0;
    assert.ok(took >= limits.callMs * 0.9 && took < limits.callMs + 5000, `bounded (${Math.round(took)} ms)`);
    // A blocking call would have let no timer fire at all; loose bound for a shared CPU.
    assert.ok(ticks >= 3, `the heartbeat fired ${ticks} times while the app looped`);
  });

  test('unbounded allocation is stopped at the memory bound', async () => {
    const i = await instance();
    await assert.rejects(hostile.apply(i, paste('alloc')), AppStoppedError);
  });

  test('the bystander instance of the same app was untouched by all of it', async () => {
    const b = await bystander;
    await hostile.apply(b, paste('probe'));
    const [name, globals, ...rest] = ((await hostile.copyText(b)) ?? '').split('\n');
    assert.deepEqual([name, rest], ['probe', []], 'it saw only its own input');
    assert.match(globals ?? '', /^process:undefined,/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'this realm was not polluted');
    assert.ok((await hostile.snapshot(b)).length > 0);
  });
});

test('an app importing a Node built-in does not bundle', () => {
  assert.throws(
    () => sandboxedAppFromFolder(dir('../fixtures/apps/imports-fs/'), limits),
    (err: unknown) => err instanceof AppCodeError && /does not bundle/.test(err.message),
  );
});

function sameInSandbox<S>(name: string, inProcess: App<S>, seed: number): void {
  test(`${name} in the sandbox matches ${name} in process: hashes and pixels, and across snapshot/restore`, async () => {
    const sandboxed = sandboxedAppFromFolder(dir(`../../render/apps/${name}/`), loadSandboxLimits());
    const log = generateInputLog({ seed, count: 240, width: 640, height: 400 });
    let a = inProcess.init({ width: 640, height: 400 });
    let b = await sandboxed.init({ width: 640, height: 400 });
    try {
      for (const [i, input] of log.entries()) {
        a = inProcess.apply(a, input);
        b = await sandboxed.apply(b, input);
        if (i % 40 === 39) {
          assert.equal(
            stateHashOf(await sandboxed.snapshot(b)),
            stateHashOf(inProcess.snapshot(a)),
            `hash at seq ${input.seq}`,
          );
          assert.deepEqual(sandboxed.viewport(b), inProcess.viewport(a));
          const pixels = await renderPixelsOf(sandboxed, b);
          assert.ok(pixels.equals(renderPixels(inProcess, a)), `pixels at seq ${input.seq}`);
        }
        if (i === 120) {
          const restored = await sandboxed.restore(await sandboxed.snapshot(b));
          sandboxed.dispose(b);
          b = restored;
        }
      }
    } finally {
      sandboxed.dispose(b);
    }
  });
}
sameInSandbox('writer', writerApp, 1);
sameInSandbox('paint', paintApp, 2);

test('a replica whose app throws is marked failed and closed; a replica of another session keeps going', async () => {
  const numbered = (texts: string[]): SequencedInput[] => texts.map((t, i) => ({ ...paste(t), seq: i + 1 }));
  const bad = await createBenchReplica({
    id: 's-hostile',
    app: hostile,
    width: 200,
    height: 120,
    headSeq: 0,
    read: () => [],
  });
  const good = await createBenchReplica({
    id: 's-writer',
    app: writerApp,
    width: 200,
    height: 120,
    headSeq: 0,
    read: () => [],
  });
  try {
    const failures: Error[] = [];
    bad.on('failed', (err) => failures.push(err));
    bad.receive(numbered(['probe', 'throw', 'probe']));
    good.receive(numbered(['one', ' two', ' three']));
    await waitFor('both replicas settled', () => failures.length > 0 && good.appliedSeq === 3, 5000, 10);
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof AppFailedError, String(failures[0]));
    assert.equal(failures[0].reason, 'app-threw');
    assert.equal(failures[0].seq, 2, 'the failure names the input it failed on');
    assert.equal(bad.appliedSeq, 1, 'the input that threw was not applied');
    bad.receive(numbered(['probe', 'throw', 'probe', 'probe']));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(bad.appliedSeq, 1, 'a failed replica applies nothing more');
    assert.equal(good.appliedSeq, 3);
    assert.equal(writerApp.snapshot(good.state).includes(Buffer.from('one two three')), true);
  } finally {
    bad.close();
    good.close();
  }
});

test('while the sandboxed app of one replica loops forever, another replica keeps rendering and timers keep firing', async () => {
  const looping = await createBenchReplica({
    id: 's-loop',
    app: hostile,
    width: 200,
    height: 120,
    headSeq: 0,
    read: () => [],
  });
  const writer = await createBenchReplica({
    id: 's-live',
    app: writerApp,
    width: 200,
    height: 120,
    headSeq: 0,
    read: () => [],
  });
  let ticks = 0;
  const heartbeat = setInterval(() => ticks++, 20);
  try {
    const failed = new Promise<Error>((resolve) => looping.once('failed', resolve));
    const t0 = performance.now();
    looping.receive([{ ...paste('loop'), seq: 1 }]);
    // Type into the other replica while the app loops: each key is applied and drawn.
    const framesDuring: number[] = [];
    writer.on('frame', (f) => framesDuring.push(f.seq));
    for (let i = 1; i <= 5; i++) {
      writer.receive([{ ...paste(String(i)), seq: i }]);
      await new Promise((r) => setTimeout(r, 40));
    }
    const err = await failed;
    const took = performance.now() - t0;
    assert.ok(err instanceof AppFailedError, String(err));
    assert.ok(err.context.err instanceof AppStoppedError, 'the sandbox stopped the call at its time bound');
    assert.equal(err.reason, 'app-timeout');
    assert.equal(err.seq, 1);
    assert.equal(looping.appliedSeq, 0);
    assert.equal(writer.appliedSeq, 5, 'the other replica applied every input meanwhile');
    assert.ok(framesDuring.includes(5), `the other replica drew the last input (frames at ${framesDuring.join(',')})`);
    assert.ok(ticks >= 5, `the node's timers fired ${ticks} times in ${Math.round(took)} ms`);
  } finally {
    clearInterval(heartbeat);
    looping.close();
    writer.close();
  }
});

test('raw pixels (putImageData) cross the sandbox: paint with an imported image matches paint in process', async () => {
  const sandboxed = sandboxedAppFromFolder(dir('../../render/apps/paint/'), loadSandboxLimits());
  const px = Uint8Array.from({ length: 120 * 90 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 13) % 251));
  const inputs = rgbaParts({ width: 120, height: 90 }, px, 8000).map((event, i): SequencedInput => ({
    seq: i + 1,
    time: 1_700_000_000_000 + i,
    clientId: 'import',
    clientSeq: i,
    event,
  }));
  let a = paintApp.init({ width: 320, height: 240 });
  let b = await sandboxed.init({ width: 320, height: 240 });
  try {
    for (const input of inputs) {
      a = paintApp.apply(a, input);
      b = await sandboxed.apply(b, input);
      assert.ok((await renderPixelsOf(sandboxed, b)).equals(renderPixels(paintApp, a)), `pixels at seq ${input.seq}`);
    }
    assert.equal(stateHashOf(await sandboxed.snapshot(b)), stateHashOf(paintApp.snapshot(a)));
    const restored = await sandboxed.restore(await sandboxed.snapshot(b));
    sandboxed.dispose(b);
    b = restored;
    assert.ok((await renderPixelsOf(sandboxed, b)).equals(renderPixels(paintApp, a)), 'after restore');
  } finally {
    sandboxed.dispose(b);
  }
});

test('malformed putImageData commands are refused by the host replay', () => {
  const replayer = new CommandReplayer(1000);
  const ctx = createCanvas(10, 10).getContext('2d');
  const ok = Buffer.from([9, 8, 7, 255, 9, 8, 7, 255, 9, 8, 7, 255, 9, 8, 7, 255]).toString('base64');
  replayer.replay(JSON.stringify([[0, 'putImageData', 1, 1, 2, 2, ok]]), ctx);
  assert.deepEqual([...ctx.getImageData(1, 1, 1, 1).data], [9, 8, 7, 255]);
  const bad: unknown[][] = [
    [0, 'putImageData', 0, 0, 2, 2, ok.slice(4)],
    [0, 'putImageData', 0, 0, 2, 3, ok],
    [0, 'putImageData', 0, 0, 2.5, 2, ok],
    [0, 'putImageData', 0, 0, 40, 40, Buffer.alloc(40 * 40 * 4).toString('base64')],
    [0, 'putImageData', null, 0, 2, 2, ok],
    [0, 'putImageData', 0, 0, 2, 2, 42],
    [0, 'putImageData', 0, 0, 2, 2, `${'!'.repeat(ok.length)}`],
  ];
  for (const cmd of bad)
    assert.throws(() => replayer.replay(JSON.stringify([cmd]), ctx), AppCodeError, JSON.stringify(cmd));
});

test('damage reports cross the sandbox: a sandboxed writer reads back few rows, and its frames equal in-process full ones', async () => {
  const sandboxed = sandboxedAppFromFolder(dir('../../render/apps/writer/'), loadSandboxLimits());
  const renderer = new FrameRenderer();
  const view = { width: 320, height: 241 };
  let a = writerApp.init(view);
  let b = await sandboxed.init(view);
  try {
    const rows: number[] = [];
    for (let i = 0; i < 18; i++) {
      const input = sequenced(i + 1, keyEvent(i));
      a = writerApp.apply(a, input);
      b = await sandboxed.apply(b, input);
      const info = renderer.nextFrame(sandboxed.viewport(b));
      const frame = renderer.render(sandboxed.viewport(b), i + 1, await sandboxed.render(b, info), info);
      if (info.over !== null) rows.push(renderer.lastTimings.rows);
      const s = a;
      const want = new FrameRenderer().render(writerApp.viewport(a), i + 1, (ctx) => writerApp.render(s, ctx));
      assert.ok(Buffer.from(frame.i420).equals(Buffer.from(want.i420)), `frame at seq ${i + 1}`);
    }
    assert.ok(rows.length > 10 && rows.every((n) => n < 120), `rows read back: ${rows.join(',')}`);
  } finally {
    sandboxed.dispose(b);
  }
});
