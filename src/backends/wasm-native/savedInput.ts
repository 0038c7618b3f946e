/**
 * What a convolution keeps of its input for the filter gradient, outside the wasm heap (see
 * hostArrays.ts). A spiking network's convolutions mostly see spikes, all 0 or 1: those are kept
 * as bits, a 32nd of the float copy (on resnet19 at batch 128 the float copies were a third of
 * everything saved for the backward pass). Any other input (an image, summed spikes of a
 * residual connection, event counts) is kept as floats. Restoring gives back the same values.
 */
import { hostCopy, releaseHostArray, takeHostBytes } from './hostArrays.js';
import type { NativeHeap } from './heap.js';

export type SavedInput = { kind: 'bits'; bits: Uint8Array; length: number } | { kind: 'floats'; values: Float32Array };

export function saveInput(heap: NativeHeap, x: Float32Array): SavedInput {
  const bits = takeHostBytes(Math.ceil(x.length / 8));
  if (heap.addon.packBinary(x, bits)) return { kind: 'bits', bits, length: x.length };
  releaseHostArray(bits);
  return { kind: 'floats', values: hostCopy(x) };
}

/** Writes the saved values into `out` (a heap view of the same length) and releases them. */
export function restoreInput(heap: NativeHeap, saved: SavedInput, out: Float32Array): void {
  if (saved.kind === 'bits') {
    heap.addon.unpackBinary(saved.bits, out);
    releaseHostArray(saved.bits);
  } else {
    out.set(saved.values);
    releaseHostArray(saved.values);
  }
}
