/**
 * metrics.csv on resume: it must hold one row for each epoch 1..E the checkpoint has done
 * (rows past E are dropped by the trainer). If it is missing, truncated or garbled, the rows
 * are rebuilt from log.jsonl, where the trainer logs each epoch's row too (the last line for an
 * epoch wins: an epoch trained again after a kill logs again), and one warning line says so.
 * Epochs found in neither are named in the warning, never silently dropped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { warn } from '../util/warn.js';
import { writeMetrics, type MetricsRow } from './metrics.js';
import type { RunPaths } from './runFolder.js';

/** log.jsonl is read whole: a 100-epoch run writes well under a megabyte. */
const MAX_LOG_BYTES = 512 * 1024 * 1024;

/** Why metrics.csv cannot serve epochs 1..`epochs`, or null if it can. */
function metricsProblem(path: string, epochs: number): string | null {
  if (!existsSync(path)) return 'missing';
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) return epochs > 0 ? 'empty' : null;
  const head = lines[0].split(',');
  if (head[0] !== 'epoch' || head.some((h) => !/^[a-z_][a-z0-9_]*$/i.test(h))) return 'its header is damaged';
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i].split(',');
    if (cells.length !== head.length) return `line ${i + 1} has ${cells.length} cells, the header ${head.length}`;
    if (Number(cells[0]) !== i) return `line ${i + 1} is not epoch ${i}`;
  }
  return lines.length - 1 < epochs ? `it has ${lines.length - 1} of ${epochs} epochs` : null;
}

/** The last `epoch` row log.jsonl holds for each epoch number. */
function rowsFromLog(path: string): Map<number, MetricsRow> {
  const out = new Map<number, MetricsRow>();
  if (!existsSync(path)) return out;
  const text = readFileSync(path, 'utf8');
  if (text.length > MAX_LOG_BYTES) throw new UserError(`${path}: larger than ${MAX_LOG_BYTES} bytes`);
  for (const line of text.split('\n')) {
    if (!line.includes('"msg":"epoch"')) continue;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a torn last line
    }
    if (v.msg !== 'epoch' || typeof v.epoch !== 'number') continue;
    const row: MetricsRow = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'level' || k === 'time' || k === 'msg' || k === 'firingRates') continue;
      if (typeof x === 'number' || typeof x === 'string') row[k] = x;
    }
    out.set(v.epoch, row);
  }
  return out;
}

/**
 * Makes metrics.csv hold epochs 1..`epochs` before a resume: unchanged when it does, else
 * rebuilt from log.jsonl (one warning line). Call it only while holding the run's lock.
 */
export function repairMetrics(paths: RunPaths, epochs: number): void {
  let problem: string | null;
  try {
    problem = metricsProblem(paths.metrics, epochs);
  } catch (e) {
    problem = `unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (problem === null) return;
  const fromLog = rowsFromLog(paths.log);
  const rows: MetricsRow[] = [];
  const lost: number[] = [];
  for (let e = 1; e <= epochs; e++) {
    const r = fromLog.get(e);
    if (r) rows.push(r);
    else lost.push(e);
  }
  writeMetrics(paths.metrics, rows);
  const kept = lost.length > 0 ? `; epochs ${lost.join(', ')} are in neither and stay missing` : '';
  warn(`${paths.metrics}: ${problem}; rebuilt ${rows.length} of ${epochs} epoch rows from log.jsonl${kept}`);
}
