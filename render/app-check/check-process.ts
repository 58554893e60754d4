// One side of `lockstep app check`, run as its own process: loads the app in
// the sandbox, applies the generated log, and prints one JSON line per step
// (state hash and pixel hash), restoring from a snapshot every N steps if asked.
import { createHash } from 'node:crypto';
import { createCanvas } from 'canvas';
import { stateHashOf, statusHashOf } from '../app-hash.js';
import { loadSandboxLimits } from '../config.js';
import { sandboxedAppFromFolder } from '../sandbox/app-folder.js';
import type { CheckOptions, CheckStep } from './check-types.js';
import { generateInputLog } from './input-generator.js';

function write(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(opts: CheckOptions, restoreEvery: number): Promise<void> {
  const app = sandboxedAppFromFolder(opts.dir, loadSandboxLimits());
  write({ app: app.name });
  const log = generateInputLog({ seed: opts.seed, count: opts.steps, width: opts.width, height: opts.height });
  let state = await app.init({ width: opts.width, height: opts.height });
  for (const [i, input] of log.entries()) {
    state = await app.apply(state, input);
    const restored = restoreEvery > 0 && (i + 1) % restoreEvery === 0;
    if (restored) {
      const next = await app.restore(await app.snapshot(state));
      app.dispose(state);
      state = next;
    }
    const { width, height } = app.viewport(state);
    const ctx = createCanvas(width, height).getContext('2d');
    (await app.render(state))(ctx);
    const pixels = ctx.getImageData(0, 0, width, height).data;
    const step: CheckStep = {
      seq: input.seq,
      stateHash: stateHashOf(await app.snapshot(state)),
      statusHash: await statusHashOf(app, state),
      pixelHash: createHash('sha256').update(pixels).digest('hex').slice(0, 32),
      restored,
    };
    write(step);
  }
  app.dispose(state);
}

const [optsJson = '{}', restoreEvery = '0'] = process.argv.slice(2);
main(JSON.parse(optsJson) as CheckOptions, Number(restoreEvery)).catch((err: unknown) => {
  write({ error: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
});
