import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NO_MODS, type InputEvent, type Modifiers, type SequencedInput } from '../../protocol/input.js';
import { stateHashOf } from '../../render/app-hash.js';
import { writerApp } from '../../render/apps/index.js';
import type { WriterState } from '../../render/apps/writer/index.js';
import { prng } from '../helpers/prng.js';
import {
  assertRestoreEveryStep,
  assertSourcesDeterministic,
  coldRun,
  renderPixels,
  replay,
  sequenceEvents,
  sha256Hex,
} from '../helpers/app-driver.js';

const WRITER_DIR = fileURLToPath(new URL('../../render/apps/writer/', import.meta.url));

const TYPED = [...'abcdefghijklmnopqrstuvwxyz     ,.'].concat(['é', 'ü', 'ß', '中', '文', '😀', '👍🏽', 'e\u0301', 'A']);
const NAMED = [
  'ArrowLeft',
  'ArrowRight',
  'ArrowUp',
  'ArrowDown',
  'Home',
  'End',
  'Backspace',
  'Delete',
  'Enter',
  'Tab',
  'PageUp',
  'PageDown',
];
const WORDS = ['lorem', 'ipsum', 'dolor', 'déjà', 'vu', '中文', '😀', 'supercalifragilisticexpialidocious', 'a'];

/** A seeded, plausible input log: typing, commands, drags, wheel, paste, resize. */
function buildLog(seed: number, count: number): SequencedInput[] {
  const rnd = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const events: InputEvent[] = [];
  let width = 900;
  let height = 600;
  const mods = (): Modifiers => ({ ...NO_MODS, shift: rnd() < 0.3, ctrl: rnd() < 0.2 });
  while (events.length < count) {
    const r = rnd();
    if (r < 0.45) {
      const ch = pick(TYPED);
      const useText = rnd() < 0.5;
      events.push({
        type: 'key',
        action: 'down',
        key: [...ch].length === 1 ? ch : 'Unidentified',
        code: '',
        mods: NO_MODS,
        ...(useText || [...ch].length > 1 ? { text: ch } : {}),
      });
      events.push({ type: 'key', action: 'up', key: 'x', code: 'KeyX', mods: NO_MODS });
    } else if (r < 0.65) {
      events.push({ type: 'key', action: 'down', key: pick(NAMED), code: '', mods: mods() });
    } else if (r < 0.67) {
      events.push({ type: 'key', action: 'down', key: 'a', code: 'KeyA', mods: { ...NO_MODS, ctrl: true } });
    } else if (r < 0.8) {
      const x = rnd() * width;
      const y = rnd() * height;
      const detail = 1 + Math.floor(rnd() * 3);
      events.push({
        type: 'pointer',
        action: 'down',
        x,
        y,
        button: 0,
        buttons: 1,
        mods: { ...NO_MODS, shift: rnd() < 0.2 },
        detail,
      });
      for (let i = Math.floor(rnd() * 4); i > 0; i--) {
        events.push({
          type: 'pointer',
          action: 'move',
          x: rnd() * width,
          y: rnd() * height * 1.2 - 20,
          button: 0,
          buttons: 1,
          mods: NO_MODS,
        });
      }
      events.push({ type: 'pointer', action: 'up', x, y, button: 0, buttons: 0, mods: NO_MODS });
    } else if (r < 0.86) {
      events.push({ type: 'wheel', x: 10, y: 10, dx: 0, dy: Math.round((rnd() - 0.5) * 600) + 0.25, mods: NO_MODS });
    } else if (r < 0.93) {
      const words: string[] = [];
      for (let i = 1 + Math.floor(rnd() * 40); i > 0; i--) words.push(pick(WORDS) + (rnd() < 0.1 ? '\r\n' : ' '));
      events.push({ type: 'paste', text: words.join('') });
    } else if (r < 0.95) {
      width = 320 + Math.floor(rnd() * 1000);
      height = 240 + Math.floor(rnd() * 600);
      events.push({ type: 'resize', width, height });
    } else if (r < 0.96) {
      events.push({ type: 'release-all' });
    } else {
      events.push({
        type: 'pointer',
        action: 'move',
        x: rnd() * width,
        y: rnd() * height,
        button: 0,
        buttons: 0,
        mods: NO_MODS,
      });
    }
  }
  return sequenceEvents(events.slice(0, count));
}

const run = (state: WriterState, log: readonly SequencedInput[]): WriterState => replay(writerApp, state, log);

const pixels = (state: WriterState): Buffer => renderPixels(writerApp, state);

describe('writer determinism', () => {
  const log = buildLog(0x5eed, 400);
  const init = { width: 900, height: 600 };

  test('the same log twice gives the same bytes, hash and pixels', () => {
    const a = run(writerApp.init(init), log);
    const b = run(writerApp.init(init), log);
    assert.ok(a.text.length > 50, 'the log should actually produce a document');
    assert.deepEqual(writerApp.snapshot(a), writerApp.snapshot(b));
    assert.equal(stateHashOf(writerApp.snapshot(a)), stateHashOf(writerApp.snapshot(b)));
    assert.ok(pixels(a).equals(pixels(b)), 'rendered pixels differ');
  });

  test('snapshot half-way, restore, apply the rest: same as uninterrupted', () => {
    const whole = run(writerApp.init(init), log);
    const half = run(writerApp.init(init), log.slice(0, 200));
    const resumed = run(writerApp.restore(writerApp.snapshot(half)), log.slice(200));
    assert.equal(stateHashOf(writerApp.snapshot(resumed)), stateHashOf(writerApp.snapshot(whole)));
    assert.ok(pixels(resumed).equals(pixels(whole)), 'rendered pixels differ after restore');
  });

  test('restoring after every input never diverges (no state hides outside the snapshot)', () => {
    for (const seed of [1, 2, 3, 0x5eed]) assertRestoreEveryStep(writerApp, init, buildLog(seed, 300), `seed ${seed}`);
  });

  test('different seeds give different documents (the log is not trivial)', () => {
    const a = run(writerApp.init(init), log);
    const b = run(writerApp.init(init), buildLog(0xbeef, 400));
    assert.notEqual(stateHashOf(writerApp.snapshot(a)), stateHashOf(writerApp.snapshot(b)));
  });

  test('a fresh process (cold caches) reaches the same hash and pixels', () => {
    const here = run(writerApp.init(init), log);
    const child = coldRun('writer', init, log);
    assert.equal(child.hash, stateHashOf(writerApp.snapshot(here)));
    assert.equal(child.pixels, sha256Hex(pixels(here)));
  });

  test('writer sources never read clocks or randomness', () => {
    assertSourcesDeterministic(WRITER_DIR, 5);
  });
});
