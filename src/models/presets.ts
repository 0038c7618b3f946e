/**
 * Depth/width presets of the spiking ResNets. A preset fixes the stem width, the blocks and
 * widths per stage, each stage's stride, and any hidden fully connected layers before the
 * classifier; `model.blocks` / `model.widths` override the preset's.
 *
 * - tiny: two stages of one basic block (16, 32 channels), both stride 2: trains on
 *   Fashion-MNIST in minutes on two CPU cores. This project's own preset.
 * - resnet19: Zheng et al. (2021, tdBN): 3×3 stem of 128, stages 3-3-2 of 128-256-512,
 *   global average pool, FC 256, FC classes (1 + 16 + 2 = 19 weight layers).
 * - resnet20: He et al. (2016) CIFAR ResNet: stem of 16, stages 3-3-3 of 16-32-64 (1 + 18 + 1).
 *   Downsampling shortcuts here are 1×1 conv + BN (He's option B), not zero-padding (option A).
 */
import type { ModelConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';

export interface ResnetShape {
  stem: number;
  blocks: number[];
  widths: number[];
  strides: number[];
  hidden: number[];
}

export const RESNET_PRESETS: Record<ModelConfig['preset'], ResnetShape> = {
  tiny: { stem: 16, blocks: [1, 1], widths: [16, 32], strides: [2, 2], hidden: [] },
  resnet19: { stem: 128, blocks: [3, 3, 2], widths: [128, 256, 512], strides: [1, 2, 2], hidden: [256] },
  resnet20: { stem: 16, blocks: [3, 3, 3], widths: [16, 32, 64], strides: [1, 2, 2], hidden: [] },
};

/** The preset, with explicit `blocks`/`widths` from the config applied and checked. */
export function resolveShape(cfg: ModelConfig): ResnetShape {
  const base = RESNET_PRESETS[cfg.preset];
  if (cfg.blocks === null && cfg.widths === null) return base;
  const blocks = cfg.blocks ?? base.blocks;
  const widths = cfg.widths ?? base.widths;
  if (widths.length !== blocks.length) {
    throw new UserError(
      `model.widths: needs one width per stage (${blocks.length} in model.blocks), got ${widths.length}`,
    );
  }
  // The first stage keeps the preset's stride; every later stage halves the resolution.
  const strides = blocks.map((_, i) => (i === 0 ? base.strides[0] : 2));
  return { ...base, blocks, widths, strides };
}
