/**
 * Optimizers with PyTorch's update rules (so hyper-parameters carry over from papers), over
 * named variables, with a state that is saved in checkpoints so a resumed run continues
 * exactly.
 *
 * SGD:   g ← ∇ + λw;  b ← μb + g (b = g at the first step);  w ← w − η (nesterov ? g + μb : b)
 * Adam:  g ← ∇ + λw;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − η m̂ / (√v̂ + ε)
 * AdamW: Adam without λ in g, and w ← w (1 − ηλ) first (decoupled weight decay).
 *
 * Each update is one engine kernel (SnnAdamUpdate, SnnSgdUpdate in src/engine/snnKernels.ts);
 * on wasm with snn's addon it runs in place in C++: the same float32 operations in the same
 * order as the composed version, so the same bits.
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../config/schema.js';
import { adamUpdate, sgdUpdate } from '../engine/snnOps.js';

export interface Optimizer {
  /** Applies one update with learning rate `lr`; `grads` keyed like `params`. */
  step(grads: Map<string, tf.Tensor>, lr: number): void;
  /** Named state tensors (copies) and the step count, for checkpoints. */
  state(): { step: number; tensors: Map<string, tf.Tensor> };
  load(step: number, tensors: Map<string, tf.Tensor>): void;
  dispose(): void;
}

export function createOptimizer(cfg: OptimizerConfig, params: Map<string, tf.Variable>): Optimizer {
  const slots = new Map<string, tf.Variable>();
  let t = 0;
  const slot = (name: string, like: tf.Tensor): tf.Variable => {
    let v = slots.get(name);
    if (!v) {
      // Disposed at once so that the variable is the only holder of its data (see `sole`).
      const zeros = tf.zerosLike(like);
      v = tf.variable(zeros, false);
      zeros.dispose();
      slots.set(name, v);
    }
    return v;
  };
  const wd = cfg.weightDecay;
  if (cfg.name !== 'sgd' || cfg.momentum > 0) {
    // Adam's moments (SGD's momentum buffer) are made now, beside the parameters, rather than at
    // the first step, where they would land in the gaps the first step's activations leave in
    // the wasm heap and split the space later steps need whole.
    for (const [key, w] of params) {
      if (cfg.name === 'sgd') slot(`${key}.momentum`, w);
      else {
        slot(`${key}.exp_avg`, w);
        slot(`${key}.exp_avg_sq`, w);
      }
    }
  }

  const sgd = (key: string, w: tf.Variable, g: tf.Tensor, lr: number): void => {
    const buf = cfg.momentum > 0 ? slot(`${key}.momentum`, w) : null;
    sgdUpdate(w, g, buf, { lr, weightDecay: wd, momentum: cfg.momentum, nesterov: cfg.nesterov, first: t === 1 });
  };

  const adam = (key: string, w: tf.Variable, g: tf.Tensor, lr: number, decoupled: boolean): void => {
    // In place where the backend can (native): w, m and v then keep their place in the wasm heap.
    adamUpdate(w, g, slot(`${key}.exp_avg`, w), slot(`${key}.exp_avg_sq`, w), {
      lr, beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.eps, step: t, weightDecay: wd, decoupled,
    });
  };

  return {
    step(grads, lr) {
      t += 1;
      tf.tidy(() => {
        for (const [key, w] of params) {
          const g = grads.get(key);
          if (!g) continue;
          if (cfg.name === 'sgd') sgd(key, w, g, lr);
          else adam(key, w, g, lr, cfg.name === 'adamw');
        }
      });
    },
    state() {
      const tensors = new Map<string, tf.Tensor>();
      for (const [k, v] of slots) tensors.set(k, v.clone());
      return { step: t, tensors };
    },
    load(step, tensors) {
      t = step;
      for (const [k, v] of tensors) {
        const s = slots.get(k);
        if (s) s.assign(v);
        else slots.set(k, tf.tidy(() => tf.variable(v.clone(), false)));
      }
    },
    dispose() {
      for (const v of slots.values()) v.dispose();
      slots.clear();
    },
  };
}
