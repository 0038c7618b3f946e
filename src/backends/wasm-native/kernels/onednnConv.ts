/**
 * Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, AvgPool and AvgPoolGrad for wasm through
 * snn's oneDNN addon (native/snn_onednn.cc): direct forward, backward-data and backward-weights
 * convolutions and average pooling with AVX-512/AVX2 kernels on all cores, reading and writing
 * the tensors in the wasm heap in place.
 * They replace the wasm kernels only when the addon loads (src/backends/wasm-native/native.ts); the XNNPACK
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
  /**
   * One of the three convolutions of a layer: `a` and `b` are the kernel's two inputs by name,
   * `outShape` picks the output's shape from the layer's geometry.
   */
  const convKernel = (
    mode: ConvMode,
    name: string,
    [a, b]: [string, string],
    shapes: (args: KernelArgs, ia: Info, ib: Info) => { x: Shape4; filter: Shape4; dilations: number | [number, number]; out: (info: tf.backend_util.Conv2DInfo) => number[] },
  ) => (args: KernelArgs): Info => {
    const backend = asWasm(args.backend);
    const ia = args.inputs[a] as Info;
    const ib = args.inputs[b] as Info;
    const { strides, pad, dataFormat, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
    assertNHWC(dataFormat, name);
    const s = shapes(args, ia, ib);
    const info = tf.backend_util.computeConv2DInfo(s.x, s.filter, strides, s.dilations, pad, dimRoundingMode, false, 'channelsLast');
    const out = backend.makeOutput(s.out(info), 'float32');
    // Heap views are taken after the allocation: growing the heap detaches older views.
    addon.conv2d(mode, heapF32(backend, ia), heapF32(backend, ib), heapF32(backend, out), ...geometry(info));
    return out;
  };
  const conv2D = convKernel(ConvMode.Forward, 'Conv2D', ['x', 'filter'], (args, x, filter) => ({
    x: x.shape as Shape4, filter: filter.shape as Shape4, dilations: (args.attrs as unknown as tf.Conv2DAttrs).dilations, out: (i) => i.outShape,
  }));
  const backpropInput = convKernel(ConvMode.BackwardData, 'Conv2DBackpropInput', ['dy', 'filter'], (args, _dy, filter) => {
    const { inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    return { x: inputShape, filter: filter.shape as Shape4, dilations: 1, out: () => inputShape };
  });
  const backpropFilter = convKernel(ConvMode.BackwardWeights, 'Conv2DBackpropFilter', ['x', 'dy'], (args, x) => {
    const { filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    return { x: x.shape as Shape4, filter: filterShape, dilations: 1, out: () => filterShape };
  });

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
