#!/usr/bin/env bash
# A sweep written as a plain shell loop, the way many experiment scripts are: every run is one
# `snn train` call with --set overrides and a --name, its JSON summary read from stdout, and its
# exit code checked (0 done, 2 bad input, 130/143 stopped with a checkpoint, 1 other failure).
# At the end `snn runs compare` prints the table. The same grid as one command:
#
#   snn sweep --config "$CONFIG" --grid model.timesteps=1,2 --seeds 1,2 --jobs 2
#
# which also runs jobs in parallel, resumes after a crash, and draws the comparison plot;
# `--emit commands` prints this loop's commands, `--emit slurm --submit` sends it to Slurm.
#
# Usage: experiments/sweep-example.sh [CONFIG] (default: the tiny synthetic-data config of the
# tests, which trains in seconds). RUNS=folder and SNN="node bin/snn" can be set from outside.
set -uo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-test/fixtures/synthetic.yaml}
RUNS=${RUNS:-runs/example-sweep}
SNN=${SNN:-node bin/snn}

failed=0
for t in 1 2; do
  for seed in 1 2; do
    name="example-t${t}-s${seed}"
    # --json prints the summary on stdout; progress and errors go to stderr.
    summary=$($SNN train --config "$CONFIG" --set model.timesteps="$t" --set seed="$seed" \
      --name "$name" --runs-dir "$RUNS" --json)
    code=$?
    case $code in
      0) acc=$(printf '%s' "$summary" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log((100*JSON.parse(s).bestAccuracy).toFixed(2)))')
         echo "$name: best test accuracy ${acc}%" ;;
      2) echo "$name: bad input, fix the config or the --set values" >&2; exit 2 ;;
      130|143) echo "$name: stopped; resume with: $SNN train --resume <its run folder> --runs-dir $RUNS" >&2; exit "$code" ;;
      *) echo "$name: failed (exit $code)" >&2; failed=1 ;;
    esac
  done
done

$SNN runs compare --runs-dir "$RUNS" --sort -best_acc
exit $failed
