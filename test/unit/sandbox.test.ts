// The app sandbox: hostile app code is refused or contained, the process
// survives every attempt, other instances are untouched, and an app in the
// sandbox computes exactly what it computes in process (state and pixels).
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
import { AppFailedError } from '../../render/errors.js';
import { renderPixels } from '../helpers/app-driver.js';

const dir = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const limits = loadSandboxLimits({ callMs: 400, heapMb: 64 });
const hostile = sandboxedAppFromFolder(dir('../fixtures/apps/hostile/'), limits);
const open: AppInstance[] = [];
after(() => open.forEach((i) => hostile.dispose?.(i)));

let seq = 0;
const paste = (text: string): SequencedInput => ({
  seq: ++seq,
  time: 1_700_000_000_000 + seq,
  clientId: 'test',
  clientSeq: seq,
  event: { type: 'paste', text },
});

function instance(): AppInstance {
  const i = hostile.init({ width: 200, height: 120 });
  open.push(i);
  return i;
}

describe('hostile app code', () => {
  const bystander = instance();

  test('globals a host would have are simply not there; dynamic import is refused', () => {
    const i = instance();
    hostile.apply(i, paste('probe'));
    hostile.apply(i, paste('import'));
    hostile.apply(i, paste('nothing')); // the import's rejection settles by the next call
    const log = hostile.copyText?.(i) ?? '';
    for (const name of [
      'process',
      'require',
      'module',
      'setTimeout',
      'setInterval',
      'queueMicrotask',
      'fetch',
      'Buffer',
    ])
      assert.match(log, new RegExp(`${name}:undefined`), name);
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
    ['pollute', /not extensible/],
    ['throw', /threw on purpose/],
  ];
  for (const [attempt, why] of refused) {
    test(`${attempt}: refused with a typed error, and the instance is stopped`, () => {
      const i = instance();
      assert.throws(
        () => hostile.apply(i, paste(attempt)),
        (err: unknown) => err instanceof AppCodeError && why.test(err.message),
      );
      assert.ok(i.stopped);
      assert.throws(() => hostile.apply(i, paste('probe')), AppStoppedError, 'a failed instance takes no more calls');
    });
  }

  test('an endless loop is stopped at the time bound', () => {
    const i = instance();
    const t0 = performance.now();
    assert.throws(() => hostile.apply(i, paste('loop')), AppStoppedError);
    assert.ok(performance.now() - t0 < limits.callMs + 5000, 'bounded');
  });

  test('unbounded allocation is stopped at the memory bound', () => {
    const i = instance();
    assert.throws(() => hostile.apply(i, paste('alloc')), AppStoppedError);
  });

  test('the bystander instance of the same app was untouched by all of it', () => {
    hostile.apply(bystander, paste('probe'));
    const [name, globals, ...rest] = (hostile.copyText?.(bystander) ?? '').split('\n');
    assert.deepEqual([name, rest], ['probe', []], 'it saw only its own input');
    assert.match(globals ?? '', /^process:undefined,/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'this realm was not polluted');
    assert.ok(hostile.snapshot(bystander).length > 0);
  });
});

test('an app importing a Node built-in does not bundle', () => {
  assert.throws(
    () => sandboxedAppFromFolder(dir('../fixtures/apps/imports-fs/'), limits),
    (err: unknown) => err instanceof AppCodeError && /does not bundle/.test(err.message),
  );
});

function sameInSandbox<S>(name: string, inProcess: App<S>, seed: number): void {
  test(`${name} in the sandbox matches ${name} in process: hashes and pixels, and across snapshot/restore`, () => {
    const sandboxed = sandboxedAppFromFolder(dir(`../../render/apps/${name}/`), loadSandboxLimits());
    const log = generateInputLog({ seed, count: 240, width: 640, height: 400 });
    let a = inProcess.init({ width: 640, height: 400 });
    let b = sandboxed.init({ width: 640, height: 400 });
    try {
      for (const [i, input] of log.entries()) {
        a = inProcess.apply(a, input);
        b = sandboxed.apply(b, input);
        if (i % 40 === 39) {
          assert.equal(
            stateHashOf(sandboxed.snapshot(b)),
            stateHashOf(inProcess.snapshot(a)),
            `hash at seq ${input.seq}`,
          );
          assert.deepEqual(sandboxed.viewport(b), inProcess.viewport(a));
          assert.ok(renderPixels(sandboxed, b).equals(renderPixels(inProcess, a)), `pixels at seq ${input.seq}`);
        }
        if (i === 120) {
          const restored = sandboxed.restore(sandboxed.snapshot(b));
          sandboxed.dispose?.(b);
          b = restored;
        }
      }
    } finally {
      sandboxed.dispose?.(b);
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
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof AppFailedError, String(failures[0]));
    assert.equal(bad.appliedSeq, 1, 'the input that threw was not applied');
    bad.receive(numbered(['probe', 'throw', 'probe', 'probe']));
    assert.equal(bad.appliedSeq, 1, 'a failed replica applies nothing more');
    assert.equal(good.appliedSeq, 3);
    assert.equal(writerApp.snapshot(good.state).includes(Buffer.from('one two three')), true);
  } finally {
    bad.close();
    good.close();
  }
});
