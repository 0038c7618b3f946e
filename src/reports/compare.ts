/**
 * Tables across run folders (`snn runs list|compare`): one row per run with the config keys
 * that differ between the runs shown, accuracy, size, firing rate, energy, epochs and time.
 * Everything is read from the run folders (config.yaml, summary.json), so runs started by a
 * sweep, by hand or by a Slurm task compare alike.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UserError } from '../util/errors.js';
import { findRun, isRunFolder, listRunFolders } from '../runs/runFolder.js';
import { isSweepFolder, locateRun, readManifest, type SweepManifest } from '../sweep/manifest.js';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** What a row is made from: a run folder, or a sweep run that has no folder yet. */
export interface RunRef {
  dir: string | null;
  /** The sweep run's name when `dir` is null. */
  name: string;
  sweep?: { dir: string; index: number; overrides: Record<string, string> };
}

export interface RunRow {
  run: string;
  dir: string | null;
  status: string;
  /** Config key path → value, for the keys that differ between the rows of one table. */
  varied: Record<string, Json>;
  bestAccuracy: number | null;
  finalAccuracy: number | null;
  bits: number;
  parameters: number | null;
  modelSizeBits: number | null;
  meanFiringRate: number | null;
  sop: number | null;
  /** Estimated energy per image in pJ. */
  energyPJ: number | null;
  epochsDone: number | null;
  epochs: number | null;
  trainSeconds: number | null;
  backend: string | null;
}

interface Summary {
  status?: string;
  epochs?: number;
  epochsDone?: number;
  bestAccuracy?: number | null;
  finalAccuracy?: number | null;
  meanFiringRate?: number | null;
  parameters?: number;
  trainSeconds?: number;
  backend?: string;
  modelSizeBits?: number | null;
  energy?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function readJsonFile(path: string): unknown {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

export function readSummary(dir: string): Summary {
  const s = readJsonFile(join(dir, 'summary.json'));
  return isObj(s) ? (s as Summary) : {};
}

export function readRunConfig(dir: string): Record<string, unknown> {
  try {
    const t: unknown = parse(readFileSync(join(dir, 'config.yaml'), 'utf8'));
    return isObj(t) ? t : {};
  } catch {
    return {};
  }
}

/** `{a: {b: 1}, c: [1, 2]}` → `{'a.b': 1, c: [1, 2]}` (lists are leaves). */
export function flatten(tree: Record<string, unknown>, prefix = ''): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObj(v)) Object.assign(out, flatten(v, key));
    else out[key] = (v === undefined ? null : v) as Json;
  }
  return out;
}

/**
 * The energy figures of a summary: `energy` may be a number (pJ per image) or an object with
 * the SOP count and the energy in pJ under one of a few names.
 */
export function energyOf(s: Summary): { sop: number | null; pJ: number | null } {
  const e = s.energy;
  if (typeof e === 'number') return { sop: null, pJ: num(e) };
  if (!isObj(e)) return { sop: null, pJ: null };
  const pick = (...names: string[]): number | null => {
    for (const n of names) if (num(e[n]) !== null) return num(e[n]);
    return null;
  };
  const uJ = pick('uJ', 'microJoules');
  return {
    sop: pick('sop', 'sops', 'SOP', 'synapticOps'),
    pJ: pick('pJ', 'energyPJ', 'totalPJ', 'total_pJ', 'energy_pJ', 'total') ?? (uJ !== null ? uJ * 1e6 : null),
  };
}

/** Quantised weight bits of a config (`quant.bits`), 32 for a float model. */
export function bitsOf(cfg: Record<string, unknown>): number {
  const q = cfg.quant;
  return isObj(q) && typeof q.bits === 'number' ? q.bits : 32;
}

function rowOf(ref: RunRef): { row: RunRow; flat: Record<string, Json> } {
  const dir = ref.dir;
  const s = dir ? readSummary(dir) : {};
  const cfg = dir ? readRunConfig(dir) : {};
  const flat = flatten(cfg);
  if (!dir && ref.sweep) for (const [k, v] of Object.entries(ref.sweep.overrides)) flat[k] = v;
  const energy = energyOf(s);
  const row: RunRow = {
    run: dir ? basename(dir) : ref.name,
    dir,
    status: dir ? (s.status ?? 'started') : 'pending',
    varied: {},
    bestAccuracy: num(s.bestAccuracy),
    finalAccuracy: num(s.finalAccuracy),
    bits: bitsOf(cfg),
    parameters: num(s.parameters),
    modelSizeBits: num(s.modelSizeBits),
    meanFiringRate: num(s.meanFiringRate),
    sop: energy.sop,
    energyPJ: energy.pJ,
    epochsDone: num(s.epochsDone),
    epochs: num(s.epochs),
    trainSeconds: num(s.trainSeconds),
    backend: s.backend ?? null,
  };
  return { row, flat };
}

/** Keys whose values are not the same in every config (the run name aside). */
export function variedKeys(flats: readonly Record<string, Json>[], first: readonly string[] = []): string[] {
  if (flats.length < 2) return [];
  const keys = new Set<string>();
  for (const f of flats) for (const k of Object.keys(f)) keys.add(k);
  const differs = (k: string): boolean => new Set(flats.map((f) => JSON.stringify(f[k] ?? null))).size > 1;
  const varied = [...keys].filter((k) => k !== 'name' && differs(k));
  const lead = first.filter((k) => varied.includes(k));
  return [...lead, ...varied.filter((k) => !lead.includes(k)).sort()];
}

export function buildRows(refs: readonly RunRef[], firstKeys: readonly string[] = []): { rows: RunRow[]; keys: string[] } {
  const built = refs.map(rowOf);
  const keys = variedKeys(built.map((b) => b.flat), firstKeys);
  for (const b of built) b.row.varied = Object.fromEntries(keys.map((k) => [k, b.flat[k] ?? null]));
  return { rows: built.map((b) => b.row), keys };
}

/** The runs of a sweep in grid order, with a pending row for each run not started yet. */
export function sweepRefs(sweepDir: string, m: SweepManifest = readManifest(sweepDir)): RunRef[] {
  return m.runs.map((r) => ({
    dir: locateRun(sweepDir, r),
    name: r.name,
    sweep: { dir: sweepDir, index: r.index, overrides: r.overrides },
  }));
}

/** Sweep folders under `<runsDir>/sweeps`, oldest first. */
export function listSweeps(runsDir: string): string[] {
  const root = join(runsDir, 'sweeps');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => resolve(root, n))
    .filter((d) => statSync(d).isDirectory() && isSweepFolder(d))
    .sort((a, b) => statSync(a).birthtimeMs - statSync(b).birthtimeMs || a.localeCompare(b));
}

/**
 * Targets → runs. Nothing: every run in runs-dir and in its sweeps. A target may be a sweep
 * (folder or name), a run (folder, name, `latest`), or any folder holding run folders.
 */
export function resolveTargets(targets: readonly string[], runsDir: string): { refs: RunRef[]; firstKeys: string[] } {
  const refs: RunRef[] = [];
  const firstKeys: string[] = [];
  const addSweep = (dir: string): void => {
    const m = readManifest(dir);
    for (const a of m.axes) if (!firstKeys.includes(a.key)) firstKeys.push(a.key);
    refs.push(...sweepRefs(dir, m));
  };
  if (targets.length === 0) {
    for (const d of listRunFolders(runsDir)) refs.push({ dir: resolve(d), name: basename(d) });
    for (const s of listSweeps(runsDir)) addSweep(s);
    return { refs, firstKeys };
  }
  for (const t of targets) {
    const sweepCands = [t, join(runsDir, 'sweeps', t)];
    const sweep = sweepCands.find((c) => existsSync(c) && isSweepFolder(c));
    if (sweep) {
      addSweep(resolve(sweep));
      continue;
    }
    if (t !== 'latest' && existsSync(t) && statSync(t).isDirectory() && !isRunFolder(t)) {
      const inside = listRunFolders(t);
      if (inside.length === 0) throw new UserError(`${t}: no run folders or sweep manifest in this folder`);
      for (const d of inside) refs.push({ dir: resolve(d), name: basename(d) });
      continue;
    }
    const p = findRun(t, runsDir);
    refs.push({ dir: resolve(p.dir), name: basename(p.dir) });
  }
  const seen = new Set<string>();
  const unique = refs.filter((r) => {
    if (!r.dir) return true;
    if (seen.has(r.dir)) return false;
    seen.add(r.dir);
    return true;
  });
  return { refs: unique, firstKeys };
}

// ---------------------------------------------------------------------------------------------
// Columns and output formats.

export type Cell = string | number | null;

export interface Column {
  key: string;
  /** The raw value (CSV, JSON, sorting). */
  value: (r: RunRow) => Cell;
  /** The value as text for the terminal table. */
  text?: (r: RunRow) => string;
  align?: 'left' | 'right';
}

const pct = (v: number | null): string => (v === null ? '' : `${(100 * v).toFixed(2)}`);
const fixed = (d: number) => (v: number | null): string => (v === null ? '' : v.toFixed(d));

export function formatSeconds(s: number | null): string {
  if (s === null) return '';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatBits(bits: number | null): string {
  if (bits === null) return '';
  const bytes = bits / 8;
  if (bytes < 1024) return `${bytes.toFixed(0)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatEnergy(pJ: number | null): string {
  if (pJ === null) return '';
  const units: [number, string][] = [[1e9, 'mJ'], [1e6, 'µJ'], [1e3, 'nJ'], [1, 'pJ']];
  const [f, u] = units.find(([f]) => Math.abs(pJ) >= f) ?? [1, 'pJ'];
  return `${(pJ / f).toPrecision(3)} ${u}`;
}

function formatCount(n: number | null): string {
  if (n === null) return '';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

const jsonCell = (v: Json): Cell => (v === null || typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v));

export function columns(keys: readonly string[], kind: 'list' | 'compare'): Column[] {
  const varied: Column[] = keys.map((k) => ({ key: k, value: (r) => jsonCell(r.varied[k] ?? null) }));
  const all: Column[] = [
    { key: 'run', value: (r) => r.run, align: 'left' },
    { key: 'status', value: (r) => r.status, align: 'left' },
    ...varied,
    { key: 'best_acc', value: (r) => r.bestAccuracy, text: (r) => pct(r.bestAccuracy) },
    { key: 'final_acc', value: (r) => r.finalAccuracy, text: (r) => pct(r.finalAccuracy) },
    { key: 'bits', value: (r) => r.bits },
    { key: 'params', value: (r) => r.parameters, text: (r) => formatCount(r.parameters) },
    { key: 'size', value: (r) => r.modelSizeBits, text: (r) => formatBits(r.modelSizeBits) },
    { key: 'firing_rate', value: (r) => r.meanFiringRate, text: (r) => fixed(4)(r.meanFiringRate) },
    { key: 'sop', value: (r) => r.sop, text: (r) => formatCount(r.sop) },
    { key: 'energy_pj', value: (r) => r.energyPJ, text: (r) => formatEnergy(r.energyPJ) },
    { key: 'epochs', value: (r) => r.epochsDone, text: (r) => (r.epochsDone === null ? '' : `${r.epochsDone}/${r.epochs ?? '?'}`) },
    { key: 'wall', value: (r) => r.trainSeconds, text: (r) => formatSeconds(r.trainSeconds) },
    { key: 'backend', value: (r) => r.backend, align: 'left' },
  ];
  if (kind === 'compare') return all;
  const short = new Set(['run', 'status', ...keys, 'best_acc', 'final_acc', 'epochs', 'wall', 'backend']);
  return all.filter((c) => short.has(c.key));
}

/** `--sort key`, `--sort -key` or `--sort key:desc`; numbers compare as numbers, blanks last. */
export function sortRows(rows: RunRow[], cols: readonly Column[], spec: string): RunRow[] {
  let key = spec;
  let desc = false;
  if (key.startsWith('-')) [key, desc] = [key.slice(1), true];
  const m = /^(.*):(asc|desc)$/.exec(key);
  if (m) [key, desc] = [m[1], m[2] === 'desc'];
  const col = cols.find((c) => c.key === key) ?? cols.find((c) => c.key.endsWith(`.${key}`));
  if (!col) throw new UserError(`--sort ${spec}: no column '${key}' (columns: ${cols.map((c) => c.key).join(', ')})`);
  const cmp = (a: Cell, b: Cell): number => {
    if (a === null || a === '') return b === null || b === '' ? 0 : 1;
    if (b === null || b === '') return -1;
    const r = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true });
    return desc ? -r : r;
  };
  return [...rows].sort((x, y) => cmp(col.value(x), col.value(y)));
}

export function toCsv(rows: readonly RunRow[], cols: readonly Column[]): string {
  const esc = (c: Cell): string => {
    const s = c === null ? '' : String(c);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.map((c) => esc(c.key)).join(','), ...rows.map((r) => cols.map((c) => esc(c.value(r))).join(','))].join('\n') + '\n';
}

export function toJson(rows: readonly RunRow[], cols: readonly Column[]): string {
  const objs = rows.map((r) => ({ ...Object.fromEntries(cols.map((c) => [c.key, c.value(r)])), dir: r.dir }));
  return `${JSON.stringify(objs, null, 2)}\n`;
}

export function cellText(c: Column, r: RunRow): string {
  if (c.text) return c.text(r);
  const v = c.value(r);
  return v === null ? '' : String(v);
}

/** An aligned text table: text columns left, numbers right. */
export function toText(rows: readonly RunRow[], cols: readonly Column[]): string {
  const cells = rows.map((r) => cols.map((c) => cellText(c, r)));
  const widths = cols.map((c, i) => Math.max(c.key.length, ...cells.map((row) => row[i].length)));
  const left = cols.map((c) => c.align === 'left' || !rows.some((r) => typeof c.value(r) === 'number'));
  const line = (vals: string[]): string =>
    vals.map((v, i) => (left[i] ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  return [line(cols.map((c) => c.key)), ...cells.map(line)].join('\n') + '\n';
}
