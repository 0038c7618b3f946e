/**
 * The residual connections, side by side. For a block with input x, residual branch F and
 * shortcut sc (identity, or a 1×1 strided conv + BN when the shape changes), SN a spiking
 * neuron layer:
 *
 * - `spike` (Spiking ResNet, Zheng et al. 2021 / Hu et al.): the shortcut joins before the
 *   block's last neuron:            y = SN( F(x) + sc(x) ),  F(x) = BN(conv(... SN(BN(conv(x)))))
 * - `sew-add` (SEW ResNet, Fang et al. 2021): spikes are added after the last neuron:
 *                                    y = SN(F(x)) + sc(x)          (y counts spikes: 0, 1, 2)
 * - `sew-iand` (SEW ResNet):         y = (1 − SN(F(x))) · sc(x)   (¬A ∧ S, A the branch's spikes)
 *   DESIGN.md writes `SN(F(x)) · (1 − x)`; that is A ∧ ¬S, which loses SEW's identity mapping
 *   (with A = 0 the block must pass S unchanged). We follow the SEW paper's definition.
 *   SEW's downsampling shortcut is spiking: sc(x) = SN(BN(conv1×1(x))).
 * - `membrane` (MS-ResNet, Hu et al. 2021): pre-activation blocks on a real-valued stream:
 *                                    y = x + BN(conv(SN(... BN(conv(SN(x))))))
 *   The shortcut carries membrane-like real values; its downsampling form is BN(conv1×1(x)).
 * - `da` (densely additive): see `danet.ts`; within a stage a block has no shortcut of its own,
 *   y_k = SN(F(in_k)), in_k = x_0 + y_1 + … + y_{k−1} (SEW-ADD's identity path), and dense
 *   additive links join the stages.
 *
 * `model.zeroInitResidual` starts each branch's last BN at γ = 0, so that a block starts as its
 * shortcut (torchvision's zero_init_residual; MS-ResNet's code does it for every block, so it is
 * the default for `membrane`).
 *
 * With `model.tdBN`, BNs whose outputs are summed before a neuron (the last BN of the branch
 * and the shortcut's BN in `spike`) use α = 1/√2, all others α = 1 (Zheng et al. 2021).
 */
import type { ModelConfig } from '../config/schema.js';
import type { Builder, FeatureShape, Piece } from './builder.js';
import type { BlockKind } from './presets.js';

export type Connection = 'spike' | 'sew-add' | 'sew-iand' | 'membrane' | 'da';

export interface BlockSpec {
  key: string;
  input: FeatureShape;
  width: number;
  stride: number;
  kind: BlockKind;
  connection: Connection;
  /** Downsampling shortcut: 1×1 conv + BN, or SEW's spiking form (+ SN). */
  downsample: 'conv' | 'spiking';
}

export interface Built {
  piece: Piece;
  shape: FeatureShape;
}

/** The convolutions of a block: basic 3×3-3×3, bottleneck 1×1-3×3-1×1 (×4 expansion). */
export function branchConvs(kind: BlockKind, width: number, stride: number): { k: number; out: number; s: number }[] {
  return kind === 'basic'
    ? [
        { k: 3, out: width, s: stride },
        { k: 3, out: width, s: 1 },
      ]
    : [
        { k: 1, out: width, s: 1 },
        { k: 3, out: width, s: stride },
        { k: 1, out: width * 4, s: 1 },
      ];
}

/** Whether each residual branch's last BN starts at γ = 0: the config's, else MS-ResNet's default for its pre-activation blocks. */
export const zeroInitResidual = (cfg: ModelConfig, connection: Connection): boolean =>
  cfg.zeroInitResidual ?? (connection === 'membrane' || (connection === 'da' && cfg.danet.preActivation));

export const blockOutChannels = (kind: BlockKind, width: number): number => (kind === 'basic' ? width : width * 4);

/**
 * Post-activation branch: conv-BN-SN for every conv but the last, which ends at BN (the
 * connection decides where its neuron goes). Returns the piece and its output shape.
 */
export function postActivationBranch(b: Builder, spec: BlockSpec, lastAlpha: number): Built {
  const convs = branchConvs(spec.kind, spec.width, spec.stride);
  const pieces: Piece[] = [];
  let shape = spec.input;
  convs.forEach((c, i) => {
    const last = i === convs.length - 1;
    const o = last ? { tdAlpha: lastAlpha, zeroGamma: zeroInitResidual(b.cfg, spec.connection) } : {};
    const cb = b.convBn(`${spec.key}.conv${i + 1}`, shape, c.out, c.k, c.s, o);
    shape = cb.shape;
    pieces.push(cb.piece);
    if (!last) pieces.push(b.neuron(`${spec.key}.sn${i + 1}`, shape));
  });
  return { piece: (x, ctx) => pieces.reduce((y, p) => p(y, ctx), x), shape };
}

/** Pre-activation branch (MS-ResNet): SN-conv-BN for every conv. */
export function preActivationBranch(b: Builder, spec: BlockSpec): Built {
  const convs = branchConvs(spec.kind, spec.width, spec.stride);
  const pieces: Piece[] = [];
  let shape = spec.input;
  convs.forEach((c, i) => {
    pieces.push(b.neuron(`${spec.key}.sn${i + 1}`, shape));
    const last = i === convs.length - 1;
    const cb = b.convBn(`${spec.key}.conv${i + 1}`, shape, c.out, c.k, c.s, { zeroGamma: last && zeroInitResidual(b.cfg, spec.connection) });
    shape = cb.shape;
    pieces.push(cb.piece);
  });
  return { piece: (x, ctx) => pieces.reduce((y, p) => p(y, ctx), x), shape };
}

function shortcut(b: Builder, spec: BlockSpec, out: FeatureShape, alpha: number): { piece: Piece | null; text: string } {
  if (spec.stride === 1 && spec.input.c === out.c) return { piece: null, text: 'x' };
  // It reads the block's input, as the branch's first conv does (real values in `membrane`).
  const source = spec.connection === 'membrane' ? null : b.layers.find((l) => l.key === `${spec.key}.conv1.conv`)?.input;
  const cb = b.convBn(`${spec.key}.down`, spec.input, out.c, 1, spec.stride, { tdAlpha: alpha, source: source ?? null });
  if (spec.downsample === 'conv') return { piece: cb.piece, text: `${spec.key}.down.bn` };
  const sn = b.neuron(`${spec.key}.down.sn`, out);
  return { piece: (x, ctx) => sn(cb.piece(x, ctx), ctx), text: `${spec.key}.down.sn` };
}

/** One residual block of any connection but `da` (whose wiring is per stage: danet.ts). */
export function residualBlock(b: Builder, spec: BlockSpec): Built {
  const k = spec.key;
  const lastBn = `${k}.conv${branchConvs(spec.kind, 1, 1).length}.bn`;
  switch (spec.connection) {
    case 'spike': {
      const alpha = Math.SQRT1_2;
      const br = postActivationBranch(b, spec, alpha);
      const sc = shortcut(b, spec, br.shape, alpha);
      b.note(`${k}.join`, 'join', br.shape, `${lastBn} + ${sc.text}, then SN`);
      const sn = b.neuron(`${k}.sn_out`, br.shape);
      return {
        piece: (x, ctx) => sn(b.join(`${k}.join`, 'add', [br.piece(x, ctx), sc.piece ? sc.piece(x, ctx) : x], ctx), ctx),
        shape: br.shape,
      };
    }
    case 'sew-add':
    case 'sew-iand': {
      const br = postActivationBranch(b, spec, 1);
      const sn = b.neuron(`${k}.sn_out`, br.shape);
      const sc = shortcut(b, spec, br.shape, 1);
      const add = spec.connection === 'sew-add';
      b.note(`${k}.join`, 'join', br.shape, add ? `${k}.sn_out + ${sc.text}` : `(1 - ${k}.sn_out) * ${sc.text}`);
      return {
        piece: (x, ctx) => {
          const a = sn(br.piece(x, ctx), ctx);
          const s = sc.piece ? sc.piece(x, ctx) : x;
          return b.join(`${k}.join`, add ? 'add' : 'iand', [a, s], ctx);
        },
        shape: br.shape,
      };
    }
    case 'membrane': {
      const br = preActivationBranch(b, spec);
      const sc = shortcut(b, { ...spec, downsample: 'conv' }, br.shape, 1);
      b.note(`${k}.join`, 'join', br.shape, `${lastBn} + ${sc.text} (real-valued)`);
      return { piece: (x, ctx) => b.join(`${k}.join`, 'add', [br.piece(x, ctx), sc.piece ? sc.piece(x, ctx) : x], ctx), shape: br.shape };
    }
    case 'da':
      throw new Error('da blocks are wired per stage: use danetStage');
  }
}
