/**
 * A neuron layer between layers that fold time into the batch ([T·N, ...]): unfolds to
 * [T, N·...], runs the fused multi-step neuron of `lif.ts` (IF, LIF or PLIF), folds back.
 * `relu` makes the same network an ANN (used as a KD teacher or a baseline); it ignores time.
 */
import * as tf from '@tensorflow/tfjs';
import type { NeuronConfig } from '../config/schema.js';
import { multiStepLif, multiStepPlif, neuronParams, type NeuronParams, type SpikeTally } from './lif.js';

export interface ForwardContext {
  training: boolean;
  timesteps: number;
  /** When set, each neuron layer adds its spike count here, keyed by layer name. */
  tallies?: Map<string, SpikeTally>;
  /** Seed of this batch's random input spikes (rate encoding). */
  noiseSeed?: number;
  /** When set (one entry per image of the batch), each neuron layer adds each image's spikes here. */
  imageSpikes?: Float64Array;
}

export interface NeuronLayer {
  kind: 'neuron';
  key: string;
  type: NeuronConfig['type'];
  params: NeuronParams | null;
  /** PLIF's learnable w (1/τ = sigmoid(w)); null for other neurons. */
  w: tf.Variable | null;
}

/** Neuron-layer factory; PLIF layers register their w through `addParam`. */
export function neuronLayer(
  key: string,
  cfg: NeuronConfig,
  addParam?: (key: string, values: Float32Array, shape: number[]) => tf.Variable,
  smooth = false,
): NeuronLayer {
  if (cfg.type === 'relu') return { kind: 'neuron', key, type: 'relu', params: null, w: null };
  const params = neuronParams(cfg, smooth);
  let w: tf.Variable | null = null;
  if (cfg.type === 'plif') {
    if (!addParam) throw new Error('a PLIF layer needs a parameter store');
    // sigmoid(w) = 1/τ₀  ⇔  w = −ln(τ₀ − 1)
    w = addParam(`${key}.w`, new Float32Array([-Math.log(cfg.tau - 1)]), []);
  }
  return { kind: 'neuron', key, type: cfg.type, params, w };
}

export function applyNeuron<R extends tf.Rank>(n: NeuronLayer, x: tf.Tensor<R>, ctx: ForwardContext): tf.Tensor<R> {
  if (n.params === null) return tf.relu(x);
  const T = ctx.timesteps;
  let tally: SpikeTally | undefined;
  if (ctx.tallies) {
    tally = ctx.tallies.get(n.key) ?? { spikes: 0, neurons: 0 };
    ctx.tallies.set(n.key, tally);
  }
  // x is [T·N, …] in time order: the neuron reads it as T blocks, no reshape needed.
  const out = n.w ? multiStepPlif(x, n.w, n.params, tally, T) : multiStepLif(x, n.params, tally, T);
  if (ctx.imageSpikes) addImageSpikes(ctx.imageSpikes, out, T);
  return out as tf.Tensor<R>;
}

/** Adds the spikes of each image: `spikes` is [T·N, …], T blocks of the N images. */
function addImageSpikes(acc: Float64Array, spikes: tf.Tensor, T: number): void {
  const counts = tf.tidy(() => tf.sum(spikes.reshape([T, acc.length, -1]), [0, 2]).dataSync());
  for (let i = 0; i < acc.length; i++) acc[i] += counts[i];
}
