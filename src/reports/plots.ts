/**
 * SVG plots of run folders and sweeps, drawn with vega-lite (compiled to vega and rendered by
 * vega's SVG string renderer, which needs neither a browser nor a canvas). vega is loaded on
 * first use, so commands that draw nothing do not pay for it.
 *
 * A run folder gets loss.svg, accuracy.svg and firing-rate.svg (per layer from summary.json,
 * and the mean per epoch from metrics.csv); a sweep gets comparison.svg (best accuracy against
 * its first varied key, one line per value of the second).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../runs/atomic.js';
import { readMetrics, type MetricsRow } from '../runs/metrics.js';
import { readSummary, type RunRow } from './compare.js';

type Datum = Record<string, string | number | null>;

export const RUN_PLOTS = ['loss.svg', 'accuracy.svg', 'firing-rate.svg'] as const;

/** Renders a vega-lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 360, height: 220, background: 'white' } as const;

const numOrNull = (v: number | string | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Long-format rows `{epoch, split, value}` of two metrics columns (blank cells dropped). */
function byEpoch(rows: readonly MetricsRow[], cols: [train: string, test: string], scale = 1): Datum[] {
  const out: Datum[] = [];
  for (const r of rows) {
    for (const [split, col] of [['train', cols[0]], ['test', cols[1]]] as const) {
      const v = numOrNull(r[col]);
      if (v !== null) out.push({ epoch: Number(r.epoch), split, value: v * scale });
    }
  }
  return out;
}

function epochLines(title: string, data: Datum[], yTitle: string, zeroBased: boolean): TopLevelSpec {
  return {
    ...base,
    title,
    data: { values: data },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: zeroBased } },
      color: { field: 'split', type: 'nominal', title: null, sort: ['train', 'test'] },
    },
  };
}

export function lossSpec(run: string, rows: readonly MetricsRow[]): TopLevelSpec {
  return epochLines(`${run}: loss`, byEpoch(rows, ['train_loss', 'test_loss']), 'cross-entropy loss', false);
}

export function accuracySpec(run: string, rows: readonly MetricsRow[]): TopLevelSpec {
  return epochLines(`${run}: accuracy`, byEpoch(rows, ['train_acc', 'test_acc'], 100), 'accuracy (%)', true);
}

/** Bars of the last evaluation's firing rate per spiking layer (network order), and the mean per epoch. */
export function firingRateSpec(run: string, rates: Record<string, number> | null, rows: readonly MetricsRow[]): TopLevelSpec {
  const perEpoch = rows.flatMap((r) => {
    const v = numOrNull(r.firing_rate);
    return v === null ? [] : [{ epoch: Number(r.epoch), rate: v }];
  });
  const layers = Object.entries(rates ?? {}).map(([layer, rate], order) => ({ layer, rate, order }));
  const bars = {
    title: 'per layer (last evaluation)',
    width: 300,
    height: Math.max(120, 18 * layers.length),
    data: { values: layers },
    mark: { type: 'bar' as const },
    encoding: {
      y: { field: 'layer', type: 'nominal' as const, sort: { field: 'order' }, title: null },
      x: { field: 'rate', type: 'quantitative' as const, title: 'spikes per neuron per step' },
      tooltip: [{ field: 'layer' }, { field: 'rate', format: '.4f' }],
    },
  };
  const line = {
    title: 'mean over layers, per epoch',
    width: 260,
    height: 180,
    data: { values: perEpoch },
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1 } },
      y: { field: 'rate', type: 'quantitative' as const, title: 'mean firing rate' },
    },
  };
  const parts = [...(layers.length > 0 ? [bars] : []), ...(perEpoch.length > 0 ? [line] : [])];
  if (parts.length === 0) {
    return { ...base, title: `${run}: firing rate (no evaluation yet)`, data: { values: [{}] }, mark: 'text', encoding: { text: { value: 'no data' } } };
  }
  return { $schema: base.$schema, background: 'white', title: `${run}: firing rate`, hconcat: parts };
}

/**
 * Writes loss.svg, accuracy.svg and firing-rate.svg into a run folder (atomically; each from
 * what the folder holds now, so it works for interrupted runs too). Returns the files written.
 */
export async function writeRunPlots(runDir: string): Promise<string[]> {
  const rows = readMetrics(join(runDir, 'metrics.csv'));
  const s = readSummary(runDir) as { firingRates?: Record<string, number> | null };
  const run = basename(runDir);
  const specs: [string, TopLevelSpec][] = [
    ['loss.svg', lossSpec(run, rows)],
    ['accuracy.svg', accuracySpec(run, rows)],
    ['firing-rate.svg', firingRateSpec(run, s.firingRates ?? null, rows)],
  ];
  const written: string[] = [];
  for (const [file, spec] of specs) {
    const path = join(runDir, file);
    writeFileAtomic(path, await renderSvg(spec));
    written.push(path);
  }
  return written;
}

export const hasRunPlots = (runDir: string): boolean => RUN_PLOTS.every((f) => existsSync(join(runDir, f)));

/** Plots missing, or older than the metrics or summary they show. */
export function plotsStale(runDir: string): boolean {
  if (!hasRunPlots(runDir)) return true;
  const mtime = (f: string): number => (existsSync(join(runDir, f)) ? statSync(join(runDir, f)).mtimeMs : 0);
  const data = Math.max(mtime('metrics.csv'), mtime('summary.json'));
  return RUN_PLOTS.some((f) => mtime(f) < data);
}

const asLabel = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The sweep's main comparison: best test accuracy against the first varied key (numeric axis
 * when every value is a number), one coloured line per value of the second varied key, mean
 * over the other keys (seeds) with a min–max band when there are several.
 */
export function comparisonSpec(title: string, rows: readonly RunRow[], keys: readonly string[]): TopLevelSpec | null {
  const xKey = keys.find((k) => k !== 'seed') ?? keys[0];
  if (!xKey) return null;
  const seriesKey = keys.find((k) => k !== xKey && k !== 'seed');
  const pts = rows.filter((r) => r.bestAccuracy !== null);
  if (pts.length === 0) return null;
  const numeric = pts.every((r) => typeof r.varied[xKey] === 'number');
  const values: Datum[] = pts.map((r) => ({
    x: numeric ? (r.varied[xKey] as number) : asLabel(r.varied[xKey]),
    series: seriesKey ? asLabel(r.varied[seriesKey]) : 'all',
    acc: 100 * (r.bestAccuracy ?? 0),
    run: r.run,
  }));
  const rest = keys.filter((k) => k !== xKey && k !== seriesKey);
  const ticks = numeric ? [...new Set(values.map((v) => v.x as number))].sort((a, b) => a - b) : [];
  const x = numeric
    ? { field: 'x', type: 'quantitative' as const, title: xKey, scale: { zero: false }, axis: { values: ticks } }
    : { field: 'x', type: 'ordinal' as const, title: xKey };
  const color = { field: 'series', type: 'nominal' as const, title: seriesKey ?? '' };
  return {
    ...base,
    width: 420,
    height: 260,
    title: { text: title, subtitle: rest.length > 0 ? `mean over ${rest.join(', ')}; band: min to max` : undefined },
    data: { values },
    layer: [
      ...(rest.length > 0
        ? [
            {
              mark: { type: 'area' as const, opacity: 0.15 },
              encoding: {
                x,
                y: { field: 'acc', type: 'quantitative' as const, aggregate: 'min' as const },
                y2: { field: 'acc', aggregate: 'max' as const },
                color: { ...color, legend: null },
              },
            },
          ]
        : []),
      {
        mark: { type: 'line', point: { filled: true, size: 60 } },
        encoding: {
          x,
          y: { field: 'acc', type: 'quantitative', aggregate: 'mean', title: 'best test accuracy (%)', scale: { zero: false } },
          color,
          tooltip: [{ field: 'x', title: xKey }, { field: 'series', title: seriesKey ?? '' }, { field: 'acc', aggregate: 'mean', format: '.2f' }],
        },
      },
    ],
  };
}
