// The public app SDK: manifests, UTF-8 without host APIs, fonts and surfaces
// through the installed host, and the rule that apps import nothing else.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BUILTIN_APP_NAMES } from '../../render/app-manifest.js';
import { paintApp, writerApp } from '../../render/apps/index.js';
import {
  createSurface,
  decodeUtf8,
  encodeUtf8,
  FontNotFoundError,
  loadFont,
  sha256,
  Utf8Error,
} from '../../render/sdk/index.js';
import { ManifestError, parseManifest } from '../../render/sdk/manifest.js';
import { prng } from '../helpers/prng.js';

const APPS_DIR = fileURLToPath(new URL('../../render/apps/', import.meta.url));

const manifest = {
  name: 'sheet',
  title: 'Sheet',
  version: '1.2.3',
  entry: 'index.js',
  surface: { minWidth: 320, minHeight: 240, maxWidth: 1920, maxHeight: 1080 },
  fonts: [{ family: 'Sheet Sans', file: 'fonts/sheet.ttf' }],
};

test('a manifest parses, and every malformed one is a ManifestError naming the field', () => {
  assert.equal(parseManifest(JSON.stringify(manifest)).name, 'sheet');
  const bad: [unknown, RegExp][] = [
    ['{', /not JSON/],
    [{ ...manifest, name: 'Sheet!' }, /name:/],
    [{ ...manifest, version: '1' }, /version:/],
    [{ ...manifest, entry: '../escape.js' }, /entry:/],
    [{ ...manifest, entry: '/abs.js' }, /entry:/],
    [{ ...manifest, surface: { ...manifest.surface, minWidth: 4000 } }, /surface/],
    [{ ...manifest, surface: { ...manifest.surface, minWidth: 1000, maxWidth: 900 } }, /surface/],
    [{ ...manifest, fonts: [{ family: 'X', file: '../../etc/x.ttf' }] }, /fonts/],
    [{ ...manifest, fonts: [{ family: 'X', platform: 'Comic' }] }, /fonts/],
    [{ ...manifest, extra: 1 }, /Unrecognized key/],
    [{ ...manifest, __proto__: { polluted: true }, constructor: 1 }, /Unrecognized key/],
  ];
  for (const [raw, why] of bad) {
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    assert.throws(
      () => parseManifest(text),
      (err: unknown) => err instanceof ManifestError && why.test(err.message),
    );
  }
});

test('encodeUtf8 matches Buffer for well-formed text; decodeUtf8 inverts it and refuses invalid bytes', () => {
  const rnd = prng(15);
  const pool = ['a', 'é', '€', '😀', '\u0301', '\n', '"', '\u{10ffff}', '\u0000'];
  for (let i = 0; i < 300; i++) {
    const s = Array.from({ length: Math.floor(rnd() * 40) }, () => pool[Math.floor(rnd() * pool.length)]).join('');
    const bytes = encodeUtf8(s);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(s, 'utf8'));
    assert.equal(decodeUtf8(bytes), s);
  }
  assert.deepEqual([...encodeUtf8('\ud800x')], [0xef, 0xbf, 0xbd, 0x78], 'a lone surrogate encodes as U+FFFD');
  for (const lone of ['\ud800', 'x\udbff', '\udc00', '€\udfff€']) {
    assert.deepEqual(Buffer.from(encodeUtf8(lone)), Buffer.from(lone, 'utf8'), 'lone surrogates anywhere, also last');
  }
  const long = '€😀a'.repeat(20_000);
  assert.deepEqual(Buffer.from(encodeUtf8(long)), Buffer.from(long, 'utf8'), 'a long text, exactly its bytes');
  for (const bad of [[0xff], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3]]) {
    assert.throws(() => decodeUtf8(Uint8Array.from(bad)), Utf8Error, `refuses ${bad.join(',')}`);
  }
});

test('fonts and surfaces come from the host; an undeclared family is a FontNotFoundError', () => {
  const font = loadFont('Lockstep Sans');
  assert.equal(font.spec(13), '13px "Lockstep Sans"');
  assert.ok(font.metrics.unitsPerEm > 0);
  assert.ok((font.metrics.advanceOf('M'.codePointAt(0) ?? 0) ?? 0) > 0);
  assert.equal(font.metrics.advanceOf(0xe000), null, 'no glyph in a private-use slot');
  assert.throws(() => loadFont('Comic Sans MS'), FontNotFoundError);
  const surface = createSurface(10.2, 0);
  assert.deepEqual([surface.width, surface.height], [11, 1]);
  assert.equal(typeof surface.getContext('2d').fillRect, 'function');
});

test('built-in apps take name and title from their manifests', () => {
  assert.deepEqual(
    [writerApp.name, writerApp.title, paintApp.name, paintApp.title],
    ['writer', 'Writer', 'paint', 'Paint'],
  );
});

test('built-in apps import nothing but their own files, the SDK and zod', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  // Static imports and re-exports (`from '…'`) and side-effect imports (`import '…'`); no dynamic import or require.
  const specifiersOf = (source: string): string[] =>
    [...source.matchAll(/\bfrom\s*(['"])([^'"]+)\1|^\s*import\s*(['"])([^'"]+)\3/gm)].map((m) => m[2] ?? m[4] ?? '');
  assert.deepEqual(specifiersOf(`import a from './a.js';\nexport * from "b";\nimport 'node:fs';\n`), [
    './a.js',
    'b',
    'node:fs',
  ]);
  let checked = 0;
  for (const app of BUILTIN_APP_NAMES) {
    for (const file of files(join(APPS_DIR, app))) {
      const source = readFileSync(file, 'utf8');
      assert.doesNotMatch(source, /\bimport\s*\(|\brequire\s*\(/, `${file} imports at run time`);
      for (const spec of specifiersOf(source)) {
        assert.ok(spec.startsWith('./') || spec === '../../sdk/index.js' || spec === 'zod', `${file} imports ${spec}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 50, `${checked} imports checked`);
});

test('sdk sha256 equals node:crypto for every padding case and any split into parts', () => {
  const rnd = prng(256);
  for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70_000]) {
    const bytes = new Uint8Array(n).map(() => Math.floor(rnd() * 256));
    const cut = Math.floor(rnd() * (n + 1));
    const expected = createHash('sha256').update(bytes).digest('hex');
    assert.equal(Buffer.from(sha256(bytes)).toString('hex'), expected, `${n} bytes`);
    assert.equal(Buffer.from(sha256(bytes.subarray(0, cut), bytes.subarray(cut))).toString('hex'), expected);
  }
});
