/**
 * Densely additive (DA) networks, DANet (Li, Lei and Yang 2023, "Rethinking Residual Connection
 * in Training Large-Scale Spiking Neural Networks", arXiv:2311.05171).
 *
 * RECONSTRUCTED from the paper's abstract (its body and code are not available); this module is
 * the one place that defines it, so it can change when the paper can be checked. The abstract
 * says DA *abstracts* the best-performing connections (the additive ones: SEW-ADD, MS-ResNet)
 * and *extends the concept to other topologies*.
 *
 * Within a stage (post-activation blocks, the default):
 *
 *   transition  x_0 = SN(BN(conv k×k, stride s (stage input)))  (skipped when the shape is kept;
 *               k = 3 with basic blocks, 1 with bottlenecks, whose stages are 4× wider)
 *   block k     y_k = SN(F_k(in_k)),  in_k = x_0 + y_1 + … + y_{k−1},  F the block's convs
 *   stage out   s = x_0 + y_1 + … + y_K
 *
 * This is SEW-ADD itself, not something new: a SEW-ADD block computes out_k = SN(F_k(out_{k−1}))
 * + out_{k−1}, so out_k = x_0 + Σ_{j≤k} A_j with in_k = out_{k−1}: the same weights give the same
 * spikes (tested). A mean in place of the sum would change nothing either: F starts with a
 * convolution (linear, no bias) and a batch-statistics BN, which cancels a positive factor
 * (up to BN's ε).
 *
 * What DA adds beyond the chain of blocks (our reading of "other topologies"): dense additive
 * links across stages. With s_0 the stem's output and s_i stage i's output,
 *
 *   input of stage i = s_{i−1} + Σ_{j=0}^{i−2} P_{j→i}(s_j),   P = SN(BN(conv 1×1, stride r))
 *
 * every link with its own projection, r the resolution ratio between s_j and s_{i−1}.
 * `model.danet.links: none` keeps only the chain.
 *
 * Pre-activation blocks (`model.danet.preActivation`, MS-ResNet's form): the stream is real-valued,
 * y_k = F_pre(in_k) with F_pre = SN-conv-BN-…-SN-conv-BN, the transition BN(conv(SN(·))), the
 * links P = BN(conv 1×1(SN(·))); the stem has no neuron and one precedes the classifier
 * (resnet.ts), so every convolution reads spikes.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DanetConfig } from '../config/schema.js';
import type { ForwardContext } from '../snn/neuron.js';
import { UserError } from '../util/errors.js';
import type { Builder, FeatureShape, Piece } from './builder.js';
import { blockOutChannels, postActivationBranch, preActivationBranch, type BlockSpec } from './connections.js';
import type { BlockKind, ResnetShape } from './presets.js';

/** One stage: reads the outputs of the stem and of every earlier stage (`outs[0]` the stem's). */
export type DenseStage = (outs: tf.Tensor4D[], ctx: ForwardContext) => tf.Tensor4D;

export interface DaStageSpec {
  key: string;
  input: FeatureShape;
  blocks: number;
  width: number;
  stride: number;
  kind: BlockKind;
  preActivation?: boolean;
}

/** The stage's transition (when the shape changes), then its blocks joined by running sums. */
export function danetStage(b: Builder, spec: DaStageSpec): { piece: Piece; shape: FeatureShape } {
  const pre = spec.preActivation === true;
  const out = blockOutChannels(spec.kind, spec.width);
  let transition: Piece | null = null;
  let shape = spec.input;
  if (spec.stride !== 1 || spec.input.c !== out) {
    const k = `${spec.key}.transition`;
    const sn0 = pre ? b.neuron(`${k}.sn`, spec.input) : null;
    const cb = b.convBn(k, spec.input, out, spec.kind === 'basic' ? 3 : 1, spec.stride);
    const sn1 = pre ? null : b.neuron(`${k}.sn`, cb.shape);
    transition = (x, ctx) => {
      const y = cb.piece(sn0 ? sn0(x, ctx) : x, ctx);
      return sn1 ? sn1(y, ctx) : y;
    };
    shape = cb.shape;
  }
  const blocks: Piece[] = [];
  const names = ['x0'];
  for (let k = 0; k < spec.blocks; k++) {
    const key = `${spec.key}.block${k}`;
    b.note(`${key}.in`, 'join', shape, names.join(' + '));
    // Within a stage every block keeps the shape: stride 1, `out` channels in and out.
    const bs: BlockSpec = { key, input: shape, width: spec.width, stride: 1, kind: spec.kind, connection: 'da', downsample: 'conv' };
    if (pre) {
      blocks.push(preActivationBranch(b, bs).piece);
    } else {
      const br = postActivationBranch(b, bs, 1);
      const sn = b.neuron(`${key}.sn_out`, br.shape);
      blocks.push((x, ctx) => sn(br.piece(x, ctx), ctx));
    }
    names.push(`y${k + 1}`);
  }
  b.note(`${spec.key}.out`, 'join', shape, names.join(' + '));
  return {
    piece: (x, ctx) => {
      // Running sums, as SEW-ADD's identity path: in_{k+1} = in_k + y_k.
      let sum = transition ? transition(x, ctx) : x;
      b.tally(`${spec.key}.block0.in`, sum, ctx);
      blocks.forEach((blk, k) => {
        const next = k + 1 < blocks.length ? `${spec.key}.block${k + 1}.in` : `${spec.key}.out`;
        sum = b.join(next, 'add', [sum, blk(sum, ctx)], ctx);
      });
      return sum;
    },
    shape,
  };
}

/** What `danetStages` needs: the stem's output shape and the key of what it last fired (null: real values). */
export interface DanetSpec {
  input: FeatureShape;
  inputKey: string | null;
  shape: ResnetShape;
  config: DanetConfig;
}

/** All stages of a DANet, with the dense links across stages unless `links: none`. */
export function danetStages(b: Builder, spec: DanetSpec): { stages: DenseStage[]; shape: FeatureShape } {
  const pre = spec.config.preActivation;
  const dense = spec.config.links === 'dense';
  const outs: { key: string | null; name: string; shape: FeatureShape }[] = [{ key: spec.inputKey, name: 'stem', shape: spec.input }];
  const stages: DenseStage[] = [];
  spec.shape.blocks.forEach((count, s) => {
    const key = `stage${s + 1}`;
    const prev = outs[outs.length - 1];
    const links: { from: number; piece: Piece }[] = [];
    if (dense) {
      for (let j = 0; j < outs.length - 1; j++) links.push({ from: j, piece: link(b, `${key}.from_${outs[j].name}`, outs[j], prev.shape, pre) });
      if (links.length > 0) {
        b.note(`${key}.in`, 'join', prev.shape, [prev.key ?? `${prev.name}.out`, ...links.map((l) => `${key}.from_${outs[l.from].name}`)].join(' + '));
      }
    }
    const st = danetStage(b, { key, input: prev.shape, blocks: count, width: spec.shape.widths[s], stride: spec.shape.strides[s], kind: spec.shape.block, preActivation: pre });
    stages.push((xs, ctx) => {
      const last = xs[xs.length - 1];
      const input = links.length === 0 ? last : b.join(`${key}.in`, 'add', [last, ...links.map((l) => l.piece(xs[l.from], ctx))], ctx);
      return st.piece(input, ctx);
    });
    outs.push({ key: `${key}.out`, name: key, shape: st.shape });
  });
  return { stages, shape: outs[outs.length - 1].shape };
}

/** A dense link: s_j projected to `to` by its own strided 1×1 conv + BN + SN (SN first when pre-activation). */
function link(b: Builder, key: string, from: { key: string | null; shape: FeatureShape }, to: FeatureShape, pre: boolean): Piece {
  const stride = Math.round(from.shape.h / to.h);
  const sn0 = pre ? b.neuron(`${key}.sn`, from.shape) : null;
  const cb = b.convBn(key, from.shape, to.c, 1, stride, pre ? {} : { source: from.key });
  if (cb.shape.h !== to.h || cb.shape.w !== to.w) {
    throw new UserError(`model: a DANet link from ${from.shape.h}×${from.shape.w} cannot reach ${to.h}×${to.w} with a 1×1 conv of stride ${stride}; use model.danet.links: none`);
  }
  const sn1 = pre ? null : b.neuron(`${key}.sn`, cb.shape);
  return (x, ctx) => {
    const y = cb.piece(sn0 ? sn0(x, ctx) : x, ctx);
    return sn1 ? sn1(y, ctx) : y;
  };
}
