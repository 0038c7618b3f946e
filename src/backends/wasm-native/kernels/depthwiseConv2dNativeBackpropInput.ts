/**
 * DepthwiseConv2dNativeBackpropInput for wasm, which does not ship one.
 *
 * A transposed depthwise convolution: dy is zero-stuffed for strides > 1 (pad a [n,oh,1,ow,1,C]
 * view to [n,oh,s,ow,s,C]), convolved depthwise with the spatially flipped filter seen as
 * multiplier 1 over all c·M channels, and the M products of each input channel are summed.
 * Zero-stuffing wastes s² of the work, but on XNNPACK that is still far cheaper than a scalar loop.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, convWithPads, flipFilter, free, run, view, type Info, type KernelArgs } from './wasmOps.js';

function depthwiseConv2dNativeBackpropInput(args: KernelArgs): Info {
  const backend = asWasm(args.backend);
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, true);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: cm } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const { effectiveFilterHeight: eh, effectiveFilterWidth: ew } = info;

  let stuffed = dy;
  if (sh > 1 || sw > 1) {
    stuffed = run('PadV2', backend, { x: view(dy, [n, oh, 1, ow, 1, cm]) }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
      constantValue: 0,
    });
  }
  const flipped = flipFilter(backend, filter, false);
  const top = eh - 1 - padInfo.top;
  const left = ew - 1 - padInfo.left;
  const out = convWithPads(backend, 'DepthwiseConv2dNative', view(stuffed, [n, oh * sh, ow * sw, cm]),
    view(flipped, [filter.shape[0], filter.shape[1], cm, 1]), [dh, dw], {
      top,
      bottom: h + eh - 1 - oh * sh - top,
      left,
      right: w + ew - 1 - ow * sw - left,
    }); // [n, h, w, c·M]
  free(backend, flipped);
  if (stuffed !== dy) free(backend, stuffed);
  if (cm === c) return out;
  const dx = run('Sum', backend, { x: view(out, [n, h, w, c, cm / c]) }, { axis: [4], keepDims: false });
  free(backend, out);
  return dx;
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
