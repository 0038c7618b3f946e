/**
 * The training objective of a run, by `loss.mode`: what is minimised for a batch, which
 * variables it trains, and the terms reported in metrics.csv.
 *
 * - plain: CE of the SNN.
 * - kd: distillation from a frozen teacher (evaluated in inference mode, its own T).
 * - tna: CE of the SNN + CE of a co-trained twin + λ · logit matching; the twin's parameters
 *   train too (keyed `twin/...` for the optimizer).
 */
import * as tf from '@tensorflow/tfjs';
import type { LossConfig } from '../config/schema.js';
import type { SpikingModel } from '../models/types.js';
import type { ForwardContext } from '../snn/neuron.js';
import { crossEntropy } from './crossEntropy.js';
import { kdLoss } from './kd.js';
import { tnaLoss } from './tna.js';

export interface Partner {
  model: SpikingModel;
  timesteps: number;
}

export interface StepOutput {
  total: tf.Scalar;
  logits: tf.Tensor2D;
  /** Loss terms by metrics column name (loss_ce, loss_twin_ce, loss_match). */
  terms: Record<string, tf.Scalar>;
  twinLogits: tf.Tensor2D | null;
}

export interface Objective {
  mode: LossConfig['mode'];
  /** Everything the optimizer updates: the SNN's parameters, and the twin's as `twin/<key>`. */
  params: Map<string, tf.Variable>;
  twin: Partner | null;
  teacher: Partner | null;
  step(x: tf.Tensor4D, y: tf.Tensor1D, ctx: ForwardContext): StepOutput;
}

export const TWIN_PREFIX = 'twin/';

export function createObjective(
  cfg: LossConfig,
  model: SpikingModel,
  partners: { twin?: Partner; teacher?: Partner },
): Objective {
  const params = new Map(model.params);
  if (cfg.mode === 'plain') {
    return {
      mode: 'plain',
      params,
      twin: null,
      teacher: null,
      step: (x, y, ctx) => {
        const logits = model.forward(x, ctx);
        const ce = crossEntropy(logits, y);
        return { total: ce, logits, terms: { loss_ce: ce }, twinLogits: null };
      },
    };
  }
  if (cfg.mode === 'kd') {
    const teacher = partners.teacher;
    if (!teacher) throw new Error('loss.mode kd needs a teacher');
    return {
      mode: 'kd',
      params,
      twin: null,
      teacher,
      step: (x, y, ctx) => {
        // The teacher is frozen: inference mode, and no gradient reaches it.
        const zt = tf.tidy(() => teacher.model.forward(x, { training: false, timesteps: teacher.timesteps }));
        const logits = model.forward(x, ctx);
        const t = kdLoss(logits, zt, y, cfg.kd);
        return { total: t.total, logits, terms: { loss_ce: t.ce, loss_match: t.match }, twinLogits: null };
      },
    };
  }
  const twin = partners.twin;
  if (!twin) throw new Error('loss.mode tna needs a twin');
  for (const [k, v] of twin.model.params) params.set(`${TWIN_PREFIX}${k}`, v);
  return {
    mode: 'tna',
    params,
    twin,
    teacher: null,
    step: (x, y, ctx) => {
      const logits = model.forward(x, ctx);
      const zt = twin.model.forward(x, { ...ctx, timesteps: twin.timesteps, tallies: undefined });
      const t = tnaLoss(logits, zt, y, cfg.tna.lambda);
      return {
        total: t.total,
        logits,
        terms: { loss_ce: t.ce, loss_twin_ce: t.twinCe, loss_match: t.match },
        twinLogits: zt,
      };
    },
  };
}
