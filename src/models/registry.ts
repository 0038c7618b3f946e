/**
 * Models by name, timm-style: each architecture registers a builder, and the trainer, eval and
 * export build whatever `model.arch` names without knowing the architectures.
 */
import type { ModelConfig, QuantConfig } from '../config/schema.js';
import type { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import type { InputSpec, SpikingModel } from './types.js';

export interface BuildOptions {
  /** Gradient checks only: neurons fire the surrogate's smooth step instead of Θ. */
  smooth?: boolean;
  /** Weight quantisation of the convolutions and linear layers (none when absent). */
  quant?: QuantConfig;
}

export type ModelBuilder = (cfg: ModelConfig, input: InputSpec, rng: Rng, label: string, opts: BuildOptions) => SpikingModel;

const builders = new Map<string, ModelBuilder>();

export function registerModel(arch: string, builder: ModelBuilder): void {
  builders.set(arch, builder);
}

export function listModels(): string[] {
  return [...builders.keys()].sort();
}

export function buildModel(cfg: ModelConfig, input: InputSpec, rng: Rng, label = 'model', opts: BuildOptions = {}): SpikingModel {
  const b = builders.get(cfg.arch);
  if (!b) throw new UserError(`model.arch: unknown architecture '${cfg.arch}' (known: ${listModels().join(', ')})`);
  return b(cfg, input, rng, label, opts);
}
