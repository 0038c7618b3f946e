#!/usr/bin/env node
// Builds native/build/snn_onednn.node: snn's optional oneDNN convolution kernels.
//
// Needs a C++ compiler and oneDNN's headers and library (Debian: apt-get install g++ libdnnl-dev)
// plus Node's own headers (shipped with Node under <prefix>/include/node). g++ is called
// directly rather than through node-gyp, which would try to download Node's headers and so
// fail offline. Without --optional a missing prerequisite is an error; with it (npm's
// postinstall) the build is skipped with one line and snn trains on the wasm kernels.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const optional = process.argv.includes('--optional');
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', 'snn_onednn.node');

function skip(why) {
  if (!optional) {
    console.error(`snn native build: ${why}`);
    process.exit(1);
  }
  console.error(`snn: native oneDNN kernels not built (${why}); training uses the wasm kernels. See README "Faster training".`);
  process.exit(0);
}

if (process.env.SNN_SKIP_NATIVE_BUILD === '1') skip('SNN_SKIP_NATIVE_BUILD=1');
const nodeInclude = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) =>
  existsSync(join(d, 'node_api.h')),
);
if (nodeInclude === undefined) skip("Node's headers (node_api.h) were not found");
const dnnlHeader = ['/usr/include/dnnl.hpp', '/usr/local/include/dnnl.hpp'].find((f) => existsSync(f));
if (dnnlHeader === undefined) skip('oneDNN headers not found: apt-get install libdnnl-dev');
const cxx = process.env.CXX ?? 'g++';
mkdirSync(join(here, 'build'), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
// Portable: the x86-64 baseline every node of a cluster has (no -march=native, which made an
// addon built on a new CPU die with SIGILL on an older one). The hot loops carry their own AVX2
// and AVX-512 versions, picked at load time (SNN_CLONES in snn_onednn.cc); oneDNN picks its
// kernels at run time itself.
const args = [
  '-O3', '-fno-math-errno', '-std=c++17', '-shared', '-fPIC', '-fopenmp', '-fvisibility=hidden',
  `-I${nodeInclude}`, `-I${dirname(dnnlHeader)}`,
  join(here, 'snn_onednn.cc'), '-o', tmp, '-ldnnl', '-lmvec',
];
try {
  execFileSync(cxx, args, { stdio: ['ignore', 'inherit', 'inherit'] });
} catch (e) {
  skip(`${cxx} failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
}
renameSync(tmp, out); // atomic: a running snn never loads a half-written addon
console.error(`snn: built ${out}`);
