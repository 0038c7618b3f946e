/**
 * The WebGPU engine for tests: started once per test process on whatever adapter Dawn finds
 * (lavapipe on a machine without a GPU). Without one, tests skip with the reason, except in CI
 * (test/requirements.ts: CI=true or SNN_CI=1): .ci/run installs the Vulkan driver, so there a
 * missing adapter fails them.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend.js';
import type { AdapterDescription } from '../src/backends/webgpu/device.js';
import { inCi } from './requirements.js';

async function probe(): Promise<{ adapter: AdapterDescription | null; why: string }> {
  try {
    const info = await initBackend('webgpu');
    await tf.setBackend('cpu');
    return { adapter: info.adapter ?? null, why: '' };
  } catch (e) {
    return { adapter: null, why: e instanceof Error ? e.message : String(e) };
  }
}

const probed = await probe();

/** A test option: skip outside CI when no adapter exists; in CI run (and fail in `needWebgpu`). */
export const webgpuSkip: string | false = probed.adapter !== null || inCi() ? false : `no WebGPU adapter: ${probed.why}`;
if (webgpuSkip) process.stdout.write(`# skipping WebGPU tests: ${webgpuSkip}\n`);

/** Call first in every WebGPU test: throws (the test fails) when there is no adapter. */
export function needWebgpu(): AdapterDescription {
  if (probed.adapter === null) throw new Error(`the WebGPU engine is unavailable in CI (CI=true or SNN_CI=1; .ci/run installs mesa-vulkan-drivers): ${probed.why}`);
  return probed.adapter;
}

/** The values of a tensor (any backend) as a Float32Array, read asynchronously. */
export async function valuesOf(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data());
}

/** Largest |a − b| / max(1, |b|) over the elements, with the index where it occurs. */
export function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; at: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let err = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (Number.isNaN(e)) return { err: Infinity, at: i };
    if (e > err) {
      err = e;
      at = i;
    }
  }
  return { err, at };
}
