// Published app bundles: deterministic packing, every refusal of bad bytes
// (hash, format, manifest, size), the node's LRU cache on a real temp dir, the
// chunked fetch against a hostile server, and the capability rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canRunApp, isWarmFor } from '../../protocol/app-capability.js';
import { parseAppPolicy, parseAppSpec, type AppCapabilities } from '../../protocol/bundle.js';
import { LIMITS } from '../../protocol/limits.js';
import { NO_MODS } from '../../protocol/input.js';
import { stateHashOf } from '../../render/app-hash.js';
import { bundleHashOf, decodeBundle, encodeBundle, verifyBundle } from '../../render/bundle/app-bundle.js';
import { BundleCache } from '../../render/bundle/bundle-cache.js';
import { fetchBundle } from '../../render/bundle/bundle-fetch.js';
import { BundleFormatError, BundleHashError, BundleTooLargeError } from '../../render/bundle/errors.js';
import { packAppFolder } from '../../render/bundle/pack-folder.js';
import { loadSandboxLimits } from '../../render/config.js';
import { sandboxedAppFromFolder } from '../../render/sandbox/app-folder.js';
import { planPlacement, type NodeView } from '../../server/session-core/placement.js';
import { renderPixelsOf, sequenceEvents } from '../helpers/app-driver.js';
import { nodeView } from '../helpers/node-view.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

const TALLY = fileURLToPath(new URL('../fixtures/apps/tally/', import.meta.url));
const packed = packAppFolder(TALLY);
const MANIFEST = JSON.stringify({
  name: 'x',
  title: 'X',
  version: '1.0.0',
  entry: 'index.js',
  surface: { minWidth: 64, minHeight: 64, maxWidth: 640, maxHeight: 480 },
});

test('packing the same folder twice gives the same bytes and hash; the hash is sha-256 of the bytes', () => {
  const again = packAppFolder(TALLY);
  assert.ok(again.bytes.equals(packed.bytes));
  assert.equal(again.hash, packed.hash);
  assert.match(packed.hash, /^[0-9a-f]{64}$/);
  assert.equal(bundleHashOf(packed.bytes), packed.hash);
  const decoded = verifyBundle(packed.bytes, packed.hash);
  assert.equal(decoded.manifest.name, 'tally');
  assert.match(decoded.code, /__lockstepApp/);
  // Entry order does not depend on insertion order.
  const fonts = (order: string[]) => new Map(order.map((p) => [p, Buffer.from(p)]));
  const m = JSON.stringify({
    ...JSON.parse(MANIFEST),
    fonts: [
      { family: 'A', file: 'a.ttf' },
      { family: 'B', file: 'b.ttf' },
    ],
  });
  assert.ok(encodeBundle(m, 'x', fonts(['a.ttf', 'b.ttf'])).equals(encodeBundle(m, 'x', fonts(['b.ttf', 'a.ttf']))));
});

test('an app folder outside the repository imports the SDK as @lockstep/sdk: it packs, and runs like the same app inside', async (t) => {
  const dir = makeTmpDir(t, 'lockstep-outside-app-');
  const FIXTURES = join(TALLY, '..');
  // The tally fixture and the helper it draws with, as an author outside this repository writes them.
  const copies: [string, string][] = [
    [join(TALLY, 'app.json'), 'app.json'],
    [join(TALLY, 'index.ts'), 'index.ts'],
    [join(FIXTURES, 'draw-bar.ts'), 'draw-bar.ts'],
  ];
  for (const [from, to] of copies) {
    const source = readFileSync(from, 'utf8')
      .replace(/'(\.\.\/)+render\/sdk\/index\.js'/g, "'@lockstep/sdk'")
      .replace("'../draw-bar.js'", "'./draw-bar.js'");
    assert.doesNotMatch(source, /from '\.\.\//, `${to} reaches nothing outside its folder`);
    writeFileSync(join(dir, to), source);
  }
  const outside = packAppFolder(dir);
  assert.equal(verifyBundle(outside.bytes, outside.hash).manifest.name, 'tally');

  const limits = loadSandboxLimits();
  const [inside, out] = [sandboxedAppFromFolder(TALLY, limits), sandboxedAppFromFolder(dir, limits)];
  let a = await inside.init({ width: 200, height: 100 });
  let b = await out.init({ width: 200, height: 100 });
  try {
    const key = { type: 'key', action: 'down', key: 'a', code: 'KeyA', mods: NO_MODS } as const;
    for (const input of sequenceEvents(Array.from({ length: 6 }, () => key))) {
      a = await inside.apply(a, input);
      b = await out.apply(b, input);
    }
    assert.equal(stateHashOf(await out.snapshot(b)), stateHashOf(await inside.snapshot(a)));
    assert.ok((await renderPixelsOf(out, b)).equals(await renderPixelsOf(inside, a)), 'the same pixels');
    assert.match(Buffer.from(await out.snapshot(b)).toString(), /"keys":6/);
  } finally {
    inside.dispose(a);
    out.dispose(b);
  }
});

test('bytes that do not match their hash are refused with BundleHashError', () => {
  const tampered = Buffer.from(packed.bytes);
  tampered[tampered.length - 2] = (tampered[tampered.length - 2] ?? 0) ^ 1;
  assert.throws(() => verifyBundle(tampered, packed.hash), BundleHashError);
  assert.throws(() => verifyBundle(packed.bytes, 'f'.repeat(64)), BundleHashError);
});

test('malformed bundles are refused with BundleFormatError naming the problem', () => {
  const ok = encodeBundle(MANIFEST, 'code', new Map());
  assert.equal(decodeBundle(ok).manifest.name, 'x');
  assert.throws(() => decodeBundle(Buffer.from('not a bundle')), /bad magic/);
  assert.throws(() => decodeBundle(ok.subarray(0, ok.length - 1)), BundleFormatError);
  assert.throws(() => decodeBundle(encodeBundle('{"name": 3}', 'code', new Map())), /manifest/);
  assert.throws(() => decodeBundle(encodeBundle('not json', 'code', new Map())), /not JSON/);
  assert.throws(() => decodeBundle(encodeBundle(MANIFEST, '', new Map())), /no entry code/);
  assert.throws(() => decodeBundle(encodeBundle(MANIFEST, 'c', new Map([['evil.sh', Buffer.from('x')]]))), /evil.sh/);
  const withFont = JSON.stringify({ ...JSON.parse(MANIFEST), fonts: [{ family: 'F', file: 'f.ttf' }] });
  assert.throws(() => decodeBundle(encodeBundle(withFont, 'c', new Map())), /lacks the font file f.ttf/);
  // Same files, entries repeated: not canonical, refused (one app, one byte string).
  const dup = Buffer.concat([ok, ok.subarray(9)]);
  assert.throws(() => decodeBundle(dup), /out of order or repeated/);
});

test('an oversized bundle is refused at packing and at decoding', () => {
  const big = Buffer.alloc(LIMITS.maxBundleBytes);
  assert.throws(() => encodeBundle(MANIFEST, 'c', new Map([['big.ttf', big]])), BundleTooLargeError);
  assert.throws(() => decodeBundle(Buffer.alloc(LIMITS.maxBundleBytes + 1)), BundleTooLargeError);
});

test('the bundle cache evicts the least recently used beyond its byte bound, and keeps order across restarts', (t) => {
  const dir = makeTmpDir(t);
  let clock = 1_000_000;
  const now = () => clock;
  const blob = (n: number) => Buffer.alloc(400, n);
  const [a, b, c] = [blob(1), blob(2), blob(3)];
  const [ha, hb, hc] = [a, b, c].map(bundleHashOf) as [string, string, string];
  const cache = BundleCache.open(dir, 1000, now);
  cache.put(ha, a);
  clock += 10;
  cache.put(hb, b);
  clock += 10;
  assert.ok(cache.get(ha)?.equals(a)); // a is now the most recently used
  clock += 10;
  cache.put(hc, c); // 1200 bytes > 1000: b (least recently used) goes
  assert.deepEqual(cache.hashes(), [hc, ha]);
  assert.equal(cache.get(hb), null);
  assert.deepEqual(readdirSync(dir).sort(), [`${ha}.bundle`, `${hc}.bundle`].sort());
  assert.ok(cache.bytes <= 1000);

  // Reopened: the order comes from the files' times; a smaller bound evicts the older one.
  const reopened = BundleCache.open(dir, 500, now);
  assert.deepEqual(reopened.hashes(), [hc]);

  // Bytes that do not match the name are never stored, and a damaged file is dropped on read.
  assert.throws(() => reopened.put(ha, b), BundleHashError);
  writeFileSync(join(dir, `${hc}.bundle`), b);
  utimesSync(join(dir, `${hc}.bundle`), new Date(clock), new Date(clock));
  assert.equal(reopened.get(hc), null);
  assert.deepEqual(reopened.hashes(), []);
  assert.deepEqual(readdirSync(dir), []);
});

test('fetchBundle assembles chunks and refuses a hostile server: tampered bytes, lies about offsets or sizes', async () => {
  const chunkOf = (bytes: Buffer, hash: string) => (h: string, offset: number) =>
    Promise.resolve({
      hash: h === hash ? hash : h,
      size: bytes.length,
      offset,
      data: bytes.subarray(offset, offset + 50_000).toString('base64'),
    });
  const { bytes, bundle } = await fetchBundle(packed.hash, chunkOf(packed.bytes, packed.hash));
  assert.ok(bytes.equals(packed.bytes));
  assert.equal(bundle.manifest.name, 'tally');

  const tampered = Buffer.from(packed.bytes);
  tampered[100] = (tampered[100] ?? 0) ^ 0xff;
  await assert.rejects(fetchBundle(packed.hash, chunkOf(tampered, packed.hash)), BundleHashError);
  await assert.rejects(
    fetchBundle(packed.hash, (h) => Promise.resolve({ hash: h, size: 10, offset: 999, data: 'AAAA' })),
    BundleFormatError,
  );
  await assert.rejects(
    fetchBundle(packed.hash, (h, offset) => Promise.resolve({ hash: h, size: 10 + offset, offset, data: 'AAAA' })),
    /changed size/,
  );
  await assert.rejects(
    fetchBundle(packed.hash, (h) => Promise.resolve({ hash: h, size: LIMITS.maxBundleBytes * 2, offset: 0, data: '' })),
    BundleFormatError,
  );
});

const BUNDLE = { name: 'tally', hash: packed.hash };
const BUILTIN = { name: 'writer', hash: 'aaaaaaaaaaaaaaaa' };

const view = (nodeId: string, over: Partial<NodeView> = {}): NodeView =>
  nodeView(nodeId, BUILTIN, { appPolicy: { kind: 'published' }, ...over });

test('capability rule: built-in apps need the exact version; bundles need the owner’s consent', () => {
  const caps = (over: Partial<AppCapabilities>): AppCapabilities => ({ ...view('n'), ...over });
  assert.equal(canRunApp(caps({ appPolicy: { kind: 'builtin' } }), BUILTIN), true);
  assert.equal(canRunApp(caps({ appPolicy: { kind: 'builtin' } }), BUNDLE), false);
  assert.equal(canRunApp(caps({}), BUNDLE), true);
  assert.equal(canRunApp(caps({ appPolicy: { kind: 'hashes', hashes: [packed.hash] } }), BUNDLE), true);
  assert.equal(canRunApp(caps({ appPolicy: { kind: 'hashes', hashes: ['e'.repeat(64)] } }), BUNDLE), false);
  assert.equal(canRunApp(caps({ refusedBundles: [packed.hash] }), BUNDLE), false);
  assert.equal(canRunApp(caps({}), { name: 'writer', hash: 'bbbbbbbbbbbbbbbb' }), false);
  assert.equal(isWarmFor({ ...view('n'), warmBundles: [packed.hash] }, BUNDLE), true);
  assert.equal(isWarmFor({ ...view('n'), warmApps: ['tally'] }, BUNDLE), false);
});

test('placement never gives a bundle to a node that refuses it, and prefers nodes with it warm', () => {
  const nodes = [
    view('builtin-only', { appPolicy: { kind: 'builtin' }, load: 0 }),
    view('cold', { load: 0.1 }),
    view('warm', { load: 0.9, warmBundles: [packed.hash] }),
    view('other-hash', { appPolicy: { kind: 'hashes', hashes: ['e'.repeat(64)] }, load: 0 }),
  ];
  const req = { sessionId: 's1', app: BUNDLE, want: 4, excludeHosts: [], excludeAdmissions: [] };
  const plan = planPlacement(nodes, req);
  assert.deepEqual(
    plan.chosen.map((n) => n.nodeId),
    ['warm', 'cold'],
  );
  assert.equal(plan.shortBy, 2);
  assert.ok(plan.reasons.some((r) => r.includes('builtin-only') && r.includes('refuses')));
});

test('--apps and app specs parse, and anything else is refused with the accepted forms', () => {
  assert.deepEqual(parseAppPolicy('builtin'), { kind: 'builtin' });
  assert.deepEqual(parseAppPolicy(' published '), { kind: 'published' });
  assert.deepEqual(parseAppPolicy(`${packed.hash.toUpperCase()},`), { kind: 'hashes', hashes: [packed.hash] });
  assert.throws(() => parseAppPolicy('all'), /builtin, published, or comma-separated/);
  assert.throws(() => parseAppPolicy('abc123'), /--apps/);
  assert.deepEqual(parseAppSpec('tally'), { kind: 'name', name: 'tally' });
  assert.deepEqual(parseAppSpec('tally@1.0.0'), { kind: 'version', name: 'tally', version: '1.0.0' });
  assert.deepEqual(parseAppSpec(packed.hash), { kind: 'hash', hash: packed.hash });
});
