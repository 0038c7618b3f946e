/**
 * Grid expansion for `snn sweep`: `--grid key=v1,v2` axes (and `--seeds`) become the list of
 * runs, the Cartesian product in the order given (the last axis varies fastest, as in nested
 * shell loops). Values stay the strings the user typed: `--set` reads them as YAML later, so a
 * grid value means exactly what the same text after `--set key=` means.
 */
import { UserError } from '../util/errors.js';

export interface GridAxis {
  key: string;
  values: string[];
}

/** One run of a sweep: the `--set key=value` overrides that make it. */
export interface GridPoint {
  index: number;
  overrides: [key: string, value: string][];
}

/**
 * Splits `v1,v2,...` at the commas that are not inside brackets or braces, so that YAML flow
 * values such as `[crop,flip]` or `{name: sgd, lr: 0.1}` stay whole.
 */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '[' || ch === '{') depth += 1;
    else if ((ch === ']' || ch === '}') && depth > 0) depth -= 1;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

export function parseGridArg(arg: string): GridAxis {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UserError(`--grid ${arg}: expected key.path=v1,v2,...`);
  const key = arg.slice(0, eq).trim();
  const rest = arg.slice(eq + 1);
  if (key.split('.').some((k) => k === '')) throw new UserError(`--grid ${arg}: empty key in '${key}'`);
  if (rest.trim() === '') throw new UserError(`--grid ${key}: empty grid (no values after '=')`);
  const values = splitValues(rest);
  if (values.some((v) => v === '')) throw new UserError(`--grid ${key}=${rest}: empty value in the list`);
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`--grid ${key}: value '${dup}' given twice`);
  return { key, values };
}

/** `--seeds 1,2,3` as a grid axis on `seed`, after the other axes (so it varies fastest). */
export function seedAxis(text: string): GridAxis {
  const values = splitValues(text);
  for (const v of values) {
    const n = Number(v);
    if (v === '' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      throw new UserError(`--seeds: expected comma-separated non-negative integers, got '${text}'`);
    }
  }
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`--seeds: seed ${dup} given twice`);
  return { key: 'seed', values };
}

/** Checks the axes as a whole (no repeated or reserved keys, at least one axis). */
export function checkAxes(axes: readonly GridAxis[]): void {
  if (axes.length === 0) throw new UserError('snn sweep: empty grid: give at least one --grid key=v1,v2 or --seeds');
  const seen = new Set<string>();
  for (const a of axes) {
    if (a.key === 'name') throw new UserError('--grid name: run names are set by the sweep; vary another key');
    if (seen.has(a.key)) {
      throw new UserError(a.key === 'seed' ? '--seeds and --grid seed=... both vary the seed; give one' : `--grid ${a.key} given twice`);
    }
    seen.add(a.key);
  }
}

export function expandGrid(axes: readonly GridAxis[]): GridPoint[] {
  let combos: [string, string][][] = [[]];
  for (const a of axes) combos = combos.flatMap((c) => a.values.map((v): [string, string][] => [...c, [a.key, v]]));
  return combos.map((overrides, index) => ({ index, overrides }));
}

/** A short, file-name-safe label of a point: `timesteps2-lr0.01-seed1`. */
export function pointSlug(overrides: readonly [string, string][], max = 48): string {
  const part = ([k, v]: [string, string]): string => {
    const leaf = k.split('.').pop() ?? k;
    return `${leaf}${v.replace(/,/g, '-').replace(/[^A-Za-z0-9._-]/g, '')}`;
  };
  const s = overrides.map(part).join('-');
  return s.length > max ? s.slice(0, max).replace(/[-.]+$/, '') : s;
}

/** The run name of a point: the config name, a zero-padded index (unique), and the slug. */
export function pointRunName(base: string, p: GridPoint, total: number): string {
  const width = Math.max(3, String(total - 1).length);
  const slug = pointSlug(p.overrides);
  return [base, String(p.index).padStart(width, '0'), slug].filter((s) => s !== '').join('-');
}

export const pointSets = (p: GridPoint): string[] => p.overrides.map(([k, v]) => `${k}=${v}`);
