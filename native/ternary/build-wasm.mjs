#!/usr/bin/env node
// Builds src/export/runtime/ternary.wasm from native/ternary/wasm.c + core.h with Debian's
// clang and lld (apt-get install clang lld): the committed .wasm is reproducible with
// `npm run build:wasm` (test/exportRuntime.test.ts rebuilds it with `--out FILE` and compares
// the bytes). No libc: bulk-memory lowers memset/memcpy, SIMD128 for the popcounts.
import { execFileSync } from 'node:child_process';
import { renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--out');
const out = at > 0 ? process.argv[at + 1] : join(here, '..', '..', 'src', 'export', 'runtime', 'ternary.wasm');
const tmp = `${out}.${process.pid}.tmp`;
const clang = process.env.CLANG ?? 'clang';
execFileSync(clang, [
  '--target=wasm32', '-O3', '-msimd128', '-mbulk-memory', '-nostdlib', '-ffreestanding',
  '-Wall', '-Wno-unknown-pragmas',
  '-Wl,--no-entry', '-Wl,-z,stack-size=1048576',
  '-Wl,--initial-memory=2097152', '-Wl,--max-memory=4294967296', '-Wl,--strip-all',
  join(here, 'wasm.c'), '-o', tmp,
], { stdio: ['ignore', 'inherit', 'inherit'] });
renameSync(tmp, out);
console.error(`snn: built ${out}`);
