#!/usr/bin/env bash
# The WebGPU engine against the CPU engine (wasm, with snn's oneDNN kernels when built) on this
# machine: the reference CNN (T=4, batch 32), tiny (T=4, batch 64) and resnet19 (T=4, batch 32),
# forward and training img/s, peak RSS and the GPU buffers tfjs held, in one table.
#
#   experiments/gpu-bench.sh            # 2 warm-up + 5 timed steps per case (bench.ts defaults)
#   experiments/gpu-bench.sh --quick    # 1 + 2: a smoke test, not a measurement
#
# Needs a GPU driver Dawn can use: Vulkan on Linux (the GPU vendor's driver, or Mesa's
# mesa-vulkan-drivers), Metal on macOS, D3D12 on Windows. Extra arguments go to both bench runs
# (bench.ts --help). Results: bench/results/bench-*.json and .md, one pair per engine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json
node dist/bench/gpuCompare.js --adapter
cases=(--models reference,tiny,resnet19 --timesteps 4 --no-torch --no-baseline)
results() { sed -n 's/^wrote \(.*\.json\) and .*/\1/p'; }
echo "== WebGPU" >&2
gpu=$(node dist/bench/bench.js --backend webgpu "${cases[@]}" "$@" | tee /dev/stderr | results)
echo "== CPU (wasm)" >&2
cpu=$(node dist/bench/bench.js --backend wasm "${cases[@]}" "$@" | tee /dev/stderr | results)
echo
node dist/bench/gpuCompare.js "$gpu" "$cpu"
