/**
 * One optimisation step: the objective's loss and gradients on a batch, its numbers read from
 * the device in one wait (the WebGPU backend reads only asynchronously), then the optimizer
 * update, applied only when the loss is finite (the caller applies `train.onNonFinite`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config/schema.js';
import type { SourceBatch } from './dataSource.js';
import type { Objective } from '../losses/objective.js';
import { readScalars } from '../engine/hostReads.js';
import { stepHook } from '../util/testHooks.js';
import type { Optimizer } from './optimizer.js';

/** What a step needs besides its batch: built once per training session. */
export interface Stepper {
  cfg: Config;
  objective: Objective;
  opt: Optimizer;
  /** Variable name → the objective's parameter key (the optimizer's names). */
  keyOf: Map<string, string>;
  vars: tf.Variable[];
}

export function createStepper(cfg: Config, objective: Objective, opt: Optimizer): Stepper {
  return {
    cfg,
    objective,
    opt,
    keyOf: new Map<string, string>([...objective.params].map(([k, v]) => [v.name, k])),
    vars: [...objective.params.values()],
  };
}

export interface StepNumbers {
  /** The objective's total; not finite when the step was not applied. */
  loss: number;
  /** Correct predictions of the SNN (and of the TNA twin, 0 without one) in the batch. */
  hits: number;
  twinHits: number;
  /** The objective's named terms (loss_ce, loss_match, …). */
  terms: Record<string, number>;
}

/** Scales the gradients to global norm `maxNorm` when larger; `squares` holds Σg² of each. */
function globalNormClip(grads: Map<string, tf.Tensor>, squares: readonly number[], maxNorm: number): Map<string, tf.Tensor> {
  const norm = Math.sqrt(squares.reduce((s, q) => s + q, 0));
  if (norm <= maxNorm) return grads;
  const k = maxNorm / (norm + 1e-6);
  return new Map([...grads].map(([n, g]) => [n, g.mul(k)]));
}

/**
 * Step number `step` (0-based, over the run) at learning rate `lr`. `where` locates it for the
 * test hooks (src/util/testHooks.ts), which may replace the loss read back.
 */
export async function trainStep(
  s: Stepper,
  batch: SourceBatch,
  at: { step: number; lr: number; where: { epoch: number; batch: number } },
): Promise<StepNumbers> {
  const { cfg, objective } = s;
  const step = tf.tidy(() => {
    const x = tf.tensor4d(batch.x, batch.shape);
    const y = tf.tensor1d(batch.y, 'int32');
    type Kept = { logits: tf.Tensor2D; twinLogits: tf.Tensor2D | null; terms: Record<string, tf.Scalar> };
    let kept: Kept | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = objective.step(x, y, { training: true, timesteps: cfg.model.timesteps, noiseSeed: (cfg.seed * 1000003 + at.step) >>> 0 });
      kept = {
        logits: tf.keep(out.logits),
        twinLogits: out.twinLogits ? tf.keep(out.twinLogits) : null,
        terms: Object.fromEntries(Object.entries(out.terms).map(([k, t]) => [k, tf.keep(t)])),
      };
      return out.total;
    }, s.vars);
    const k = kept as unknown as Kept;
    const hitsOf = (z: tf.Tensor2D): tf.Tensor => tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), y), 'float32'));
    const hits = hitsOf(k.logits);
    const twinHits = k.twinLogits ? hitsOf(k.twinLogits) : tf.scalar(0);
    // tf.keep let the logits escape variableGrads' scope; released once counted.
    tf.dispose([k.logits, ...(k.twinLogits ? [k.twinLogits] : [])]);
    const squares = cfg.train.gradClip === null ? [] : Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return { value, grads, squares, hits, twinHits, terms: k.terms };
  });
  try {
    const termNames = Object.keys(step.terms);
    const numbers = await readScalars([step.value, step.hits, step.twinHits, ...termNames.map((n) => step.terms[n]), ...step.squares]);
    const [lossRaw, hits, twinHits] = numbers;
    const terms = Object.fromEntries(termNames.map((n, i) => [n, numbers[3 + i]]));
    const loss = stepHook(lossRaw, { ...at.where, step: at.step + 1 });
    if (Number.isFinite(loss)) {
      tf.tidy(() => {
        let byKey = new Map<string, tf.Tensor>();
        for (const [name, g] of Object.entries(step.grads)) byKey.set(s.keyOf.get(name) ?? name, g);
        const clip = cfg.train.gradClip;
        if (clip !== null) byKey = globalNormClip(byKey, numbers.slice(3 + termNames.length), clip);
        s.opt.step(byKey, at.lr);
      });
    }
    return { loss, hits, twinHits, terms };
  } finally {
    tf.dispose(step);
  }
}
