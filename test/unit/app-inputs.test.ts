// Which inputs an app reads: the manifest's `keyUps` and `touch`, the one rule
// (protocol/app-inputs.ts) the viewer and the server both apply, and that the
// built-in apps that say they read no key-ups really reach the same state
// without them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_APP_INPUTS, touchModeOf, wantsInput } from '../../protocol/app-inputs.js';
import { NO_MODS, type InputEvent, type SequencedInput } from '../../protocol/input.js';
import { generateInputLog } from '../../render/app-check/input-generator.js';
import { builtinInputsOf } from '../../render/app-catalog.js';
import { appInputsOf, BUILTIN_APP_NAMES, readManifest } from '../../render/app-manifest.js';
import { builtinAppDir } from '../../render/apps/builtin-host.js';
import { getApp } from '../../render/apps/index.js';
import { ManifestError, parseManifest } from '../../render/sdk/manifest.js';

const manifest = {
  name: 'counter',
  title: 'Counter',
  version: '1.0.0',
  entry: 'index.js',
  surface: { minWidth: 64, minHeight: 64, maxWidth: 1920, maxHeight: 1080 },
};

const keyUp: InputEvent = { type: 'key', action: 'up', key: 'a', code: 'KeyA', mods: NO_MODS };
const keyDown: InputEvent = { type: 'key', action: 'down', key: 'a', code: 'KeyA', text: 'a', mods: NO_MODS };

describe('wantsInput', () => {
  it('drops key-ups only for an app that says it reads none', () => {
    assert.equal(wantsInput({ keyUps: false }, keyUp), false);
    assert.equal(wantsInput({ keyUps: true }, keyUp), true);
    assert.equal(wantsInput(DEFAULT_APP_INPUTS, keyUp), true, 'an app that says nothing gets them');
    assert.equal(wantsInput(undefined, keyUp), true, 'a server that reports nothing: nothing dropped on a guess');
  });

  it('keeps every other input for any app', () => {
    const others: InputEvent[] = [
      keyDown,
      { ...keyDown, repeat: true },
      { type: 'release-all' },
      { type: 'pointer', action: 'up', x: 1, y: 2, button: 0, buttons: 0, mods: NO_MODS },
      { type: 'wheel', x: 0, y: 0, dx: 0, dy: 10, mods: NO_MODS },
      { type: 'paste', text: 'x' },
      { type: 'resize', width: 640, height: 480 },
    ];
    for (const e of others) assert.equal(wantsInput({ keyUps: false }, e), true, JSON.stringify(e));
  });

  it('reads a hostile or odd report as "deliver" (only a literal false drops key-ups)', () => {
    for (const odd of [{ keyUps: 'false' }, { keyUps: 0 }, { keyUps: null }, {}, null]) {
      assert.equal(wantsInput(odd as never, keyUp), true, JSON.stringify(odd));
    }
  });
});

describe('touchModeOf', () => {
  it('is text only when the app says text', () => {
    assert.equal(touchModeOf({ touch: 'text' }), 'text');
    assert.equal(touchModeOf({ touch: 'draw' }), 'draw');
    assert.equal(touchModeOf(undefined), 'draw');
    assert.equal(touchModeOf({ touch: 'swipe' } as never), 'draw');
  });
});

describe('manifest keyUps and touch', () => {
  it('default to delivering key-ups and the raw pointer', () => {
    const m = parseManifest(JSON.stringify(manifest));
    assert.deepEqual(appInputsOf(m), { keyUps: true, touch: 'draw' });
    assert.deepEqual(appInputsOf(parseManifest(JSON.stringify({ ...manifest, keyUps: false, touch: 'text' }))), {
      keyUps: false,
      touch: 'text',
    });
  });

  it('refuse bad values with a ManifestError naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ ...manifest, keyUps: 'no' }, /keyUps:/],
      [{ ...manifest, keyUps: 0 }, /keyUps:/],
      [{ ...manifest, keyUps: null }, /keyUps:/],
      [{ ...manifest, touch: 'swipe' }, /touch:/],
      [{ ...manifest, touch: true }, /touch:/],
    ];
    for (const [raw, why] of bad) {
      assert.throws(
        () => parseManifest(JSON.stringify(raw)),
        (err: unknown) => err instanceof ManifestError && why.test(err.message),
        JSON.stringify(raw),
      );
    }
  });

  it('the built-in apps read no key-ups; the writer takes phone gestures', () => {
    for (const name of BUILTIN_APP_NAMES) assert.equal(builtinInputsOf(name).keyUps, false, name);
    assert.deepEqual(
      BUILTIN_APP_NAMES.map((name) => [name, builtinInputsOf(name).touch]),
      [
        ['writer', 'text'],
        ['paint', 'draw'],
        ['sheet', 'draw'],
      ],
    );
    assert.deepEqual(builtinInputsOf('no-such-app'), DEFAULT_APP_INPUTS);
  });
});

describe('apps that say keyUps: false', () => {
  /** Applies `log` from a fresh state; the snapshot after it. */
  function finalSnapshot(name: string, log: readonly SequencedInput[]): Buffer {
    const app = getApp(name);
    let state = app.init({ width: 800, height: 600 });
    for (const input of log) state = app.apply(state, input);
    return app.snapshot(state);
  }

  it('reach the same state from a log without key-ups as from one with them', () => {
    for (const name of BUILTIN_APP_NAMES) {
      const inputs = appInputsOf(readManifest(builtinAppDir(name)));
      if (inputs.keyUps) continue;
      for (const seed of [1, 2, 3]) {
        const full = generateInputLog({ seed, count: 400, width: 800, height: 600 });
        const kept = full.filter((i) => wantsInput(inputs, i.event)).map((i, n) => ({ ...i, seq: n + 1 }));
        const ups = full.length - kept.length;
        assert.ok(ups > 20, `${name} seed ${seed}: the log has key-ups to drop (${ups})`);
        assert.ok(
          finalSnapshot(name, full).equals(finalSnapshot(name, kept)),
          `${name} seed ${seed}: dropping ${ups} key-ups changed the state`,
        );
      }
    }
  });
});
