/**
 * The neuron kernels of the engine boundary (SnnNeuronForward, SnnNeuronBackward) for the
 * 'webgpu' backend: each is one WGSL dispatch over all T time steps (neuronWgsl.ts), plus, for
 * PLIF's ∂L/∂k only, a one-workgroup sum of the per-neuron partial sums. Nothing is read back
 * to the host.
 *
 *   SnnNeuronForward   inputs x [T·m], decay []          outputs [s, h]
 *   SnnNeuronBackward  inputs dy, h, decay, x (decayGrad) outputs [dx, dDecay]
 *
 * Names, attributes and equations: src/engine/snnKernels.ts (the engine boundary).
 */
import * as tf from '@tensorflow/tfjs';
import {
  neuronAttrsOf, SnnNeuronBackward, SnnNeuronForward, SURROGATE_NAMES, type NeuronBackwardAttrs,
} from '../../engine/snnKernels.js';
import { asWebgpu, deviceOutput, dispatchShader, type Uniform } from './dispatch.js';
import { backwardShader, forwardShader, SUM_WGSL, variantKey, type NeuronVariant } from './neuronWgsl.js';

/** The attributes, checked: a GPU kernel has no way to report a bad value later. */
function attrsOf(kernel: string, attrs: tf.NamedAttrMap | undefined): NeuronBackwardAttrs {
  const a = neuronAttrsOf(attrs ?? {});
  const bad = (what: string): never => {
    throw new Error(`${kernel} (webgpu): ${what}`);
  };
  if (!Number.isInteger(a.timesteps) || a.timesteps < 1) bad(`timesteps must be a positive integer, got ${String(a.timesteps)}`);
  if (a.reset !== 'hard' && a.reset !== 'soft') bad(`reset must be hard or soft, got ${String(a.reset)}`);
  if (!(SURROGATE_NAMES as readonly string[]).includes(a.surrogate)) bad(`unknown surrogate ${String(a.surrogate)}`);
  if (a.firing !== 'heaviside' && a.firing !== 'smooth') bad(`firing must be heaviside or smooth, got ${String(a.firing)}`);
  for (const k of ['threshold', 'vReset', 'alpha'] as const) if (!Number.isFinite(a[k])) bad(`${k} must be a finite number`);
  return a;
}

function variantOf(a: NeuronBackwardAttrs, decayGrad: boolean): NeuronVariant {
  return { leak: a.leak, hard: a.reset === 'hard', detachReset: a.detachReset, surrogate: a.surrogate, smooth: a.firing === 'smooth', decayGrad };
}

function uniformsOf(a: NeuronBackwardAttrs, m: number): Uniform[] {
  return [
    { type: 'uint32', value: m },
    { type: 'uint32', value: a.timesteps },
    { type: 'float32', value: a.threshold },
    { type: 'float32', value: a.vReset },
    { type: 'float32', value: a.alpha },
  ];
}

function neuronCount(kernel: string, shape: number[], T: number): number {
  const size = tf.util.sizeFromShape(shape);
  if (size % T !== 0) throw new Error(`${kernel} (webgpu): ${size} values are not ${T} equal time steps`);
  return size / T;
}

function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${kernel} (webgpu): input '${name}' is missing`);
  return t;
}

const forward: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrsOf(SnnNeuronForward, attrs);
  const b = asWebgpu(backend);
  const x = input(inputs, 'x', SnnNeuronForward);
  const m = neuronCount(SnnNeuronForward, x.shape, a.timesteps);
  const v = variantOf(a, false);
  const s = deviceOutput(b, x.shape);
  const h = deviceOutput(b, x.shape);
  const ins = v.leak ? [x, input(inputs, 'decay', SnnNeuronForward)] : [x];
  dispatchShader(b, `snn-neuron-forward-${variantKey(v)}`, () => forwardShader(v), [s, h], ins, uniformsOf(a, m), m);
  return [s, h];
};

const backward: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrsOf(SnnNeuronBackward, attrs);
  const b = asWebgpu(backend);
  const dy = input(inputs, 'dy', SnnNeuronBackward);
  const h = input(inputs, 'h', SnnNeuronBackward);
  const decayGrad = a.decayGrad === true;
  const m = neuronCount(SnnNeuronBackward, dy.shape, a.timesteps);
  const v = variantOf(a, decayGrad);
  const dx = deviceOutput(b, dy.shape);
  const ins = [dy, h, ...(v.leak ? [input(inputs, 'decay', SnnNeuronBackward)] : []), ...(decayGrad ? [input(inputs, 'x', SnnNeuronBackward)] : [])];
  if (!decayGrad) {
    dispatchShader(b, `snn-neuron-backward-${variantKey(v)}`, () => backwardShader(v), [dx], ins, uniformsOf(a, m), m);
    return [dx, b.makeTensorInfo([], 'float32', new Float32Array([0]))];
  }
  const part = deviceOutput(b, [m]);
  dispatchShader(b, `snn-neuron-backward-${variantKey(v)}`, () => backwardShader(v), [dx, part], ins, uniformsOf(a, m), m);
  const dDecay = deviceOutput(b, []);
  dispatchShader(b, 'snn-sum', () => SUM_WGSL, [dDecay], [part], [{ type: 'uint32', value: m }], 1);
  // `part` is ours alone; the pending dispatch keeps its buffer until the submit.
  (backend as tf.KernelBackend).disposeData(part.dataId);
  return [dx, dDecay];
};

export const webgpuNeuronKernels: tf.KernelConfig[] = [
  { kernelName: SnnNeuronForward, backendName: 'webgpu', kernelFunc: forward },
  { kernelName: SnnNeuronBackward, backendName: 'webgpu', kernelFunc: backward },
];
