// `lockstep app check` on every built-in app (two real processes each; the library and the command), and on
// an app with a snapshot bug, which it must catch.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runAppCheck } from '../../render/app-check/app-check.js';
import { ROOT } from '../helpers/processes.js';

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

/** `lockstep app check` as a user (or CI) runs it: its exit status and what it prints. */
function cliCheck(dir: string, ...flags: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'lockstep.mjs'), 'app', 'check', dir, ...flags], {
      cwd: ROOT,
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (status) => resolve({ status, out }));
  });
}

test('the lockstep app check command passes every built-in app and exits 1 on a divergence', async () => {
  for (const name of builtin) {
    const r = await cliCheck(join(APPS, name), '--seed', '7', '--steps', '30', '--restore-every', '10');
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`^${name}: 30 steps, 3 restores, .*equal at every step in both processes`, 'm'));
  }
  const bad = await cliCheck(fixture('forgetful'), '--steps', '12', '--restore-every', '10');
  assert.equal(bad.status, 1, bad.out);
  assert.match(bad.out, /pixels differ at seq 10 \(right after a snapshot\/restore\): not deterministic/);
});

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
