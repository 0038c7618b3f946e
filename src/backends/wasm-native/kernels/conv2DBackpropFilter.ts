/**
 * Conv2DBackpropFilter for wasm, which does not ship one.
 *
 * dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s + kh − padTop, ow·s + kw − padLeft, ci] · dy[n,oh,ow,co]
 * is itself a stride-1 convolution with dilation s: batch ← ci, channels ← n, and dy (as
 * [oh, ow, n, co]) as the filter. That runs on XNNPACK instead of a scalar loop, close to its
 * matmul speed; what remains is moving x to [ci, h, w, n], done in two cache-friendly passes for
 * large x (see reverseAxes3). A strided 1×1 filter subsamples x first (it reads a quarter of
 * it at stride 2). Tried and slower: im2col + one matMul (wasm's BatchMatMul takes a slow path
 * for transposeA, and the transposed im2col costs as much as the transpose), one matMul per tap
 * (needs a strided gather of x per tap; wasm's StridedSlice is ~100 ms on [256,28,28,16]).
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasm, assertNHWC, convWithPads, free, heapF32, reverseAxes3, transpose, view, type Info, type KernelArgs } from './wasmOps.js';

/** x[n, y·sh − top, x·sw − left, :] for y < oh, x < ow, zero outside x: [n, oh, ow, c]. */
function subsample(backend: BackendWasm, x: Info, sh: number, sw: number, top: number, left: number, oh: number, ow: number): Info {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const out = backend.makeOutput([n, oh, ow, c], 'float32');
  const src = heapF32(backend, x);
  const dst = heapF32(backend, out);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      const sy = y * sh - top;
      for (let q = 0; q < ow; q++) {
        const sx = q * sw - left;
        const d0 = ((b * oh + y) * ow + q) * c;
        if (sy < 0 || sy >= h || sx < 0 || sx >= w) dst.fill(0, d0, d0 + c);
        else dst.set(src.subarray(((b * h + sy) * w + sx) * c, ((b * h + sy) * w + sx + 1) * c), d0);
      }
    }
  }
  return out;
}

function conv2DBackpropFilter(args: KernelArgs): Info {
  const backend = asWasm(args.backend);
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  assertNHWC(dataFormat, 'Conv2DBackpropFilter');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  if (fh === 1 && fw === 1 && (sh > 1 || sw > 1)) {
    // A strided 1×1 filter reads only every s-th pixel: subsample first, then stride 1.
    const sub = subsample(backend, x, sh, sw, padInfo.top, padInfo.left, oh, ow);
    const dW = conv2DBackpropFilter({ ...args, inputs: { x: sub, dy }, attrs: { ...args.attrs, strides: 1, pad: 'valid' } });
    free(backend, sub);
    return dW;
  }

  const xT = view(reverseAxes3(backend, x, n, h * w, ci), [ci, h, w, n]);
  const dyT = transpose(backend, view(dy, [n, oh * ow, co]), [1, 0, 2]); // [oh·ow, n, co]
  // Bottom/right padding so that the output is exactly fh × fw; negative means "crop".
  const out = convWithPads(backend, 'Conv2D', xT, view(dyT, [oh, ow, n, co]), [sh, sw], {
    top: padInfo.top,
    bottom: fh + (oh - 1) * sh - h - padInfo.top,
    left: padInfo.left,
    right: fw + (ow - 1) * sw - w - padInfo.left,
  }); // [ci, fh, fw, co]
  free(backend, xT, dyT);
  const dW = transpose(backend, view(out, [ci, fh * fw, co]), [1, 0, 2]);
  free(backend, out);
  return { ...dW, shape: [fh, fw, ci, co] };
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
