/**
 * The wasm+native backend's BackwardStore (src/engine/backwardStore.ts): kept tensors go to host
 * arrays outside the wasm heap, which stops at 4 GB — on resnet19 at batch 128 what the backward
 * pass reads would not fit beside the activations otherwise. Spikes are packed as bits
 * (savedInput.ts); arrays are pooled across steps (hostArrays.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackwardStore, Kept } from '../../engine/backwardStore.js';
import { nativeHeap, type NativeHeap } from './heap.js';
import { hostCopy, releaseHostArray } from './hostArrays.js';
import { restoreInput, saveInput, type SavedInput } from './savedInput.js';

const saved = (k: Kept): SavedInput => k.storeData as SavedInput;

function heapNow(): NativeHeap {
  const heap = nativeHeap();
  if (heap === null) throw new Error('the host backward store runs only on wasm with snn\'s addon');
  return heap;
}

export function hostStore(): BackwardStore {
  return {
    keep: (t: tf.Tensor, kind) => {
      const heap = heapNow();
      const view = heap.view(t);
      const storeData: SavedInput = kind === 'spikes' ? saveInput(heap, view) : { kind: 'floats', values: hostCopy(view) };
      return { shape: t.shape, storeData };
    },
    restore: (k) => {
      const heap = heapNow();
      const t = heap.alloc(k.shape);
      restoreInput(heap, saved(k), heap.view(t));
      return t;
    },
    release: (k) => {
      const s = saved(k);
      releaseHostArray(s.kind === 'bits' ? s.bits : s.values);
    },
  };
}
