#!/usr/bin/env bash
# Builds the mediasoup 3.8.4 worker from the npm tarball with the two fixes it
# needs on Debian 12 / Python 3.10+ plus Lockstep's zero playout delay (a
# producer listing the playout-delay header extension gets min = max = 0 on
# every forwarded video packet; see server/sfu.ts), linked against the system's
# OpenSSL 3 (libssl-dev) instead of the bundled end-of-life OpenSSL 1.1.1
# (mediasoup-3.8.4-system-openssl.patch; docs/mediasoup-openssl.md), and caches
# it at the path given as $1 (keyed by version + patch hashes, see
# mediasoup-worker-path.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="$1"
log() { printf '[mediasoup-worker] %s\n' "$*"; }
if [ -x "$OUT" ]; then
  log "cached: $OUT"; exit 0
fi
SRC=node_modules/mediasoup/worker
[ -d "$SRC" ] || { echo "[mediasoup-worker] ERROR: $SRC not found; run npm install first" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/lockstep-msw.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
log "building the mediasoup worker (a few minutes on 2 cores, once); log: $WORK/build.log"
cp -a "$SRC" "$WORK/worker"
while read -r p; do
  ( cd "$WORK/worker" && patch -p1 --forward --quiet ) < "$p" \
    || { echo "[mediasoup-worker] ERROR: $p did not apply" >&2; exit 1; }
done < <(node scripts/mediasoup-worker-path.mjs --patches)
# The bundled OpenSSL 1.1.1 sources go, so nothing can compile against their
# headers while linking the system's libssl.
rm -rf "$WORK/worker/deps/openssl/openssl"
if ! env -u MEDIASOUP_WORKER_BIN make -C "$WORK/worker" PYTHON=python3 MEDIASOUP_BUILDTYPE=Release CORES="$(nproc)" >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log" >&2
  echo "[mediasoup-worker] ERROR: worker build failed (full log above, last 40 lines)" >&2
  trap - EXIT; echo "[mediasoup-worker] kept build dir: $WORK" >&2
  exit 1
fi
BUILT="$WORK/worker/out/Release/mediasoup-worker"
if [ ! -x "$BUILT" ]; then
  tail -40 "$WORK/build.log" >&2
  echo "[mediasoup-worker] ERROR: build finished but $BUILT is missing" >&2
  exit 1
fi
# Proof of what the DTLS path links: the system libssl, not a bundled copy.
if ! ldd "$BUILT" | grep -q 'libssl\.so\.3'; then
  ldd "$BUILT" >&2
  echo "[mediasoup-worker] ERROR: $BUILT does not link the system libssl.so.3" >&2
  exit 1
fi
mkdir -p "$(dirname "$OUT")"
cp "$BUILT" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
log "built: $OUT ($(ldd "$OUT" | grep -o 'libssl\.so\.3 => [^ ]*'), Debian libssl3 $(dpkg-query -W -f='${Version}' libssl3 2>/dev/null || echo '?'))"
