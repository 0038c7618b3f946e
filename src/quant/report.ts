/**
 * What quantisation did to a model: per quantised layer its bit width, sparsity (share of zero
 * weights after quantisation) and scale (mean over channels when per channel), and the model's
 * storage size in bits against float32.
 */
import * as tf from '@tensorflow/tfjs';
import type { SpikingModel } from '../models/types.js';
import { quantizeValue, storageBits } from './index.js';
import { ternarize } from './ternary.js';

export interface QuantLayerReport {
  key: string;
  bits: number;
  weights: number;
  sparsity: number;
  scale: number;
}

export interface QuantReport {
  layers: QuantLayerReport[];
  modelSizeBits: number;
  floatSizeBits: number;
}

export function quantReport(model: SpikingModel): QuantReport {
  const layers: QuantLayerReport[] = [];
  let bits = 0;
  let floatBits = 0;
  for (const [key, v] of model.params) {
    floatBits += 32 * v.size;
    const spec = model.quantized.get(key);
    const out = v.shape[v.shape.length - 1] ?? 1;
    bits += storageBits(v.size, out, spec ?? null);
    if (!spec) continue;
    const [sparsity, scale] = tf.tidy(() => {
      if (spec.bits === 2) {
        const t = ternarize(v, spec.perChannel);
        return [tf.equal(t.codes, 0).sum().dataSync()[0] / v.size, t.scale.mean().dataSync()[0]];
      }
      const q = quantizeValue(v, spec);
      const zeros = tf.equal(q, 0).sum().dataSync()[0] / v.size;
      return [zeros, tf.abs(q).max().dataSync()[0]];
    });
    layers.push({ key, bits: spec.bits, weights: v.size, sparsity, scale });
  }
  return { layers, modelSizeBits: bits, floatSizeBits: floatBits };
}
