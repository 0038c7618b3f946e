#!/usr/bin/env bash
# Interoperability check on the quickstart run (configs/quickstart.yaml, the Fashion-MNIST
# subset in datasets/): TensorBoard files, per-image predictions of the checkpoint and of its
# export, and the NIR file read by NIR's own reader. Writes everything it prints to OUT.
#
# Knobs (environment):
#   SNN           how to call snn                         (default: node bin/snn)
#   RUN           an existing quickstart run folder       (default: train one into RUNS)
#   RUNS          runs folder                             (default: runs/interop)
#   NIR_CHECKOUTS checkouts of NIR's Python package, e.g. of tags v1.0.5 v1.0.6 v1.0.7 (optional)
#   NIR_PYTHON    a python with numpy, h5py and torch     (default: /usr/bin/python3)
#   TB_PYTHON     a python with the tensorboard package   (optional)
#   OUT           the log                                 (default: experiments/interop/results.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."
SNN=${SNN:-node bin/snn}
RUNS=${RUNS:-runs/interop}
OUT=${OUT:-experiments/interop/results.txt}
say() { printf '\n$ %s\n' "$*"; "$@" 2>&1 || echo "(exit code $?)"; }
{
  if [ -z "${RUN:-}" ]; then
    $SNN train --config configs/quickstart.yaml --runs-dir "$RUNS" -q
    RUN=$(ls -d "$RUNS"/quickstart-* | tail -1)
  fi
  P=$(mktemp -d)
  echo "run: $RUN"
  say $SNN eval "$RUN" --predictions "$P/p.csv"
  say $SNN export "$RUN" --force
  say $SNN eval --exported "$RUN/export-snn" --predictions "$P/q.csv"
  echo; echo "rows: $(($(wc -l < "$P/p.csv") - 1)) and $(($(wc -l < "$P/q.csv") - 1))"
  say $SNN runs compare "$P/p.csv" "$P/q.csv"
  say $SNN export "$RUN" --format nir --force
  for nir in ${NIR_CHECKOUTS:-}; do
    say env PYTHONPATH="$nir" "${NIR_PYTHON:-/usr/bin/python3}" experiments/interop/nir_reader_check.py "$RUN/export-nir/model.nir" \
      datasets/fashion-mnist-subset/t10k-images-idx3-ubyte.gz "$P/p.csv"
  done
  if [ -n "${TB_PYTHON:-}" ]; then
    say "$TB_PYTHON" experiments/interop/tensorboard_check.py "$RUN"
  fi
} | tee "$OUT"
