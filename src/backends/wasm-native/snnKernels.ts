/**
 * The SNN kernels of src/engine/snnKernels.ts on wasm through snn's addon
 * (native/snn_onednn.cc): the neuron's two loops, training BatchNorm and the optimizer updates
 * in C++ on all cores, reading and writing the tensors in the wasm heap in place. 'smooth'
 * firing (gradient checks only) runs the composed kernels.
 */
import * as tf from '@tensorflow/tfjs';
import {
  adamAttrsOf, batchNormAttrsOf, neuronAttrsOf, sgdAttrsOf, SnnAdamUpdate, SnnBatchNormTrain, SnnBatchNormTrainGrad,
  SnnNeuronBackward, SnnNeuronForward, SnnSgdUpdate, SURROGATE_NAMES, type NeuronAttrs,
} from '../../engine/snnKernels.js';
import { input, optionalInput } from '../composed/io.js';
import { neuronBackward, neuronForward } from '../composed/neuron.js';
import { adamUpdate, sgdUpdate } from '../composed/optimizer.js';
import type { NativeAddon } from './native.js';
import { asWasm, heapF32, type Info, type KernelArgs } from './kernels/wasmOps.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The recursion's constants as the addon takes them (after T and m). */
const recursion = (a: NeuronAttrs, k: number): [boolean, boolean, boolean, number, number, number] =>
  [a.leak, a.reset === 'hard', a.detachReset, k, a.threshold, a.vReset];

/** No other tensor shares `t`'s data, so writing it in place is safe. */
const sole = (backend: BackendWasm, t: Info): boolean => t.dtype === 'float32' && backend.refCount(t.dataId) === 1;

/** `t` itself as an output (its data was written in place). */
function same(backend: BackendWasm, t: Info): Info {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}

/**
 * `rewritten(w)` of heap.ts for a weight written in place: XNNPACK caches its packed weights
 * under the tensor's id.
 */
export function nativeSnnKernels(addon: NativeAddon, rewritten: (backend: BackendWasm, t: Info) => void): tf.KernelConfig[] {
  const backendName = 'wasm';
  const neuronFwd = (args: KernelArgs): Info[] | tf.Tensor[] => {
    const a = neuronAttrsOf(args.attrs ?? {});
    if (a.firing === 'smooth') return neuronForward(input(args.inputs, 'x'), input(args.inputs, 'decay'), a);
    const backend = asWasm(args.backend);
    const x = args.inputs['x'] as Info;
    const k = heapF32(backend, args.inputs['decay'] as Info)[0];
    const s = backend.makeOutput(x.shape, 'float32');
    const h = backend.makeOutput(x.shape, 'float32');
    const size = tf.util.sizeFromShape(x.shape);
    addon.lifForward(heapF32(backend, x), heapF32(backend, s), heapF32(backend, h), a.timesteps, size / a.timesteps, ...recursion(a, k));
    return [s, h];
  };
  const neuronBwd = (args: KernelArgs): Info[] | tf.Tensor[] => {
    const a = neuronAttrsOf(args.attrs ?? {});
    const x = a.decayGrad ? optionalInput(args.inputs, 'x') : null;
    if (a.decayGrad && x === null) throw new Error(`${SnnNeuronBackward}: decayGrad needs the input x`);
    if (a.firing === 'smooth') return neuronBackward(input(args.inputs, 'dy'), input(args.inputs, 'h'), input(args.inputs, 'decay'), x, a);
    const backend = asWasm(args.backend);
    const dy = args.inputs['dy'] as Info;
    const k = heapF32(backend, args.inputs['decay'] as Info)[0];
    const gx = backend.makeOutput(dy.shape, 'float32');
    const gk = backend.makeOutput([], 'float32');
    const size = tf.util.sizeFromShape(dy.shape);
    const dk = addon.lifBackward(
      heapF32(backend, dy), heapF32(backend, args.inputs['h'] as Info), null, x === null ? null : heapF32(backend, x), heapF32(backend, gx),
      a.timesteps, size / a.timesteps, ...recursion(a, k), SURROGATE_NAMES.indexOf(a.surrogate), a.alpha,
    );
    heapF32(backend, gk)[0] = dk;
    return [gx, gk];
  };
  const bnFwd = (args: KernelArgs): Info[] => {
    const backend = asWasm(args.backend);
    const { x, gamma, beta } = args.inputs as { x: Info; gamma: Info; beta: Info };
    const C = gamma.shape[0] ?? 1;
    const y = backend.makeOutput(x.shape, 'float32');
    const mean = backend.makeOutput([C], 'float32');
    const variance = backend.makeOutput([C], 'float32');
    const f = (t: Info): Float32Array => heapF32(backend, t);
    addon.bnForward(f(x), f(gamma), f(beta), f(y), f(mean), f(variance), tf.util.sizeFromShape(x.shape) / C, C, batchNormAttrsOf(args.attrs ?? {}).epsilon);
    return [y, mean, variance];
  };
  const bnBwd = (args: KernelArgs): Info[] => {
    const backend = asWasm(args.backend);
    const { dy, x, gamma, mean, variance } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance', Info>;
    const C = gamma.shape[0] ?? 1;
    const dx = backend.makeOutput(x.shape, 'float32');
    const dg = backend.makeOutput([C], 'float32');
    const db = backend.makeOutput([C], 'float32');
    const f = (t: Info): Float32Array => heapF32(backend, t);
    addon.bnBackward(f(x), f(dy), f(gamma), f(mean), f(variance), f(dx), f(dg), f(db), tf.util.sizeFromShape(x.shape) / C, C, batchNormAttrsOf(args.attrs ?? {}).epsilon);
    return [dx, dg, db];
  };
  const adam = (args: KernelArgs): Info[] | tf.Tensor[] => {
    const backend = asWasm(args.backend);
    const a = adamAttrsOf(args.attrs ?? {});
    const { w, g, m, v } = args.inputs as Record<'w' | 'g' | 'm' | 'v', Info>;
    // In place only when nobody else sees w, m, v: then they also keep their place in the heap
    // (new tensors every step land wherever the heap has room; on resnet19 at batch 128 that
    // scattering grew the heap by ~520 MB after the first step).
    if (g.dtype !== 'float32' || ![w, m, v].every((t) => sole(backend, t))) {
      return adamUpdate(input(args.inputs, 'w'), input(args.inputs, 'g'), input(args.inputs, 'm'), input(args.inputs, 'v'), a);
    }
    const wd = a.weightDecay;
    const mode = wd > 0 ? (a.decoupled ? 2 : 1) : 0;
    const f = (t: Info): Float32Array => heapF32(backend, t);
    addon.adamStep(
      f(w), f(g), f(m), f(v), a.lr, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.epsilon,
      1 - Math.pow(a.beta1, a.step), 1 - Math.pow(a.beta2, a.step), wd, 1 - a.lr * wd, mode,
    );
    rewritten(backend, w);
    return [same(backend, w), same(backend, m), same(backend, v)];
  };
  const sgd = (args: KernelArgs): Info[] | tf.Tensor[] => {
    const backend = asWasm(args.backend);
    const a = sgdAttrsOf(args.attrs ?? {});
    const { w, g } = args.inputs as Record<'w' | 'g', Info>;
    const buf = a.momentum > 0 ? (args.inputs['buf'] as Info | undefined) ?? null : null;
    if (a.momentum > 0 && buf === null) throw new Error(`${SnnSgdUpdate}: momentum needs the input buf`);
    if (g.dtype !== 'float32' || ![w, ...(buf ? [buf] : [])].every((t) => sole(backend, t))) {
      return sgdUpdate(input(args.inputs, 'w'), input(args.inputs, 'g'), buf === null ? null : input(args.inputs, 'buf'), a);
    }
    addon.sgdStep(heapF32(backend, w), heapF32(backend, g), buf && heapF32(backend, buf), a.lr, a.weightDecay, a.momentum, a.first, a.nesterov);
    rewritten(backend, w);
    return buf === null ? [same(backend, w)] : [same(backend, w), same(backend, buf)];
  };
  const kernelFunc = (f: (args: KernelArgs) => Info[] | tf.Tensor[]): tf.KernelFunc => f as unknown as tf.KernelFunc;
  return [
    { kernelName: SnnNeuronForward, backendName, kernelFunc: kernelFunc(neuronFwd) },
    { kernelName: SnnNeuronBackward, backendName, kernelFunc: kernelFunc(neuronBwd) },
    { kernelName: SnnBatchNormTrain, backendName, kernelFunc: kernelFunc(bnFwd) },
    { kernelName: SnnBatchNormTrainGrad, backendName, kernelFunc: kernelFunc(bnBwd) },
    { kernelName: SnnAdamUpdate, backendName, kernelFunc: kernelFunc(adam) },
    { kernelName: SnnSgdUpdate, backendName, kernelFunc: kernelFunc(sgd) },
  ];
}
