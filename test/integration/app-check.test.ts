// `lockstep app check` on every built-in app (two real processes each), and on
// an app with a snapshot bug, which it must catch.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runAppCheck } from '../../render/app-check/app-check.js';

const APPS = fileURLToPath(new URL('../../render/apps/', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/apps/${name}/`, import.meta.url));
const check = (dir: string, steps: number, restoreEvery: number) =>
  runAppCheck({ dir, seed: 15, steps, width: 640, height: 400, restoreEvery });

const builtin = readdirSync(APPS).filter((name) => existsSync(join(APPS, name, 'app.json')));

test('there are built-in apps to check', () => {
  assert.ok(builtin.includes('writer') && builtin.includes('paint'), builtin.join(','));
});

for (const name of builtin) {
  test(`${name}: the same hashes and pixels at every step in two processes and across snapshot/restore`, async () => {
    const report = await check(join(APPS, name), 150, 20);
    assert.equal(report.error, null);
    assert.equal(report.divergence, null);
    assert.equal(report.steps, 150);
    assert.equal(report.restores, 7);
  });
}

test('an app whose snapshot loses state is caught right after the first restore, by its pixels', async () => {
  const report = await check(fixture('forgetful'), 40, 10);
  assert.equal(report.error, null);
  // The snapshot (so the hash) omits what was lost; only the pixels show it.
  assert.deepEqual(report.divergence, { seq: 10, what: 'pixels', afterRestore: true });
});

test('an app that does not bundle is reported as an error, not a pass', async () => {
  const report = await check(fixture('imports-fs'), 5, 2);
  assert.match(report.error ?? '', /does not bundle/);
});
