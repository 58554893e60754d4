#!/usr/bin/env bash
# Runs the whole Lockstep test suite with Node's built-in test runner:
# test/unit, then test/integration, then test/e2e, one file at a time, in ONE
# `node --test` run so there is one summary (# tests / # pass / # fail).
# `npm test` runs scripts/setup.sh first; run this directly only after setup.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf '[test] ERROR: %s\n' "$*" >&2; exit 1; }

# --- preconditions ------------------------------------------------------------
[ -d node_modules ] || die "node_modules is missing: run npm run setup"
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (needed by the e2e tests): run npm run setup"
WORKER_BIN="$(node scripts/mediasoup-worker-path.mjs)"
[ -x "$WORKER_BIN" ] || die "mediasoup worker not built ($WORKER_BIN): run npm run setup"
export MEDIASOUP_WORKER_BIN="$WORKER_BIN"

export LOCKSTEP_LOG_LEVEL="${LOCKSTEP_LOG_LEVEL:-warn}"

# --- collect test files, in suite order ----------------------------------------
shopt -s nullglob
files=()
for dir in unit integration e2e; do
  batch=(test/"$dir"/*.test.ts)
  if [ "${#batch[@]}" -eq 0 ]; then
    printf '[test] test/%s: no test files, skipping\n' "$dir"
    continue
  fi
  printf '[test] test/%s: %d file(s)\n' "$dir" "${#batch[@]}"
  files+=("${batch[@]}")
done
shopt -u nullglob
# With no file arguments `node --test` would search the whole tree instead.
[ "${#files[@]}" -gt 0 ] || die "no test files found under test/{unit,integration,e2e}/*.test.ts"

# --- run -----------------------------------------------------------------------
# Why not plain `node --import tsx --test --test-concurrency=1 --test-reporter=spec
# --test-timeout=600000 FILES...`: the Node 20 CLI sorts its file list
# alphabetically, so test/e2e would run before test/integration and test/unit.
# node:test's run() API keeps the order given. It is the same runner, same
# options and the same single spec summary (ℹ tests / ℹ pass / ℹ fail ...):
#   concurrency 1   files run one after another, in the order above
#   timeout         10 min, applied to each test file (and inherited by its tests)
#                   so a hung file fails instead of eating the CI budget
# Test files run in child processes that inherit this process's `--import tsx`.
TEST_TIMEOUT_MS="${LOCKSTEP_TEST_TIMEOUT_MS:-600000}"
runner_dir="$(mktemp -d "${TMPDIR:-/tmp}/lockstep-test.XXXXXX")"
trap 'rm -rf "$runner_dir"' EXIT
cat >"$runner_dir/run-tests.mjs" <<'JS'
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const files = process.argv.slice(2);
let failed = false;
const stream = run({ files, concurrency: 1, timeout: Number(process.env.TEST_TIMEOUT_MS) });
stream.on('test:fail', (data) => {
  if (!data.todo) failed = true;
});
stream.once('end', () => {
  if (failed) process.exitCode = 1;
});
stream.compose(new spec()).pipe(process.stdout);
JS

status=0
TEST_TIMEOUT_MS="$TEST_TIMEOUT_MS" node --import tsx "$runner_dir/run-tests.mjs" "${files[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  printf '[test] FAILED (exit %d)\n' "$status" >&2
fi
exit "$status"
