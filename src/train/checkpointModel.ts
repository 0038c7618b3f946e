/**
 * A model and a checkpoint's tensors, both ways: the one place that rebuilds a network from a
 * checkpoint (`snn eval`, `snn export`, the export's tfjs reference, the KD teacher), and the
 * copy between a model's variables and the name → tensor maps a checkpoint stores.
 *
 * Only the network's own weights and BN statistics are loaded; the optimizer state and a TNA
 * twin, which a checkpoint may also hold, are released as soon as they are read.
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config/schema.js';
import { buildModel } from '../models/index.js';
import type { InputSpec, SpikingModel } from '../models/types.js';
import { readCheckpoint } from '../runs/checkpoint.js';
import { createRng } from '../util/rng.js';

/** The model's parameters and buffers by name: what a checkpoint's `weights` holds. */
export function modelTensors(model: SpikingModel): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  for (const [k, v] of model.params) m.set(k, v);
  for (const [k, v] of model.buffers) m.set(k, v);
  return m;
}

/** Copies checkpoint tensors into the model; every parameter and buffer must be present. */
export function loadModelTensors(model: SpikingModel, weights: Map<string, tf.Tensor>, source: string): void {
  for (const [k, v] of [...model.params, ...model.buffers]) {
    const w = weights.get(k);
    if (!w) throw new Error(`${source}: no tensor for ${k}; was it written by another architecture?`);
    if (w.shape.join('x') !== v.shape.join('x')) {
      throw new Error(`${source}: ${k} has shape [${w.shape}] but the model expects [${v.shape}]`);
    }
    v.assign(w);
  }
}

export interface CheckpointModel {
  model: SpikingModel;
  /** The epoch the checkpoint was written after (null for one without it in its state). */
  epoch: number | null;
}

/**
 * Builds `cfg.model` for `input` (with `quant`, the config's own unless given: an export's
 * post-training ternarisation passes its own) and loads the checkpoint's weights into it. The
 * checkpoint is verified by readCheckpoint; on any failure the model is disposed, and in every
 * case the checkpoint's tensors (optimizer state and twin included) are released.
 */
export function modelFromCheckpoint(
  cfg: Config,
  input: InputSpec,
  checkpoint: string,
  o: { label: string; quant?: Config['quant'] },
): CheckpointModel {
  const ck = readCheckpoint(checkpoint);
  try {
    const model = buildModel(cfg.model, input, createRng(cfg.seed), o.label, { quant: o.quant ?? cfg.quant });
    try {
      loadModelTensors(model, ck.weights, checkpoint);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return { model, epoch: typeof ck.state.epoch === 'number' ? ck.state.epoch : null };
  } finally {
    tf.dispose([...ck.weights.values(), ...ck.optimizer.values(), ...(ck.twin?.values() ?? [])]);
  }
}
