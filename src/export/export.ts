/**
 * One `snn export` invocation as a library call: find the checkpoint, check that the request
 * makes sense (a ternary export of a ternary model; a spiking, directly encoded network; what
 * NIR can express), rebuild the model, trace and fold it, and write the `snn` packed format or
 * NIR into a folder that appears whole or not at all. Every check runs before anything is
 * written.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { initBackend } from '../engine/backend.js';
import { loadDataset } from '../data/registry.js';
import { locateCheckpoint } from '../runs/locate.js';
import { runConfig } from '../train/session.js';
import { modelFromCheckpoint } from '../train/checkpointModel.js';
import { UserError } from '../util/errors.js';
import { snnVersion } from '../util/version.js';
import { exportModel } from './graph.js';
import { outChannels, weightCount, type ExportModel } from './model.js';
import { NIR_FILE, nirRefusal, toNirGraph, writeNir } from './nir.js';
import { nirSizeReport, type NirSizeReport } from './nirSizes.js';
import { checkOutputDir, writeOutputDir } from './outputDir.js';
import { packedBytes } from './pack.js';
import { sizeReport, writeSnnExport, type SizeReport } from './snnFormat.js';

export type ExportFormat = 'snn' | 'nir';

export interface ExportRequest {
  target: string;
  runsDir: string;
  checkpoint?: 'best' | 'last';
  format: ExportFormat;
  /** Default: <run>/export-<format>. */
  out?: string;
  ternary: boolean;
  postTraining: boolean;
  force: boolean;
  backend?: Config['backend'];
  sets?: readonly string[];
}

export interface ExportLayer {
  id: string;
  kind: 'conv' | 'linear';
  precision: 'ternary' | 'float32';
  trainedBits: number;
  weights: number;
  /** Bytes of this layer in the export (codes or float32 weights, scales, biases). */
  bytes: number;
  /** Share of zero codes (ternary layers). */
  sparsity: number | null;
}

export interface ExportOutcome {
  out: string;
  format: ExportFormat;
  files: { name: string; bytes: number }[];
  run: string;
  checkpoint: string;
  epoch: number | null;
  ternary: boolean;
  postTraining: boolean;
  timesteps: number;
  layers: ExportLayer[];
  /** snn: the packed format's sizes; nir: the HDF5 file's. */
  sizes: SizeReport | NirSizeReport;
  /** The checkpoint's weights.bin (float32 parameters and BN statistics). */
  checkpointWeightsBytes: number | null;
  notes: string[];
}

/** The checks that need only the config, before any tensor is made. */
export function checkExportable(cfg: Config, req: Pick<ExportRequest, 'ternary' | 'postTraining'>, where: string): void {
  if (cfg.model.neuron.type === 'relu') throw new UserError(`${where}: model.neuron.type is relu (an ANN); export writes spiking networks`);
  if (cfg.model.encoding !== 'direct') throw new UserError(`${where}: model.encoding is ${cfg.model.encoding}; export supports direct encoding only (the engine would have to draw its own random input spikes)`);
  if (req.postTraining && !req.ternary) throw new UserError('--post-training: goes with --ternary (it ternarises float weights)');
  if (req.ternary && cfg.quant.bits !== 2 && !req.postTraining) {
    throw new UserError(
      `--ternary: ${where} was trained with quant.bits ${cfg.quant.bits}, not ternary (2); train with --set quant.bits=2, or add --post-training to ternarise its weights with TWN after training (accuracy will change)`,
    );
  }
  if (req.postTraining && cfg.quant.bits === 2) throw new UserError(`--post-training: ${where} was trained ternary already (quant.bits 2); leave the flag out`);
}

/** `packed`: ternary layers as 2-bit codes (the snn format); NIR stores every layer as float32. */
function layerTable(m: ExportModel, packed: boolean): ExportLayer[] {
  const rows: ExportLayer[] = [];
  for (const n of m.nodes) {
    if (n.op !== 'conv' && n.op !== 'linear') continue;
    const count = weightCount(n);
    const out = outChannels(n);
    const t = n.weights.kind === 'ternary';
    const codes = t && packed;
    let zeros = 0;
    if (n.weights.kind === 'ternary') for (const c of n.weights.codes) if (c === 0) zeros++;
    rows.push({
      id: n.id,
      kind: n.op,
      precision: n.weights.kind,
      trainedBits: n.trainedBits,
      weights: count,
      bytes: codes ? packedBytes(count) + 8 * out : 4 * (count + out),
      sparsity: t ? zeros / count : null,
    });
  }
  return rows;
}

function checkpointInfo(checkpoint: string): { sha256: string | null; bytes: number | null } {
  try {
    const sums = JSON.parse(readFileSync(join(checkpoint, 'checksums.json'), 'utf8')) as { sha256?: Record<string, string> };
    return { sha256: sums.sha256?.['weights.bin'] ?? null, bytes: statSync(join(checkpoint, 'weights.bin')).size };
  } catch {
    return { sha256: null, bytes: null };
  }
}

export async function runExport(req: ExportRequest): Promise<ExportOutcome> {
  const { paths, checkpoint } = locateCheckpoint(req.target, req.runsDir, req.checkpoint ?? 'best');
  const cfg = runConfig(paths, req.sets);
  checkExportable(cfg, req, paths.dir);
  const out = resolve(req.out ?? join(paths.dir, `export-${req.format}`));
  checkOutputDir(out, req.force);

  await initBackend(req.backend ?? cfg.backend);
  const data = await loadDataset(cfg.data, cfg.seed);
  const quant = req.postTraining ? { ...cfg.quant, bits: 2 as const } : cfg.quant;
  const { height, width, channels, numClasses } = data.train;
  const { model, epoch } = modelFromCheckpoint(cfg, { height, width, channels, numClasses }, checkpoint, { label: 'export', quant });
  let em: ExportModel;
  try {
    em = exportModel(model, { height, width, channels, mean: data.mean, std: data.std }, numClasses, cfg.model.timesteps, { ternary: req.ternary });
  } finally {
    model.dispose();
  }
  if (req.format === 'nir') {
    const why = nirRefusal(em);
    if (why) throw new UserError(`--format nir: ${why}`);
  }

  const ckInfo = checkpointInfo(checkpoint);
  const notes: string[] = [];
  if (req.postTraining) {
    notes.push(
      `post-training ternarisation: ${paths.dir} was trained with quant.bits ${cfg.quant.bits}; its float weights were ternarised with TWN after training (first/last layers: ${cfg.quant.firstLast}, per channel: ${cfg.quant.perChannel}). The exported network is not the one that was evaluated: measure it with snn eval --exported.`,
    );
  }
  if (!req.ternary) notes.push('every layer is stored as float32 (quantised layers as their quantised values); add --ternary to pack ternary layers as 2-bit codes');
  if (req.format === 'nir') notes.push('NIR has no ternary type: ternary layers are written as float32 values α·γ/σ·c (sign gives the code, magnitude the channel scale)');
  const source = {
    run: paths.dir,
    checkpoint,
    epoch,
    weightsSha256: ckInfo.sha256,
    quant,
    trainedQuant: cfg.quant,
    config: cfg,
  };
  const generator = `snn ${snnVersion()}`;

  const written = await writeOutputDir(out, req.force, async (tmp) => {
    if (req.format === 'snn') {
      const manifest = writeSnnExport(tmp, em, { ternary: req.ternary, postTraining: req.postTraining, source, notes, generator });
      return manifest.sizes;
    }
    const g = toNirGraph(em, {
      generator,
      source_run: paths.dir,
      source_checkpoint: checkpoint,
      timesteps: em.timesteps,
      dt: 1,
      time_unit: 'one time step of the trained network (dt = 1): tau is in steps',
      encoding: 'direct: Input receives the image as pixel/255 (channels first) at every one of the time steps; node input.normalise computes (x - mean)/std',
      input_mean: em.input.mean,
      input_std: em.input.std,
      readout: `the prediction is the argmax of the mean over ${em.timesteps} time steps of Output`,
      neuron_semantics: 'fires when v >= v_threshold (our Theta(0) = 1), then v = v_reset; v starts at v_reset',
      ternary: req.ternary ? 'ternary layers written as float32 values alpha*gamma/sigma*code' : 'float32',
      post_training_ternarisation: req.postTraining ? 1 : 0,
    });
    const file = join(tmp, NIR_FILE);
    await writeNir(file, g);
    const sizes = nirSizeReport(g, statSync(file).size);
    writeFileSync(
      join(tmp, 'export.json'),
      `${JSON.stringify({ format: 'nir', nirVersion: g.version, file: NIR_FILE, createdAt: new Date().toISOString(), generator, ternary: req.ternary, postTraining: req.postTraining, timesteps: em.timesteps, input: em.input, sizes, nodes: g.nodes.size, edges: g.edges.length, source, notes }, null, 1)}\n`,
    );
    return sizes;
  });
  const files = (req.format === 'snn' ? ['manifest.json', 'model.bin'] : [NIR_FILE, 'export.json'])
    .filter((f) => existsSync(join(out, f)))
    .map((f) => ({ name: f, bytes: statSync(join(out, f)).size }));
  return {
    out,
    format: req.format,
    files,
    run: paths.dir,
    checkpoint,
    epoch,
    ternary: req.ternary,
    postTraining: req.postTraining,
    timesteps: em.timesteps,
    layers: layerTable(em, req.format === 'snn'),
    sizes: written,
    checkpointWeightsBytes: ckInfo.bytes,
    notes,
  };
}
