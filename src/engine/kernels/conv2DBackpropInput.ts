/**
 * A faster Conv2DBackpropInput for wasm.
 *
 * wasm's own kernel is a scalar C++ loop (it dominated a training step). The input gradient is
 * a plain stride-1 convolution of dy, zero-stuffed for strides above 1, with the spatially
 * flipped, in/out-swapped filter, padded by (f − 1 − pad) on each side (plus the rows a strided
 * window skipped at the end), which XNNPACK runs several times faster. Dilated convolutions
 * keep wasm's original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, assertNHWC, convWithPads, flipFilter, free, runWith, zeroStuff, type Info, type KernelArgs } from './wasmOps.js';

/** Builds the kernel around wasm's original one, which handles strides other than 1. */
export function makeConv2DBackpropInputConfig(original: tf.KernelConfig): tf.KernelConfig {
  const fallback = original.kernelFunc;
  const conv2DBackpropInput = (args: KernelArgs): Info => {
    const backend = asWasm(args.backend);
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    assertNHWC(dataFormat, 'Conv2DBackpropInput');
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { filterHeight: fh, filterWidth: fw, padInfo, strideHeight: sh, strideWidth: sw } = info;
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return runWith(fallback, backend, args.inputs, args.attrs);
    // Rows/columns of the input that the strided window never reached get zero gradient: the
    // stride-1 conv over the zero-stuffed dy needs that many more rows/columns of padding.
    const remH = (info.inHeight + padInfo.top + padInfo.bottom - fh) % sh;
    const remW = (info.inWidth + padInfo.left + padInfo.right - fw) % sw;
    const stuffed = sh === 1 && sw === 1 ? dy : zeroStuff(backend, dy, sh, sw);
    const flipped = flipFilter(backend, filter, true);
    const dx = convWithPads(backend, 'Conv2D', stuffed, flipped, [1, 1], {
      top: fh - 1 - padInfo.top,
      bottom: fh - 1 - padInfo.bottom + remH,
      left: fw - 1 - padInfo.left,
      right: fw - 1 - padInfo.right + remW,
    });
    free(backend, flipped);
    if (stuffed !== dy) free(backend, stuffed);
    return dx;
  };
  // The original setupFunc binds its C++ entry point; keep it so the fallback works even when
  // this replacement is registered before the backend initialises.
  return { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc: conv2DBackpropInput };
}
