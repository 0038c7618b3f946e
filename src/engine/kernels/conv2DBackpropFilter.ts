/**
 * Conv2DBackpropFilter for wasm, which does not ship one.
 *
 * dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s + kh − padTop, ow·s + kw − padLeft, ci] · dy[n,oh,ow,co]
 * is itself a stride-1 convolution with dilation s: batch ← ci, channels ← n, and dy (as
 * [oh, ow, n, co]) as the filter. That runs on XNNPACK instead of a scalar loop.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, assertNHWC, convWithPads, free, transpose, view, type Info, type KernelArgs } from './wasmOps.js';

function conv2DBackpropFilter(args: KernelArgs): Info {
  const backend = asWasm(args.backend);
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  assertNHWC(dataFormat, 'Conv2DBackpropFilter');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo } = info;

  const xT = transpose(backend, x, [3, 1, 2, 0]); // [ci, h, w, n]
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
