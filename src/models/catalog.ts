/**
 * The model registry's names: the architectures and presets a config may name. The config
 * schema's `model.arch` and `model.preset` enums are derived from here, `snn model --list`
 * prints it, and every architecture named here registers a builder (registry.ts). Plain data
 * (no tfjs), so that the config layer can import it.
 */
import { RESNET_PRESETS, type PresetName, type ResnetShape } from './presets.js';

/** Each architecture and what it is; add one here and register its builder in registry.ts. */
export const ARCHITECTURES = {
  'spiking-resnet': 'spiking ResNet: the preset\'s stages of basic or bottleneck blocks with the chosen shortcut connection',
  danet: 'densely additive network (DANet, reconstructed: src/models/danet.ts): each block of a stage reads the mean of all earlier outputs',
} as const;

export type ArchName = keyof typeof ARCHITECTURES;

const names = <K extends string>(o: Record<K, unknown>): [K, ...K[]] => Object.keys(o) as [K, ...K[]];

export const ARCH_NAMES = names(ARCHITECTURES);
export const PRESET_NAMES: [PresetName, ...PresetName[]] = names(RESNET_PRESETS);

function describePreset(s: ResnetShape): string {
  const hidden = s.hidden.length > 0 ? `, FC ${s.hidden.join('-')}` : '';
  return `${s.stem} stem of ${s.stemWidth}, ${s.block} ${s.blocks.join('-')} of ${s.widths.join('-')}${hidden}, ${s.readout} readout`;
}

/** The catalogue as `snn model --list` prints it. */
export function catalogText(): string {
  const archs = ARCH_NAMES.map((a) => `  ${a.padEnd(20)} ${ARCHITECTURES[a]}`);
  const presets = PRESET_NAMES.map((p) => `  ${p.padEnd(20)} ${describePreset(RESNET_PRESETS[p])}`);
  return ['architectures (model.arch):', ...archs, 'presets (model.preset):', ...presets].join('\n');
}
