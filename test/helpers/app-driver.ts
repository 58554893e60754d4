// Driving an app in unit tests the way a sequencer would (numbered inputs,
// sequencer-stamped time), and replaying a log in a fresh process (cold
// caches) to check it reaches the same hash and pixels.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCanvas } from 'canvas';
import { SequencedInputSchema, type InputEvent, type SequencedInput } from '../../protocol/input.js';
import type { ReplicaApp } from '../../render/replica-app.js';
import type { App, AppViewport } from '../../render/app-types.js';

export class AppDriver<S> {
  state: S;
  #seq = 0;

  constructor(
    readonly app: App<S>,
    width = 800,
    height = 600,
  ) {
    this.state = app.init({ width, height });
  }

  send(event: InputEvent): this {
    this.#seq++;
    this.state = this.app.apply(this.state, {
      seq: this.#seq,
      time: 1_700_000_000_000 + this.#seq * 16,
      clientId: 'test-client',
      clientSeq: this.#seq,
      event,
    });
    return this;
  }
}

export { replay } from '../../scripts/lib/reference-state.js';

/** The state's pixels as RGBA, rendered at its viewport size. */
export function renderRgba<S>(app: App<S>, state: S): Uint8ClampedArray {
  const { width, height } = app.viewport(state);
  const ctx = createCanvas(width, height).getContext('2d');
  app.render(state, ctx);
  return ctx.getImageData(0, 0, width, height).data;
}

/** The state's pixels as one Buffer (for byte comparisons and hashing). */
export function renderPixels<S>(app: App<S>, state: S): Buffer {
  const rgba = renderRgba(app, state);
  return Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
}

/** The same for an app behind the replica interface (a sandboxed app answers asynchronously). */
export async function renderPixelsOf<S>(app: ReplicaApp<S>, state: S): Promise<Buffer> {
  const { width, height } = app.viewport(state);
  const ctx = createCanvas(width, height).getContext('2d');
  (await app.render(state))(ctx);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  return Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
}

/** Events as a validated sequenced log: seq from 1, two interleaved clients, 37 ms apart. */
export function sequenceEvents(events: readonly InputEvent[]): SequencedInput[] {
  return events.map((event, i) =>
    SequencedInputSchema.parse({
      seq: i + 1,
      time: 1_700_000_000_000 + i * 37,
      clientId: `client-${i % 2}`,
      clientSeq: i,
      event,
    }),
  );
}

/** What an app's sources must never touch: clocks, randomness, timers, the network. */
const NONDETERMINISTIC = [
  /\bDate\b/,
  /performance\s*\.\s*now/,
  /Math\s*\.\s*random/,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /process\s*\.\s*hrtime/,
  /crypto\s*\.\s*random/,
  /\bfetch\s*\(/,
];

/** Scans every JS/TS module under `dir` (recursively) for clock, randomness, timer or network use. */
export function assertSourcesDeterministic(dir: string, minFiles: number): void {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.[cm]?[jt]s$/.test(entry.name)) files.push(path);
    }
  };
  walk(dir);
  assert.ok(files.length >= minFiles, `expected at least ${minFiles} modules in ${dir}`);
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const pattern of NONDETERMINISTIC) assert.doesNotMatch(source, pattern, `${file} references ${pattern}`);
  }
}

/**
 * Applies `steps` twice from `init`: once straight, once restoring from a
 * snapshot before every input. Any state kept outside the snapshot shows up as
 * a difference at the seq where it mattered.
 */
export function assertRestoreEveryStep<S>(
  app: App<S>,
  init: AppViewport,
  steps: readonly SequencedInput[],
  label: string,
): void {
  let live = app.init(init);
  let hopped = app.init(init);
  for (const input of steps) {
    live = app.apply(live, input);
    hopped = app.apply(app.restore(app.snapshot(hopped)), input);
    assert.deepEqual(app.snapshot(hopped), app.snapshot(live), `${label} diverged at seq ${input.seq}`);
  }
}

const APPS_INDEX = fileURLToPath(new URL('../../render/apps/index.ts', import.meta.url));
const APP_HASH = fileURLToPath(new URL('../../render/app-hash.ts', import.meta.url));

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Replays `log` from init in a new Node process: its state hash and the sha256 of its rendered pixels. */
export function coldRun(
  appName: string,
  init: AppViewport,
  log: readonly SequencedInput[],
): { hash: string; pixels: string } {
  const script = `
    import { createCanvas } from 'canvas';
    import { createHash } from 'node:crypto';
    import { readFileSync } from 'node:fs';
    const { getApp } = await import(${JSON.stringify(APPS_INDEX)});
    const { stateHashOf } = await import(${JSON.stringify(APP_HASH)});
    const { name, log, init } = JSON.parse(readFileSync(0, 'utf8'));
    const app = getApp(name);
    let s = app.init(init);
    for (const input of log) s = app.apply(s, input);
    const { width, height } = app.viewport(s);
    const ctx = createCanvas(width, height).getContext('2d');
    app.render(s, ctx);
    const px = Buffer.from(ctx.getImageData(0, 0, width, height).data.buffer);
    process.stdout.write(JSON.stringify({ hash: stateHashOf(app.snapshot(s)), pixels: createHash('sha256').update(px).digest('hex') }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    input: JSON.stringify({ name: appName, log, init }),
    encoding: 'utf8',
  });
  return JSON.parse(out) as { hash: string; pixels: string };
}
