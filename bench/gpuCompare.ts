/**
 * `node dist/bench/gpuCompare.js GPU.json CPU.json`: one table of two bench runs (bench.ts's
 * results JSON), the WebGPU engine's next to the CPU engine's, case by case: forward and
 * training img/s, peak RSS, the GPU buffers tfjs held, and the GPU/CPU training ratio (against
 * each CPU run of the case, one per thread count).
 * `--adapter` instead prints the adapter the WebGPU engine would run on (exit 2 without one).
 * Used by experiments/gpu-bench.sh.
 */
import { readFileSync } from 'node:fs';
import type { BenchReport } from './report.js';
import type { CaseResult, Timing } from './measure.js';

/** A case without the thread count: the GPU run has one, the CPU run one per thread count. */
const key = (r: { spec: CaseResult['spec'] }): string => `${r.spec.model} T=${r.spec.timesteps} batch ${r.spec.batch}`;
const ips = (t: Timing | null): string => (t === null ? '—' : t.imagesPerSecond.toFixed(t.imagesPerSecond >= 100 ? 0 : t.imagesPerSecond >= 1 ? 1 : 2));

function engine(r: CaseResult): string {
  const a = r.backend.adapter;
  if (a !== undefined) return `${r.backend.name}: ${a.vendor} ${a.device}${a.software ? ' (software)' : ''}`;
  return `${r.backend.name}${r.backend.native !== null ? ` + ${r.backend.native.split(',')[0]}` : ''}`;
}

function read(file: string): BenchReport {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
}

async function printAdapter(): Promise<void> {
  const { initBackend } = await import('../src/engine/backend.js');
  const { adapterLine } = await import('../src/backends/webgpu/device.js');
  try {
    const info = await initBackend('webgpu');
    if (info.adapter === undefined) throw new Error('no adapter description');
    process.stdout.write(`WebGPU adapter: ${adapterLine(info.adapter)}\n`);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
}

function table(gpuFile: string, cpuFile: string): string {
  const gpu = read(gpuFile);
  const cpu = read(cpuFile);
  const head = ['case', 'engine', 'forward img/s', 'train img/s', 'peak RSS MB', 'GPU buffers MB', 'train GPU/CPU'];
  const rows: string[][] = [];
  for (const g of gpu.cases) {
    const dev = g.memory.peakDeviceMB ?? null;
    rows.push([key(g), engine(g), ips(g.forward), ips(g.train), String(Math.round(g.memory.maxRssMB)), dev === null ? '—' : String(Math.round(dev)), '']);
    for (const c of cpu.cases.filter((x) => key(x) === key(g))) {
      const label = `${engine(c)}${c.spec.threads === null ? '' : `, ${c.spec.threads} thr`}`;
      const ratio = (g.train.imagesPerSecond / c.train.imagesPerSecond).toFixed(3);
      rows.push(['', label, ips(c.forward), ips(c.train), String(Math.round(c.memory.maxRssMB)), '—', ratio]);
    }
  }
  for (const f of gpu.failures) rows.push([key(f), 'webgpu', `failed: ${f.error.split('\n')[0]}`, '', '', '', '']);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const source = (r: BenchReport): string => `\`${r.command}\` (${r.createdAt}, 1-min load ${r.machine.loadAverageAtStart.toFixed(1)} → ${r.machine.loadAverageAtEnd.toFixed(1)})`;
  return [
    `WebGPU: ${source(gpu)}; CPU: ${source(cpu)}. Machine: ${cpu.machine.cpuModel ?? '?'}, ${cpu.machine.cores} cores.`,
    '',
    line(head),
    line(head.map(() => '---')),
    ...rows.map(line),
  ].join('\n');
}

const args = process.argv.slice(2);
if (args[0] === '--adapter') await printAdapter();
else if (args.length === 2) process.stdout.write(table(args[0], args[1]) + '\n');
else {
  process.stderr.write('usage: node dist/bench/gpuCompare.js GPU.json CPU.json | --adapter\n');
  process.exit(2);
}
