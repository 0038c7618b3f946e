/**
 * A sweep's static report: `comparison.svg` and `index.html` (the comparison table, the plot,
 * and each run's own plots) in the sweep folder. Plain HTML with relative links, so the folder
 * can be copied off a cluster and opened anywhere without a server.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../runs/atomic.js';
import { buildRows, cellText, columns, sweepRefs, type RunRow } from './compare.js';
import { comparisonSpec, hasRunPlots, plotsStale, renderSvg, RUN_PLOTS, writeRunPlots } from './plots.js';
import { readManifest } from '../sweep/manifest.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface ReportFiles {
  html: string;
  comparison: string | null;
  runPlots: string[];
}

/**
 * Writes the plots of each run folder of the sweep whose plots are missing or out of date (or all
 * with `redraw`),
 * comparison.svg and index.html.
 */
export async function writeSweepReport(sweepDir: string, o: { redraw?: boolean } = {}): Promise<ReportFiles> {
  const m = readManifest(sweepDir);
  const { rows, keys } = buildRows(sweepRefs(sweepDir, m), m.axes.map((a) => a.key));
  const runPlots: string[] = [];
  for (const r of rows) {
    if (r.dir && existsSync(join(r.dir, 'metrics.csv')) && (o.redraw || plotsStale(r.dir))) {
      runPlots.push(...(await writeRunPlots(r.dir)));
    }
  }
  const spec = comparisonSpec(`${m.name}: best test accuracy`, rows, keys);
  let comparison: string | null = null;
  let svg = '';
  if (spec) {
    svg = await renderSvg(spec);
    comparison = join(sweepDir, 'comparison.svg');
    writeFileAtomic(comparison, svg);
  }
  const html = join(sweepDir, 'index.html');
  writeFileAtomic(html, sweepHtml(sweepDir, m.name, m.axes, rows, keys, svg));
  return { html, comparison, runPlots };
}

function sweepHtml(
  sweepDir: string,
  name: string,
  axes: readonly { key: string; values: string[] }[],
  rows: readonly RunRow[],
  keys: readonly string[],
  svg: string,
): string {
  const cols = columns(keys, 'compare').filter((c) => rows.some((r) => cellText(c, r) !== '') || c.key === 'run');
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const link = (r: RunRow): string => (r.dir ? `<a href="${esc(relative(sweepDir, r.dir))}/">${esc(r.run)}</a>` : esc(r.run));
  const head = cols.map((c) => `<th>${esc(c.key)}</th>`).join('');
  const body = rows
    .map((r) => `<tr class="${esc(r.status)}">${cols.map((c) => `<td>${c.key === 'run' ? link(r) : esc(cellText(c, r))}</td>`).join('')}</tr>`)
    .join('\n');
  const plots = rows
    .filter((r) => r.dir && hasRunPlots(r.dir))
    .map((r) => {
      const rel = relative(sweepDir, r.dir as string);
      const imgs = RUN_PLOTS.map((f) => `<img src="${esc(`${rel}/${f}`)}" alt="${esc(`${r.run} ${f}`)}">`).join('');
      return `<section><h3>${esc(r.run)}</h3><div class="plots">${imgs}</div></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(name)} — snn sweep</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:14px;margin:1em 0}
th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
tr.failed td{color:#b00}tr.pending td,tr.running td,tr.interrupted td{color:#888}
.plots img{height:260px;margin:0 8px 8px 0;border:1px solid #eee}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>Sweep ${esc(name)}</h1>
<p>${rows.length} runs (${[...counts].map(([s, n]) => `${n} ${esc(s)}`).join(', ')}); grid: ${axes
    .map((a) => `<code>${esc(a.key)}</code> = ${a.values.map(esc).join(', ')}`)
    .join(' × ')}. Written ${esc(new Date().toISOString())} by <code>snn</code>.</p>
${svg ? `<figure>${svg}</figure>` : '<p>No finished evaluations to plot yet.</p>'}
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<p>Accuracy in %, wall time is training time summed over resumed sessions.</p>
<h2>Runs</h2>
${plots || '<p>No run plots yet.</p>'}
</body></html>
`;
}
