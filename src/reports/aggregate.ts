/**
 * Runs grouped over seeds: one row per combination of the varied config keys (the seed
 * aside), with the mean ± sample standard deviation of best and final accuracy and the means
 * of model size, firing rate and energy. This is how a results table in the docs is made:
 * generated from run folders, never typed.
 */
import type { Json, RunRow } from './compare.js';

export interface GroupRow {
  key: Record<string, Json>;
  runs: number;
  best: { mean: number; std: number } | null;
  final: { mean: number; std: number } | null;
  modelSizeBits: number | null;
  meanFiringRate: number | null;
  energyPJ: number | null;
}

function stats(xs: number[]): { mean: number; std: number } | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

const meanOf = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

export function groupOverSeeds(rows: readonly RunRow[], keys: readonly string[]): { groups: GroupRow[]; keys: string[] } {
  const groupKeys = keys.filter((k) => k !== 'seed');
  const groups = new Map<string, RunRow[]>();
  for (const r of rows) {
    const id = JSON.stringify(groupKeys.map((k) => r.varied[k] ?? null));
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  const out: GroupRow[] = [...groups.values()].map((rs) => ({
    key: Object.fromEntries(groupKeys.map((k) => [k, rs[0].varied[k] ?? null])),
    runs: rs.length,
    best: stats(rs.map((r) => r.bestAccuracy).filter((x): x is number => x !== null)),
    final: stats(rs.map((r) => r.finalAccuracy).filter((x): x is number => x !== null)),
    modelSizeBits: meanOf(rs.map((r) => r.modelSizeBits)),
    meanFiringRate: meanOf(rs.map((r) => r.meanFiringRate)),
    energyPJ: meanOf(rs.map((r) => r.energyPJ)),
  }));
  return { groups: out, keys: groupKeys };
}

const pm = (s: { mean: number; std: number } | null): string =>
  s === null ? '' : `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}`;

export function groupsToMarkdown(g: { groups: GroupRow[]; keys: string[] }): string {
  const head = [...g.keys, 'runs', 'best acc. (%)', 'final acc. (%)', 'size (KiB)', 'firing rate', 'energy (nJ/img)'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of g.groups) {
    const cells = [
      ...g.keys.map((k) => String(r.key[k] ?? '')),
      String(r.runs),
      pm(r.best),
      pm(r.final),
      r.modelSizeBits === null ? '' : (r.modelSizeBits / 8 / 1024).toFixed(1),
      r.meanFiringRate === null ? '' : r.meanFiringRate.toFixed(4),
      r.energyPJ === null ? '' : (r.energyPJ / 1000).toFixed(1),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
