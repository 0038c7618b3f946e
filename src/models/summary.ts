/**
 * A model summary as rows and as text: every layer with its output shape (per image, per time
 * step), parameters and MACs, and where each shortcut joins.
 */
import type { SpikingModel } from './types.js';

export interface ModelSummary {
  arch: string;
  connection: string;
  parameters: number;
  macsPerStep: number;
  spikingLayers: number;
  /** DANet's dense links across stages (`stageI.from_X`): how many, and their parameters. */
  denseLinks: { count: number; parameters: number };
  layers: SpikingModel['layers'];
}

/** A dense link's own layers: `stage3.from_stem.conv`, `.bn`, `.sn`. */
const LINK = /^stage\d+\.from_[^.]+\./;

export function summarize(model: SpikingModel): ModelSummary {
  return {
    arch: model.arch,
    connection: model.connection,
    parameters: [...model.params.values()].reduce((n, v) => n + v.size, 0),
    macsPerStep: model.layers.reduce((n, l) => n + l.macs, 0),
    spikingLayers: model.neuronLayers.length,
    denseLinks: {
      count: model.layers.filter((l) => l.kind === 'conv' && LINK.test(l.key)).length,
      parameters: model.layers.filter((l) => LINK.test(l.key)).reduce((n, l) => n + l.params, 0),
    },
    layers: model.layers,
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

export function summaryText(s: ModelSummary): string {
  const rows = s.layers.map((l) => [
    l.key,
    l.kind,
    `[${l.outShape.join(', ')}]`,
    l.params ? fmt(l.params) : '',
    l.macs ? fmt(l.macs) : '',
    l.note ?? '',
  ]);
  const head = ['layer', 'kind', 'output', 'params', 'MACs/step', 'join'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 3 || i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${s.arch} (${s.connection} connections): ${fmt(s.parameters)} parameters, ${fmt(s.macsPerStep)} MACs per image per time step, ${s.spikingLayers} spiking layers`,
    ...(s.denseLinks.count > 0 ? [`dense links across stages: ${s.denseLinks.count}, ${fmt(s.denseLinks.parameters)} parameters (conv 1×1 + BN each)`] : []),
  ].join('\n');
}
