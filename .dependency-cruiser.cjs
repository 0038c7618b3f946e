/**
 * The layering of src/, checked by `npm test` (scripts/depcheck.mjs) on the compiled JavaScript in
 * dist/src: TypeScript 7 has no JavaScript API for dependency-cruiser to parse .ts with, and
 * what tsc emits is exactly what runs (type-only imports vanish, as they should here).
 *
 * The flow is one way: cli → (reports → sweep → runs, export, train) → losses, models, quant,
 * snn → engine (the boundary: src/engine/snnKernels.ts) → backends.
 */
const core = '^dist/src/(models|snn|quant|losses|train)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'library-imports-cli',
      severity: 'error',
      comment: 'A command file (src/cli) parses arguments and calls the library; the library never calls a command.',
      from: { path: '^dist/src/(?!cli/)' },
      to: { path: '^dist/src/cli/' },
    },
    {
      name: 'core-imports-backend',
      severity: 'error',
      comment: 'Model, neuron, quantisation, loss and training code run on any backend: they call src/engine (snnOps, backwardStore), never a backend module or package.',
      from: { path: core },
      to: { path: ['^dist/src/backends/', '@tensorflow/tfjs-backend-', '@tensorflow/tfjs-node'] },
    },
    {
      name: 'backend-imports-above',
      severity: 'error',
      comment: 'A backend implements the kernels of src/engine/snnKernels.ts; it knows nothing of models, neurons, training or commands.',
      from: { path: '^dist/src/backends/' },
      to: { path: '^dist/src/(models|snn|quant|losses|train|cli|runs|sweep|reports|export|data|config)/' },
    },
    {
      name: 'runs-below-sweep-and-reports',
      severity: 'error',
      comment: 'The run folder (src/runs) is read by sweeps and reports (src/reports), never the other way.',
      from: { path: '^dist/src/runs/' },
      to: { path: '^dist/src/(sweep|reports)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other one way only.',
      from: { path: '^dist/src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^dist/src/', 'node_modules/@tensorflow/'],
    moduleSystems: ['es6'],
  },
};
