/**
 * Compiles an exported network into the fast runtime's arena layout and programs
 * (native/ternary/core.h): every buffer for a batch of up to N images, the weights in their
 * packed form, and three programs — `begin` (reset membranes and readout sums, the nodes
 * before `repeat`), `step` (run T times) and `end` (the time-mean readout and what follows).
 *
 * A value is kept as float32 [N, …shape] and/or as bit-packed spikes [N, P, ⌈C/64⌉] words,
 * whichever its readers need. A ternary conv/linear whose input is binary (a neuron's spikes,
 * or a max-pool/IAND/flatten of spikes) runs on the bits; when its only reader is a neuron
 * (directly, or through an `add` of a residual), the neuron update is fused into it. A ternary
 * layer with a non-binary input (after a SEW add, a dense mean, global pooling) runs as a
 * float layer with ±1 weights, in the reference's summation order.
 */
import { size, type ConvNode, type ExportModel, type ExportNode, type LinearNode, type NeuronNode } from '../model.js';
import { assignPhases, type Phase } from './reference.js';
import { bitPlanes, codesAsFloats } from './weights.js';
import { OP } from './ops.js';

/** Bytes of one arena region and what to copy into it before the first run. */
export interface Region {
  offset: number;
  bytes: number;
  init?: Uint8Array;
}

type Emit = (n: number) => number[];

export interface Plan {
  batch: number;
  regions: Region[];
  arenaBytes: number;
  /** Bytes of weights, scales and biases resident in the arena (packed). */
  weightBytes: number;
  input: { offset: number; size: number };
  output: { offset: number; size: number };
  /** One float64 spike counter per neuron layer; `size` neurons per image per step. */
  tallies: { id: string; offset: number; size: number }[];
  /** Program words for n ≤ batch images. */
  programs(n: number): { begin: number[]; step: number[]; end: number[] };
  program: { offset: number; words: number };
}

interface Rep {
  float?: number;
  bits?: number;
  /** Bits layout: P pixels of C channels. */
  P: number;
  C: number;
}

const ALIGN = 64;

export function compilePlan(model: ExportModel, T: number, N: number, base: number): Plan {
  const phases = assignPhases(model);
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const readers = new Map<string, ExportNode[]>();
  for (const n of model.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  let next = Math.ceil(base / ALIGN) * ALIGN;
  const regions: Region[] = [];
  let weightBytes = 0;
  const alloc = (bytes: number, init?: ArrayBufferView, weight = false): number => {
    const offset = next;
    next += Math.ceil(Math.max(bytes, 8) / ALIGN) * ALIGN;
    regions.push({ offset, bytes, init: init ? new Uint8Array(init.buffer, init.byteOffset, init.byteLength) : undefined });
    if (weight) weightBytes += bytes;
    return offset;
  };
  const constant = (a: Float32Array | Uint32Array): number => alloc(a.byteLength, a, true);

  const binary = new Map<string, boolean>();
  for (const n of model.nodes) {
    const c = n.shape[n.shape.length - 1];
    if ((n.op === 'neuron' || n.op === 'conv' || n.op === 'linear') && c > 8192) throw new Error(`runtime: ${n.id} has ${c} channels (at most 8192)`);
    const b = (i: number): boolean => binary.get(n.inputs[i]) === true;
    binary.set(n.id, n.op === 'neuron' || ((n.op === 'flatten' || n.op === 'repeat' || n.op === 'maxpool') && b(0)) || (n.op === 'iand' && b(0) && b(1)));
  }
  const onBits = (n: ExportNode): boolean =>
    (n.op === 'conv' || n.op === 'linear') && binary.get(n.inputs[0]) === true && (n.weights.kind === 'ternary' || n.op === 'linear');
  const alias = (n: ExportNode): boolean => n.op === 'flatten' || n.op === 'repeat';

  // Fusion: a ternary conv on bits whose only reader is a neuron, or an add whose only reader is a neuron.
  const fused = new Map<string, { add?: ExportNode; residual?: string; neuron: NeuronNode }>();
  const skip = new Set<string>();
  for (const n of model.nodes) {
    if (!onBits(n) || n.op !== 'conv') continue;
    const r = readers.get(n.id) ?? [];
    if (r.length !== 1 || n.id === model.output) continue;
    if (r[0].op === 'neuron') {
      fused.set(n.id, { neuron: r[0] });
      skip.add(r[0].id);
    } else if (r[0].op === 'add' && r[0].inputs.length === 2 && r[0].inputs[0] !== r[0].inputs[1]) {
      const r2 = readers.get(r[0].id) ?? [];
      // Both operands may be convs (a downsampling shortcut): only the first one fuses.
      if (r2.length === 1 && r2[0].op === 'neuron' && r[0].id !== model.output && !skip.has(r[0].id)) {
        fused.set(n.id, { add: r[0], residual: r[0].inputs.find((i) => i !== n.id)!, neuron: r2[0] as NeuronNode });
        skip.add(r[0].id).add(r2[0].id);
      }
    }
  }

  // What each value must be kept as: walk readers backwards so aliases pass their needs on.
  const needFloat = new Set<string>();
  const needBits = new Set<string>();
  for (let k = model.nodes.length - 1; k >= 0; k--) {
    const n = model.nodes[k];
    if (alias(n)) {
      if (needFloat.has(n.id)) needFloat.add(n.inputs[0]);
      if (needBits.has(n.id)) needBits.add(n.inputs[0]);
      continue;
    }
    const f = fused.get(n.id);
    if (f?.residual) needFloat.add(f.residual);
    if (skip.has(n.id)) continue; // the fused conv reads its own input
    for (const i of n.inputs) (onBits(n) ? needBits : needFloat).add(i);
  }
  if (needFloat.has(model.output) === false) needFloat.add(model.output);

  const reps = new Map<string, Rep>();
  const shapeRep = (n: ExportNode): Rep => {
    const s = n.shape;
    return s.length === 3 ? { P: s[0] * s[1], C: s[2] } : { P: 1, C: size(s) };
  };
  const sections: Record<'begin' | 'step' | 'end', Emit[]> = { begin: [], step: [], end: [] };
  const resets: Emit[] = [];
  const finals: Emit[] = [];
  const tallies: Plan['tallies'] = [];
  const floatBuf = (n: ExportNode): number => alloc(4 * N * size(n.shape));
  const bitsBuf = (r: Rep): number => alloc(8 * N * r.P * Math.ceil(r.C / 64));
  const sectionOf = (p: Phase): Emit[] => (p === 'static' ? sections.begin : p === 'step' ? sections.step : finals);

  const neuronOut = (nr: NeuronNode): { rep: Rep; v: number; tally: number; args: number[] } => {
    const rep = shapeRep(nr);
    if (needFloat.has(nr.id)) rep.float = floatBuf(nr);
    if (needBits.has(nr.id)) rep.bits = bitsBuf(rep);
    const v = floatBuf(nr);
    const tally = alloc(8);
    tallies.push({ id: nr.id, offset: tally, size: size(nr.shape) });
    const m = size(nr.shape);
    const vr = nr.neuron.vReset;
    resets.push((n) => [OP.FILL, v, n * m, vr]);
    const s = nr.neuron;
    return { rep, v, tally, args: [s.model === 'lif' ? 1 : 0, s.reset === 'hard' ? 1 : 0, s.decay, s.threshold, s.vReset] };
  };

  // A conv fused with an add runs where the add was, once the residual exists.
  const deferred = new Map<string, ConvNode>();
  for (const [id, f] of fused) if (f.add) deferred.set(f.add.id, byId.get(id) as ConvNode);
  for (const n of model.nodes) {
    const late = deferred.get(n.id);
    if (late) {
      compileLayer(late, reps.get(late.inputs[0])!);
      continue;
    }
    if (skip.has(n.id) || fused.get(n.id)?.add) continue;
    const phase = phases.get(n.id)!;
    const list = sectionOf(phase);
    const inRep = n.inputs.length > 0 ? reps.get(n.inputs[0])! : undefined;
    const m = size(n.shape);
    if (alias(n)) {
      reps.set(n.id, inRep!);
      continue;
    }
    if (n.op === 'input') {
      const r = shapeRep(n);
      r.float = floatBuf(n);
      reps.set(n.id, r);
      continue;
    }
    if (n.op === 'conv' || n.op === 'linear') {
      compileLayer(n, inRep!);
      continue;
    }
    if (n.op === 'neuron') {
      const o = neuronOut(n);
      const x = inRep!.float!;
      const C = o.rep.C;
      list.push((b) => [OP.NEURON, x, o.v, (b * m) / C, C, ...o.args, o.rep.bits ?? 0, o.rep.float ?? 0, o.tally]);
      reps.set(n.id, o.rep);
      continue;
    }
    const r = shapeRep(n);
    const y = (r.float = floatBuf(n));
    const xs = n.inputs.map((i) => reps.get(i)!.float!);
    if (n.op === 'add') {
      // DANet's dense sums have more than two operands: added left to right in float32, in place,
      // as the reference runtime does, so the result stays bit-identical.
      list.push((b) => [OP.ADD, xs[0], xs[1], y, b * m]);
      for (let k = 2; k < xs.length; k++) list.push((b) => [OP.ADD, y, xs[k], y, b * m]);
    }
    else if (n.op === 'iand') list.push((b) => [OP.IAND, xs[0], xs[1], y, b * m]);
    else if (n.op === 'mean') list.push((b) => [OP.MEAN, y, b * m, xs.length, ...xs]);
    else if (n.op === 'maxpool') {
      const [H, W, C] = n.inShape;
      const [OH, OW] = n.shape;
      list.push((b) => [OP.MAXPOOL, xs[0], y, b, H, W, C, OH, OW, n.kernel, n.stride, n.pad]);
    } else if (n.op === 'avgpool') {
      const [H, W, C] = n.inShape;
      list.push((b) => [OP.AVGPOOL, xs[0], y, b, H * W, C]);
    } else if (n.op === 'timeMean') {
      const sum = alloc(8 * N * m);
      resets.push((b) => [OP.FILL64, sum, b * m, 0]);
      sectionOf(phases.get(n.inputs[0])!).push((b) => [OP.TACC, xs[0], sum, b * m]);
      list.push((b) => [OP.TFIN, sum, y, b * m, T]);
    }
    if (needBits.has(n.id) && binary.get(n.id)) {
      r.bits = bitsBuf(r);
      const bits = r.bits;
      list.push((b) => [OP.PACK, y, bits, b * r.P, r.C]);
    }
    reps.set(n.id, r);
  }

  function compileLayer(n: ConvNode | LinearNode, inRep: Rep): void {
    const list = sectionOf(phases.get(n.id)!);
    const conv = n.op === 'conv';
    const [H, W, C] = conv ? n.inShape : [1, 1, n.inFeatures];
    const [OH, OW, O] = conv ? n.shape : [1, 1, n.outFeatures];
    const [K, S, P] = conv ? [n.kernel, n.stride, n.pad] : [1, 1, 0];
    const bias = constant(n.bias);
    const ternary = n.weights.kind === 'ternary';
    if (onBits(n) && n.op === 'linear' && inRep.P * inRep.C !== n.inFeatures) throw new Error(`runtime: ${n.id} reads ${n.inFeatures} features from ${inRep.P}×${inRep.C}`);
    if (onBits(n) && ternary) {
      const Cw = Math.ceil(inRep.C / 64);
      const { plus, minus, L } = conv ? bitPlanes((n.weights as { codes: Int8Array }).codes, K * K, C, O) : bitPlanes((n.weights as { codes: Int8Array }).codes, inRep.P, inRep.C, O);
      if (L > 4096) throw new Error(`runtime: ${n.id} reads ${L} words per output (at most 4096)`);
      const wp = constant(plus);
      const wm = constant(minus);
      const scale = constant((n.weights as { scale: Float32Array }).scale);
      const geo = conv ? [H, W, Cw, O, OH, OW, K, S, P] : [1, 1, L, O, 1, 1, 1, 1, 0];
      const f = fused.get(n.id);
      if (f) {
        const o = neuronOut(f.neuron);
        const res = f.residual ? reps.get(f.residual)!.float! : 0;
        list.push((b) => [OP.TCONV, inRep.bits!, wp, wm, scale, bias, b, ...geo, res, 0, o.v, ...o.args, o.rep.bits ?? 0, o.rep.float ?? 0, o.tally]);
        reps.set(f.neuron.id, o.rep);
        return;
      }
      const r = shapeRep(n);
      const y = (r.float = floatBuf(n));
      list.push((b) => [OP.TCONV, inRep.bits!, wp, wm, scale, bias, b, ...geo, 0, y, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      reps.set(n.id, r);
      return;
    }
    const r = shapeRep(n);
    const y = (r.float = floatBuf(n));
    if (onBits(n)) {
      // A float linear layer reading spikes (the classifier): only the inputs that fired add their row.
      const w = constant((n.weights as { values: Float32Array }).values);
      list.push((b) => [OP.FLINB, inRep.bits!, w, bias, y, b, inRep.P, inRep.C, O]);
    } else {
      const w = constant(ternary ? codesAsFloats((n.weights as { codes: Int8Array }).codes) : (n.weights as { values: Float32Array }).values);
      const scale = ternary ? constant((n.weights as { scale: Float32Array }).scale) : 0;
      const x = inRep.float!;
      list.push((b) => [OP.FCONV, x, w, bias, scale, y, b, H, W, C, O, OH, OW, K, S, P]);
    }
    reps.set(n.id, r);
  }

  const inputNode = model.nodes[0];
  const out = reps.get(model.output)!;
  const programs = (b: number): { begin: number[]; step: number[]; end: number[] } => {
    if (!Number.isInteger(b) || b < 1 || b > N) throw new Error(`runtime: ${b} images for a batch of ${N}`);
    const words = (es: Emit[]): number[] => es.flatMap((e) => e(b));
    return { begin: [...words(resets), ...words(sections.begin)], step: words(sections.step), end: words(finals) };
  };
  const full = programs(N);
  const programWords = full.begin.length + full.step.length + full.end.length;
  const program = { offset: alloc(8 * programWords), words: programWords };
  return {
    batch: N,
    regions,
    arenaBytes: next,
    weightBytes,
    input: { offset: reps.get(inputNode.id)!.float!, size: size(inputNode.shape) },
    output: { offset: out.float!, size: model.numClasses },
    tallies,
    programs,
    program,
  };
}
