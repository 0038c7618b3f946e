/**
 * A faster Conv2DBackpropInput for wasm at stride 1.
 *
 * wasm's own kernel is a scalar C++ loop (it dominated a training step). At stride 1 the input
 * gradient is a plain convolution of dy with the spatially flipped, in/out-swapped filter, padded
 * by (f − 1 − pad) on each side, which XNNPACK runs an order of magnitude faster. Other strides
 * would need zero-stuffed dy, so they keep the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, assertNHWC, convWithPads, flipFilter, free, runWith, type Info, type KernelArgs } from './wasmOps.js';

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
    if (info.strideHeight !== 1 || info.strideWidth !== 1) return runWith(fallback, backend, args.inputs, args.attrs);
    const { filterHeight: fh, filterWidth: fw, padInfo } = info;
    const flipped = flipFilter(backend, filter, true);
    const dx = convWithPads(backend, 'Conv2D', dy, flipped, [1, 1], {
      top: fh - 1 - padInfo.top,
      bottom: fh - 1 - padInfo.bottom,
      left: fw - 1 - padInfo.left,
      right: fw - 1 - padInfo.right,
    });
    free(backend, flipped);
    return dx;
  };
  // The original setupFunc binds its C++ entry point; keep it so the fallback works even when
  // this replacement is registered before the backend initialises.
  return { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc: conv2DBackpropInput };
}
