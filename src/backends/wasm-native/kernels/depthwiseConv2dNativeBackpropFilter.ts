/**
 * DepthwiseConv2dNativeBackpropFilter for wasm, which does not ship one.
 *
 * dW[kh,kw,c,m] = Σ_{n,oh,ow} x[n, oh·s + kh − padTop, ow·s + kw − padLeft, c] · dy[n,oh,ow,c·M+m]
 * is a stride-1 depthwise convolution with dilation s over a single image whose channels are the
 * (c, n) pairs, with dy (as [oh, ow, c·n, M]) as the filter; summing over n finishes it.
 * Dilations other than 1 are not supported (tfjs's gradient never asks for them).
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, convWithPads, free, run, transpose, view, type Info, type KernelArgs } from './wasmOps.js';

function depthwiseConv2dNativeBackpropFilter(args: KernelArgs): Info {
  const backend = asWasm(args.backend);
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, dilations ?? 1, pad, dimRoundingMode, true);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('wasm DepthwiseConv2dNativeBackpropFilter supports only dilations of 1');
  }
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const m = filterShape[3];

  const xT = transpose(backend, view(x, [n, h * w, c]), [1, 2, 0]); // [h·w, c, n]
  const dyT = transpose(backend, view(dy, [n, oh * ow, c, m]), [1, 2, 0, 3]); // [oh·ow, c, n, m]
  const out = convWithPads(backend, 'DepthwiseConv2dNative', view(xT, [1, h, w, c * n]), view(dyT, [oh, ow, c * n, m]),
    [sh, sw], {
      top: padInfo.top,
      bottom: fh + (oh - 1) * sh - h - padInfo.top,
      left: padInfo.left,
      right: fw + (ow - 1) * sw - w - padInfo.left,
    }); // [1, fh, fw, c·n·m]
  free(backend, xT, dyT);
  if (n === 1) return { ...out, shape: [fh, fw, c, m] };
  const dW = run('Sum', backend, { x: view(out, [fh * fw, c, n, m]) }, { axis: [2], keepDims: false });
  free(backend, out);
  return { ...dW, shape: [fh, fw, c, m] };
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
