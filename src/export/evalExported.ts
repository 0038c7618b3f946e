/**
 * `snn eval --exported DIR`: runs an `snn` export with the engine (no TensorFlow.js) on a split
 * of the data set it was trained on, and, with `compare`, also runs the source checkpoint with
 * TensorFlow.js (as `snn eval` does) to report how often the two predict the same class.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { applySet, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadDataset } from '../data/registry.js';
import { UserError } from '../util/errors.js';
import { evaluateRuntime, type EngineEvalResult } from './runtime/evaluate.js';
import { createRunner, type Runner, type RuntimeChoice } from './runtime/runner.js';
import { NIR_FILE } from './nir.js';
import { MANIFEST, readSnnExport, type Manifest } from './snnFormat.js';
import type { PerImage } from '../train/evaluate.js';

export interface ExportedEvalRequest {
  dir: string;
  split?: 'test' | 'train';
  timesteps?: number;
  sets?: readonly string[];
  compare?: boolean;
  backend?: Config['backend'];
  /** Which runtime (default auto: native kernels where built, else wasm), images per run, threads. */
  runtime?: RuntimeChoice;
  batch?: number;
  threads?: number;
  onProgress?: (done: number, total: number) => void;
  /** Keep every image's label, prediction, logits and spike count (`perImage` of the outcome). */
  perImage?: boolean;
}

export interface Agreement {
  /** Share of images where the engine and TensorFlow.js predict the same class. */
  agreement: number;
  disagreements: number;
  tfjsAccuracy: number;
  /** Engine accuracy minus TensorFlow.js accuracy, in percentage points. */
  accuracyDeltaPoints: number;
  checkpoint: string;
  backend: string;
  tfjsSeconds: number;
  /** The source checkpoint's weights differ from those the export was made from. */
  checkpointChanged: boolean;
}

export interface ExportedEvalOutcome extends Omit<EngineEvalResult, 'predictions' | 'logits' | 'spikes'> {
  exported: string;
  engine: 'snn-engine (TensorFlow.js-free)';
  /** The runtime that ran it, e.g. 'native avx512, 2 threads'. */
  runtime: string;
  threads: number;
  /** Weights resident in the runtime, in bytes (packed); null for the reference runtime. */
  weightBytes: number | null;
  split: 'test' | 'train';
  timesteps: number;
  trainedTimesteps: number;
  ternary: boolean;
  postTraining: boolean;
  source: string;
  compare: Agreement | null;
  perImage?: PerImage;
}

function sourceConfig(manifest: Manifest, sets: readonly string[], file: string): Config {
  const tree = structuredClone(manifest.source?.config) as Record<string, unknown> | undefined;
  if (!tree || typeof tree !== 'object') throw new UserError(`${file}: has no source config to find the data set with`);
  for (const s of sets) applySet(tree, s);
  return validateConfig(tree, `${file} (source.config)`);
}

export async function runExportedEval(req: ExportedEvalRequest): Promise<ExportedEvalOutcome> {
  if (!existsSync(join(req.dir, MANIFEST)) && existsSync(join(req.dir, NIR_FILE))) {
    throw new UserError(`${req.dir}: a NIR export; snn eval --exported runs the snn format (snn export --format snn), NIR files are for NIR tools`);
  }
  const { model, manifest } = readSnnExport(req.dir);
  const file = join(req.dir, MANIFEST);
  const cfg = sourceConfig(manifest, req.sets ?? [], file);
  const data = await loadDataset(cfg.data, cfg.seed);
  const split = req.split ?? 'test';
  const set = split === 'test' ? data.test : data.train;
  const T = req.timesteps ?? manifest.timesteps;
  const inp = model.input;
  if (inp.height !== set.height || inp.width !== set.width || inp.channels !== set.channels) {
    throw new UserError(`${file}: the export takes ${inp.height}×${inp.width}×${inp.channels} images, the data set has ${set.height}×${set.width}×${set.channels}`);
  }
  const threads = req.threads ?? 1;
  let runner: Runner;
  try {
    // A run's spike tally covers its whole batch, so per-image spike counts need one image a run.
    if (req.perImage && req.batch !== undefined && req.batch !== 1) {
      throw new UserError('--predictions: records each image\'s spike count, so it runs one image at a time; leave out --batch or give --batch 1');
    }
    runner = await createRunner(model, { runtime: req.runtime, batch: req.perImage ? 1 : req.batch, threads, timesteps: T });
  } catch (e) {
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
  let evaluated: EngineEvalResult;
  try {
    evaluated = await evaluateRuntime(runner, set, manifest.input.mean, manifest.input.std, model.numClasses, req.onProgress);
  } finally {
    await runner.close();
  }
  const { predictions, logits, spikes, ...res } = evaluated;

  let compare: Agreement | null = null;
  if (req.compare) {
    const { tfjsReference } = await import('./reference.js');
    const ref = await tfjsReference(manifest, cfg, set, { timesteps: T, mean: manifest.input.mean, std: manifest.input.std, backend: req.backend });
    let same = 0;
    let correct = 0;
    for (let i = 0; i < set.count; i++) {
      if (ref.predictions[i] === predictions[i]) same++;
      if (ref.predictions[i] === set.labels[i]) correct++;
    }
    const tfjsAccuracy = set.count > 0 ? correct / set.count : 0;
    compare = {
      agreement: set.count > 0 ? same / set.count : 1,
      disagreements: set.count - same,
      tfjsAccuracy,
      accuracyDeltaPoints: 100 * (res.accuracy - tfjsAccuracy),
      checkpoint: ref.checkpoint,
      backend: ref.backend,
      tfjsSeconds: ref.seconds,
      checkpointChanged: ref.checkpointChanged,
    };
  }
  return {
    ...res,
    exported: req.dir,
    engine: 'snn-engine (TensorFlow.js-free)',
    runtime: runner.description,
    threads,
    weightBytes: runner.weightBytes,
    split,
    timesteps: T,
    trainedTimesteps: manifest.timesteps,
    ternary: manifest.ternary,
    postTraining: manifest.postTraining,
    source: String(manifest.source?.checkpoint ?? manifest.source?.run ?? 'unknown'),
    compare,
    ...(req.perImage
      ? { perImage: { labels: Int32Array.from(set.labels), predictions, logits, classes: manifest.numClasses, spikes } }
      : {}),
  };
}
