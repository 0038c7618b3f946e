/**
 * A NIR interpreter for the tests, written from NIR's documented semantics (its primitives
 * table and the reference reader's HDF5 layout), sharing no code with the exporter or its
 * engine: it opens the file with h5wasm itself and runs the graph step by step in plain loops.
 *
 * - A node's input is the sum of the outputs of every node with an edge into it.
 * - Conv2d: cross-correlation with weight [out, in/groups, kh, kw], stride, zero padding,
 *   dilation, groups, plus bias; Affine: W·x + b; Scale: s ⊙ x; Flatten: C-order reshape;
 *   AvgPool2d / SumPool2d: mean / sum over each window.
 * - LIF (τ v' = (v_leak − v) + R·I) and IF (v' = R·I) by forward Euler with dt = 1:
 *   v ← v + (v_leak − v + R·I)/τ, resp. v ← v + R·I; a spike where v > v_threshold, after which
 *   v = v_reset; v starts at 0. I (v' = R·I): v ← v + R·I, its output v.
 * - The readout the export documents (metadata `timesteps`, docs/export.md): the input image is
 *   presented at every one of T steps, the prediction is the argmax of Output's mean over them.
 */
import assert from 'node:assert/strict';

interface Arr {
  data: Float64Array;
  shape: number[];
}
interface Node {
  type: string;
  f: Record<string, Arr>;
}
export interface NirFile {
  version: string;
  nodes: Map<string, Node>;
  edges: [string, string][];
  metadata: Record<string, string | number | number[]>;
}

/** Reads a NIR HDF5 file as NIR's reference reader lays it out. */
export async function readNirFile(path: string): Promise<NirFile> {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const file = new h5.File(path, 'r');
  try {
    type DS = InstanceType<typeof h5.Dataset>;
    type GR = InstanceType<typeof h5.Group>;
    const value = (d: DS): unknown => d.value;
    const version = value(file.get('version') as DS);
    assert.equal(typeof version, 'string');
    const root = file.get('node') as GR;
    assert.equal(value(root.get('type') as DS), 'NIRGraph');
    const nodes = new Map<string, Node>();
    const group = root.get('nodes') as GR;
    for (const name of group.keys()) {
      const g = group.get(name) as GR;
      const node: Node = { type: String(value(g.get('type') as DS)), f: {} };
      for (const k of g.keys()) {
        if (k === 'type' || k === 'metadata') continue;
        const d = g.get(k) as DS;
        const v = value(d);
        const data = typeof v === 'number' || typeof v === 'bigint' ? [Number(v)] : Array.from(v as ArrayLike<number | bigint>, Number);
        node.f[k] = { data: Float64Array.from(data), shape: d.shape ?? [] };
      }
      nodes.set(name, node);
    }
    const flat = value(root.get('edges') as DS) as string[];
    const edges: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) edges.push([flat[i], flat[i + 1]]);
    const metadata: NirFile['metadata'] = {};
    const meta = root.get('metadata') as GR | null;
    for (const k of meta?.keys() ?? []) {
      const d = meta!.get(k) as DS;
      const v = value(d);
      metadata[k] = typeof v === 'string' ? v : (d.shape ?? []).length === 0 ? Number(Array.isArray(v) || ArrayBuffer.isView(v) ? (v as Float64Array)[0] : v) : Array.from(v as Float64Array);
    }
    return { version: String(version), nodes, edges, metadata };
  } finally {
    file.close();
  }
}

const prod = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const f32 = (a: ArrayLike<number>): Float32Array => Float32Array.from(a);

/** Spatial window operations share this shape rule (NIR follows PyTorch's). */
const outSize = (n: number, k: number, s: number, p: number, d = 1): number => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

function conv2d(x: Float32Array, shape: number[], f: Record<string, Arr>): { y: Float32Array; shape: number[] } {
  const [O, Ig, KH, KW] = f.weight.shape;
  const [C, H, W] = shape;
  const [sh, sw] = f.stride.data;
  const [ph, pw] = f.padding.data;
  const [dh, dw] = f.dilation.data;
  const groups = f.groups.data[0];
  assert.equal(Ig * groups, C, 'Conv2d: weight in-channels × groups = input channels');
  const OH = outSize(H, KH, sh, ph, dh);
  const OW = outSize(W, KW, sw, pw, dw);
  const w = f.weight.data;
  const y = new Float32Array(O * OH * OW);
  const perGroup = O / groups;
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / perGroup);
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let s = f.bias.data[o];
        for (let i = 0; i < Ig; i++) {
          const c = g * Ig + i;
          for (let a = 0; a < KH; a++) {
            const iy = oy * sh - ph + a * dh;
            if (iy < 0 || iy >= H) continue;
            for (let b = 0; b < KW; b++) {
              const ix = ox * sw - pw + b * dw;
              if (ix < 0 || ix >= W) continue;
              const v = x[(c * H + iy) * W + ix];
              if (v !== 0) s += w[((o * Ig + i) * KH + a) * KW + b] * v;
            }
          }
        }
        y[(o * OH + oy) * OW + ox] = s;
      }
  }
  return { y, shape: [O, OH, OW] };
}

function pool2d(x: Float32Array, shape: number[], f: Record<string, Arr>, average: boolean): { y: Float32Array; shape: number[] } {
  const [C, H, W] = shape;
  const [kh, kw] = f.kernel_size.data;
  const [sh, sw] = f.stride.data;
  const [ph, pw] = f.padding.data;
  const OH = outSize(H, kh, sh, ph);
  const OW = outSize(W, kw, sw, pw);
  const y = new Float32Array(C * OH * OW);
  for (let c = 0; c < C; c++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let s = 0;
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++) {
            const iy = oy * sh - ph + a;
            const ix = ox * sw - pw + b;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += x[(c * H + iy) * W + ix];
          }
        y[(c * OH + oy) * OW + ox] = average ? s / (kh * kw) : s;
      }
  return { y, shape: [C, OH, OW] };
}

/** Nodes in an order where every node comes after the nodes feeding it (NIR graphs here are acyclic). */
function order(g: NirFile): string[] {
  const out: string[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (n: string): void => {
    if (state.get(n) === 2) return;
    assert.notEqual(state.get(n), 1, `cycle through ${n}`);
    state.set(n, 1);
    for (const [s, d] of g.edges) if (d === n) visit(s);
    state.set(n, 2);
    out.push(n);
  };
  for (const n of g.nodes.keys()) visit(n);
  return out;
}

/** Runs `T` steps of the graph on one image (channels first, as Input's shape says); returns the mean of Output. */
export function runNir(g: NirFile, image: Float32Array, T: number): Float32Array {
  const seq = order(g);
  const inputsOf = new Map<string, string[]>([...g.nodes.keys()].map((n) => [n, g.edges.filter(([, d]) => d === n).map(([s]) => s)]));
  const state = new Map<string, Float32Array>();
  let sum: Float64Array | null = null;
  for (let t = 0; t < T; t++) {
    const val = new Map<string, { y: Float32Array; shape: number[] }>();
    for (const name of seq) {
      const n = g.nodes.get(name)!;
      const ins = inputsOf.get(name)!;
      let x: Float32Array | null = null;
      let shape: number[] = [];
      for (const s of ins) {
        const v = val.get(s)!;
        if (x === null) {
          x = Float32Array.from(v.y);
          shape = v.shape;
        } else {
          assert.equal(v.y.length, x.length, `${name}: inputs of different sizes`);
          for (let i = 0; i < x.length; i++) x[i] += v.y[i];
        }
      }
      const f = n.f;
      const neuron = (leaky: boolean): Float32Array => {
        const v = state.get(name) ?? new Float32Array(x!.length);
        const z = new Float32Array(x!.length);
        for (let i = 0; i < x!.length; i++) {
          const h = leaky ? v[i] + (f.v_leak.data[i] - v[i] + f.r.data[i] * x![i]) / f.tau.data[i] : v[i] + f.r.data[i] * x![i];
          if (h > f.v_threshold.data[i]) {
            z[i] = 1;
            v[i] = f.v_reset.data[i];
          } else v[i] = h;
        }
        state.set(name, v);
        return z;
      };
      switch (n.type) {
        case 'Input':
          assert.equal(image.length, prod(Array.from(f.shape.data)));
          val.set(name, { y: image, shape: Array.from(f.shape.data) });
          break;
        case 'Conv2d':
          val.set(name, conv2d(x!, shape, f));
          break;
        case 'Affine': {
          const [O, I] = f.weight.shape;
          assert.equal(x!.length, I, `${name}: Affine takes ${I} values, gets ${x!.length}`);
          const y = new Float32Array(O);
          for (let o = 0; o < O; o++) {
            let s = f.bias.data[o];
            for (let i = 0; i < I; i++) if (x![i] !== 0) s += f.weight.data[o * I + i] * x![i];
            y[o] = s;
          }
          val.set(name, { y, shape: [O] });
          break;
        }
        case 'Scale':
          val.set(name, { y: f32(Array.from(x!, (v, i) => v * f.scale.data[i])), shape });
          break;
        case 'Flatten':
          assert.equal(f.start_dim.data[0], 0);
          val.set(name, { y: x!, shape: [x!.length] });
          break;
        case 'AvgPool2d':
        case 'SumPool2d':
          val.set(name, pool2d(x!, shape, f, n.type === 'AvgPool2d'));
          break;
        case 'LIF':
          val.set(name, { y: neuron(true), shape });
          break;
        case 'IF':
          val.set(name, { y: neuron(false), shape });
          break;
        case 'I': {
          const v = state.get(name) ?? new Float32Array(x!.length);
          for (let i = 0; i < x!.length; i++) v[i] += f.r.data[i] * x![i];
          state.set(name, v);
          val.set(name, { y: Float32Array.from(v), shape });
          break;
        }
        case 'Output':
          sum ??= new Float64Array(x!.length);
          for (let i = 0; i < x!.length; i++) sum[i] += x![i];
          val.set(name, { y: x!, shape });
          break;
        default:
          throw new Error(`NIR node ${name}: type ${n.type} is not interpreted here`);
      }
    }
  }
  return f32(Array.from(sum!, (v) => v / T));
}
