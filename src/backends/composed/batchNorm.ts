/**
 * SnnBatchNormTrain and its gradient from standard tfjs ops (equations in
 * src/engine/snnKernels.ts). The forward pass is the same ops, in the same order, as the
 * inference BatchNorm of src/models/layers.ts, so training and the composed reference agree to
 * the bit; the gradient is the closed form rather than autodiff through tf.moments.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormAttrsOf, SnnBatchNormTrain, SnnBatchNormTrainGrad } from '../../engine/snnKernels.js';
import { input } from './io.js';

const rowAxes = (x: tf.Tensor): number[] => x.shape.slice(0, -1).map((_, i) => i);

export function batchNormForward(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, rowAxes(x));
    const scale = gamma.mul(tf.rsqrt(variance.add(eps)));
    const shift = beta.sub(mean.mul(scale));
    return [x.mul(scale).add(shift), mean, variance];
  });
}

export function batchNormBackward(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, eps: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const axes = rowAxes(x);
    const M = x.size / gamma.size;
    const inv = tf.rsqrt(variance.add(eps));
    const xhat = x.sub(mean).mul(inv);
    const dBeta = dy.sum(axes);
    const dGamma = dy.mul(xhat).sum(axes);
    const dx = dy.mul(M).sub(dBeta).sub(xhat.mul(dGamma)).mul(gamma.mul(inv).div(M));
    return [dx, dGamma, dBeta];
  });
}

export const composedBatchNormKernels = (backendName: string): tf.KernelConfig[] => [
  {
    kernelName: SnnBatchNormTrain,
    backendName,
    kernelFunc: ({ inputs, attrs }) =>
      batchNormForward(input(inputs, 'x'), input(inputs, 'gamma'), input(inputs, 'beta'), batchNormAttrsOf(attrs ?? {}).epsilon),
  },
  {
    kernelName: SnnBatchNormTrainGrad,
    backendName,
    kernelFunc: ({ inputs, attrs }) =>
      batchNormBackward(
        input(inputs, 'dy'), input(inputs, 'x'), input(inputs, 'gamma'), input(inputs, 'mean'), input(inputs, 'variance'),
        batchNormAttrsOf(attrs ?? {}).epsilon,
      ),
  },
];
