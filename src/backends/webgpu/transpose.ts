/**
 * Transpose for 'webgpu', for the 2-D case tfjs-backend-webgpu 4.22 cannot dispatch: its tiled
 * 2-D transpose runs 16×16 workgroups over the output's two dimensions and throws "Dispatch
 * size exceeds WebGPU limits in Y or Z dimension" once either exceeds 16 × 65535. Training hits
 * it in reductions over the first axis of a large [T, m] tensor (tfjs sums axis 0 by transposing
 * first), e.g. the gradient of the direct encoding's repeat over time, m = N·H·W·C of the first
 * convolution: 4·10⁶ for the reference CNN at batch 32.
 *
 * Such transposes run here as a flat copy, out[j, i] = x[i, j], one invocation per element
 * (4-byte values copied as bits: float32 and int32); every other transpose goes to the shipped
 * kernel. The reductions that transpose internally are wrapped the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { asWebgpu, deviceOutput, dispatchShader, INDEX_WGSL, uniformStruct, WORKGROUP } from './dispatch.js';

/** The shipped kernel's tile side and WebGPU's default workgroups per dimension. */
const TILE = 16;
const MAX_GROUPS = 65535;

const SHADER = `
@group(0) @binding(0) var<storage, read_write> y: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<u32>;
${uniformStruct([{ name: 'rows', type: 'u32' }, { name: 'cols', type: 'u32' }], 2)}
${INDEX_WGSL}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(wid, lid, nwg);
  if (i >= p.rows * p.cols) { return; }
  let r = i / p.cols;
  let c = i % p.cols;
  y[c * p.rows + r] = x[i];
}`;

/** Whether the shipped tiled kernel would exceed the dispatch limit for this transpose. */
export function tooLargeForTiles(shape: readonly number[], perm: readonly number[]): boolean {
  return shape.length === 2 && perm[0] === 1 && perm[1] === 0 && Math.max(shape[0], shape[1]) > TILE * MAX_GROUPS;
}

const copyable = (t: tf.TensorInfo): boolean => t.dtype === 'float32' || t.dtype === 'int32';

/** x [rows, cols] → [cols, rows] by the flat copy. */
function flatTranspose(backend: unknown, x: tf.TensorInfo): tf.TensorInfo {
  const b = asWebgpu(backend);
  const [rows, cols] = x.shape as [number, number];
  const y = deviceOutput(b, [cols, rows], x.dtype);
  dispatchShader(b, 'snn-transpose-2d', () => SHADER, [y], [x], [{ type: 'uint32', value: rows }, { type: 'uint32', value: cols }], rows * cols);
  return y;
}

/** Transpose that sends the too-large 2-D case to the flat copy and the rest to `shipped`. */
export function webgpuTransposeConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const { perm } = args.attrs as unknown as tf.TransposeAttrs;
    if (!tooLargeForTiles(x.shape, perm) || !copyable(x)) return shipped.kernelFunc(args);
    return flatTranspose(args.backend, x);
  };
  return { ...shipped, kernelFunc };
}

/**
 * A reduction (Sum, Mean, Max, Min) whose shipped kernel transposes first: over axis 0 of a
 * 2-D x it calls the tiled transpose directly, not through the kernel registry. That case is
 * transposed here by the flat copy and reduced over axis 1; everything else goes to `shipped`.
 */
export function webgpuReduceConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    if (x.shape.length !== 2 || axes.length !== 1 || axes[0] !== 0 || keepDims || !copyable(x) || !tooLargeForTiles(x.shape, [1, 0])) {
      return shipped.kernelFunc(args);
    }
    const xt = flatTranspose(args.backend, x);
    const out = shipped.kernelFunc({ ...args, inputs: { x: xt }, attrs: { ...args.attrs, axis: [1], keepDims: false } });
    (args.backend as tf.KernelBackend).disposeData(xt.dataId);
    return out;
  };
  return { ...shipped, kernelFunc };
}
