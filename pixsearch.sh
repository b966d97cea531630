#!/usr/bin/env bash
# pixsearch from a source checkout: sets everything up on the first run (scripts/setup.sh),
# rebuilds when the sources changed, then runs the CLI with your arguments.
#   ./pixsearch.sh                      → pixsearch serve (indexes ~/Pictures, serves the page)
#   ./pixsearch.sh serve ~/Photos       → any pixsearch command: search, index, status, model …
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="${XDG_DATA_HOME:-$HOME/.local/share}/pixsearch/npm-global/bin:$PATH"
say() { printf '[pixsearch.sh] %s\n' "$*" >&2; }

bin="$root/packages/cli/dist/bin.js"
if [ ! -d "$root/node_modules/.pnpm" ] || [ ! -f "$bin" ]; then
  say "first run: setting up (system packages, dependencies, build) — this takes a few minutes"
  bash "$root/scripts/setup.sh"
elif [ -n "$(find "$root/packages" -path '*/node_modules' -prune -o -path '*/dist' -prune -o \
  -path '*/src/*' -name '*.ts*' -newer "$bin" -print -quit 2>/dev/null)" ]; then
  say "sources changed: rebuilding"
  (cd "$root" && pnpm exec nx run-many -t build --outputStyle=static >/dev/null)
fi

if [ "$#" -eq 0 ]; then set -- serve; fi
export PIXSEARCH_PROG="${PIXSEARCH_PROG:-$0}"
exec node "$bin" "$@"
