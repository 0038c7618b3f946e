/**
 * The wasm heap stops at 4 GB. When it is full, the module's `malloc` returns 0 and tfjs uses
 * that as an address (and a size of 4 GB or more wraps around): what follows is a crash far from
 * the cause ("memory access out of bounds", "Invalid typed array length") after other tensors
 * were overwritten. The guard makes such an allocation throw at once, with one line that says
 * what to change.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../../util/errors.js';
import { internalsUsable } from './versions.js';

interface Malloc {
  _malloc(bytes: number): number;
  /** The module's exports; `_malloc` is at first a stub that replaces itself with asm.malloc. */
  asm?: { malloc?: (bytes: number) => number };
  HEAPU8: Uint8Array;
  snnHeapGuard?: true;
}

const MB = 1024 * 1024;

/** Wraps the active wasm backend's `_malloc` (once); a no-op on other backends and untested versions. */
export function guardWasmHeap(): void {
  const backend = tf.backend();
  if (!(backend instanceof BackendWasm)) return;
  if (internalsUsable() !== null) return; // the module's layout is known only for tested versions
  const wasm = backend.wasm as unknown as Malloc;
  if (wasm.snnHeapGuard) return;
  const malloc = wasm.asm?.malloc ?? wasm._malloc.bind(wasm);
  const guarded = (bytes: number): number => {
    const at = bytes > 0xffffffff ? 0 : malloc(bytes);
    wasm._malloc = guarded; // in case the stub replaced itself (no asm.malloc to call directly)
    if (at === 0 && bytes > 0) {
      throw new UserError(
        `the wasm heap is full: ${Math.ceil(bytes / MB)} MB more do not fit in its 4 GB (${Math.round(wasm.HEAPU8.length / MB)} MB in use); ` +
          'lower data.batchSize or model.timesteps, or use the tensorflow backend where it installs',
      );
    }
    return at;
  };
  wasm._malloc = guarded;
  wasm.snnHeapGuard = true;
}
