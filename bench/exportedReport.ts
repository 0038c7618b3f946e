/** The results of bench/exported.ts and their Markdown: speed tables, ratios to PyTorch, firing-rate sweep, memory. */

export interface Measure {
  /** Median wall time of one run (a batch), ms. */
  msPerBatch: number;
  imagesPerSecond: number;
  /** Median CPU time of the process per run (all threads), ms. */
  cpuMsPerBatch: number;
  imagesPerCpuSecond: number;
  runs: number;
}

export interface SpeedRow {
  batch: number;
  threads: number;
  native: Measure;
  nativeRunner: string;
  wasm: Measure;
  wasmRunner: string;
  /** A string: why PyTorch did not run. */
  torch: Measure | string;
  tfjs: Measure;
  firingRate: number;
}

export interface RateRow {
  thresholdScale: number;
  firingRate: number;
  native: Measure;
  wasm: Measure;
  /** The reference runtime, one image at a time. */
  reference: Measure;
}

export interface ModelBench {
  model: string;
  trained: boolean;
  input: number[];
  timesteps: number;
  rows: SpeedRow[];
  rates: RateRow[];
  memory: { weightBytesResident: number; float32Bytes: number; packedFileBytes: number | null };
}

export interface ExportedBench {
  createdAt: string;
  command: string;
  commit: string | null;
  machine: { cpu: string | null; cores: number; loadAtStart: number; loadAtEnd: number; tfjsBackend: string };
  models: ModelBench[];
}

const f0 = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

export function formatExportedMarkdown(r: ExportedBench): string {
  const out: string[] = [
    `# Exported ternary runtime vs PyTorch and TensorFlow.js (T = 4)`,
    '',
    `\`${r.command}\` — ${r.createdAt}, commit ${r.commit ?? 'unknown'}`,
    '',
    `Machine: ${r.machine.cpu ?? '?'}, ${r.machine.cores} cores, load ${r.machine.loadAtStart.toFixed(1)} at start and ${r.machine.loadAtEnd.toFixed(1)} at the end; TensorFlow.js on ${r.machine.tfjsBackend}.`,
    'img/s from the median wall time of a run; "cpu" columns from the process\'s CPU time (all threads), which a loaded machine disturbs less.',
    'Ratios are the runtime\'s speed over PyTorch\'s float forward (eval mode, no_grad) of the same preset and input.',
    '',
  ];
  for (const m of r.models) {
    out.push(`## ${m.model} (${m.trained ? 'trained export' : 'untrained, ternary, exported in process'}, input ${m.input.join('×')})`, '');
    out.push('| batch | threads | native img/s | wasm img/s | PyTorch img/s | TF.js img/s | native ÷ PyTorch (wall) | native ÷ PyTorch (cpu) | wasm ÷ PyTorch (cpu) | native ms/run | PyTorch ms/run | firing rate |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of m.rows) {
      const t = typeof s.torch === 'string' ? null : s.torch;
      out.push(
        `| ${s.batch} | ${s.threads} | ${f0(s.native.imagesPerSecond)} | ${f0(s.wasm.imagesPerSecond)} | ${t ? f0(t.imagesPerSecond) : 'n/a'} | ${f0(s.tfjs.imagesPerSecond)} | ` +
          `${t ? ratio(s.native.imagesPerSecond, t.imagesPerSecond) : 'n/a'} | ${t ? ratio(s.native.imagesPerCpuSecond, t.imagesPerCpuSecond) : 'n/a'} | ${t ? ratio(s.wasm.imagesPerCpuSecond, t.imagesPerCpuSecond) : 'n/a'} | ` +
          `${f0(s.native.msPerBatch)} | ${t ? f0(t.msPerBatch) : 'n/a'} | ${s.firingRate.toFixed(4)} |`,
      );
    }
    out.push('', `Runtimes: ${[...new Set(m.rows.flatMap((s) => [s.nativeRunner, s.wasmRunner]))].join('; ')}.`, '');
    out.push('Firing rate (every threshold × k), batch 32, 1 thread; the reference runtime one image at a time:', '');
    out.push('| V_th × | firing rate | native img/s | native img/cpu-s | wasm img/cpu-s | reference img/cpu-s |', '|---|---|---|---|---|---|');
    for (const q of m.rates) {
      out.push(`| ${q.thresholdScale} | ${q.firingRate.toFixed(4)} | ${f0(q.native.imagesPerSecond)} | ${f0(q.native.imagesPerCpuSecond)} | ${f0(q.wasm.imagesPerCpuSecond)} | ${f0(q.reference.imagesPerCpuSecond)} |`);
    }
    const mem = m.memory;
    out.push('', `Weights resident in the runtime: ${mem.weightBytesResident.toLocaleString('en-US')} bytes (bit-planes + float layers, scales, biases), against ${mem.float32Bytes.toLocaleString('en-US')} bytes as float32` +
      ` (${(mem.float32Bytes / mem.weightBytesResident).toFixed(1)}× smaller)${mem.packedFileBytes !== null ? `; model.bin ${mem.packedFileBytes.toLocaleString('en-US')} bytes` : ''}.`, '');
  }
  return `${out.join('\n')}\n`;
}
