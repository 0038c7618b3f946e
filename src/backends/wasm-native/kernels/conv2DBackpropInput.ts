/**
 * A faster Conv2DBackpropInput for wasm.
 *
 * wasm's own kernel is a scalar C++ loop (it dominated a training step). The input gradient of a
 * stride-1 convolution is a stride-1 convolution of dy with the spatially flipped, in/out-swapped
 * filter, which XNNPACK runs several times faster. For stride s, zero-stuffing dy would spend
 * s² of the work on zeros; instead the sub-pixel decomposition is used: input row i = r + s·j
 * (phase r) only receives the filter taps k ≡ r + padTop (mod s), so each phase is a stride-1
 * convolution of dy with a sub-filter of about f/s taps per dimension. Column phases read the
 * same dy rows, so for each row phase one convolution computes all column phases side by side
 * in its output channels ((rx, ci): already the interleaved layout of a dx row); the row phases
 * are then copied into every s-th row of dx. Measured faster than both zero-stuffing and one
 * convolution for all s² phases followed by a depth-to-space transpose (the shared filter of the
 * latter has ~1.8× the taps for 3×3, stride 2). Stride 1 is a single convolution, no copy.
 * Dilated convolutions keep wasm's original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasm, assertNHWC, convWithPads, free, heapF32, runWith, type Info, type KernelArgs } from './wasmOps.js';

/** Taps of a stride-1 correlation of dy that computes some phases of one spatial dimension. */
export interface PhasePlan {
  /** Outputs per phase: ceil(in / s), so the last phases may overshoot the input by one. */
  rows: number;
  /** Taps of the (combined) filter along this dimension. */
  taps: number;
  /** Padding of dy before the correlation (negative: crop). */
  padBefore: number;
  padAfter: number;
  /** phaseTap[i][a]: the original filter tap feeding tap a for the i-th requested phase (−1: none). */
  phaseTap: number[][];
}

/**
 * dx[r + s·j] = Σ_t dy[c_r + j − t] · w[k0_r + s·t] with k0_r = (r + padTop) mod s and
 * c_r = (r + padTop − k0_r) / s: phase r is a stride-1 correlation of dy at offsets
 * m = c_r − t. The plan covers m ∈ [mMin, mMax] over the requested phases, so phases with fewer
 * taps get zero taps. Returns null when none of the phases receives any tap (zero gradient).
 */
export function planPhases(inSize: number, dySize: number, f: number, s: number, padTop: number, phases: readonly number[]): PhasePlan | null {
  const rows = Math.ceil(inSize / s);
  const parts = phases.map((r) => {
    const k0 = (r + padTop) % s;
    return { k0, c: (r + padTop - k0) / s, t: k0 < f ? Math.ceil((f - k0) / s) : 0 };
  });
  let mMin = Infinity;
  let mMax = -Infinity;
  for (const { c, t } of parts) {
    if (t === 0) continue;
    mMin = Math.min(mMin, c - t + 1);
    mMax = Math.max(mMax, c);
  }
  if (mMax < mMin) return null;
  const taps = mMax - mMin + 1;
  const phaseTap = parts.map(({ k0, c, t }) => {
    const row = new Array<number>(taps).fill(-1);
    for (let u = 0; u < t; u++) row[c - u - mMin] = k0 + s * u;
    return row;
  });
  return { rows, taps, padBefore: -mMin, padAfter: rows + mMax - dySize, phaseTap };
}

/**
 * The filter [Lh, Lw, co, sw·ci] of one row phase and all column phases, from w [fh, fw, ci, co]:
 * output channel (rx, i) is input channel i of column phase rx.
 */
function phaseFilter(backend: BackendWasm, filter: Info, ph: PhasePlan, pw: PhasePlan): Info {
  const [, fw, ci, co] = filter.shape as [number, number, number, number];
  const shp = ph.phaseTap.length;
  const sw = pw.phaseTap.length;
  const oc = shp * sw * ci;
  const out = backend.makeOutput([ph.taps, pw.taps, co, oc], 'float32');
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, out);
  dst.fill(0);
  for (let a = 0; a < ph.taps; a++) {
    for (let ry = 0; ry < shp; ry++) {
      const ky = ph.phaseTap[ry][a];
      if (ky < 0) continue;
      for (let b = 0; b < pw.taps; b++) {
        const d0 = (a * pw.taps + b) * co * oc;
        for (let rx = 0; rx < sw; rx++) {
          const kx = pw.phaseTap[rx][b];
          if (kx < 0) continue;
          const s0 = (ky * fw + kx) * ci * co;
          const c0 = (ry * sw + rx) * ci;
          for (let i = 0; i < ci; i++) {
            for (let o = 0; o < co; o++) dst[d0 + o * oc + c0 + i] = src[s0 + i * co + o];
          }
        }
      }
    }
  }
  return out;
}

/** Builds the kernel around wasm's original one, which handles dilated convolutions. */
export function makeConv2DBackpropInputConfig(original: tf.KernelConfig): tf.KernelConfig {
  const fallback = original.kernelFunc;
  const conv2DBackpropInput = (args: KernelArgs): Info => {
    const backend = asWasm(args.backend);
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    assertNHWC(dataFormat, 'Conv2DBackpropInput');
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return runWith(fallback, backend, args.inputs, args.attrs);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info;
    const { filterHeight: fh, filterWidth: fw, padInfo, strideHeight: sh, strideWidth: sw } = info;
    const pw = planPhases(w, ow, fw, sw, padInfo.left, Array.from({ length: sw }, (_, r) => r));
    if (pw === null) throw new Error('Conv2DBackpropInput: no filter column reaches the input'); // f ≥ 1 makes this impossible
    // One convolution per row phase; its output row j is dx row ry + sh·j with the column
    // phases already interleaved in the channels: [n, rows, rows_w, (rx, ci)] = [n, rows, rows_w·sw, ci].
    const rowLen = w * ci;
    let dx: Info | null = null;
    for (let ry = 0; ry < sh; ry++) {
      const ph = planPhases(h, oh, fh, sh, padInfo.top, [ry]);
      let part: Info | null = null;
      if (ph !== null) {
        const f = phaseFilter(backend, filter, ph, pw);
        part = convWithPads(backend, 'Conv2D', dy, f, [1, 1], {
          top: ph.padBefore, bottom: ph.padAfter, left: pw.padBefore, right: pw.padAfter,
        });
        free(backend, f);
        if (sh === 1 && pw.rows * sw === w) return { ...part, shape: [n, h, w, ci] };
      }
      dx ??= backend.makeOutput([n, h, w, ci], 'float32');
      const dst = heapF32(backend, dx);
      const rows = Math.ceil(h / sh);
      if (part === null) {
        for (let b = 0; b < n; b++) {
          for (let j = 0, y = ry; y < h; j++, y += sh) dst.fill(0, (b * h + y) * rowLen, (b * h + y + 1) * rowLen);
        }
        continue;
      }
      const src = heapF32(backend, part);
      const srcLen = pw.rows * sw * ci;
      for (let b = 0; b < n; b++) {
        for (let j = 0, y = ry; y < h; j++, y += sh) {
          const s0 = (b * rows + j) * srcLen;
          dst.set(src.subarray(s0, s0 + rowLen), (b * h + y) * rowLen);
        }
      }
      free(backend, part);
    }
    if (dx === null) throw new Error('Conv2DBackpropInput: no output'); // sh ≥ 1 makes this impossible
    return dx;
  };
  // The original setupFunc binds its C++ entry point; keep it so the fallback works even when
  // this replacement is registered before the backend initialises.
  return { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc: conv2DBackpropInput };
}
