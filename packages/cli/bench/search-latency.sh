#!/usr/bin/env bash
# Wall time of `pixsearch search` (the built CLI, a fresh process each time) on a data directory:
# one cold run (OS page cache dropped first, when run as root) and N warm runs.
#   packages/cli/bench/search-latency.sh <data-dir> [runs=10] [query="a dog on a bench"]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
data_dir="$1"; runs="${2:-10}"; query="${3:-a dog on a bench}"
bin="$root/packages/cli/dist/bin.js"
[ -f "$bin" ] || { echo "build first: pnpm build" >&2; exit 1; }
# Prints "<wall ms> <cpu ms>" (cpu = user + sys of the process and its threads).
run() {
  /usr/bin/time -f '%e %U %S' -o /tmp/pixsearch-latency.time node "$bin" search "$query" --data-dir "$data_dir" -k 10 --threshold=-1 --json >/tmp/pixsearch-latency.json
  awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' /tmp/pixsearch-latency.time
}
engine_ms() { node -e 'const r=JSON.parse(require("fs").readFileSync("/tmp/pixsearch-latency.json","utf8"));const t=r.timings;console.log(`engine total ${t.total.toFixed(0)} ms (embed ${t.embed.toFixed(0)}, search ${t.search.toFixed(1)}, catalog ${t.catalog.toFixed(1)}), ${r.results.length} results`)'; }
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 > /proc/sys/vm/drop_caches; label=cold; else label="first (page cache not dropped: not root)"; fi
read -r wall cpu < <(run)
echo "$label: $wall ms wall, $cpu ms cpu; $(engine_ms)"
walls=(); cpus=()
for _ in $(seq "$runs"); do read -r wall cpu < <(run); walls+=("$wall"); cpus+=("$cpu"); done
engine_ms_last=$(engine_ms)
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
sorted=$(printf '%s\n' "${walls[@]}" | sort -n)
echo "warm ($runs runs): wall min $(echo "$sorted" | head -1) ms, median $(median "${walls[@]}") ms, max $(echo "$sorted" | tail -1) ms; cpu median $(median "${cpus[@]}") ms; last: $engine_ms_last"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
