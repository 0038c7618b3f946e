/**
 * A spiking neuron layer between layers that fold time into the batch ([T·N, ...]): unfolds to
 * [T, N·...], runs the fused multi-step neuron of `lif.ts`, folds back.
 */
import * as tf from '@tensorflow/tfjs';
import { multiStepLif, type NeuronParams, type SpikeTally } from './lif.js';

export interface ForwardContext {
  training: boolean;
  timesteps: number;
  /** When set, each neuron layer adds its spike count here, keyed by layer name. */
  tallies?: Map<string, SpikeTally>;
}

export interface NeuronLayer {
  kind: 'neuron';
  key: string;
  params: NeuronParams;
}

export function neuronLayer(key: string, params: NeuronParams): NeuronLayer {
  return { kind: 'neuron', key, params };
}

export function applyNeuron<R extends tf.Rank>(n: NeuronLayer, x: tf.Tensor<R>, ctx: ForwardContext): tf.Tensor<R> {
  const T = ctx.timesteps;
  let tally: SpikeTally | undefined;
  if (ctx.tallies) {
    tally = ctx.tallies.get(n.key) ?? { spikes: 0, neurons: 0 };
    ctx.tallies.set(n.key, tally);
  }
  const seq = x.reshape([T, x.size / T]);
  return multiStepLif(seq, n.params, tally).reshape(x.shape) as tf.Tensor<R>;
}
