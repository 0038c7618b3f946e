/**
 * MaxPoolGrad for wasm. The shipped kernel routes the gradient to the wrong element when every
 * value of a window is negative (its running max seems to start at 0), which matters after
 * BatchNorm. This one follows the cpu backend: each window's gradient goes to the first element,
 * in row-major window order, that is strictly greater than all before it; a window with no such
 * element (all -Infinity or NaN) passes nothing back.
 *
 * A JS loop over the wasm heap: one pass over x, channels innermost so reads are contiguous.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, heapF32, type Info, type KernelArgs } from './wasmOps.js';

function maxPoolGrad(args: KernelArgs): Info {
  const backend = asWasm(args.backend);
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo } = info;

  // Allocate before taking heap views: an allocation may grow (and detach) the heap.
  const out = backend.makeOutput(input.shape, 'float32');
  const dx = heapF32(backend, out);
  dx.fill(0); // malloc'd memory is not cleared
  const x = heapF32(backend, input);
  const g = heapF32(backend, dy);
  const best = new Float32Array(c);
  const arg = new Int32Array(c);

  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const r0 = r * sh - padInfo.top;
      const rLo = Math.max(r0, 0);
      const rHi = Math.min(r0 + fh, h);
      for (let q = 0; q < ow; q++) {
        const q0 = q * sw - padInfo.left;
        const qLo = Math.max(q0, 0);
        const qHi = Math.min(q0 + fw, w);
        best.fill(-Infinity);
        arg.fill(-1);
        for (let xr = rLo; xr < rHi; xr++) {
          for (let xq = qLo; xq < qHi; xq++) {
            const base = ((b * h + xr) * w + xq) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k];
              if (v > best[k]) {
                best[k] = v;
                arg[k] = base + k;
              }
            }
          }
        }
        const gBase = ((b * oh + r) * ow + q) * c;
        for (let k = 0; k < c; k++) {
          if (arg[k] >= 0) dx[arg[k]] += g[gBase + k];
        }
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};
