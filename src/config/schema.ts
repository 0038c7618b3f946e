/**
 * The one schema of an `snn` config: types, defaults and validation in one place.
 *
 * Every object is strict, so an unknown key is an error that names its key path. Defaults
 * live here and nowhere else: the resolved config saved in a run folder is `parse(userYaml)`.
 * Objects use `.prefault({})` so that an omitted section is parsed (and so filled with the
 * defaults of its fields) rather than replaced by a literal.
 */
import { z } from 'zod';
import { ARCH_NAMES, PRESET_NAMES } from '../models/catalog.js';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const posNum = z.number().positive();

export const BACKENDS = ['auto', 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export const DATASETS = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'cifar10-dvs', 'synthetic', 'imagefolder'] as const;
/** crop: zero-pad and crop back; flip: horizontal; roll: circular shift (DVS frames, as torch.roll). */
export const AUGMENTS = ['crop', 'flip', 'roll'] as const;
export const SURROGATES = ['sigmoid', 'atan', 'rectangle', 'triangle'] as const;
export const NEURONS = ['lif', 'if', 'plif', 'relu'] as const;
export const CONNECTIONS = ['spike', 'sew-add', 'sew-iand', 'membrane', 'da'] as const;

export const SyntheticSchema = z
  .strictObject({
    classes: z.number().int().min(2).default(4),
    train: posInt.default(512),
    test: posInt.default(128),
    height: posInt.default(16),
    width: posInt.default(16),
    channels: posInt.default(1),
    /** Standard deviation of the pixel noise added to each class prototype (pixels in [0, 1]). */
    noise: z.number().nonnegative().default(0.25),
  })
  .prefault({});

/** How CIFAR10-DVS events become frames, and its train/test split (src/data/cifar10Dvs.ts). */
export const DvsSchema = z
  .strictObject({
    /** Frames per sample (T); each frame holds per-polarity event counts. */
    frames: posInt.default(10),
    /** number: equal event counts per frame; time: equal durations (SpikingJelly's split_by). */
    splitBy: z.enum(['number', 'time']).default('number'),
    /** Output side in pixels (the sensor is 128x128); smaller sizes bin events by area. */
    size: z.number().int().min(1).max(128).default(48),
    /** seeded: class-balanced random 9:1 split from splitSeed; tebn: samples 0-99 of each class are the test set. */
    testSplit: z.enum(['seeded', 'tebn']).default('seeded'),
    /** Seed of the split alone, fixed so that runs with different seeds share one test set. */
    splitSeed: z.number().int().min(0).max(0xffffffff).default(0),
    /** Folder for the frame cache; null: <data folder>/.snn-frames (or ~/.cache/snn if read-only). */
    cache: z.string().min(1).nullable().default(null),
  })
  .prefault({});

/** An ImageNet-style folder, root/train/<class>/*, root/val/<class>/* (src/data/imageFolder.ts). */
const range = (lo: number, hi: number, what: string) =>
  z.tuple([posNum, posNum]).default([lo, hi]).refine(([a, b]) => a <= b, `${what}: the first value must not exceed the second`);
export const ImageFolderSchema = z
  .strictObject({
    /** Number of classes (ImageNet: 1000); null: counted from root/train/. Checked against the folder. */
    classes: z.number().int().min(2).nullable().default(null),
    /** Shorter side images are decoded (and cached) at; null: floor(imageSize / 0.875), the evaluation resize. */
    resizeSide: posInt.nullable().default(null),
    /** Random-resized-crop: area fraction and aspect-ratio range (torchvision's defaults). */
    scale: range(0.08, 1, 'scale').refine(([, b]) => b <= 1, 'scale: the area fraction cannot exceed 1'),
    ratio: range(3 / 4, 4 / 3, 'ratio'),
    /** Memory for decoded images kept between epochs, in MiB (0: no cache). */
    cacheMB: z.number().nonnegative().default(1024),
    /** Batches decoded ahead of the training step by the decoding worker. */
    prefetch: posInt.default(3),
    /** Files larger than this (MiB) or with more pixels than maxPixels are refused. */
    maxFileMB: posNum.default(64),
    maxPixels: posInt.default(100_000_000),
  })
  .prefault({});

export const DataSchema = z
  .strictObject({
    dataset: z.enum(DATASETS).default('fashion-mnist'),
    /** Folder with the data set's files; null looks in datasets/<name> and known system paths. */
    root: z.string().min(1).nullable().default(null),
    batchSize: posInt.default(64),
    testBatchSize: posInt.default(256),
    augment: z.array(z.enum(AUGMENTS)).default([]),
    /** Zero padding (pixels per side) before a random crop back to the original size. */
    cropPadding: nonNegInt.default(4),
    /** Use only the first N images of a split (null: all). */
    trainLimit: posInt.nullable().default(null),
    testLimit: posInt.nullable().default(null),
    synthetic: SyntheticSchema,
    dvs: DvsSchema,
    /** Side of the square images a model sees (imagefolder: the crop size). */
    imageSize: posInt.default(224),
    imagefolder: ImageFolderSchema,
  })
  .superRefine((d, ctx) => {
    const side = d.imagefolder.resizeSide;
    if (side !== null && side < d.imageSize) {
      ctx.addIssue({ code: 'custom', path: ['imagefolder', 'resizeSide'], message: `must be at least data.imageSize (${d.imageSize}), got ${side}` });
    }
  })
  .prefault({});

export const SurrogateSchema = z
  .strictObject({
    name: z.enum(SURROGATES).default('sigmoid'),
    /** Sharpness (the rectangle's width); null takes the surrogate's own default (sigmoid 4, atan 2, rectangle/triangle 1). */
    alpha: posNum.nullable().default(null),
  })
  .prefault({});

export const NeuronSchema = z
  .strictObject({
    /** lif | if | plif (learnable tau) | relu (the same network as an ANN: no time steps). */
    type: z.enum(NEURONS).default('lif'),
    /** Membrane time constant; PLIF's initial value. */
    tau: z.number().gt(1, 'tau must be greater than 1').default(2.0),
    /** 0.5, not SpikingJelly's 1: at T = 2 a LIF with V_th 1 fires ~4 % and deep nets learn slowly (docs/results-defaults.md). */
    threshold: posNum.default(0.5),
    vReset: z.number().default(0),
    reset: z.enum(['hard', 'soft']).default('hard'),
    detachReset: z.boolean().default(true),
    surrogate: SurrogateSchema,
  })
  .prefault({});

/** DANet (connection `da`), reconstructed from its abstract (src/models/danet.ts). */
export const DanetSchema = z
  .strictObject({
    /** dense: every earlier stage's output (the stem's included) is projected and added to each later stage's input; none: stages chained only. */
    links: z.enum(['dense', 'none']).default('dense'),
    /** Pre-activation blocks (SN-conv-BN, a real-valued stream, as MS-ResNet) instead of post-activation (conv-BN-SN, spikes). */
    preActivation: z.boolean().default(false),
  })
  .prefault({});

export const ModelSchema = z
  .strictObject({
    arch: z.enum(ARCH_NAMES).default('spiking-resnet'),
    preset: z.enum(PRESET_NAMES).default('tiny'),
    /** Residual blocks per stage; overrides the preset's when given. */
    blocks: z.array(posInt).min(1).nullable().default(null),
    /** Channels per stage; overrides the preset's when given (same length as blocks). */
    widths: z.array(posInt).min(1).nullable().default(null),
    /** Residual connection; null takes the architecture's (spiking-resnet: spike, danet: da). */
    connection: z.enum(CONNECTIONS).nullable().default(null),
    /** basic | bottleneck; null takes the preset's. */
    block: z.enum(['basic', 'bottleneck']).nullable().default(null),
    /** Downsampling shortcut: conv (1×1 conv + BN) or spiking (1×1 conv + BN + SN, SEW's form); null: by connection. */
    downsample: z.enum(['conv', 'spiking']).nullable().default(null),
    timesteps: posInt.default(4),
    /** direct: the analog image at every step; rate: Bernoulli spikes with the pixel intensity as probability; frames: event data, one frame per step. */
    encoding: z.enum(['direct', 'rate', 'frames']).default('direct'),
    /** Threshold-dependent BN (Zheng et al. 2021): BN outputs scaled by α·V_th, α = 1/√2 where two branches join. */
    tdBN: z.boolean().default(false),
    /** γ = 0 for each residual branch's last BN, so every block starts as its shortcut; null: true for membrane (MS-ResNet's code), false otherwise. */
    zeroInitResidual: z.boolean().nullable().default(null),
    danet: DanetSchema,
    neuron: NeuronSchema,
  })
  .prefault({});

export const OptimizerSchema = z
  .strictObject({
    name: z.enum(['sgd', 'adam', 'adamw']).default('sgd'),
    lr: posNum.default(0.1),
    momentum: z.number().min(0).max(1).default(0.9),
    nesterov: z.boolean().default(false),
    weightDecay: z.number().nonnegative().default(5e-4),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    eps: posNum.default(1e-8),
  })
  .prefault({});

export const ScheduleSchema = z
  .strictObject({
    name: z.enum(['cosine', 'step', 'constant']).default('cosine'),
    warmupEpochs: z.number().nonnegative().default(0),
    /** step: multiply the rate by gamma at each of these epochs. */
    milestones: z.array(posInt).default([]),
    gamma: posNum.default(0.1),
    /** cosine: the rate at the end of training. */
    minLr: z.number().nonnegative().default(0),
  })
  .prefault({});

export const TrainSchema = z
  .strictObject({
    epochs: posInt.default(10),
    optimizer: OptimizerSchema,
    schedule: ScheduleSchema,
    /** Evaluate on the test split every N epochs (and always after the last). */
    evalEvery: posInt.default(1),
    /** Clip the global gradient norm to this value (null: no clipping). */
    gradClip: posNum.nullable().default(null),
    /** A NaN or infinite loss: stop the run (exit 1, last checkpoint kept) or skip that batch's update and count it. */
    onNonFinite: z.enum(['stop', 'skip']).default('stop'),
    /** Write TensorBoard event files into the run folder (src/runs/tensorboard.ts). */
    tensorboard: z.boolean().default(true),
  })
  .prefault({});

export const QuantSchema = z
  .strictObject({
    /** 32 float, 8 or 4 symmetric uniform, 2 ternary (TWN), 1 binary. */
    bits: z.union([z.literal(32), z.literal(8), z.literal(4), z.literal(2), z.literal(1)]).default(32),
    /** full: the first conv and the classifier stay float (common practice); quantized: them too. */
    firstLast: z.enum(['full', 'quantized']).default('full'),
    /** One scale per output channel instead of one per layer. */
    perChannel: z.boolean().default(false),
  })
  .prefault({});

export const KdSchema = z
  .strictObject({
    /** The teacher: a run folder (its best checkpoint) or a checkpoint folder; any architecture snn builds. */
    teacher: z.string().min(1).nullable().default(null),
    /** kl: (1−α) CE + α τ² KL(softmax(z_t/τ) ‖ softmax(z_s/τ)); mse: (1−α) CE + α Σ(z_s − z_t)²/N. */
    kind: z.enum(['kl', 'mse']).default('kl'),
    temperature: posNum.default(4),
    alpha: z.number().min(0).max(1).default(0.5),
  })
  .prefault({});

export const TnaSchema = z
  .strictObject({
    /** Weight of the logit-matching term Σ(z_snn − z_twin)²/N. */
    lambda: z.number().nonnegative().default(0.005),
    twin: z
      .strictObject({
        /** The twin's weight precision; null: the SNN's (the identical twin of the TNA paper); 32: a float twin (a variant). */
        bits: z.union([z.literal(32), z.literal(8), z.literal(4), z.literal(2), z.literal(1)]).nullable().default(null),
        /** The twin's neuron type; null: the SNN's; relu: an ANN twin (a variant). */
        neuron: z.enum(NEURONS).nullable().default(null),
        /** The twin's initialisation seed; null: the run seed + 1 (independent of the SNN's). */
        seed: z.number().int().min(0).max(0xffffffff).nullable().default(null),
      })
      .prefault({}),
  })
  .prefault({});

export const LossSchema = z
  .strictObject({
    mode: z.enum(['plain', 'kd', 'tna']).default('plain'),
    kd: KdSchema,
    tna: TnaSchema,
  })
  .prefault({});

export const ConfigSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'name may hold letters, digits, ".", "_" and "-" only')
    .default('run'),
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  backend: z.enum(BACKENDS).default('auto'),
  data: DataSchema,
  model: ModelSchema,
  quant: QuantSchema,
  loss: LossSchema,
  train: TrainSchema,
});

export type Config = z.infer<typeof ConfigSchema>;
export type DataConfig = z.infer<typeof DataSchema>;
export type DvsConfig = z.infer<typeof DvsSchema>;
export type ImageFolderConfig = z.infer<typeof ImageFolderSchema>;
export type ModelConfig = z.infer<typeof ModelSchema>;
export type DanetConfig = z.infer<typeof DanetSchema>;
export type NeuronConfig = z.infer<typeof NeuronSchema>;
export type SurrogateConfig = z.infer<typeof SurrogateSchema>;
export type TrainConfig = z.infer<typeof TrainSchema>;
export type QuantConfig = z.infer<typeof QuantSchema>;
export type LossConfig = z.infer<typeof LossSchema>;
export type OptimizerConfig = z.infer<typeof OptimizerSchema>;
export type ScheduleConfig = z.infer<typeof ScheduleSchema>;
export type BackendName = (typeof BACKENDS)[number];
export type DatasetName = (typeof DATASETS)[number];
export type AugmentName = (typeof AUGMENTS)[number];
