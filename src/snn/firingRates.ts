/**
 * Firing rates from spike counts: per layer, spikes ÷ neuron-steps, and the network's mean
 * over all neuron-steps. Free of TensorFlow.js so that the exported engine shares it.
 */
export interface RateSummary {
  firingRates: Record<string, number>;
  meanFiringRate: number;
}

/** `count(key)` gives a layer's spikes and neuron-steps, or undefined if it never ran. */
export function summarizeRates(
  layers: readonly string[],
  count: (key: string) => { spikes: number; steps: number } | undefined,
): RateSummary {
  const firingRates: Record<string, number> = {};
  let spikes = 0;
  let steps = 0;
  for (const key of layers) {
    const t = count(key);
    if (!t) continue;
    firingRates[key] = t.steps > 0 ? t.spikes / t.steps : 0;
    spikes += t.spikes;
    steps += t.steps;
  }
  return { firingRates, meanFiringRate: steps > 0 ? spikes / steps : 0 };
}
