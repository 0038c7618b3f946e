/**
 * One `snn eval` invocation as a library call: find the run and checkpoint, rebuild the model
 * from the run's resolved config, load the weights (checksums verified) and evaluate a split,
 * optionally at a different number of time steps than training used.
 */
import type { Config } from '../config/schema.js';
import { initBackend, type BackendInfo } from '../engine/backend.js';
import { loadSource } from './dataSource.js';
import { locateCheckpoint } from '../runs/locate.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { modelFromCheckpoint } from './checkpointModel.js';
import { runConfig } from './session.js';
import { estimateEnergy, type EnergyEstimate } from './energy.js';

export interface EvalRequest {
  /** A run folder (or its name, or 'latest') or a checkpoint folder. */
  target: string;
  runsDir: string;
  /** Which checkpoint of a run: best (default) or last. */
  checkpoint?: 'best' | 'last';
  split?: 'test' | 'train';
  timesteps?: number;
  backend?: Config['backend'];
  sets?: readonly string[];
  onBatch?: (done: number, total: number) => void;
  /** Keep every image's label, prediction, logits and spike count (`perImage`). */
  perImage?: boolean;
}

export interface EvalOutcome extends EvalResult {
  run: string;
  checkpoint: string;
  split: 'test' | 'train';
  timesteps: number;
  trainedTimesteps: number;
  backend: string;
  epoch: number | null;
  /** SOP, MAC and pJ per image at the evaluated T (energy.ts). */
  energy: EnergyEstimate;
}

export async function runEval(req: EvalRequest): Promise<EvalOutcome & { backendInfo: BackendInfo }> {
  const { paths, checkpoint } = locateCheckpoint(req.target, req.runsDir, req.checkpoint ?? 'best');
  const cfg = runConfig(paths, req.sets);
  const backendInfo = await initBackend(req.backend ?? cfg.backend);
  const data = await loadSource(cfg);
  const { model, epoch } = modelFromCheckpoint(cfg, data.input, checkpoint, { label: 'eval' });
  try {
    const split = req.split ?? 'test';
    const T = req.timesteps ?? cfg.model.timesteps;
    const res = await evaluate(model, data, { timesteps: T, batchSize: cfg.data.testBatchSize, split, onBatch: req.onBatch, perImage: req.perImage });
    return {
      ...res,
      run: paths.dir,
      checkpoint,
      split,
      timesteps: T,
      trainedTimesteps: cfg.model.timesteps,
      backend: backendInfo.name,
      epoch,
      energy: estimateEnergy(model, { ...res.firingRates, ...res.inputRates }, T),
      backendInfo,
    };
  } finally {
    model.dispose();
  }
}
