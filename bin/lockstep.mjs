#!/usr/bin/env node
// Launcher for `npx lockstep` / `node bin/lockstep.mjs`: the CLI is TypeScript,
// so re-exec Node with the tsx loader on bin/lockstep.ts, passing stdio, the
// exit code and termination signals straight through.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Resolve tsx from this package, not the caller's cwd, so it works from any directory.
const tsx = import.meta.resolve('tsx');

const child = spawn(process.execPath, ['--import', tsx, join(here, 'lockstep.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});

const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const forward = (signal) => {
  // Ctrl-C reaches the child through the process group too; the CLI ignores the copy.
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const signal of forwarded) process.on(signal, forward);

child.on('error', (err) => {
  process.stderr.write(`lockstep: could not start node: ${err.message}\n`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  if (signal) {
    // Die the same way so shells and supervisors see the real cause.
    for (const s of forwarded) process.off(s, forward);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
