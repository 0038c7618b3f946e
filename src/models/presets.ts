/**
 * Depth/width presets of the spiking ResNets (and DANets, which share them). A preset fixes the
 * stem, the block kind, the blocks and widths per stage, each stage's stride, and any hidden
 * fully connected layers before the classifier; `model.blocks` / `model.widths` / `model.block`
 * override the preset's.
 *
 * - CIFAR style (3×3 stem, stride 1, no max-pool), as in Kuang Liu's CIFAR ResNets:
 *   resnet18 (basic 2-2-2-2), resnet34 (basic 3-4-6-3), resnet50 (bottleneck 3-4-6-3), widths
 *   64-128-256-512 (bottleneck outputs 4× that).
 * - resnet19: Zheng et al. 2021 (tdBN): 3×3 stem of 128, basic 3-3-2 of 128-256-512, FC 256.
 * - resnet20: He et al. 2016's CIFAR net: stem 16, basic 3-3-3 of 16-32-64. Downsampling
 *   shortcuts are 1×1 conv + BN here (He's option B), which gives the 272,474 parameters.
 * - ImageNet style (7×7 stride-2 stem of 64 and a 3×3 stride-2 max-pool), as torchvision:
 *   resnet{18,34,50,101,152}-imagenet.
 * - tiny: this project's own: stem 16, one basic block at 16 and one at 32, both stride 2,
 *   and the last feature map flattened into the classifier (at this width, global average
 *   pooling throws away the spatial layout a 28×28 image needs); trains on Fashion-MNIST in
 *   minutes on two CPU cores.
 */
import type { ModelConfig } from '../config/schema.js';
import { UserError } from '../util/errors.js';

export type BlockKind = 'basic' | 'bottleneck';

export interface ResnetShape {
  stem: 'cifar' | 'imagenet';
  stemWidth: number;
  block: BlockKind;
  blocks: number[];
  /** Per stage: the block width (a bottleneck's inner width; its output is 4×). */
  widths: number[];
  strides: number[];
  hidden: number[];
  /** How the last feature map reaches the classifier: global average, or flattened whole. */
  readout: 'average' | 'flatten';
}

const cifar = (block: BlockKind, blocks: number[]): ResnetShape => ({
  stem: 'cifar',
  stemWidth: 64,
  block,
  blocks,
  widths: [64, 128, 256, 512],
  strides: [1, 2, 2, 2],
  hidden: [],
  readout: 'average',
});

const imagenet = (block: BlockKind, blocks: number[]): ResnetShape => ({ ...cifar(block, blocks), stem: 'imagenet' });

export const RESNET_PRESETS = {
  tiny: {
    stem: 'cifar',
    stemWidth: 16,
    block: 'basic',
    blocks: [1, 1],
    widths: [16, 32],
    strides: [2, 2],
    hidden: [],
    readout: 'flatten',
  },
  resnet18: cifar('basic', [2, 2, 2, 2]),
  resnet19: {
    stem: 'cifar',
    stemWidth: 128,
    block: 'basic',
    blocks: [3, 3, 2],
    widths: [128, 256, 512],
    strides: [1, 2, 2],
    hidden: [256],
    readout: 'average',
  },
  resnet20: {
    stem: 'cifar',
    stemWidth: 16,
    block: 'basic',
    blocks: [3, 3, 3],
    widths: [16, 32, 64],
    strides: [1, 2, 2],
    hidden: [],
    readout: 'average',
  },
  resnet34: cifar('basic', [3, 4, 6, 3]),
  resnet50: cifar('bottleneck', [3, 4, 6, 3]),
  'resnet18-imagenet': imagenet('basic', [2, 2, 2, 2]),
  'resnet34-imagenet': imagenet('basic', [3, 4, 6, 3]),
  'resnet50-imagenet': imagenet('bottleneck', [3, 4, 6, 3]),
  'resnet101-imagenet': imagenet('bottleneck', [3, 4, 23, 3]),
  'resnet152-imagenet': imagenet('bottleneck', [3, 8, 36, 3]),
} satisfies Record<string, ResnetShape>;

/** The presets' names: the config's `model.preset` is one of these (src/models/catalog.ts). */
export type PresetName = keyof typeof RESNET_PRESETS;

/** The preset, with explicit `blocks`/`widths`/`block` from the config applied and checked. */
export function resolveShape(cfg: ModelConfig): ResnetShape {
  const base = RESNET_PRESETS[cfg.preset];
  const block = cfg.block ?? base.block;
  if (cfg.blocks === null && cfg.widths === null) return { ...base, block };
  const blocks = cfg.blocks ?? base.blocks;
  const widths = cfg.widths ?? base.widths;
  if (widths.length !== blocks.length) {
    throw new UserError(
      `model.widths: needs one width per stage (${blocks.length} in model.blocks), got ${widths.length}`,
    );
  }
  // The first stage keeps the preset's stride; every later stage halves the resolution.
  const strides = blocks.map((_, i) => (i === 0 ? base.strides[0] : 2));
  return { ...base, block, blocks, widths, strides };
}
