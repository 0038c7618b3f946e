/**
 * Where a backend keeps what a backward pass will read. By default that is the tensor itself,
 * saved with the gradient tape (tfjs frees it when the tape ends). A backend whose device memory
 * is the scarce resource may register a store that moves such tensors out of it after the
 * forward kernel and brings them back just for the backward kernel: the wasm+native backend
 * keeps them in host arrays outside the wasm heap's 4 GB, spikes packed as bits.
 *
 * With such a store active, src/engine/snnOps.ts keeps nothing of a layer's input on the device,
 * so model code may free activations as soon as the next layer has read them
 * (`keepsOutsideDevice()`).
 */
import * as tf from '@tensorflow/tfjs';

/** Opaque to callers; only the store that made it reads it. */
export interface Kept {
  readonly shape: number[];
  readonly storeData: unknown;
}

export interface BackwardStore {
  /** A copy of t's values outside the device; 'spikes' hints that they are mostly 0 and 1. */
  keep(t: tf.Tensor, kind: 'spikes' | 'values'): Kept;
  /** A new device tensor with the kept values; the store forgets them (restore once). */
  restore(k: Kept): tf.Tensor;
  /** Forget kept values that no backward pass will read. */
  release(k: Kept): void;
}

const stores = new Map<string, BackwardStore>();

/** Sets (or with null removes) the store of backend `backendName`. */
export function registerBackwardStore(backendName: string, store: BackwardStore | null): void {
  if (store === null) stores.delete(backendName);
  else stores.set(backendName, store);
}

/** The active backend's store, or null: tensors are saved with the tape. */
export function backwardStore(): BackwardStore | null {
  return stores.get(tf.getBackend()) ?? null;
}

/** The active backend keeps backward-pass data off the device (see above). */
export function keepsOutsideDevice(): boolean {
  return backwardStore() !== null;
}
