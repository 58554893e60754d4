// Temporary directories for tests that need real files (SQLite): created under
// the OS temp dir, removed when the test (or suite) ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface HasAfter {
  after(fn: () => void | Promise<void>): void;
}

/** A fresh directory removed in `t.after` (a TestContext or the suite's `after` hooks). */
export function makeTmpDir(t: HasAfter, prefix = 'lockstep-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh directory the caller removes with `cleanup()` (scripts, benches). */
export function tmpDir(prefix = 'lockstep-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
