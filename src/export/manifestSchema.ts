/**
 * The schema of an `snn` export's manifest.json (docs/export.md), with bounds: what
 * `snn eval --exported` accepts before it reads model.bin or runs a step. Strides and kernels
 * are at least 1, pads at least 0, timesteps at most MAX_TIMESTEPS, every tensor's byte count
 * follows from its count and encoding, its count from its shape, and it lies inside model.bin;
 * `binary.file` is a plain file name of the export folder; every node reads nodes before it.
 * A missing or wrong field is named by its path: `manifest.json: nodes.3.stride: …`.
 *
 * Objects are loose (unknown fields pass), so that a newer writer's extra fields do not break
 * an older reader; the fields snn reads are all checked.
 */
import { z } from 'zod';
import { formatIssue } from '../config/load.js';
import { UserError } from '../util/errors.js';
import type { Manifest } from './snnFormat.js';

/** Time steps an exported model may ask for (ours): far above any trained T, far below "forever". */
export const MAX_TIMESTEPS = 10_000;
/** model.bin at most 2 GiB. */
export const MAX_BINARY_BYTES = 2 ** 31;

const int = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);
const size = int(1, 1 << 20);
const Shape = z.array(int(1, 1 << 24)).min(1).max(4);

const TensorRef = z
  .looseObject({
    encoding: z.enum(['ternary2', 'float32']),
    offset: int(0, MAX_BINARY_BYTES),
    bytes: int(0, MAX_BINARY_BYTES),
    count: int(0, MAX_BINARY_BYTES),
    shape: z.array(int(0, 1 << 24)).max(4),
  })
  .refine((r) => r.count === r.shape.reduce((a, b) => a * b, 1), { message: 'count is not the product of shape' })
  .refine((r) => r.bytes === (r.encoding === 'ternary2' ? Math.ceil(r.count / 4) : 4 * r.count), {
    message: 'bytes does not follow from count and encoding',
  });
type Ref = z.infer<typeof TensorRef>;

const Weighted = {
  precision: z.enum(['ternary', 'float32']),
  trainedBits: int(1, 32),
  bnFolded: z.boolean(),
  weights: TensorRef,
  scale: TensorRef.optional(),
  bias: TensorRef,
};

const base = { id: z.string().min(1).max(200), inputs: z.array(z.string()).max(64), shape: Shape };
const window = { kernel: int(1, 64), stride: int(1, 64), pad: int(0, 64), inShape: Shape };

const Node = z.discriminatedUnion('op', [
  z.looseObject({ ...base, op: z.literal('conv'), ...window, inChannels: size, outChannels: size, ...Weighted }),
  z.looseObject({ ...base, op: z.literal('linear'), inFeatures: size, outFeatures: size, ...Weighted }),
  z.looseObject({
    ...base,
    op: z.literal('neuron'),
    neuron: z.looseObject({
      model: z.enum(['lif', 'if']),
      decay: z.number().min(0).max(1),
      threshold: z.number(),
      vReset: z.number(),
      reset: z.enum(['hard', 'soft']),
      learnedTau: z.boolean(),
    }),
  }),
  z.looseObject({ ...base, op: z.enum(['maxpool', 'avgpool']), ...window }),
  z.looseObject({ ...base, op: z.enum(['input', 'flatten', 'repeat', 'timeMean', 'add', 'iand', 'mean']) }),
]);

const ManifestSchema = z.looseObject({
  format: z.string(),
  formatVersion: z.number(),
  ternary: z.boolean(),
  postTraining: z.boolean(),
  input: z.looseObject({
    height: int(1, 4096),
    width: int(1, 4096),
    channels: int(1, 64),
    mean: z.array(z.number()).min(1).max(64),
    std: z.array(z.number().positive()).min(1).max(64),
  }),
  numClasses: int(1, 100_000),
  timesteps: int(1, MAX_TIMESTEPS),
  output: z.string().min(1),
  nodes: z.array(Node).min(1).max(10_000),
  binary: z.looseObject({
    file: z.string().max(100).regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'must be a plain file name of the export folder'),
    bytes: int(0, MAX_BINARY_BYTES),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex'),
    byteOrder: z.literal('little-endian'),
  }),
});

/** A problem the schema cannot see alone: graph references, tensor places, layer sizes. Null if none. */
function crossCheck(m: z.infer<typeof ManifestSchema>): string | null {
  const seen = new Set<string>();
  if (m.input.mean.length !== m.input.channels || m.input.std.length !== m.input.channels) return 'input: mean and std need one value per channel';
  for (const [i, n] of m.nodes.entries()) {
    if (seen.has(n.id)) return `nodes.${i}.id: '${n.id}' is used twice`;
    const missing = n.inputs.find((x) => !seen.has(x));
    if (missing !== undefined) return `nodes.${i}.inputs: '${missing}' is not a node before it`;
    seen.add(n.id);
    if (n.op !== 'conv' && n.op !== 'linear') continue;
    const refs: [string, Ref | undefined][] = [['weights', n.weights], ['scale', n.scale], ['bias', n.bias]];
    for (const [k, r] of refs) {
      if (r && r.offset + r.bytes > m.binary.bytes) return `nodes.${i}.${k}: bytes ${r.offset}–${r.offset + r.bytes} lie outside model.bin (${m.binary.bytes} bytes)`;
    }
    const [count, out] = n.op === 'conv' ? [n.kernel * n.kernel * n.inChannels * n.outChannels, n.outChannels] : [n.inFeatures * n.outFeatures, n.outFeatures];
    if (n.weights.count !== count) return `nodes.${i}.weights: ${n.weights.count} weights, the layer's sizes need ${count}`;
    if (n.bias.count !== out) return `nodes.${i}.bias: ${n.bias.count} values, the layer has ${out} outputs`;
    if (n.precision === 'ternary' && (n.weights.encoding !== 'ternary2' || n.scale?.count !== out)) {
      return `nodes.${i}: a ternary layer needs ternary2 weights and ${out} scales`;
    }
    if (n.op === 'conv' && n.inShape[n.inShape.length - 1] !== n.inChannels) return `nodes.${i}.inShape: its channels are not inChannels (${n.inChannels})`;
  }
  if (!seen.has(m.output)) return `output: '${m.output}' is not a node`;
  return null;
}

/** The manifest of `file` (parsed JSON) checked against the schema: typed, or a UserError naming the field. */
export function parseManifest(json: unknown, file: string): Manifest {
  const r = ManifestSchema.safeParse(json);
  if (!r.success) throw new UserError(formatIssue(r.error.issues[0], file));
  const problem = crossCheck(r.data);
  if (problem) throw new UserError(`${file}: ${problem}`);
  return r.data as unknown as Manifest;
}
