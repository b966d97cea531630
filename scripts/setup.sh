#!/usr/bin/env bash
# Sets up pixsearch on a fresh machine (Debian 12 / Ubuntu with Node.js 20+):
#   system packages (apt-get when root, otherwise a message naming them), pnpm, dependencies
#   (including the FAISS binding, see scripts/build-faiss-node.mjs) and the build.
# Usage: scripts/setup.sh [--test]   (--test also installs what the test suite needs: Chromium, PostgreSQL 15)
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=10.34.9
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '[setup] %s\n' "$*" >&2; }

# --- Node.js ---------------------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
  say "Node.js 20 or newer is required: https://nodejs.org (or apt-get install nodejs on Debian 13+)."
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node.js $(node --version) is too old: pixsearch needs Node.js 20 or newer."
  exit 1
fi

# --- System packages (Debian/Ubuntu) -----------------------------------------------------------
# The FAISS binding is built against the system libfaiss when no prebuilt binary can be fetched.
pkgs=(cmake g++ make python3 libfaiss-dev libopenblas-dev patchelf)
# Tests start throwaway PostgreSQL clusters (catalog and job queue of a scaled-out library).
[ "$want_test" = 1 ] && pkgs+=(chromium fonts-dejavu-core postgresql-15)
# Tests encode their own HEIC/AVIF fixtures with heif-enc (libheif with x265 and aom).
[ "$want_test" = 1 ] && pkgs+=(libheif-examples)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      say "installing system packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      say "installing system packages with sudo: ${missing[*]}"
      sudo apt-get update -qq
      sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      say "missing system packages: ${missing[*]}"
      say "install them, then run this again:  sudo apt-get install -y ${missing[*]}"
      exit 1
    fi
  fi
else
  say "not a Debian-based system: skipping system packages (FAISS uses its prebuilt binary; if that fails, install FAISS with its CMake config, cmake, a C++ compiler and patchelf)."
fi

# --- pnpm ---------------------------------------------------------------------------------------
pnpm_ok() { command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null | cut -d. -f1)" = 10 ]; }
if ! pnpm_ok; then
  say "installing pnpm@$PNPM_VERSION"
  if ! npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1; then
    prefix="${XDG_DATA_HOME:-$HOME/.local/share}/pixsearch/npm-global"
    npm install -g --prefix "$prefix" "pnpm@$PNPM_VERSION" >/dev/null
    export PATH="$prefix/bin:$PATH"
    say "pnpm installed under $prefix/bin (add it to PATH to use pnpm directly)"
  fi
fi

# --- Dependencies and build ----------------------------------------------------------------------
say "installing dependencies (pnpm install)"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^\S+ (postinstall|install)\$' | tail -n 25 >&2
say "building"
pnpm exec nx run-many -t build --outputStyle=static >/dev/null
say "ready"
