/**
 * metrics.csv: one row per epoch, the columns fixed by the first row written. Rewritten whole
 * (atomically) on every epoch, so a resumed run can drop rows past its checkpoint and no crash
 * leaves a torn line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

export type MetricsRow = Record<string, number | string>;

export function readMetrics(path: string): MetricsRow[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) return [];
  const head = lines[0].split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const row: MetricsRow = {};
    head.forEach((h, i) => {
      const c = cells[i] ?? '';
      const n = Number(c);
      row[h] = c !== '' && Number.isFinite(n) ? n : c;
    });
    return row;
  });
}

export function writeMetrics(path: string, rows: readonly MetricsRow[]): void {
  if (rows.length === 0) {
    writeFileAtomic(path, '');
    return;
  }
  const head = Object.keys(rows[0]);
  const fmt = (v: number | string | undefined): string =>
    v === undefined ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : v;
  const body = rows.map((r) => head.map((h) => fmt(r[h])).join(','));
  writeFileAtomic(path, `${[head.join(','), ...body].join('\n')}\n`);
}
