/**
 * One `snn train` invocation as a library call: config → backend → data → model → run folder →
 * trainer. Everything that can be wrong with the input (config, data files, model shape) is
 * checked before the run folder is created, so bad input leaves runs/ untouched.
 */
import { hostname, cpus } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../runs/atomic.js';
import { applySet, configToYaml, parseYaml, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { initBackend, type BackendInfo } from '../engine/backend.js';
import { datasetInput } from '../data/shapes.js';
import { loadSource, type DataSource } from './dataSource.js';
import { buildModel, type SpikingModel } from '../models/index.js';
import { claimRunForResume, createRunFolder, readJson, unlockRun, writeJson, type RunPaths } from '../runs/runFolder.js';
import { annotateWriteFailure, readCheckpoint, readResumeCheckpoint, type CheckpointData } from '../runs/checkpoint.js';
import { batchCount } from '../data/loader.js';
import { runLogger } from '../runs/logger.js';
import { createRng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { gitCommit, versions } from '../util/version.js';
import { loadModelTensors, train, type Reporter, type TrainResult } from './trainer.js';
import { createObjective, type Partner } from '../losses/objective.js';
import { locateCheckpoint } from '../runs/locate.js';
import { join } from 'node:path';

export interface TrainRequest {
  /** A loaded config (from --config and --set); ignored when resuming. */
  config?: Config;
  /** `--set` assignments, applied on top of a resumed run's config too. */
  sets?: readonly string[];
  /** A run folder, its name, or 'latest'. */
  resume?: string;
  runsDir: string;
  /** Overrides config.backend. */
  backend?: Config['backend'];
  reporter?: Reporter;
  shouldStop?: () => boolean;
  commandLine: string[];
}

export interface TrainOutcome extends TrainResult {
  paths: RunPaths;
  backend: BackendInfo;
  config: Config;
}

export function inputSpec(data: DataSource): { height: number; width: number; channels: number; numClasses: number } {
  return data.input;
}

/** Builds the model of a config for a data set, with its seeded initial weights. */
export function modelFor(cfg: Config, data: DataSource, label = 'snn'): SpikingModel {
  return buildModel(cfg.model, inputSpec(data), createRng(cfg.seed), label, { quant: cfg.quant });
}

/**
 * The TNA twin. By default it is identical to the SNN, as in the TNA paper: the same
 * architecture, weight precision and neuron, initialised from another seed (the run seed + 1).
 * `loss.tna.twin.bits` / `.neuron` make it a labelled variant (a float twin: bits 32; an ANN
 * twin: neuron relu).
 */
export function twinFor(cfg: Config, data: DataSource): Partner {
  const t = cfg.loss.tna.twin;
  const modelCfg = { ...cfg.model, neuron: { ...cfg.model.neuron, type: t.neuron ?? cfg.model.neuron.type } };
  const seed = t.seed ?? (cfg.seed + 1) >>> 0;
  const model = buildModel(modelCfg, inputSpec(data), createRng(seed), 'twin', { quant: { ...cfg.quant, bits: t.bits ?? cfg.quant.bits } });
  return { model, timesteps: cfg.model.timesteps };
}

/** The KD teacher: any run or checkpoint this tool wrote, rebuilt from its own config, frozen. */
export function teacherFor(cfg: Config, data: DataSource, runsDir: string): Partner {
  if (!cfg.loss.kd.teacher) throw new UserError('loss.kd.teacher: loss.mode kd needs a teacher run or checkpoint');
  let located: ReturnType<typeof locateCheckpoint>;
  try {
    located = locateCheckpoint(cfg.loss.kd.teacher, runsDir, 'best');
  } catch (e) {
    throw new UserError(`loss.kd.teacher: ${(e as Error).message}`);
  }
  const tcfg = runConfig(located.paths);
  const spec = inputSpec(data);
  const t = datasetInput(tcfg.data);
  if (t.height !== spec.height || t.width !== spec.width || t.channels !== spec.channels || t.numClasses !== spec.numClasses) {
    const d = (x: { height: number; width: number; channels: number; numClasses: number }): string =>
      `${x.height}×${x.width}×${x.channels} images, ${x.numClasses} classes`;
    throw new UserError(`loss.kd.teacher: the teacher was trained on ${d(t)}; this run has ${d(spec)}`);
  }
  const model = buildModel(tcfg.model, spec, createRng(tcfg.seed), 'teacher', { quant: tcfg.quant });
  const ck = readCheckpoint(located.checkpoint);
  loadModelTensors(model, ck.weights, located.checkpoint);
  for (const t of [...ck.weights.values(), ...ck.optimizer.values(), ...(ck.twin?.values() ?? [])]) t.dispose();
  return { model, timesteps: tcfg.model.timesteps };
}

/** A run folder's config.yaml, validated (with optional --set overrides). */
export function runConfig(paths: RunPaths, sets: readonly string[] = []): Config {
  const tree = parseYaml(readFileSync(paths.config, 'utf8'), paths.config);
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    throw new UserError(`${paths.config}: not a config mapping`);
  }
  for (const s of sets) applySet(tree as Record<string, unknown>, s);
  return validateConfig(tree, paths.config);
}

export async function runTraining(req: TrainRequest): Promise<TrainOutcome> {
  let cfg: Config;
  let paths: RunPaths | null = null;
  let resume: CheckpointData | undefined;
  let adopted: string | null = null;
  if (req.resume) {
    paths = claimRunForResume(req.resume, req.runsDir, req.config?.name); // takes the run's .lock
    cfg = runConfig(paths, req.sets);
  } else {
    if (!req.config) throw new UserError('snn train needs --config FILE (or --resume RUN)');
    cfg = req.config;
  }
  const backend = await initBackend(req.backend ?? cfg.backend);
  // Tensors can only be made once a backend is up.
  if (paths) {
    // last, else prev or best with a one-line warning, else a UserError naming the damaged files
    const found = readResumeCheckpoint(paths.checkpoints);
    if (found?.warning) process.stderr.write(`snn: warning: ${found.warning}\n`);
    resume = found?.data;
    adopted = found?.adopted ?? null;
  }
  const data = await loadSource(cfg);
  if (batchCount(data.count.train, cfg.data.batchSize, true) === 0) {
    throw new UserError(`data.batchSize: ${cfg.data.batchSize} is larger than the training split (${data.count.train} images)`);
  }
  const model = modelFor(cfg, data);
  const partners = {
    twin: cfg.loss.mode === 'tna' ? twinFor(cfg, data) : undefined,
    teacher: cfg.loss.mode === 'kd' ? teacherFor(cfg, data, req.runsDir) : undefined,
  };
  const objective = createObjective(cfg.loss, model, partners);
  if (!paths) paths = createRunFolder(req.runsDir, cfg.name);
  writeFileAtomic(paths.config, configToYaml(cfg));
  const logger = runLogger(paths.log);
  // Not worth a warning: the checkpoint was complete, only the link to it was not yet moved.
  if (adopted) logger.info({ checkpoint: adopted }, 'checkpoints/last moved to a complete checkpoint written just before the previous session stopped');
  logger.info(
    { backend: backend.name, package: backend.package, threads: backend.threads, native: backend.native, nativeWhy: backend.nativeWhy, fallbacks: backend.fallbacks },
    `backend ${backend.name}${backend.native !== null ? ` (convolutions: ${backend.native})` : ''}`,
  );
  const meta = {
    commandLine: req.commandLine,
    cwd: process.cwd(),
    versions: versions(),
    backend,
    seed: cfg.seed,
    gitCommit: gitCommit(),
    host: hostname(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    data: { source: data.source, train: data.count.train, test: data.count.test, split: data.split },
    started: new Date().toISOString(),
  };
  if (resume && existsSync(paths.meta)) {
    const prev = readJson<Record<string, unknown>>(paths.meta);
    const sessions = Array.isArray(prev.resumed) ? prev.resumed : [];
    writeJson(paths.meta, { ...prev, resumed: [...sessions, meta] });
  } else {
    writeJson(paths.meta, meta);
  }
  logger.info({ config: cfg, data: meta.data, parameters: [...model.params.values()].reduce((n, v) => n + v.size, 0) }, 'start');
  try {
    const result = await train({
      config: cfg,
      paths,
      data,
      model,
      logger,
      reporter: req.reporter,
      resume,
      objective,
      shouldStop: req.shouldStop,
      summaryExtra: { backend: backend.name, run: paths.dir },
    });
    logger.info({ status: result.status, state: result.state }, 'end');
    try {
      const { writeRunPlots } = await import('../runs/plots.js');
      await writeRunPlots(paths.dir);
    } catch (e) {
      logger.warn({ err: e }, 'plots failed');
    }
    return { ...result, paths, backend, config: cfg };
  } catch (e0) {
    const e = annotateWriteFailure(e0, paths.checkpoints); // a failed write says which checkpoint is intact
    logger.error({ err: e }, 'failed');
    const summaryPath = paths.summary;
    try {
      if (existsSync(summaryPath)) {
        const s = readJson<Record<string, unknown>>(summaryPath);
        writeJson(summaryPath, { ...s, status: 'failed', error: (e as Error).message });
      }
    } catch {
      // the disk may be full: the error itself still reaches the user
    }
    throw e;
  } finally {
    model.dispose();
    partners.twin?.model.dispose();
    partners.teacher?.model.dispose();
    logger.flush();
    unlockRun(paths.dir);
  }
}
