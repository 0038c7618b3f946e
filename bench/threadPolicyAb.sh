#!/bin/bash
# A/B of the thread policy: alternate SNN_SERIAL_WORK=0,0 (every kernel on all threads) and the default.
cd "$(dirname "$0")/.."
for i in 1 2 3 4; do
  for p in old new; do
    if [ $p = old ]; then export SNN_SERIAL_WORK=0,0; else unset SNN_SERIAL_WORK; fi
    node dist/bench/bench.js --models tiny,reference --timesteps 1,4 --batch 32,128 --torch-threads 2 --no-torch --no-baseline --steps 8 --warmup 2 2>/dev/null | grep wrote | sed "s/^/$p /"
  done
done
