/**
 * A run folder's config.yaml is what its checkpoints were trained with, and is checked to be:
 * each checkpoint's state.json holds the sha256 of config.yaml's bytes (`configSha256`), and
 * meta.json the run's first one and every change made on resume (`configChanges`, each
 * `{from, to, set, at}`). `snn eval`, `snn export` and `snn train --resume` accept config.yaml
 * only if its sha256 is the checkpoint's or follows from it by those changes; an edited or
 * truncated config.yaml is refused in one line (exit 2) instead of silently building another
 * model or training on with other hyper-parameters.
 *
 * Changing hyper-parameters of a run is done on resume with `--set`, and only for keys no
 * tensor of the checkpoint and no data order depends on (RESUME_SETTABLE, ours); the change is
 * written to meta.json and log.jsonl and the checksum moves forward with it.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { applySet, MAX_CONFIG_BYTES, parseYaml, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { readBounded } from '../util/boundedRead.js';
import { UserError } from '../util/errors.js';
import { warn } from '../util/warn.js';
import { readJson, type RunPaths } from './runFolder.js';

export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export interface ConfigChange {
  from: string;
  to: string;
  set: { key: string; from: unknown; to: unknown }[];
  at: string;
}

/** config.yaml's text and sha256, read bounded (a regular file of at most 1 MiB). */
export function readRunConfigText(paths: RunPaths): { text: string; sha256: string } {
  const bytes = readBounded(paths.config, { what: 'run config', maxBytes: MAX_CONFIG_BYTES });
  return { text: bytes.toString('utf8'), sha256: sha256Hex(bytes) };
}

/** config.yaml parsed and validated (no overrides). */
export function parseRunConfig(paths: RunPaths): { config: Config; tree: Record<string, unknown>; sha256: string } {
  const { text, sha256 } = readRunConfigText(paths);
  const tree = parseYaml(text, paths.config);
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) throw new UserError(`${paths.config}: not a config mapping`);
  return { config: validateConfig(tree, paths.config), tree: tree as Record<string, unknown>, sha256 };
}

/** meta.json, or {} when it is missing; a damaged one is set aside (meta.json.damaged) with a warning. */
export function readMeta(paths: RunPaths, setAside = false): Record<string, unknown> {
  if (!existsSync(paths.meta)) return {};
  try {
    const m = readJson<unknown>(paths.meta);
    if (typeof m === 'object' && m !== null && !Array.isArray(m)) return m as Record<string, unknown>;
  } catch {
    // damaged: below
  }
  if (setAside) {
    renameSync(paths.meta, `${paths.meta}.damaged`);
    warn(`${paths.meta} is damaged; kept as ${basename(paths.meta)}.damaged, a new one is written`);
  }
  return {};
}

function configChanges(meta: Record<string, unknown>): ConfigChange[] {
  const c = meta.configChanges;
  return Array.isArray(c) ? c.filter((x): x is ConfigChange => typeof x?.from === 'string' && typeof x?.to === 'string') : [];
}

/**
 * A UserError unless config.yaml (sha256 `actual`) is the config a checkpoint (or, with no
 * checkpoint yet, the run's start) recorded as `expected`, or follows from it by the changes
 * meta.json records. `expected` undefined: written by an snn without config checksums, nothing to check.
 */
export function checkConfigMatches(paths: RunPaths, actual: string, expected: string | undefined, against: string): void {
  if (expected === undefined || actual === expected) return;
  const changes = configChanges(readMeta(paths));
  const reach = new Set([expected]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of changes) {
      if (reach.has(c.from) && !reach.has(c.to)) {
        reach.add(c.to);
        grew = true;
      }
    }
  }
  if (reach.has(actual)) return;
  throw new UserError(
    `${paths.config}: is not the config ${against} was trained with (sha256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…); ` +
      `it was edited or damaged: restore it (log.jsonl's "start" line holds the resolved config), and change hyper-parameters with snn train --resume RUN --set key=value`,
  );
}

/** Checks config.yaml against the checkpoint folder `checkpointDir` (its state.json's configSha256). */
export function checkConfigAgainst(paths: RunPaths, checkpointDir: string, state: Record<string, unknown>): void {
  const expected = typeof state.configSha256 === 'string' ? state.configSha256 : undefined;
  checkConfigMatches(paths, readRunConfigText(paths).sha256, expected, `checkpoint ${basename(checkpointDir)}`);
}

/** Checks config.yaml of a run with no checkpoint yet against the checksum meta.json recorded at its start. */
export function checkConfigAtStart(paths: RunPaths, actual: string): void {
  const m = readMeta(paths);
  const expected = typeof m.configSha256First === 'string' ? m.configSha256First : undefined;
  checkConfigMatches(paths, actual, expected, `the run (${basename(dirname(paths.config))})`);
}

/**
 * Keys `--set` may change when resuming: no tensor of the checkpoint and no data order depends
 * on them (ours). A prefix ending in `.` covers a section.
 */
export const RESUME_SETTABLE = [
  'train.epochs',
  'train.evalEvery',
  'train.optimizer.lr',
  'train.optimizer.weightDecay',
  'train.gradClip',
  'train.onNonFinite',
  'train.schedule.',
  'data.root',
  'data.testBatchSize',
  'data.cache',
  'backend',
] as const;

const settable = (key: string): boolean => RESUME_SETTABLE.some((k) => (k.endsWith('.') ? key.startsWith(k) : key === k));

function flat(v: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flat(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v ?? null));
  return out;
}

/**
 * The config of a resumed run with `--set` overrides applied: the keys that changed, or a
 * UserError (before anything is written) for an override the checkpoint cannot take.
 */
export function resumeOverrides(base: { config: Config; tree: Record<string, unknown> }, sets: readonly string[], file: string): { config: Config; changed: ConfigChange['set'] } {
  if (sets.length === 0) return { config: base.config, changed: [] };
  const tree = structuredClone(base.tree);
  for (const s of sets) applySet(tree, s);
  const config = validateConfig(tree, `${file} with --set`);
  const before = flat(base.config, '', new Map());
  const after = flat(config, '', new Map());
  const changed: ConfigChange['set'] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key);
    const b = after.get(key);
    if (a === b) continue;
    if (!settable(key)) {
      throw new UserError(
        `--set ${key}: cannot change when resuming (${a ?? 'unset'} → ${b ?? 'unset'}): the checkpoint's tensors or the data order depend on it; start a new run for that (resume may change ${RESUME_SETTABLE.map((k) => (k.endsWith('.') ? `${k}*` : k)).join(', ')})`,
      );
    }
    changed.push({ key, from: a === undefined ? null : JSON.parse(a), to: b === undefined ? null : JSON.parse(b) });
  }
  return { config, changed };
}
