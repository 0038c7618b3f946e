/**
 * Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, AvgPool and AvgPoolGrad for wasm through
 * snn's oneDNN addon (native/snn_onednn.cc): direct forward, backward-data and backward-weights
 * convolutions and average pooling with AVX-512/AVX2 kernels on all cores, reading and writing
 * the tensors in the wasm heap in place.
 * They replace the wasm kernels only when the addon loads (src/engine/native.ts); the XNNPACK
 * compositions in this folder stay the fallback and the tests' second implementation.
 */
import * as tf from '@tensorflow/tfjs';
import { ConvMode, type NativeAddon } from '../native.js';
import { asWasm, assertNHWC, heapF32, type Info, type KernelArgs } from './wasmOps.js';

type Shape4 = [number, number, number, number];

/** The wasm kernels the addon replaces. */
export const NATIVE_KERNEL_NAMES: readonly string[] = [tf.AvgPool, tf.AvgPoolGrad, tf.Conv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter];

/** The addon's 17 geometry integers for a layer, from tfjs's own convolution arithmetic. */
function geometry(info: tf.backend_util.Conv2DInfo): number[] {
  const p = info.padInfo;
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, p.top, p.left, p.bottom, p.right,
  ];
}

/** The kernels, in the order of NATIVE_KERNEL_NAMES. */
export function onednnConvConfigs(addon: NativeAddon): tf.KernelConfig[] {
  const conv2D = (args: KernelArgs): Info => {
    const backend = asWasm(args.backend);
    const { x, filter } = args.inputs as { x: Info; filter: Info };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
    assertNHWC(dataFormat, 'Conv2D');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4, filter.shape as Shape4, strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
    const out = backend.makeOutput(info.outShape, 'float32');
    // Heap views are taken after the allocation: growing the heap detaches older views.
    addon.conv2d(ConvMode.Forward, heapF32(backend, x), heapF32(backend, filter), heapF32(backend, out), ...geometry(info));
    return out;
  };

  const backpropInput = (args: KernelArgs): Info => {
    const backend = asWasm(args.backend);
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    assertNHWC(dataFormat, 'Conv2DBackpropInput');
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const out = backend.makeOutput(inputShape, 'float32');
    addon.conv2d(ConvMode.BackwardData, heapF32(backend, dy), heapF32(backend, filter), heapF32(backend, out), ...geometry(info));
    return out;
  };

  const backpropFilter = (args: KernelArgs): Info => {
    const backend = asWasm(args.backend);
    const { x, dy } = args.inputs as { x: Info; dy: Info };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    assertNHWC(dataFormat, 'Conv2DBackpropFilter');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const out = backend.makeOutput(filterShape, 'float32');
    addon.conv2d(ConvMode.BackwardWeights, heapF32(backend, x), heapF32(backend, dy), heapF32(backend, out), ...geometry(info));
    return out;
  };

  /** n, h, w, c, oh, ow, fh, fw, sh, sw and the four pads of a pooling layer. */
  const poolGeometry = (info: tf.backend_util.Conv2DInfo): number[] => {
    const p = info.padInfo;
    return [
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, p.top, p.left, p.bottom, p.right,
    ];
  };

  const avgPool = (args: KernelArgs): Info => {
    const backend = asWasm(args.backend);
    const { x } = args.inputs as { x: Info };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.AvgPoolAttrs;
    const info = tf.backend_util.computePool2DInfo(x.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
    const out = backend.makeOutput(info.outShape, 'float32');
    addon.avgPool(0, heapF32(backend, x), heapF32(backend, out), ...poolGeometry(info));
    return out;
  };

  // The gradient of the forward above: each output spreads dy / (its window's valid pixels).
  // (tfjs's cpu kernel divides by the full window size even where padding cuts it.)
  const avgPoolGrad = (args: KernelArgs): Info => {
    const backend = asWasm(args.backend);
    const { dy, input } = args.inputs as { dy: Info; input: Info };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.AvgPoolGradAttrs & { dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
    const out = backend.makeOutput(input.shape, 'float32');
    addon.avgPool(1, heapF32(backend, dy), heapF32(backend, out), ...poolGeometry(info));
    return out;
  };

  return [
    { kernelName: tf.AvgPool, backendName: 'wasm', kernelFunc: avgPool },
    { kernelName: tf.AvgPoolGrad, backendName: 'wasm', kernelFunc: avgPoolGrad },
    { kernelName: tf.Conv2D, backendName: 'wasm', kernelFunc: conv2D },
    { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', kernelFunc: backpropInput },
    { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: backpropFilter },
  ];
}
