/**
 * NIR (the Neuromorphic Intermediate Representation) as HDF5, written with h5wasm, in the
 * layout of NIR's reference writer (`nir.write`):
 *
 *   /version           string dataset: the NIR release whose reader the file needs (1.0.6,
 *                      the first with LIF/IF `v_reset`; earlier readers refuse or drop it)
 *   /node              the NIRGraph: type = "NIRGraph", nodes/<name>/..., edges [n, 2] strings
 *                      (source, target), metadata/... (informative only: strings, numbers,
 *                      float64 arrays)
 *   /node/nodes/<name> one group per node: `type` (string) and the node's fields, arrays in
 *                      NIR's layouts (channels first: [C, H, W]; Conv2d weight [out, in, kh, kw];
 *                      Affine weight [out, in]), float32 values, int64 integers
 *
 * How an exported network maps (docs/export.md says why):
 * - the input is the image on the [0, 1] scale (pixel/255), channels first; a 1×1 Conv2d
 *   `input.normalise` (weight 1/std on the diagonal, bias −mean/std) normalises it:
 *   y_c = (x_c − mean_c)/std_c, exactly what the network was trained on;
 * - conv + BN (folded) → Conv2d with bias; ternary weights are written as their values
 *   α·γ/σ · c (NIR has no ternary type; the codes are sign(weight) and the scale |weight|);
 * - linear → Affine; flatten → Flatten (NIR flattens C, H, W; the next Affine's columns are
 *   permuted from our H, W, C order); global average pooling → AvgPool2d + Flatten;
 * - LIF (and PLIF, with its trained τ) → LIF with tau = τ·dt, dt = 1 step, r = 1,
 *   v_leak = v_reset = V_reset, v_threshold = V_th; IF → IF with r = 1;
 * - residual add and DANet's sums → the edges of all operands converge on the consumer (NIR sums
 *   a node's inputs); a mean of k maps (older DANet graphs) → a Scale node (1/k) they converge on;
 * - direct encoding's repeat and the time-mean readout are not nodes: the input is presented
 *   at every step, Output carries the logits per step, whose mean over T steps is the
 *   prediction (said in the graph metadata and docs/export.md; NIR's Integrator could hold
 *   the mean, but few NIR backends import it).
 *
 * Refused (NIR cannot express them; nothing is written): IAND joins (SEW sew-iand), max pooling,
 * soft reset (NIR's LIF/IF reset to v_reset).
 */
import { UserError } from '../util/errors.js';
import { size, type ConvNode, type ExportModel, type ExportNode, type LinearNode, type NeuronNode } from './model.js';

/** The NIR release the file needs: LIF/IF `v_reset` exists from NIR 1.0.6 on. */
export const NIR_VERSION = '1.0.6';
export const NIR_FILE = 'model.nir';

type H5 = typeof import('h5wasm/node');
type H = H5;

let h5: H5 | null = null;
async function h5wasm(): Promise<H5> {
  if (!h5) {
    const mod = await import('h5wasm/node');
    await mod.ready;
    h5 = mod;
  }
  return h5;
}

/** The first feature of `m` that NIR cannot express, as a one-line reason; null if none. */
export function nirRefusal(m: ExportModel): string | null {
  for (const n of m.nodes) {
    if (n.op === 'iand') return `${n.id} is an IAND join ((1 − a)·b of spikes, connection sew-iand), which NIR cannot express (its nodes only sum their inputs)`;
    if (n.op === 'maxpool') return `${n.id} is a max pooling, which NIR 1.0 has no node for (only AvgPool2d and SumPool2d)`;
    if (n.op === 'neuron' && n.neuron.reset === 'soft') return `${n.id} uses soft reset (V − V_th); NIR's LIF and IF reset to v_reset, so only hard reset can be written`;
  }
  return null;
}

/** A NIR node: its type and fields (typed arrays with shapes, strings, numbers). */
export interface NirArray {
  data: Float32Array | BigInt64Array;
  shape: number[];
}
export type NirField = string | NirArray;
export interface NirNode {
  type: string;
  fields: Record<string, NirField>;
}
export type NirMetadata = Record<string, string | number | number[]>;
export interface NirGraph {
  version: string;
  nodes: Map<string, NirNode>;
  edges: [string, string][];
  metadata: NirMetadata;
}

const f32 = (data: Float32Array | number[], shape: number[]): NirArray => ({ data: Float32Array.from(data), shape });
const i64 = (values: number[], shape: number[] = [values.length]): NirArray => ({ data: BigInt64Array.from(values.map((v) => BigInt(v))), shape });
/** [H, W, C] → [C, H, W]; [F] stays. */
const chw = (shape: number[]): number[] => (shape.length === 3 ? [shape[2], shape[0], shape[1]] : shape);
const filled = (shape: number[], v: number): NirArray => f32(new Float32Array(size(shape)).fill(v), shape);

/** Conv weight [kh, kw, in, out] (× per-channel scale for ternary codes) → [out, in, kh, kw]. */
function convWeight(n: ConvNode): NirArray {
  const { kernel: K, inChannels: I, outChannels: O } = n;
  const out = new Float32Array(K * K * I * O);
  for (let a = 0; a < K; a++)
    for (let b = 0; b < K; b++)
      for (let i = 0; i < I; i++)
        for (let o = 0; o < O; o++) {
          const src = ((a * K + b) * I + i) * O + o;
          const v = n.weights.kind === 'ternary' ? n.weights.codes[src] * n.weights.scale[o] : n.weights.values[src];
          out[((o * I + i) * K + a) * K + b] = v;
        }
  return { data: out, shape: [O, I, K, K] };
}

/**
 * Affine weight [in, out] → [out, in]. When the input is a flattened [H, W, C] map (our order),
 * columns are permuted to NIR's C, H, W flatten order.
 */
function affineWeight(n: LinearNode, flatFrom: number[] | null): NirArray {
  const I = n.inFeatures;
  const O = n.outFeatures;
  const col = (i: number): number => {
    if (!flatFrom) return i;
    const [H, W, C] = flatFrom;
    const c = i % C;
    const hw = (i - c) / C;
    return c * H * W + hw;
  };
  const out = new Float32Array(I * O);
  for (let i = 0; i < I; i++) {
    const j = col(i);
    for (let o = 0; o < O; o++) {
      const src = i * O + o;
      out[o * I + j] = n.weights.kind === 'ternary' ? n.weights.codes[src] * n.weights.scale[o] : n.weights.values[src];
    }
  }
  return { data: out, shape: [O, I] };
}

function neuronNode(n: NeuronNode): NirNode {
  const shape = chw(n.shape);
  const s = n.neuron;
  if (s.model === 'if') {
    return { type: 'IF', fields: { r: filled(shape, 1), v_threshold: filled(shape, s.threshold), v_reset: filled(shape, s.vReset) } };
  }
  return {
    type: 'LIF',
    fields: {
      tau: filled(shape, 1 / s.decay),
      r: filled(shape, 1),
      v_leak: filled(shape, s.vReset),
      v_threshold: filled(shape, s.threshold),
      v_reset: filled(shape, s.vReset),
    },
  };
}

/** (x − mean)/std per channel as a 1×1 Conv2d: weight 1/std on the diagonal, bias −mean/std. */
function normalisationNode(m: ExportModel): NirNode {
  const { channels: C, height: H, width: W, mean, std } = m.input;
  const w = new Float32Array(C * C);
  for (let c = 0; c < C; c++) w[c * C + c] = 1 / std[c];
  return {
    type: 'Conv2d',
    fields: {
      input_shape: i64([H, W]),
      weight: { data: w, shape: [C, C, 1, 1] },
      stride: i64([1, 1]),
      padding: i64([0, 0]),
      dilation: i64([1, 1]),
      groups: i64([1], []),
      bias: f32(mean.map((v, c) => -v / std[c]), [C]),
    },
  };
}

/** The NIR graph of an exported network (refuses what NIR cannot express). */
export function toNirGraph(m: ExportModel, metadata: NirMetadata): NirGraph {
  const why = nirRefusal(m);
  if (why) throw new UserError(`--format nir: ${why}`);
  const byId = new Map<string, ExportNode>(m.nodes.map((n) => [n.id, n]));
  const nodes = new Map<string, NirNode>();
  const edges: [string, string][] = [];
  // The NIR nodes whose outputs carry the value of an exported node (adds and pass-throughs expand).
  const sources = new Map<string, string[]>();
  // A node whose value is a flattened [H, W, C] map, through pass-throughs: that map's shape.
  const flatOf = new Map<string, number[] | null>();
  const from = (ids: string[]): string[] => ids.flatMap((i) => sources.get(i)!);
  const connect = (target: string, inputs: string[]): void => {
    for (const s of from(inputs)) edges.push([s, target]);
  };
  for (const n of m.nodes) {
    flatOf.set(n.id, null);
    switch (n.op) {
      case 'input': {
        nodes.set(n.id, { type: 'Input', fields: { shape: i64(chw(n.shape)) } });
        const norm = `${n.id}.normalise`;
        nodes.set(norm, normalisationNode(m));
        edges.push([n.id, norm]);
        sources.set(n.id, [norm]);
        break;
      }
      case 'repeat':
      case 'timeMean':
        sources.set(n.id, from(n.inputs));
        flatOf.set(n.id, flatOf.get(n.inputs[0]) ?? null);
        break;
      case 'add':
        sources.set(n.id, from(n.inputs));
        break;
      case 'mean':
        nodes.set(n.id, { type: 'Scale', fields: { scale: filled(chw(n.shape), 1 / n.inputs.length) } });
        connect(n.id, n.inputs);
        sources.set(n.id, [n.id]);
        break;
      case 'conv':
        nodes.set(n.id, {
          type: 'Conv2d',
          fields: {
            input_shape: i64([n.inShape[0], n.inShape[1]]),
            weight: convWeight(n),
            stride: i64([n.stride, n.stride]),
            padding: i64([n.pad, n.pad]),
            dilation: i64([1, 1]),
            groups: i64([1], []),
            bias: f32(n.bias, [n.outChannels]),
          },
        });
        connect(n.id, n.inputs);
        sources.set(n.id, [n.id]);
        break;
      case 'linear': {
        const flat = flatOf.get(n.inputs[0]) ?? null;
        nodes.set(n.id, { type: 'Affine', fields: { weight: affineWeight(n, flat), bias: f32(n.bias, [n.outFeatures]) } });
        connect(n.id, n.inputs);
        sources.set(n.id, [n.id]);
        break;
      }
      case 'neuron':
        nodes.set(n.id, neuronNode(n));
        connect(n.id, n.inputs);
        sources.set(n.id, [n.id]);
        break;
      case 'flatten': {
        const inShape = byId.get(n.inputs[0])!.shape;
        nodes.set(n.id, { type: 'Flatten', fields: { start_dim: i64([0], []), end_dim: i64([-1], []), input_type: i64(chw(inShape)) } });
        connect(n.id, n.inputs);
        sources.set(n.id, [n.id]);
        if (inShape[0] * inShape[1] > 1) flatOf.set(n.id, inShape);
        break;
      }
      case 'avgpool': {
        const [H, W, C] = n.inShape;
        nodes.set(n.id, { type: 'AvgPool2d', fields: { kernel_size: i64([H, W]), stride: i64([H, W]), padding: i64([0, 0]) } });
        connect(n.id, n.inputs);
        const flat = `${n.id}.flatten`;
        nodes.set(flat, { type: 'Flatten', fields: { start_dim: i64([0], []), end_dim: i64([-1], []), input_type: i64([C, 1, 1]) } });
        edges.push([n.id, flat]);
        sources.set(n.id, [flat]);
        break;
      }
      case 'iand':
      case 'maxpool':
        throw new Error(`internal: ${n.op} passed the NIR check`);
    }
  }
  nodes.set('output', { type: 'Output', fields: { shape: i64([m.numClasses]) } });
  connect('output', [m.output]);
  return { version: NIR_VERSION, nodes, edges, metadata };
}

/** Writes a NIR graph to an HDF5 file, as NIR's reference `nir.write` lays it out. */
export async function writeNir(file: string, g: NirGraph): Promise<void> {
  const h = await h5wasm();
  const f = new h.File(file, 'w');
  try {
    f.create_dataset({ name: 'version', data: g.version });
    const root = f.create_group('node');
    root.create_dataset({ name: 'type', data: 'NIRGraph' });
    const nodes = root.create_group('nodes');
    for (const [name, node] of g.nodes) {
      const grp = nodes.create_group(name);
      grp.create_dataset({ name: 'type', data: node.type });
      for (const [k, v] of Object.entries(node.fields)) {
        if (typeof v === 'string') grp.create_dataset({ name: k, data: v });
        else {
          const big = v.data.length >= 256;
          grp.create_dataset({
            name: k,
            data: v.data,
            shape: v.shape,
            dtype: v.data instanceof Float32Array ? '<f' : '<q',
            ...(big ? { chunks: v.shape, compression: 4 } : {}),
          });
        }
      }
    }
    root.create_dataset({ name: 'edges', data: g.edges.flat(), shape: [g.edges.length, 2] });
    const meta = root.create_group('metadata');
    for (const [k, v] of Object.entries(g.metadata)) {
      if (typeof v === 'string') meta.create_dataset({ name: k, data: v });
      else if (typeof v === 'number') meta.create_dataset({ name: k, data: new Float64Array([v]), shape: [] });
      else meta.create_dataset({ name: k, data: Float64Array.from(v), shape: [v.length] });
    }
  } finally {
    f.close();
  }
}

/** Reads a NIR HDF5 file back (for checks and round trips): version, nodes with their fields, edges, metadata. */
export async function readNir(file: string): Promise<NirGraph> {
  const h = await h5wasm();
  const f = new h.File(file, 'r');
  try {
    const str = (path: string): string => {
      const d = f.get(path) as InstanceType<H['Dataset']> | null;
      if (!d || typeof d.value !== 'string') throw new UserError(`${file}: ${path} is not a string`);
      return d.value;
    };
    const version = str('version');
    if (str('node/type') !== 'NIRGraph') throw new UserError(`${file}: /node is not a NIRGraph`);
    const nodesGroup = f.get('node/nodes') as InstanceType<H['Group']>;
    const nodes = new Map<string, NirNode>();
    for (const name of nodesGroup.keys()) {
      const grp = nodesGroup.get(name) as InstanceType<H['Group']>;
      const fields: Record<string, NirField> = {};
      let type = '';
      for (const k of grp.keys()) {
        const d = grp.get(k) as InstanceType<H['Dataset']>;
        const v = d.value;
        if (k === 'type') type = String(v);
        else if (typeof v === 'string') fields[k] = v;
        else if (v instanceof Float32Array || v instanceof BigInt64Array) fields[k] = { data: v, shape: d.shape ?? [] };
        else if (typeof v === 'bigint') fields[k] = { data: BigInt64Array.from([v]), shape: [] };
        else throw new UserError(`${file}: ${name}/${k} has an unexpected type`);
      }
      nodes.set(name, { type, fields });
    }
    const e = f.get('node/edges') as InstanceType<H['Dataset']>;
    const flat = e.value as string[];
    const edges: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) edges.push([flat[i], flat[i + 1]]);
    const metadata: NirMetadata = {};
    const mg = f.get('node/metadata') as InstanceType<H['Group']> | null;
    if (mg) {
      for (const k of mg.keys()) {
        const d = mg.get(k) as InstanceType<H['Dataset']>;
        const v = d.value;
        if (typeof v === 'string') metadata[k] = v;
        else if (v instanceof Float64Array) metadata[k] = (d.shape ?? []).length === 0 ? v[0] : Array.from(v);
        else metadata[k] = Number(v);
      }
    }
    return { version, nodes, edges, metadata };
  } finally {
    f.close();
  }
}
