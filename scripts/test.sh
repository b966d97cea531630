#!/usr/bin/env bash
# Sets up pixsearch with its test dependencies and runs every package's typecheck, lint and tests.
# This is the README's test command; .ci/run calls it verbatim.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export PATH="${XDG_DATA_HOME:-$HOME/.local/share}/pixsearch/npm-global/bin:$PATH"
rm -rf artifacts/test-results
status=0
pnpm test || status=$?
node scripts/test-summary.mjs || true
exit "$status"
