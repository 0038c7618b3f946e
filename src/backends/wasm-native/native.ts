/**
 * snn's optional native kernels (native/snn_onednn.cc): oneDNN convolutions on all cores,
 * working in place on the wasm heap. Built by `npm run build:native` (or npm's postinstall when
 * g++ and libdnnl-dev are present); when the addon is missing or `SNN_NATIVE=off`, the wasm
 * backend keeps its own kernels and this module says why.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import { internalsUsable } from './versions.js';

/** conv2d's `mode`: which of the three convolutions of a layer to compute. */
export const ConvMode = { Forward: 0, BackwardData: 1, BackwardWeights: 2 } as const;
export type ConvMode = (typeof ConvMode)[keyof typeof ConvMode];

/** The addon's functions, as native/snn_onednn.cc defines them. */
export interface NativeAddon {
  /** See native/snn_onednn.cc for the argument order; geometry as 17 integers. */
  conv2d(mode: ConvMode, a: Float32Array, b: Float32Array, out: Float32Array, ...geometry: number[]): void;
  /** Average pooling, padding excluded from the count; mode 0 forward (x → y), 1 backward (dy → dx). */
  avgPool(mode: 0 | 1, a: Float32Array, out: Float32Array, ...geometry: number[]): void;
  /** Multi-step LIF forward over [T, m] (src/snn/lif.ts); writes s and h, returns the spike count. */
  lifForward(x: Float32Array, s: Float32Array, h: Float32Array, T: number, m: number, leak: boolean, hard: boolean, detach: boolean, k: number, vth: number, vr: number): number;
  /** BPTT; writes gx, returns ∂L/∂(1/τ) when x is given; s null: recomputed from h. `surrogate`: index in SURROGATE_KINDS. */
  lifBackward(
    gs: Float32Array, h: Float32Array, s: Float32Array | null, x: Float32Array | null, gx: Float32Array,
    T: number, m: number, leak: boolean, hard: boolean, detach: boolean, k: number, vth: number, vr: number,
    surrogate: number, alpha: number,
  ): number;
  /** Training BatchNorm over the rows of [M, C]: writes y, the batch mean and the biased variance. */
  bnForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, M: number, C: number, eps: number): void;
  bnBackward(
    x: Float32Array, dy: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, M: number, C: number, eps: number,
  ): void;
  /**
   * One Adam/AdamW step in place on w, m and v (bit-identical to src/train/optimizer.ts's
   * composed ops). mode 0: no weight decay, 1: L2 added to the gradient, 2: decoupled.
   */
  adamStep(
    w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
    lr: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number,
    c1: number, c2: number, weightDecay: number, decay: number, mode: 0 | 1 | 2,
  ): void;
  /** One SGD step in place on w and the momentum buffer (null without momentum), as adamStep. */
  sgdStep(w: Float32Array, g: Float32Array, buf: Float32Array | null, lr: number, weightDecay: number, momentum: number, first: boolean, nesterov: boolean): void;
  /** Packs x into bits (ceil(n/8) bytes, least significant first); false if a value is neither 0 nor 1 (bits then meaningless). */
  packBinary(x: Float32Array, bits: Uint8Array): boolean;
  unpackBinary(bits: Uint8Array, x: Float32Array): void;
  setThreads(n: number): void;
  /** Kernels below `macs` multiply-adds (convolutions) or `elements` (the rest) run on one thread; 0, 0: never. */
  setSerialWork(macs: number, elements: number): void;
  /** ADDON_INTERFACE of the sources it was built from. */
  interfaceVersion: number;
  info(): { onednn: string; threads: number; isa: string; serialMacs: number; serialElems: number };
}

export interface NativeStatus {
  /** The addon, or null with the reason in `why`. */
  addon: NativeAddon | null;
  why: string;
  /** "oneDNN 2.6.3, 2 threads, avx512_core" when loaded. */
  description: string | null;
  threads: number;
}

let status: NativeStatus | undefined;

/** One line on stderr for an environment setting that is ignored (it is not worth a failed run). */
function ignored(name: string, raw: string, want: string): void {
  process.stderr.write(`snn: ${name}=${JSON.stringify(raw)} ignored: expected ${want}\n`);
}

/** Threads for the native kernels: SNN_THREADS, else every core this process may use. */
function threadCount(): number {
  const raw = process.env['SNN_THREADS'];
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 1) return n;
    ignored('SNN_THREADS', raw, 'a positive integer');
  }
  return availableParallelism();
}

/** The surrogates in the order native/snn_onednn.cc numbers them. */
export const SURROGATE_KINDS = ['sigmoid', 'atan', 'rectangle', 'triangle'] as const;

const FUNCTIONS = ['conv2d', 'avgPool', 'lifForward', 'lifBackward', 'bnForward', 'bnBackward', 'adamStep', 'sgdStep', 'packBinary', 'unpackBinary', 'setThreads', 'setSerialWork', 'info'] as const;

/**
 * SNN_SERIAL_WORK="MACS,ELEMENTS" overrides the addon's one-thread cut-offs (see ThreadPolicy in
 * native/snn_onednn.cc; "0,0" parallelises every kernel). Unset: the addon's own; malformed: the
 * same, with one line on stderr.
 */
function serialWork(): [number, number] | null {
  const raw = process.env['SNN_SERIAL_WORK'];
  if (raw === undefined || raw === '') return null;
  const parts = raw.split(',').map((v) => (v.trim() === '' ? Number.NaN : Number(v)));
  if (parts.length !== 2 || !parts.every((v) => Number.isFinite(v) && v >= 0)) {
    ignored('SNN_SERIAL_WORK', raw, 'MACS,ELEMENTS (two numbers ≥ 0)');
    return null;
  }
  return [parts[0], parts[1]];
}

/**
 * The interface native/snn_onednn.cc exports as `interfaceVersion`; raised with every change of
 * a function's arguments or meaning, so that an addon built from older sources is not called
 * with the new argument order.
 */
export const ADDON_INTERFACE = 2;

/** Why `m` is not an addon this code can call, or null. */
export function addonProblem(m: unknown, file: string): string | null {
  if (typeof m !== 'object' || m === null) return `${file} is not snn's addon`;
  const version = (m as { interfaceVersion?: unknown }).interfaceVersion;
  if (version !== ADDON_INTERFACE) {
    return `${file} has interface ${typeof version === 'number' ? version : 'none'}, this snn needs ${ADDON_INTERFACE}: rebuild it (npm run build:native)`;
  }
  const missing = FUNCTIONS.filter((f) => typeof (m as Record<string, unknown>)[f] !== 'function');
  return missing.length === 0 ? null : `${file} lacks ${missing.join(', ')}: rebuild it (npm run build:native)`;
}

/** Loads the addon once (later calls return the same status). */
export function nativeStatus(): NativeStatus {
  if (status !== undefined) return status;
  const off = (why: string): NativeStatus => ({ addon: null, why, description: null, threads: 1 });
  const setting = process.env['SNN_NATIVE'];
  if (setting === 'off' || setting === '0') return (status = off('SNN_NATIVE=off'));
  const versions = internalsUsable();
  if (versions !== null) return (status = off(versions));
  const file = join(packageRoot(), 'native', 'build', 'snn_onednn.node');
  // libgomp reads its wait policy once, when it loads. Passive workers sleep between parallel
  // regions instead of spinning, so they never steal the core that runs the JS and wasm ops
  // (and parallel runs of a sweep do not spin against each other).
  process.env['OMP_WAIT_POLICY'] ??= 'PASSIVE';
  let addon: unknown;
  try {
    addon = createRequire(import.meta.url)(file);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
    const why = code === 'MODULE_NOT_FOUND' ? 'not built (npm run build:native)' : `failed to load: ${String(e).split('\n')[0]}`;
    return (status = off(why));
  }
  const problem = addonProblem(addon, file);
  if (problem !== null) {
    // A stale build is worth a line: the user built it and expects it to run.
    process.stderr.write(`snn: native kernels off: ${problem}\n`);
    return (status = off(problem));
  }
  const native = addon as NativeAddon; // addonProblem checked every function
  const threads = threadCount();
  native.setThreads(threads);
  const serial = serialWork();
  if (serial !== null) native.setSerialWork(serial[0], serial[1]);
  const info = native.info();
  return (status = { addon: native, why: '', description: `oneDNN ${info.onednn}, ${threads} thread${threads === 1 ? '' : 's'}, ${info.isa}`, threads });
}
