/**
 * Densely additive (DA) stages, DANet (Li, Lei and Yang 2023, "Rethinking Residual Connection
 * in Training Large-Scale Spiking Neural Networks").
 *
 * RECONSTRUCTED from the paper's abstract (its body and code are not available); this module is
 * the one place that defines it, so it can change when the paper can be checked:
 *
 *   transition  x_0 = SN(BN(conv k×k, stride s (stage input)))  (skipped when the shape is kept;
 *               k = 3 with basic blocks, 1 with bottlenecks, whose stages are 4× wider)
 *   block k     y_k = SN(F(in_k)),  F the block's convs (conv-BN-SN ... conv-BN)
 *   dense input in_k = mean(x_0, y_1, ..., y_{k−1})
 *   stage out   mean(x_0, y_1, ..., y_K)
 *
 * Every y is a spike map; their means are real values in [0, 1] that the next convolution
 * reads. Blocks inside a stage carry no shortcut of their own.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Builder, FeatureShape, Piece } from './builder.js';
import { blockOutChannels, postActivationBranch, type Built } from './connections.js';
import type { BlockKind } from './presets.js';

export interface DaStageSpec {
  key: string;
  input: FeatureShape;
  blocks: number;
  width: number;
  stride: number;
  kind: BlockKind;
}

export function danetStage(b: Builder, spec: DaStageSpec): Built {
  const out = blockOutChannels(spec.kind, spec.width);
  let transition: Piece | null = null;
  let shape = spec.input;
  if (spec.stride !== 1 || spec.input.c !== out) {
    const cb = b.convBn(`${spec.key}.transition`, spec.input, out, spec.kind === 'basic' ? 3 : 1, spec.stride);
    const sn = b.neuron(`${spec.key}.transition.sn`, cb.shape);
    transition = (x, ctx) => sn(cb.piece(x, ctx), ctx);
    shape = cb.shape;
  }
  const blocks: Piece[] = [];
  const names = ['x0'];
  for (let k = 0; k < spec.blocks; k++) {
    const key = `${spec.key}.block${k}`;
    b.note(`${key}.in`, 'join', shape, `mean(${names.join(', ')})`);
    // Within a stage every block keeps the shape: stride 1, `out` channels in and out.
    const br = postActivationBranch(b, { key, input: shape, width: spec.width, stride: 1, kind: spec.kind, connection: 'da', downsample: 'conv' }, 1);
    const sn = b.neuron(`${key}.sn_out`, br.shape);
    blocks.push((x, ctx) => sn(br.piece(x, ctx), ctx));
    names.push(`y${k + 1}`);
  }
  b.note(`${spec.key}.out`, 'join', shape, `mean(${names.join(', ')})`);
  return {
    piece: (x, ctx) => {
      const outs: tf.Tensor4D[] = [transition ? transition(x, ctx) : x];
      blocks.forEach((blk, k) => outs.push(blk(b.join(`${spec.key}.block${k}.in`, 'mean', outs), ctx)));
      return b.join(`${spec.key}.out`, 'mean', outs);
    },
    shape,
  };
}
