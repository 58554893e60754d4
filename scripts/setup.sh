#!/usr/bin/env bash
# One-command setup for Lockstep on Debian/Ubuntu with Node 20.
#
#   npm run setup               server, demos and tests: system packages (when
#                               missing), all npm dependencies, the mediasoup
#                               worker (built once from the 3.8.4 tarball, cached
#                               outside the checkout) and the viewer bundle.
#   npm run setup -- --node     a renderer node only (a spare PC): the system
#                               packages node-canvas compiles against and the
#                               npm dependencies of packages/node; no mediasoup
#                               worker, no Chromium, no SQLite, no viewer bundle.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

MODE=full
for arg in "$@"; do
  case "$arg" in
    --node) MODE=node ;;
    *) die "unknown option: $arg (use --node for a renderer node)" ;;
  esac
done

# --- system packages --------------------------------------------------------
# cairo/pango/jpeg/gif/rsvg headers: node-canvas compiles against them (no
# prebuilt download is reachable offline). libssl-dev: the mediasoup worker
# links the system's OpenSSL 3. chromium: e2e tests and benches. iproute2:
# network-namespace test hosts. etcd-server/etcd-client: the replicated input
# log (`--store etcd:`); tests and demos start their own members (full setup
# only: a renderer node never talks to etcd).
NODE_APT_PKGS=(build-essential pkg-config python3 libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev)
APT_PKGS=(build-essential pkg-config python3 libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev libssl-dev chromium iproute2 procps etcd-server etcd-client)
if [ "$MODE" = node ]; then pkgs=("${NODE_APT_PKGS[@]}"); else pkgs=("${APT_PKGS[@]}"); fi
log "mode: $MODE; system packages: ${pkgs[*]}"
missing=()
for p in "${pkgs[@]}"; do
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
# node_modules/.lockstep-install says which install is there: a full one
# serves a node too, a node-only one is replaced by a full setup.
MARK=node_modules/.lockstep-install
installed="$(cat "$MARK" 2>/dev/null || true)"
stale=0
if [ ! -d node_modules ] || [ ! -f "$MARK" ] || [ package-lock.json -nt "$MARK" ]; then stale=1; fi
if [ "$MODE" = node ]; then
  if [ "$stale" -eq 1 ]; then
    log "installing the renderer node's npm dependencies (packages/node)"
    npm ci --workspace=@lockstep/node --include-workspace-root=false --no-audit --no-fund
    echo node >"$MARK"
  fi
  log "done: start hosting with  npx lockstep node --server http://<server>:3000 --token <join token>"
  exit 0
fi

# MEDIASOUP_WORKER_BIN set during install makes mediasoup's postinstall skip its
# own (unpatched, failing) worker build; we build it below.
WORKER_BIN="$(node scripts/mediasoup-worker-path.mjs)"
export MEDIASOUP_WORKER_BIN="$WORKER_BIN"
if [ "$stale" -eq 1 ] || [ "$installed" != full ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund
  echo full >"$MARK"
fi

# --- mediasoup worker -------------------------------------------------------
bash scripts/build-mediasoup-worker.sh "$WORKER_BIN"

# --- viewer bundle ----------------------------------------------------------
npm run --silent build:viewer
log "done (mediasoup worker: $WORKER_BIN)"
