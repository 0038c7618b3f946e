/**
 * Models by name, timm-style: each architecture of catalog.ts registers a builder, and the
 * trainer, eval and export build whatever `model.arch` names without knowing the architectures.
 */
import type { ModelConfig, QuantConfig } from '../config/schema.js';
import type { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import type { InputSpec, SpikingModel } from './types.js';
import type { ArchName } from './catalog.js';

export interface BuildOptions {
  /** Gradient checks only: neurons fire the surrogate's smooth step instead of Θ. */
  smooth?: boolean;
  /** Weight quantisation of the convolutions and linear layers (none when absent). */
  quant?: QuantConfig;
}

export type ModelBuilder = (cfg: ModelConfig, input: InputSpec, rng: Rng, label: string, opts: BuildOptions) => SpikingModel;

const builders = new Map<ArchName, ModelBuilder>();

export function registerModel(arch: ArchName, builder: ModelBuilder): void {
  builders.set(arch, builder);
}

/** The architectures with a builder registered (every one of catalog.ts once models/index.ts is imported). */
export function listModels(): string[] {
  return [...builders.keys()].sort();
}

export function buildModel(cfg: ModelConfig, input: InputSpec, rng: Rng, label = 'model', opts: BuildOptions = {}): SpikingModel {
  const b = builders.get(cfg.arch);
  // The config schema admits only catalog.ts's names; this catches one without a builder.
  if (!b) throw new UserError(`model.arch: architecture '${cfg.arch}' has no builder registered (built: ${listModels().join(', ')})`);
  return b(cfg, input, rng, label, opts);
}
