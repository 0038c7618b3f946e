/**
 * One `snn train` invocation as a library call: config → backend → data → model → run folder →
 * trainer. Everything that can be wrong with the input (config, data files, model shape) is
 * checked before the run folder is created, so bad input leaves runs/ untouched.
 */
import { hostname, cpus } from 'node:os';
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../runs/atomic.js';
import { applySet, configToYaml, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { backendLine, initBackend, type BackendInfo } from '../engine/backend.js';
import { datasetInput } from '../data/shapes.js';
import { loadSource, type DataSource } from './dataSource.js';
import { buildModel, type SpikingModel } from '../models/index.js';
import {
  abandonNewRun,
  checkRunName,
  checkRunsDir,
  claimRunForResume,
  createRunFolder,
  readJson,
  unlockRun,
  writeJson,
  type RunPaths,
} from '../runs/runFolder.js';
import {
  checkConfigAgainst,
  checkConfigAtStart,
  parseRunConfig,
  readMeta,
  readRunConfigText,
  resumeOverrides,
  sha256Hex,
  type ConfigChange,
} from '../runs/runConfig.js';
import { repairMetrics } from '../runs/metricsRepair.js';
import { warn } from '../util/warn.js';
import { annotateWriteFailure, type CheckpointData } from '../runs/checkpoint.js';
import { linkedState, readResumeCheckpoint } from '../runs/resume.js';
import { batchCount } from '../data/loader.js';
import { runLogger } from '../runs/logger.js';
import { createRng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { gitCommit, versions } from '../util/version.js';
import { train, type Reporter, type TrainResult } from './trainer.js';
import { modelFromCheckpoint } from './checkpointModel.js';
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
  const t = twinSpec(cfg);
  const modelCfg = { ...cfg.model, neuron: { ...cfg.model.neuron, type: t.neuron } };
  const model = buildModel(modelCfg, inputSpec(data), createRng(t.seed), 'twin', { quant: { ...cfg.quant, bits: t.bits } });
  return { model, timesteps: cfg.model.timesteps };
}

/** The twin's precision, neuron and seed, defaults resolved; `identical` when only the seed differs. */
export function twinSpec(cfg: Config): { bits: Config['quant']['bits']; neuron: Config['model']['neuron']['type']; seed: number; identical: boolean } {
  const t = cfg.loss.tna.twin;
  const bits = t.bits ?? cfg.quant.bits;
  const neuron = t.neuron ?? cfg.model.neuron.type;
  return { bits, neuron, seed: t.seed ?? (cfg.seed + 1) >>> 0, identical: bits === cfg.quant.bits && neuron === cfg.model.neuron.type };
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
  const { model } = modelFromCheckpoint(tcfg, spec, located.checkpoint, { label: 'teacher' });
  return { model, timesteps: tcfg.model.timesteps };
}

/** A run folder's config.yaml (read bounded), validated, with optional --set overrides (eval: data.root and the like). */
export function runConfig(paths: RunPaths, sets: readonly string[] = []): Config {
  const { tree } = parseRunConfig(paths);
  for (const s of sets) applySet(tree, s);
  return validateConfig(tree, paths.config);
}

/** Marks a run's summary.json (if any, and if it says `running`) with a final status and error. */
function markSummary(summaryPath: string, status: string, error: string): void {
  try {
    if (!existsSync(summaryPath)) return;
    const s = readJson<Record<string, unknown>>(summaryPath);
    if (s.status === 'running') writeJson(summaryPath, { ...s, status, error });
  } catch {
    // the disk may be full, or the summary damaged: the error itself still reaches the user
  }
}

export async function runTraining(req: TrainRequest): Promise<TrainOutcome> {
  const claimed: string[] = [];
  try {
    return await trainSession(req, claimed);
  } catch (e) {
    // A resume refused before training (a bad config, override or checkpoint) releases the lock
    // it took, so that the run folder is left exactly as it was (a process exit would too).
    for (const d of claimed) unlockRun(d);
    throw e;
  }
}

async function trainSession(req: TrainRequest, claimed: string[]): Promise<TrainOutcome> {
  let cfg: Config;
  let paths: RunPaths | null = null;
  let resume: CheckpointData | undefined;
  let adopted: string | null = null;
  let base: ReturnType<typeof parseRunConfig> | null = null;
  let changed: ConfigChange['set'] = [];
  if (req.resume) {
    paths = claimRunForResume(req.resume, req.runsDir, req.config?.name); // takes the run's .lock
    claimed.push(paths.dir);
    // An edited or truncated config.yaml is refused before it is parsed and before anything
    // (link repairs included) changes; checked again below against the checkpoint actually used.
    const last = linkedState(paths.checkpoints, 'last');
    if (last) checkConfigAgainst(paths, last.tag, last.state);
    else checkConfigAtStart(paths, readRunConfigText(paths).sha256);
    base = parseRunConfig(paths);
    ({ config: cfg, changed } = resumeOverrides(base, req.sets ?? [], paths.config));
  } else {
    if (!req.config) throw new UserError('snn train needs --config FILE (or --resume RUN)');
    cfg = req.config;
    checkRunName(cfg.name);
    checkRunsDir(req.runsDir);
  }
  const backend = await initBackend(req.backend ?? cfg.backend);
  // Tensors can only be made once a backend is up.
  if (paths && base) {
    // last, else prev or best with a one-line warning, else a UserError naming the damaged files
    const found = readResumeCheckpoint(paths.checkpoints);
    if (found) checkConfigAgainst(paths, found.dir, found.data.state);
    else checkConfigAtStart(paths, base.sha256);
    const done = typeof found?.data.state.epoch === 'number' ? found.data.state.epoch : 0;
    if (cfg.train.epochs < done) throw new UserError(`--set train.epochs: ${cfg.train.epochs} is fewer than the ${done} epochs the run has done`);
    if (found?.warning) warn(found.warning);
    resume = found?.data;
    adopted = found?.adopted ?? null;
    if (resume) repairMetrics(paths, done);
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
  const isNew = !paths;
  if (!paths) paths = createRunFolder(req.runsDir, cfg.name);
  const configText = configToYaml(cfg);
  const configSha256 = sha256Hex(configText);
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
    // The TNA twin as built (`loss.tna.twin`'s nulls resolved): identical to the SNN unless set.
    ...(cfg.loss.mode === 'tna' ? { twin: twinSpec(cfg) } : {}),
    started: new Date().toISOString(),
  };
  let logger: ReturnType<typeof runLogger>;
  try {
    if (isNew) {
      writeFileAtomic(paths.config, configText);
      writeJson(paths.meta, { ...meta, configSha256First: configSha256, configSha256 });
    } else {
      // meta.json first: a crash between the two writes leaves the old config, which still matches.
      const prev = readMeta(paths, true);
      const sessions = Array.isArray(prev.resumed) ? prev.resumed : [];
      const history = Array.isArray(prev.configChanges) ? prev.configChanges : [];
      const change = changed.length > 0 && base ? [{ from: base.sha256, to: configSha256, set: changed, at: meta.started }] : [];
      writeJson(paths.meta, { ...prev, resumed: [...sessions, meta], configChanges: [...history, ...change], configSha256: change.length ? configSha256 : (prev.configSha256 ?? base?.sha256) });
      if (change.length > 0) writeFileAtomic(paths.config, configText);
    }
    logger = runLogger(paths.log);
  } catch (e) {
    if (isNew) abandonNewRun(paths.dir); // a failed start (disk full) leaves no half-made run folder
    throw e;
  }
  if (changed.length > 0) {
    logger.info({ changed, from: base?.sha256, to: configSha256 }, `config changed on resume: ${changed.map((c) => `${c.key} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join(', ')}`);
  }
  // Not worth a warning: the checkpoint was complete, only the link to it was not yet moved.
  if (adopted) logger.info({ checkpoint: adopted }, 'checkpoints/last moved to a complete checkpoint written just before the previous session stopped');
  logger.info(
    { backend: backend.name, package: backend.package, threads: backend.threads, native: backend.native, nativeWhy: backend.nativeWhy, adapter: backend.adapter, fallbacks: backend.fallbacks },
    backendLine(backend),
  );
  logger.info({ config: cfg, data: meta.data, parameters: [...model.params.values()].reduce((n, v) => n + v.size, 0) }, 'start');
  // A second SIGINT/SIGTERM ends the process at once (cli/train.ts): summary.json must not stay `running`.
  const summaryPath = paths.summary;
  const markAborted = (): void => markSummary(summaryPath, 'failed', 'aborted by a second signal; the last checkpoint is intact (snn train --resume continues)');
  process.on('exit', markAborted);
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
      configSha256: isNew || changed.length > 0 || !base ? configSha256 : base.sha256,
      summaryExtra: { backend: backend.name, run: paths.dir },
    });
    logger.info({ status: result.status, state: result.state }, 'end');
    try {
      const { writeRunPlots } = await import('../reports/plots.js');
      await writeRunPlots(paths.dir);
    } catch (e) {
      logger.warn({ err: e }, 'plots failed');
    }
    return { ...result, paths, backend, config: cfg };
  } catch (e0) {
    const e = annotateWriteFailure(e0, paths.checkpoints); // a failed write says which checkpoint is intact
    logger.error({ err: e }, 'failed');
    markSummary(summaryPath, 'failed', (e as Error).message);
    throw e;
  } finally {
    process.off('exit', markAborted);
    model.dispose();
    partners.twin?.model.dispose();
    partners.teacher?.model.dispose();
    logger.flush();
    unlockRun(paths.dir);
  }
}
