/**
 * The `snn` packed format: a folder with `manifest.json` (the graph, shapes, neuron parameters,
 * where each tensor sits in the binary file, sizes, the source run and its config) and
 * `model.bin` (ternary codes packed four to a byte, pack.ts, and little-endian float32 scales,
 * biases and float weights, each section starting on a 4-byte boundary). docs/export.md is the
 * specification. Reading verifies the binary's sha256 and every offset.
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { checkRegularFile, readBounded } from '../util/boundedRead.js';
import { MAX_BINARY_BYTES, parseManifest } from './manifestSchema.js';

/** A manifest lists a few hundred nodes; 64 MiB is far beyond any. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
import {
  float32Bytes,
  outChannels,
  weightCount,
  type ConvNode,
  type ExportInput,
  type ExportModel,
  type ExportNode,
  type LayerWeights,
  type LinearNode,
  type NeuronSpec,
} from './model.js';
import { packCodes, packedBytes, unpackCodes } from './pack.js';

export const MANIFEST = 'manifest.json';
export const BINARY = 'model.bin';
export const FORMAT = 'snn-export';
export const FORMAT_VERSION = 1;

/** A tensor's place in model.bin. */
export interface TensorRef {
  /** ternary2: 2-bit codes, four per byte; float32: little-endian IEEE 754. */
  encoding: 'ternary2' | 'float32';
  offset: number;
  bytes: number;
  count: number;
  shape: number[];
}

interface WeightedFields {
  /** ternary: 2-bit codes × per-channel scale; float32: plain weights. */
  precision: 'ternary' | 'float32';
  trainedBits: number;
  bnFolded: boolean;
  /** conv: [kh, kw, in, out]; linear: [in, out]. */
  weights: TensorRef;
  /** Ternary layers: the per-output-channel scale α·γ/σ. */
  scale?: TensorRef;
  bias: TensorRef;
}

export type ManifestNode =
  | ({ id: string; op: 'conv'; inputs: string[]; shape: number[]; inShape: number[]; kernel: number; stride: number; pad: number; inChannels: number; outChannels: number } & WeightedFields)
  | ({ id: string; op: 'linear'; inputs: string[]; shape: number[]; inFeatures: number; outFeatures: number } & WeightedFields)
  | { id: string; op: 'neuron'; inputs: string[]; shape: number[]; neuron: NeuronSpec }
  | { id: string; op: 'maxpool' | 'avgpool'; inputs: string[]; shape: number[]; inShape: number[]; kernel: number; stride: number; pad: number }
  | { id: string; op: 'input' | 'flatten' | 'repeat' | 'timeMean' | 'add' | 'iand' | 'mean'; inputs: string[]; shape: number[] };

export interface SizeReport {
  /** model.bin. */
  packedBytes: number;
  /** The same network (BN folded) with every weight, scale and bias as float32. */
  float32Bytes: number;
  ratio: number;
  /** The ternary layers alone: their codes + scales + biases against float32 weights + biases. */
  ternaryLayers: { count: number; weights: number; packedBytes: number; float32Bytes: number; ratio: number };
  /** Layers kept float (the first and last, unless trained quantised). */
  floatLayers: { count: number; weights: number; bytes: number };
}

export interface Manifest {
  format: typeof FORMAT;
  formatVersion: number;
  createdAt: string;
  generator: string;
  /** Ternary layers are stored as codes (false: every layer as float32). */
  ternary: boolean;
  /** The codes come from ternarising float weights after training (TWN), not from ternary training. */
  postTraining: boolean;
  input: ExportInput;
  numClasses: number;
  timesteps: number;
  readout: string;
  output: string;
  nodes: ManifestNode[];
  binary: { file: string; bytes: number; sha256: string; byteOrder: 'little-endian' };
  sizes: SizeReport;
  /** Where it came from: run folder, checkpoint, epoch, the checkpoint's weights sha256, resolved config. */
  source: Record<string, unknown>;
  notes: string[];
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

class BinWriter {
  private parts: Uint8Array[] = [];
  private length = 0;
  private align(): void {
    const pad = (4 - (this.length % 4)) % 4;
    if (pad) {
      this.parts.push(new Uint8Array(pad));
      this.length += pad;
    }
  }
  floats(a: Float32Array, shape: number[]): TensorRef {
    this.align();
    const bytes = new Uint8Array(a.length * 4);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < a.length; i++) dv.setFloat32(i * 4, a[i], true);
    return this.push(bytes, 'float32', a.length, shape);
  }
  codes(c: Int8Array, shape: number[]): TensorRef {
    this.align();
    return this.push(packCodes(c), 'ternary2', c.length, shape);
  }
  private push(bytes: Uint8Array, encoding: TensorRef['encoding'], count: number, shape: number[]): TensorRef {
    const ref = { encoding, offset: this.length, bytes: bytes.length, count, shape };
    this.parts.push(bytes);
    this.length += bytes.length;
    return ref;
  }
  done(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const weightShape = (n: ConvNode | LinearNode): number[] => (n.op === 'conv' ? [n.kernel, n.kernel, n.inChannels, n.outChannels] : [n.inFeatures, n.outFeatures]);

function weightedFields(n: ConvNode | LinearNode, bin: BinWriter): WeightedFields {
  const shape = weightShape(n);
  const out = outChannels(n);
  const w = n.weights;
  return {
    precision: w.kind,
    trainedBits: n.trainedBits,
    bnFolded: n.bnFolded,
    weights: w.kind === 'ternary' ? bin.codes(w.codes, shape) : bin.floats(w.values, shape),
    ...(w.kind === 'ternary' ? { scale: bin.floats(w.scale, [out]) } : {}),
    bias: bin.floats(n.bias, [out]),
  };
}

function manifestNode(n: ExportNode, bin: BinWriter): ManifestNode {
  const base = { id: n.id, inputs: n.inputs, shape: n.shape };
  switch (n.op) {
    case 'conv':
      return { ...base, op: 'conv', inShape: n.inShape, kernel: n.kernel, stride: n.stride, pad: n.pad, inChannels: n.inChannels, outChannels: n.outChannels, ...weightedFields(n, bin) };
    case 'linear':
      return { ...base, op: 'linear', inFeatures: n.inFeatures, outFeatures: n.outFeatures, ...weightedFields(n, bin) };
    case 'neuron':
      return { ...base, op: 'neuron', neuron: n.neuron };
    case 'maxpool':
    case 'avgpool':
      return { ...base, op: n.op, inShape: n.inShape, kernel: n.kernel, stride: n.stride, pad: n.pad };
    default:
      return { ...base, op: n.op };
  }
}

/** Sizes of the packed model against float32. */
export function sizeReport(m: ExportModel, binBytes: number): SizeReport {
  let tCount = 0;
  let tWeights = 0;
  let tPacked = 0;
  let tFloat = 0;
  let fCount = 0;
  let fWeights = 0;
  let fBytes = 0;
  for (const n of m.nodes) {
    if (n.op !== 'conv' && n.op !== 'linear') continue;
    const count = weightCount(n);
    const out = outChannels(n);
    if (n.weights.kind === 'ternary') {
      tCount++;
      tWeights += count;
      tPacked += packedBytes(count) + 8 * out;
      tFloat += 4 * (count + out);
    } else {
      fCount++;
      fWeights += count;
      fBytes += 4 * (count + out);
    }
  }
  const f32 = float32Bytes(m);
  return {
    packedBytes: binBytes,
    float32Bytes: f32,
    ratio: f32 / binBytes,
    ternaryLayers: { count: tCount, weights: tWeights, packedBytes: tPacked, float32Bytes: tFloat, ratio: tPacked > 0 ? tFloat / tPacked : 0 },
    floatLayers: { count: fCount, weights: fWeights, bytes: fBytes },
  };
}

export interface SnnWriteInfo {
  ternary: boolean;
  postTraining: boolean;
  source: Record<string, unknown>;
  notes: string[];
  generator: string;
}

/** Writes manifest.json and model.bin into `dir` (an empty folder); returns the manifest. */
export function writeSnnExport(dir: string, m: ExportModel, info: SnnWriteInfo): Manifest {
  const bin = new BinWriter();
  const nodes = m.nodes.map((n) => manifestNode(n, bin));
  const bytes = bin.done();
  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    generator: info.generator,
    ternary: info.ternary,
    postTraining: info.postTraining,
    input: m.input,
    numClasses: m.numClasses,
    timesteps: m.timesteps,
    readout: `mean over the ${m.timesteps} time steps of node '${m.output}' (the logits); the class is their argmax`,
    output: m.output,
    nodes,
    binary: { file: BINARY, bytes: bytes.length, sha256: sha256(bytes), byteOrder: 'little-endian' },
    sizes: sizeReport(m, bytes.length),
    source: info.source,
    notes: info.notes,
  };
  writeFileSync(join(dir, BINARY), bytes);
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

function readTensor(bin: Uint8Array, ref: TensorRef | undefined, what: string, file: string): Float32Array | Int8Array {
  if (!ref || typeof ref.offset !== 'number' || typeof ref.count !== 'number') throw new UserError(`${file}: ${what} has no tensor reference`);
  const bytes = ref.encoding === 'ternary2' ? packedBytes(ref.count) : ref.count * 4;
  if (ref.offset < 0 || ref.offset + bytes > bin.length) throw new UserError(`${file}: ${what} lies outside model.bin`);
  if (ref.encoding === 'ternary2') {
    try {
      return unpackCodes(bin.subarray(ref.offset, ref.offset + bytes), ref.count);
    } catch (e) {
      throw new UserError(`${file}: ${what}: ${(e as Error).message}`);
    }
  }
  if (ref.encoding !== 'float32') throw new UserError(`${file}: ${what} has unknown encoding '${String(ref.encoding)}'`);
  const dv = new DataView(bin.buffer, bin.byteOffset + ref.offset, bytes);
  const out = new Float32Array(ref.count);
  for (let i = 0; i < ref.count; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

function readWeights(bin: Uint8Array, n: ManifestNode & WeightedFields, count: number, out: number, file: string): LayerWeights {
  const w = readTensor(bin, n.weights, `${n.id} weights`, file);
  if (w.length !== count) throw new UserError(`${file}: ${n.id} has ${w.length} weights, its shape needs ${count}`);
  if (n.precision === 'ternary') {
    if (!(w instanceof Int8Array)) throw new UserError(`${file}: ${n.id} is ternary but its weights are not codes`);
    const scale = readTensor(bin, n.scale, `${n.id} scale`, file) as Float32Array;
    if (scale.length !== out) throw new UserError(`${file}: ${n.id} needs ${out} scales, has ${scale.length}`);
    return { kind: 'ternary', codes: w, scale };
  }
  if (!(w instanceof Float32Array)) throw new UserError(`${file}: ${n.id} is float32 but its weights are codes`);
  return { kind: 'float32', values: w };
}

/** Reads an `snn` export folder back into an ExportModel (checksum and offsets verified). */
export function readSnnExport(dir: string): { model: ExportModel; manifest: Manifest } {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) throw new UserError(`${dir}: not an snn export (no ${MANIFEST})`);
  let json: Partial<Manifest>;
  try {
    json = JSON.parse(readBounded(file, { what: 'export manifest', maxBytes: MAX_MANIFEST_BYTES, confined: true }).toString('utf8')) as Partial<Manifest>;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null) throw new UserError(`${file}: not a manifest (a JSON object)`);
  if (json.format !== FORMAT) throw new UserError(`${file}: format is '${String(json.format)}', expected '${FORMAT}'`);
  if (json.formatVersion !== FORMAT_VERSION) throw new UserError(`${file}: format version ${json.formatVersion} is not supported (this snn reads ${FORMAT_VERSION})`);
  const manifest = parseManifest(json, file); // bounds, graph references, tensor places (manifestSchema.ts)
  const binFile = join(dir, manifest.binary.file);
  const size = checkRegularFile(binFile, { what: 'export file', maxBytes: MAX_BINARY_BYTES, confined: true }).size;
  if (size !== manifest.binary.bytes) throw new UserError(`${binFile}: ${size} bytes, the manifest says ${manifest.binary.bytes} (truncated or altered)`);
  const bin = new Uint8Array(readBounded(binFile, { what: 'export file', maxBytes: MAX_BINARY_BYTES, confined: true }));
  if (sha256(bin) !== manifest.binary.sha256) throw new UserError(`${binFile}: checksum mismatch (the file is corrupt or was altered)`);
  const nodes: ExportNode[] = manifest.nodes.map((n): ExportNode => {
    switch (n.op) {
      case 'conv': {
        const count = n.kernel * n.kernel * n.inChannels * n.outChannels;
        const weights = readWeights(bin, n, count, n.outChannels, file);
        const bias = readTensor(bin, n.bias, `${n.id} bias`, file) as Float32Array;
        return { id: n.id, op: 'conv', inputs: n.inputs, shape: n.shape, inShape: n.inShape, kernel: n.kernel, stride: n.stride, pad: n.pad, inChannels: n.inChannels, outChannels: n.outChannels, weights, bias, trainedBits: n.trainedBits, bnFolded: n.bnFolded };
      }
      case 'linear': {
        const weights = readWeights(bin, n, n.inFeatures * n.outFeatures, n.outFeatures, file);
        const bias = readTensor(bin, n.bias, `${n.id} bias`, file) as Float32Array;
        return { id: n.id, op: 'linear', inputs: n.inputs, shape: n.shape, inFeatures: n.inFeatures, outFeatures: n.outFeatures, weights, bias, trainedBits: n.trainedBits, bnFolded: false };
      }
      case 'neuron':
        return { id: n.id, op: 'neuron', inputs: n.inputs, shape: n.shape, neuron: n.neuron };
      case 'maxpool':
      case 'avgpool':
        return { id: n.id, op: n.op, inputs: n.inputs, shape: n.shape, inShape: n.inShape, kernel: n.kernel, stride: n.stride, pad: n.pad };
      case 'input':
      case 'flatten':
      case 'repeat':
      case 'timeMean':
      case 'add':
      case 'iand':
      case 'mean':
        return { id: n.id, op: n.op, inputs: n.inputs, shape: n.shape };
      default:
        throw new UserError(`${file}: node ${(n as { id: string }).id} has unknown op '${(n as { op: string }).op}'`);
    }
  });
  return {
    model: { input: manifest.input, numClasses: manifest.numClasses, timesteps: manifest.timesteps, nodes, output: manifest.output },
    manifest,
  };
}
