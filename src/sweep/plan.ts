/**
 * From `snn sweep` flags to a sweep folder: checks every grid value against the config schema
 * before anything is written (bad input starts no run and creates no folder), then creates
 * the sweep folder, or finds the one an earlier invocation of the same sweep made.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { applySet, readConfigFile, validateConfig } from '../config/load.js';
import { writeFileAtomic } from '../runs/atomic.js';
import { UserError } from '../util/errors.js';
import { checkAxes, expandGrid, pointRunName, pointSets, type GridAxis } from './grid.js';
import { BASE_CONFIG, isSweepFolder, readManifest, writeManifest, type SweepManifest } from './manifest.js';

export interface SweepRequest {
  config: string;
  sets: readonly string[];
  axes: readonly GridAxis[];
  /** Sweep name; default `<config name>-<8 hex of the plan>`. */
  name?: string;
  runsDir: string;
}

export interface SweepPlan {
  name: string;
  planKey: string;
  baseYaml: string;
  configName: string;
  manifest: SweepManifest;
}

type Tree = Record<string, unknown>;
const clone = (t: Tree): Tree => structuredClone(t);

const NAME_RE = /^[A-Za-z0-9._-]+$/;

/** Validates the config, every axis value on its own, then every combination; builds the plan. */
export function planSweep(req: SweepRequest): SweepPlan {
  checkAxes(req.axes);
  if (req.name !== undefined && !NAME_RE.test(req.name)) {
    throw new UserError(`--name ${req.name}: a sweep name may hold letters, digits, ".", "_" and "-" only`);
  }
  const tree = readConfigFile(req.config);
  for (const s of req.sets) applySet(tree, s);
  const base = validateConfig(clone(tree), req.config);
  for (const a of req.axes) {
    for (const v of a.values) {
      const t = clone(tree);
      const label = `--grid ${a.key}=${v}`;
      try {
        applySet(t, `${a.key}=${v}`);
      } catch (e) {
        throw new UserError(`${label}: ${(e as Error).message.replace(/^--set [^:]*: /, '')}`);
      }
      validateConfig(t, label);
    }
  }
  const points = expandGrid(req.axes);
  for (const p of points) {
    const t = clone(tree);
    for (const s of pointSets(p)) applySet(t, s);
    validateConfig(t, `run ${p.index} (${pointSets(p).join(' ')})`);
  }
  const baseYaml = stringify(tree, { lineWidth: 100 });
  const planKey = createHash('sha256').update(JSON.stringify({ base: tree, axes: req.axes })).digest('hex');
  const name = req.name ?? `${base.name}-${planKey.slice(0, 8)}`;
  const manifest: SweepManifest = {
    kind: 'snn-sweep',
    version: 1,
    name,
    planKey,
    created: new Date().toISOString(),
    cwd: process.cwd(),
    config: resolve(req.config),
    sets: [...req.sets],
    axes: req.axes.map((a) => ({ key: a.key, values: [...a.values] })),
    runs: points.map((p) => ({
      index: p.index,
      name: pointRunName(base.name, p, points.length),
      overrides: Object.fromEntries(p.overrides),
      dir: null,
      state: 'pending',
      pid: null,
      attempts: 0,
      error: null,
    })),
    slurm: [],
  };
  return { name, planKey, baseYaml, configName: base.name, manifest };
}

export const sweepsRoot = (runsDir: string): string => join(runsDir, 'sweeps');

/**
 * The sweep folder of a plan: created with its manifest and base.yaml, or, if a sweep of that
 * name exists, checked to hold the same plan and returned with its manifest as it stands.
 */
export function openSweep(plan: SweepPlan, runsDir: string): { dir: string; manifest: SweepManifest; existed: boolean } {
  const dir = resolve(sweepsRoot(runsDir), plan.name);
  if (existsSync(dir)) {
    if (!isSweepFolder(dir)) throw new UserError(`${dir} exists and is not a sweep folder; pick another --name`);
    const m = readManifest(dir);
    if (m.planKey !== plan.planKey) {
      throw new UserError(`sweep ${dir} holds a different sweep (other config or grid); pick another --name`);
    }
    return { dir, manifest: m, existed: true };
  }
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileAtomic(join(dir, BASE_CONFIG), plan.baseYaml);
  writeManifest(dir, plan.manifest);
  return { dir, manifest: plan.manifest, existed: false };
}

/** A sweep folder given as a path or as a name under `<runs-dir>/sweeps/`. */
export function findSweep(ref: string, runsDir: string): string {
  for (const cand of [ref, join(sweepsRoot(runsDir), ref)]) {
    if (existsSync(cand) && isSweepFolder(cand)) return resolve(cand);
  }
  throw new UserError(`sweep not found: ${ref} (looked for ${ref}/manifest.json and in ${sweepsRoot(runsDir)})`);
}
