/// <reference types="@webgpu/types" />
/**
 * Runs one WGSL compute shader of snn's on tfjs's webgpu backend, with several outputs.
 *
 * tfjs-backend-webgpu's public `runWebGPUProgram` binds a single output and wraps the shader in
 * its own preamble; the neuron kernels write two tensors in one pass (spikes and membrane), so
 * this module records the dispatch itself into the backend's command encoder, the way
 * `runWebGPUProgram` does (same compute pass, same deferred-submit batching, the tensors marked
 * as owned by the pending commands so that their buffers are not reused before the submit).
 * It relies on the members of tfjs-backend-webgpu 4.22 listed in `WebgpuInternals`.
 *
 * Binding layout of every shader: outputs first (read_write storage, in order), then inputs
 * (read-only storage), then one uniform struct of 12 scalars. One invocation per index
 * 0 … count−1, workgroups of 64 laid out in x then y (x ≤ 65535).
 */
import * as tf from '@tensorflow/tfjs';

/** One scalar of the uniform struct: WGSL `u32` or `f32`. */
export type Uniform = { type: 'uint32' | 'float32'; value: number };

/** Members of tfjs-backend-webgpu 4.22's WebGPUBackend this module uses beyond its typed API. */
interface WebgpuInternals {
  device: GPUDevice;
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
  tensorToBinding(t: tf.TensorInfo): GPUBufferBinding;
  makeUniforms(u: { type: string; data: number[] }[]): GPUBufferBinding;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers: unknown;
}

export const WORKGROUP = 64;
const MAX_X = 65535;
const UNIFORM_SLOTS = 12;

/** The webgpu backend of a kernel call, checked for the members this module needs. */
export function asWebgpu(backend: unknown): WebgpuInternals {
  const b = backend as Partial<WebgpuInternals> | null;
  if (b === null || typeof b !== 'object' || b.device === undefined || typeof b.makeUniforms !== 'function' || typeof b.tensorToBinding !== 'function') {
    throw new Error('snn webgpu kernels: not a tfjs-backend-webgpu 4.x backend');
  }
  return b as WebgpuInternals;
}

/** The index of this invocation, from the workgroup grid of `dispatchShader` (WGSL). */
export const INDEX_WGSL = `
fn flatIndex(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * ${WORKGROUP}u + lid.x;
}`;

/** The uniform struct's declaration for `fields` (at most 12; the rest is padding). */
export function uniformStruct(fields: { name: string; type: 'u32' | 'f32' }[], binding: number): string {
  const pad = Array.from({ length: UNIFORM_SLOTS - fields.length }, (_, i) => `  pad${i}: u32,`);
  return `struct Params {\n${fields.map((f) => `  ${f.name}: ${f.type},`).join('\n')}\n${pad.join('\n')}\n};\n@group(0) @binding(${binding}) var<uniform> p: Params;`;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, key: string, code: () => string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (cache === undefined) {
    cache = new Map();
    pipelines.set(device, cache);
  }
  let p = cache.get(key);
  if (p === undefined) {
    const module = device.createShaderModule({ code: code(), label: key });
    p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
    cache.set(key, p);
  }
  return p;
}

/** A new tensor (float32 unless given) on the device for a shader to write. */
export function deviceOutput(backend: WebgpuInternals, shape: number[], dtype: tf.DataType = 'float32'): tf.TensorInfo {
  const t = backend.makeTensorInfo(shape, dtype);
  backend.uploadToGPU(t.dataId);
  return t;
}

/**
 * Records `code` (compiled once per `key`) over `count` invocations, bound to `outputs`,
 * `inputs` and `uniforms` in that order.
 */
export function dispatchShader(
  backend: WebgpuInternals,
  key: string,
  code: () => string,
  outputs: tf.TensorInfo[],
  inputs: tf.TensorInfo[],
  uniforms: Uniform[],
  count: number,
): void {
  if (uniforms.length > UNIFORM_SLOTS) throw new Error(`${key}: more than ${UNIFORM_SLOTS} uniforms`);
  const pipeline = pipelineFor(backend.device, key, code);
  const tensors = [...outputs, ...inputs];
  for (const t of tensors) backend.uploadToGPU(t.dataId);
  const padded = [...uniforms, ...Array.from({ length: UNIFORM_SLOTS - uniforms.length }, (): Uniform => ({ type: 'uint32', value: 0 }))];
  const uniformBinding = backend.makeUniforms(padded.map((u) => ({ type: u.type, data: [u.value] })));
  const entries: GPUBindGroupEntry[] = [...tensors.map((t, i) => ({ binding: i, resource: backend.tensorToBinding(t) })), { binding: tensors.length, resource: uniformBinding }];
  const bindGroup = backend.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  for (const t of tensors) backend.commandQueueOwnedIds.add(t.dataId);
  const groups = Math.max(1, Math.ceil(count / WORKGROUP));
  const gx = Math.min(groups, MAX_X);
  const gy = Math.ceil(groups / gx);
  backend.ensureCommandEncoderReady();
  if (backend.computePassEncoder === null || backend.computePassEncoder === undefined) {
    backend.computePassEncoder = backend.commandEncoder.beginComputePass({});
  }
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, bindGroup);
  backend.computePassEncoder.dispatchWorkgroups(gx, gy, 1);
  backend.dispatchCountInPass++;
  const batch = tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
  if (backend.activeTimers !== null && backend.activeTimers !== undefined) {
    // A profiling scope (tf.time) expects each program in its own pass; submit right away.
    backend.endComputePassEncoder();
    backend.submitQueue();
  } else if (batch <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}
