/**
 * The usual SNN energy estimate (45 nm figures, Horowitz 2014: 0.9 pJ per 32-bit float add,
 * 4.6 pJ per 32-bit float multiply-accumulate):
 *
 *   SOP = Σ_{layers reading spikes} rate_in · MACs · T    synaptic operations: a spike costs one
 *                                                         accumulate per synapse it reaches
 *   MAC = Σ_{layers reading real values} MACs · n          n = 1 for the stem with direct encoding
 *                                                         (computed once per image), T otherwise
 *   E   = 0.9 pJ · SOP + 4.6 pJ · MAC
 *
 * MACs is the layer's multiply-accumulates per image per time step. rate_in is the mean of what
 * the layer really reads, measured during evaluation (the model records each layer's `input`):
 * a neuron layer's firing rate; a residual join's mean, so after SEW-ADD the rate of A + S and
 * after SEW-IAND that of (1 − A)·S; a sum of k spike maps (DANet) the mean of the sum, i.e. the
 * sum of their rates; a max-pool's output; and with rate or frame encoding the stem reads `input`,
 * the Bernoulli spikes or event counts of every step (an event count c costs c accumulates).
 */
import type { SpikingModel } from '../models/types.js';

export interface EnergyEstimate {
  /** Synaptic operations per image. */
  sop: number;
  /** Multiply-accumulates per image (layers fed with real values). */
  mac: number;
  /** Energy per image in picojoules. */
  pJ: number;
}

export const E_AC_PJ = 0.9;
export const E_MAC_PJ = 4.6;

/** `rates`: the mean value of every layer input measured (neuron layers, joins, `input`), by key. */
export function estimateEnergy(model: Pick<SpikingModel, 'layers'>, rates: Record<string, number>, T: number): EnergyEstimate {
  let sop = 0;
  let mac = 0;
  for (const l of model.layers) {
    if (l.kind !== 'conv' && l.kind !== 'linear') continue;
    if (l.input === null || l.input === undefined) {
      // Only the stem's real-valued input is the same at every step (direct encoding).
      mac += l.key === 'stem.conv' ? l.macs : l.macs * T;
    } else {
      sop += (rates[l.input] ?? 0) * l.macs * T;
    }
  }
  return { sop, mac, pJ: E_AC_PJ * sop + E_MAC_PJ * mac };
}
