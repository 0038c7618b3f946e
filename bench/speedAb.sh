#!/bin/bash
# Before/after training speed of two built checkouts, run alternately on this machine (one bench
# process at a time, under nice so that other work on the machine keeps its share):
#   bench/speedAb.sh BEFORE_DIR AFTER_DIR REPS OUT_DIR [bench options...]
# Each repetition runs `nice -n 19 node dist/bench/bench.js [bench options]` in BEFORE_DIR, then
# AFTER_DIR; each run's JSON/Markdown moves to OUT_DIR/{main,branch}/, and OUT_DIR.md gets the
# CPU-time summary of bench/abSummary.py (main = BEFORE_DIR, branch = AFTER_DIR).
set -euo pipefail
args0="$1 $2 $3 $4"
before=$(realpath "$1"); after=$(realpath "$2"); reps=$3; out=$(realpath -m "$4"); shift 4
load0=$(cut -d" " -f1-3 /proc/loadavg)
here=$(dirname "$(realpath "$0")")
mkdir -p "$out/main" "$out/branch"
for i in $(seq 1 "$reps"); do
  for side in main branch; do
    dir=$before; [ "$side" = branch ] && dir=$after
    last=$(ls "$dir"/bench/results/bench-*.json 2>/dev/null | sort | tail -1 || true)
    (cd "$dir" && nice -n 19 node dist/bench/bench.js "$@" > "$out/$side/run$i.log" 2>&1)
    f=$(ls "$dir"/bench/results/bench-*.json | sort | tail -1)
    if [ "$f" = "$last" ]; then echo "run $i ($side) wrote no results: see $out/$side/run$i.log" >&2; exit 1; fi
    mv "$f" "${f%.json}.md" "$out/$side/"
  done
done
{
  echo "# Training speed before/after, alternately on one machine ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "\`bench/speedAb.sh $args0 $*\`: per repetition \`nice -n 19 node dist/bench/bench.js $*\`"
  echo "in main = $before ($(git -C "$before" rev-parse --short HEAD)), then branch = $after ($(git -C "$after" rev-parse --short HEAD))."
  echo "CPU milliseconds per batch (user + system of the case's process), median over the runs and each run;"
  echo "each run's figure is itself the median of its timed steps. Lower is better. Load average (1, 5, 15 min)"
  echo "at the start: $load0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  python3 "$here/abSummary.py" --main "$(ls "$out"/main/*.json | paste -sd,)" --branch "$(ls "$out"/branch/*.json | paste -sd,)"
} > "$out.md"
echo "wrote $out.md"
