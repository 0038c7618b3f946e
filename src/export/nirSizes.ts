/**
 * export.json `sizes` of a NIR export: what the HDF5 file holds, not the `snn` format's packed
 * sizes. Every array is stored uncompressed-equivalent as float32 (values) or int64 (shapes);
 * arrays of 256 values or more are gzip-compressed in the file, so `fileBytes` can be below
 * `arrayBytes`.
 */
import type { NirGraph } from './nir.js';

export interface NirSizeReport {
  /** model.nir on disk. */
  fileBytes: number;
  /** Conv2d and Affine weights and biases: values, and bytes as float32. */
  weights: number;
  weightBytes: number;
  /** Every float32 array of every node (weights, biases, per-neuron parameters, scales). */
  float32Values: number;
  /** Every array (float32 and int64) of every node, before compression. */
  arrayBytes: number;
}

export function nirSizeReport(g: NirGraph, fileBytes: number): NirSizeReport {
  let weights = 0;
  let floats = 0;
  let arrayBytes = 0;
  for (const node of g.nodes.values()) {
    for (const [k, v] of Object.entries(node.fields)) {
      if (typeof v === 'string') continue;
      arrayBytes += v.data.byteLength;
      if (v.data instanceof Float32Array) {
        floats += v.data.length;
        if ((node.type === 'Conv2d' || node.type === 'Affine') && (k === 'weight' || k === 'bias')) weights += v.data.length;
      }
    }
  }
  return { fileBytes, weights, weightBytes: 4 * weights, float32Values: floats, arrayBytes };
}
