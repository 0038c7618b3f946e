/**
 * Picks the TensorFlow.js backend. The native packages (@tensorflow/tfjs-node-gpu,
 * @tensorflow/tfjs-node) are optional dependencies whose install downloads libtensorflow, so
 * they are imported dynamically and may be missing; wasm ships with the project, plain-JS cpu is
 * the last resort. `auto` takes the first that loads and records why the others did not.
 * WebGPU (Dawn, see webgpu.ts) comes first in `auto` but only on a real GPU adapter: a
 * software one is slower than wasm and is used only when asked for by name.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { guardWasmHeap } from '../backends/wasm-native/heapGuard.js';
import { UserError } from '../util/errors.js';
import { registerWasmTrainingKernels, setNativeConvolutions } from '../backends/wasm-native/kernels/index.js';
import { nativeStatus } from '../backends/wasm-native/native.js';
import { adapterLine, registerWebgpuBackend, WebgpuUnavailable, type AdapterDescription } from '../backends/webgpu/device.js';
import { ensureSnnKernels } from '../backends/register.js';

export type BackendChoice = 'auto' | 'webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  requested: BackendChoice;
  /** tf.getBackend() */
  name: string;
  /** npm package that provided the backend */
  package: string;
  version: string;
  /** Threads the backend computes with, when known. */
  threads: number | null;
  /** One line per backend tried that failed, with the reason. */
  fallbacks: string[];
  /**
   * wasm only: "oneDNN 2.6.3, 2 threads, avx512_core" when the convolutions run in snn's native
   * addon, else null (`nativeWhy` says why).
   */
  native: string | null;
  nativeWhy?: string;
  /** webgpu only: the GPU adapter the engine runs on. */
  adapter?: AdapterDescription;
}

/** "backend webgpu (adapter: …)" / "backend wasm (convolutions: …)": the first line of a run's log. */
export function backendLine(b: BackendInfo): string {
  if (b.adapter !== undefined) return `backend ${b.name} (adapter: ${adapterLine(b.adapter)})`;
  return `backend ${b.name}${b.native !== null ? ` (convolutions: ${b.native})` : ''}`;
}

type Concrete = Exclude<BackendChoice, 'auto'>;

const AUTO_ORDER: readonly Concrete[] = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** A backend that cannot run here; the message completes "backend 'x' is not available: ". */
class Unavailable extends Error {}

interface Loaded {
  name: string;
  package: string;
  version: string;
  threads: number | null;
  /** A degraded but usable load, reported among the fallbacks. */
  note?: string;
  native?: string | null;
  nativeWhy?: string;
  adapter?: AdapterDescription;
}

const requireHere = createRequire(import.meta.url);

function packageVersion(pkg: string): string {
  try {
    const json: unknown = requireHere(`${pkg}/package.json`);
    if (typeof json === 'object' && json !== null && 'version' in json && typeof json.version === 'string') return json.version;
  } catch {
    // fall through
  }
  return 'unknown';
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** Imports an optional package, telling "not installed" apart from "installed but broken". */
async function importOptional(pkg: string, installHint: string): Promise<void> {
  const specifier: string = pkg; // a variable, so tsc does not look for the package's types
  try {
    await import(specifier);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
    if (code === 'ERR_MODULE_NOT_FOUND' && firstLine(e).includes(`'${pkg}'`)) {
      throw new Unavailable(`${pkg} is not installed (${installHint})`);
    }
    throw new Unavailable(`${pkg} failed to load: ${firstLine(e)}`);
  }
}

async function activate(name: string, what: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new Unavailable(`${what} did not register backend '${name}': ${firstLine(e)}`);
  }
  if (!ok) throw new Unavailable(`${what} failed to initialise`);
  await tf.ready();
}

/** tfjs-node-gpu silently runs libtensorflow on the CPU when CUDA is missing; its backend says so. */
function usesGpu(): boolean {
  const b: unknown = tf.backend();
  return typeof b === 'object' && b !== null && 'isUsingGpuDevice' in b && b.isUsingGpuDevice === true;
}

async function loadNative(pkg: string, installHint: string): Promise<Loaded> {
  // libtensorflow logs CPU-feature banners to stderr unless told otherwise; must precede loading.
  process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
  await importOptional(pkg, installHint);
  await activate('tensorflow', pkg);
  return { name: tf.getBackend(), package: pkg, version: packageVersion(pkg), threads: null };
}

const loaders: Record<Concrete, (forced: boolean) => Promise<Loaded>> = {
  webgpu: async (forced) => {
    let adapter: AdapterDescription;
    try {
      adapter = await registerWebgpuBackend(forced);
    } catch (e) {
      throw new Unavailable(e instanceof WebgpuUnavailable ? e.message : `the WebGPU engine failed to load: ${firstLine(e)}`);
    }
    const { registerWebgpuTrainingKernels } = await import('../backends/webgpu/index.js');
    registerWebgpuTrainingKernels();
    await activate('webgpu', 'the WebGPU engine');
    return { name: tf.getBackend(), package: '@tensorflow/tfjs-backend-webgpu', version: packageVersion('@tensorflow/tfjs-backend-webgpu'), threads: null, adapter };
  },
  'tensorflow-gpu': async (forced) => {
    const loaded = await loadNative('@tensorflow/tfjs-node-gpu', 'npm i @tensorflow/tfjs-node-gpu on a CUDA machine');
    if (usesGpu()) return loaded;
    const why = '@tensorflow/tfjs-node-gpu loaded but uses no CUDA GPU';
    // Forced: the user asked for a GPU. Auto: libtensorflow on the CPU is still the fastest engine.
    if (forced) throw new Unavailable(`${why} (check the CUDA and cuDNN libraries, or choose backend 'tensorflow')`);
    return { ...loaded, note: `${why}; libtensorflow runs on the CPU` };
  },
  tensorflow: () => loadNative('@tensorflow/tfjs-node', 'npm i @tensorflow/tfjs-node'),
  wasm: async () => {
    registerWasmTrainingKernels();
    const native = nativeStatus();
    setNativeConvolutions(native.addon);
    await activate('wasm', 'the WebAssembly module');
    guardWasmHeap();
    return {
      name: tf.getBackend(),
      package: '@tensorflow/tfjs-backend-wasm',
      version: version_wasm,
      // The wasm module's own threads; the native convolutions use `native.threads`.
      threads: getThreadsCount(),
      native: native.description,
      ...(native.addon === null ? { nativeWhy: native.why } : {}),
    };
  },
  cpu: async () => {
    await activate('cpu', 'the plain JS backend');
    return { name: tf.getBackend(), package: '@tensorflow/tfjs-backend-cpu', version: tf.version['tfjs-backend-cpu'] ?? 'unknown', threads: 1 };
  },
};

/**
 * Selects and initialises a backend. A forced choice that cannot load throws a UserError naming
 * the backend and the reason; `auto` falls back in the order webgpu (a hardware adapter only),
 * tensorflow-gpu, tensorflow, wasm, cpu.
 */
export async function initBackend(choice: BackendChoice): Promise<BackendInfo> {
  // PROD only mutes tfjs's console hints (e.g. "install tfjs-node"); this CLI reports the backend itself.
  tf.env().set('PROD', true);
  const fallbacks: string[] = [];
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  for (const candidate of candidates) {
    try {
      const loaded = await loaders[candidate](choice !== 'auto');
      ensureSnnKernels(); // the SNN kernels of src/engine/snnKernels.ts for this backend
      if (loaded.note !== undefined) fallbacks.push(`${candidate}: ${loaded.note}`);
      return {
        requested: choice,
        name: loaded.name,
        package: loaded.package,
        version: loaded.version,
        threads: loaded.threads,
        fallbacks,
        native: loaded.native ?? null,
        ...(loaded.nativeWhy !== undefined ? { nativeWhy: loaded.nativeWhy } : {}),
        ...(loaded.adapter !== undefined ? { adapter: loaded.adapter } : {}),
      };
    } catch (e) {
      const reason = e instanceof Unavailable ? e.message : firstLine(e);
      if (choice !== 'auto') throw new UserError(`backend '${candidate}' is not available: ${reason}`);
      fallbacks.push(`${candidate}: ${reason}`);
    }
  }
  throw new UserError(`no backend could be loaded: ${fallbacks.join('; ')}`);
}
