#!/usr/bin/env bash
# Installs the VNC peer the latency bench compares Lockstep with (`npm run bench -- --only peer`):
# TigerVNC's X server, noVNC, websockify and xterm, all from Debian. A bench step, not part of
# `npm run setup`: nothing in the product or in `npm test` uses them. Idempotent: installs only what is missing.
set -euo pipefail

log() { printf '[install-peer] %s\n' "$*"; }
die() { printf '[install-peer] ERROR: %s\n' "$*" >&2; exit 1; }

PKGS=(tigervnc-standalone-server novnc websockify xterm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  log "already installed: ${PKGS[*]}"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  die "missing packages: ${missing[*]}
  run as root:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
fi
log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt run on the box holds the dpkg lock for a while; wait for it rather than fail.
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "installed: ${missing[*]}"
