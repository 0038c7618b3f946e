/**
 * Small helpers for writing wasm kernels as compositions of kernels the wasm backend already has.
 *
 * Kernels run below the engine, so there is no tidy(): every intermediate TensorInfo must be
 * released with `free`, otherwise both the wasm heap and XNNPACK's operator cache (keyed by
 * the filter's data id) leak.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type Info = tf.TensorInfo;

/** What the engine passes a kernel function; `backend` is narrowed with `asWasm`. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Narrows the `backend` a kernel receives; the engine passes it untyped. */
export function asWasm(backend: unknown): BackendWasm {
  if (!(backend instanceof BackendWasm)) throw new Error('kernel registered for wasm ran on another backend');
  return backend;
}

/** Looks a kernel up now, so a caller can keep the original before replacing it. */
export function kernelFuncOf(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`wasm kernel '${name}' is not registered`);
  return config.kernelFunc;
}

/** Runs a kernel function on the wasm backend and returns its single output. */
export function runWith(
  kernel: tf.KernelFunc,
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: object = {},
): Info {
  const out = kernel({ inputs, backend, attrs: attrs as tf.NamedAttrMap });
  if (Array.isArray(out)) throw new Error('expected a kernel with one output');
  return out;
}

export function run(name: string, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: object = {}): Info {
  return runWith(kernelFuncOf(name), backend, inputs, attrs);
}

export function free(backend: BackendWasm, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * The same data seen with another shape, without touching its reference count: only valid as an
 * input of a kernel called while the original is alive, never as a kernel's output.
 */
export function view(info: Info, shape: number[]): Info {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return run('Transpose', backend, { x }, { perm });
}

/** Float32 view of a tensor's bytes on the wasm heap (no copy). Re-take it after any allocation. */
export function heapF32(backend: BackendWasm, info: Info): Float32Array {
  const arr = backend.typedArrayFromHeap(info);
  if (!(arr instanceof Float32Array)) throw new Error(`expected float32 data, got ${info.dtype}`);
  return arr;
}

/**
 * A stride-1 (possibly dilated, possibly depthwise) convolution with explicit padding that may be
 * negative. XNNPACK only pads, so negative sides are run with zero padding and the surplus rows
 * and columns are cropped from the output.
 */
export function convWithPads(
  backend: BackendWasm,
  kind: 'Conv2D' | 'DepthwiseConv2dNative',
  x: Info,
  filter: Info,
  dilations: [number, number],
  pads: Pads,
): Info {
  const p = {
    top: Math.max(pads.top, 0),
    bottom: Math.max(pads.bottom, 0),
    left: Math.max(pads.left, 0),
    right: Math.max(pads.right, 0),
  };
  const out = run(kind, backend, { x, filter }, {
    strides: [1, 1],
    dilations,
    pad: [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]],
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
  });
  const cropTop = p.top - pads.top;
  const cropBottom = p.bottom - pads.bottom;
  const cropLeft = p.left - pads.left;
  const cropRight = p.right - pads.right;
  if (cropTop === 0 && cropBottom === 0 && cropLeft === 0 && cropRight === 0) return out;
  const [n, h, w, c] = out.shape as [number, number, number, number];
  const cropped = run('Slice', backend, { x: out }, {
    begin: [0, cropTop, cropLeft, 0],
    size: [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c],
  });
  free(backend, out);
  return cropped;
}

/**
 * The filter of a transposed convolution: spatially flipped, and for a full conv filter
 * [fh, fw, in, out] also in/out-swapped. A JS loop, since filters are small.
 */
export function flipFilter(backend: BackendWasm, filter: Info, swapInOut: boolean): Info {
  const [fh, fw, ci, co] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput(swapInOut ? [fh, fw, co, ci] : [fh, fw, ci, co], 'float32');
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, out);
  const plane = ci * co;
  for (let r = 0; r < fh; r++) {
    for (let c = 0; c < fw; c++) {
      const s0 = ((fh - 1 - r) * fw + (fw - 1 - c)) * plane;
      const d0 = (r * fw + c) * plane;
      if (!swapInOut) {
        dst.set(src.subarray(s0, s0 + plane), d0);
        continue;
      }
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[s0 + i * co + o];
      }
    }
  }
  return out;
}

/** Rejects NCHW early with a clear message; the wasm convolutions are NHWC only. */
export function assertNHWC(dataFormat: string | undefined, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`wasm ${kernel} supports only NHWC, got ${dataFormat}`);
  }
}

/**
 * x [a, p, c] → [c, p, a] (perm [2, 1, 0]). wasm's Transpose moves scalars one by one, which
 * gets cache-bound on large tensors ([256, 784, 16]: ~20 ms). Above ~1M values it is done as
 * [a, p, c] → [p, a, c] (contiguous c-runs) → [c, p, a] (small per-p transposes), ~2× faster;
 * below, the single pass wins.
 */
export function reverseAxes3(backend: BackendWasm, x: Info, a: number, p: number, c: number): Info {
  if (a * p * c <= TWO_STEP_TRANSPOSE_SIZE || c === 1 || a === 1) return transpose(backend, view(x, [a, p, c]), [2, 1, 0]);
  const pac = transpose(backend, view(x, [a, p, c]), [1, 0, 2]);
  const out = transpose(backend, pac, [2, 0, 1]);
  free(backend, pac);
  return out;
}

const TWO_STEP_TRANSPOSE_SIZE = 1 << 20;
