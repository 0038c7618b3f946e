/**
 * The usual SNN energy estimate (45 nm figures, Horowitz 2014):
 *
 *   SOP = Σ_layers rate_in · MACs · T       synaptic operations: a spike costs one accumulate
 *         per synapse it reaches; MACs is the layer's multiply-accumulates per time step
 *   E   = 0.9 pJ · SOP + 4.6 pJ · MAC       MAC: layers that read real values (the first
 *                                           layer with direct encoding, computed once per image)
 *
 * rate_in is the firing rate of the neuron layer a conv/linear reads (from the model's layer
 * records). Where a layer reads a mean of several spike maps (densely additive stages) the
 * rate of the last spiking layer before it stands in: an approximation.
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

export function estimateEnergy(model: SpikingModel, firingRates: Record<string, number>, T: number): EnergyEstimate {
  let sop = 0;
  let mac = 0;
  for (const l of model.layers) {
    if (l.kind !== 'conv' && l.kind !== 'linear') continue;
    if (l.input === null || l.input === undefined) {
      mac += l.key === 'stem.conv' ? l.macs : l.macs * T;
    } else {
      sop += (firingRates[l.input] ?? 0) * l.macs * T;
    }
  }
  return { sop, mac, pJ: E_AC_PJ * sop + E_MAC_PJ * mac };
}
