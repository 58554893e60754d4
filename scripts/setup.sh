#!/usr/bin/env bash
# One-command setup for Lockstep on Debian/Ubuntu with Node 20.
# Installs system packages (when missing), npm dependencies, and the mediasoup
# worker (built once from the 3.8.4 tarball, cached outside the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# --- system packages --------------------------------------------------------
# cairo/pango/jpeg/gif/rsvg headers: node-canvas compiles against them (no
# prebuilt download is reachable offline). chromium: e2e tests and benches.
# iproute2: network-namespace test hosts. etcd-server/etcd-client: the
# replicated input log (`--store etcd:`); tests and demos start their own members.
APT_PKGS=(build-essential pkg-config python3 libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev chromium iproute2 procps etcd-server etcd-client)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: ${missing[*]}
  run as root:  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  log "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm dependencies -------------------------------------------------------
# MEDIASOUP_WORKER_BIN set during install makes mediasoup's postinstall skip its
# own (unpatched, failing) worker build; we build it below.
WORKER_BIN="$(node scripts/mediasoup-worker-path.mjs)"
export MEDIASOUP_WORKER_BIN="$WORKER_BIN"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# --- mediasoup worker -------------------------------------------------------
bash scripts/build-mediasoup-worker.sh "$WORKER_BIN"

# --- viewer bundle ----------------------------------------------------------
npm run --silent build:viewer
log "done (mediasoup worker: $WORKER_BIN)"
