/**
 * Optimizers with PyTorch's update rules (so hyper-parameters carry over from papers), over
 * named variables, with a state that is saved in checkpoints so a resumed run continues
 * exactly.
 *
 * SGD:   g ← ∇ + λw;  b ← μb + g (b = g at the first step);  w ← w − η (nesterov ? g + μb : b)
 * Adam:  g ← ∇ + λw;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − η m̂ / (√v̂ + ε)
 * AdamW: Adam without λ in g, and w ← w (1 − ηλ) first (decoupled weight decay).
 *
 * On wasm with snn's addon the update runs in place in C++ (adamStep, sgdStep in
 * native/snn_onednn.cc): the same float32 operations in the same order, so the same bits.
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../config/schema.js';
import { nativeHeap, type NativeHeap } from '../engine/heap.js';

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

  const sgd = (key: string, w: tf.Variable, g0: tf.Tensor, lr: number, heap: NativeHeap | null): void => {
    const buf = cfg.momentum > 0 ? slot(`${key}.momentum`, w) : null;
    if (heap !== null && g0.dtype === 'float32' && [w, ...(buf ? [buf] : [])].every((x) => heap.sole(x))) {
      // In place, as Adam below.
      heap.addon.sgdStep(heap.view(w), heap.view(g0), buf && heap.view(buf), lr, wd, cfg.momentum, t === 1, cfg.nesterov);
      heap.rewritten(w);
      return;
    }
    const g = wd > 0 ? g0.add(w.mul(wd)) : g0;
    let d = g;
    if (buf) {
      const nb = t === 1 ? g : buf.mul(cfg.momentum).add(g);
      buf.assign(nb);
      d = cfg.nesterov ? g.add(nb.mul(cfg.momentum)) : nb;
    }
    w.assign(w.sub(d.mul(lr)));
  };

  const adam = (key: string, w: tf.Variable, g0: tf.Tensor, lr: number, decoupled: boolean, heap: NativeHeap | null): void => {
    const m = slot(`${key}.exp_avg`, w);
    const v = slot(`${key}.exp_avg_sq`, w);
    if (heap !== null && g0.dtype === 'float32' && [w, m, v].every((t) => heap.sole(t))) {
      // In place: the same float32 maths, but w, m and v keep their place in the wasm heap. The
      // composed ops below allocate new ones every step, wherever the heap has room; on
      // resnet19 at batch 128 that scattering grew the heap by ~520 MB after the first step
      // (~150 MB with SGD).
      const mode = wd > 0 ? (decoupled ? 2 : 1) : 0;
      heap.addon.adamStep(
        heap.view(w), heap.view(g0), heap.view(m), heap.view(v),
        lr, cfg.beta1, 1 - cfg.beta1, cfg.beta2, 1 - cfg.beta2, cfg.eps,
        1 - Math.pow(cfg.beta1, t), 1 - Math.pow(cfg.beta2, t), wd, 1 - lr * wd, mode,
      );
      heap.rewritten(w); // m and v feed no cached kernel, but w may be a MatMul's weights
      return;
    }
    const g = !decoupled && wd > 0 ? g0.add(w.mul(wd)) : g0;
    m.assign(m.mul(cfg.beta1).add(g.mul(1 - cfg.beta1)));
    v.assign(v.mul(cfg.beta2).add(g.square().mul(1 - cfg.beta2)));
    const c1 = 1 - Math.pow(cfg.beta1, t);
    const c2 = 1 - Math.pow(cfg.beta2, t);
    const base = decoupled && wd > 0 ? w.mul(1 - lr * wd) : w;
    const upd = m.div(c1).div(v.div(c2).sqrt().add(cfg.eps)).mul(lr);
    w.assign(base.sub(upd));
  };

  return {
    step(grads, lr) {
      t += 1;
      const heap = nativeHeap();
      tf.tidy(() => {
        for (const [key, w] of params) {
          const g = grads.get(key);
          if (!g) continue;
          if (cfg.name === 'sgd') sgd(key, w, g, lr, heap);
          else adam(key, w, g, lr, cfg.name === 'adamw', heap);
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
