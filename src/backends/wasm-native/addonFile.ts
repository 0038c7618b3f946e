/**
 * Loading snn's native addon file (native/build/snn_onednn.node) and checking its interface,
 * with no TensorFlow.js: the training kernels (native.ts, which adds the tfjs version guard and
 * thread settings) and the exported-network runtime (src/export/runtime, which must stay free of
 * TensorFlow.js) both load it through here.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../../util/paths.js';

/**
 * The interface native/snn_onednn.cc exports as `interfaceVersion`; raised with every change of
 * a function's arguments or meaning, so that an addon built from older sources is not called
 * with the new argument order.
 */
export const ADDON_INTERFACE = 3;

/** What every build of the addon defines (the training kernels; the runtime checks its own). */
export const ADDON_FUNCTIONS = ['conv2d', 'avgPool', 'lifForward', 'lifBackward', 'bnForward', 'bnBackward', 'adamStep', 'sgdStep', 'packBinary', 'unpackBinary', 'setThreads', 'setSerialWork', 'info'] as const;

/** Why `m` is not an addon this code can call, or null. */
export function addonProblem(m: unknown, file: string): string | null {
  if (typeof m !== 'object' || m === null) return `${file} is not snn's addon`;
  const version = (m as { interfaceVersion?: unknown }).interfaceVersion;
  if (version !== ADDON_INTERFACE) {
    return `${file} has interface ${typeof version === 'number' ? version : 'none'}, this snn needs ${ADDON_INTERFACE}: rebuild it (npm run build:native)`;
  }
  const missing = ADDON_FUNCTIONS.filter((f) => typeof (m as Record<string, unknown>)[f] !== 'function');
  return missing.length === 0 ? null : `${file} lacks ${missing.join(', ')}: rebuild it (npm run build:native)`;
}

export interface AddonFile {
  /** The checked addon object, or null with the reason in `why`. */
  addon: object | null;
  why: string;
}

let loaded: AddonFile | undefined;

/** Loads and checks the addon once; SNN_NATIVE=off (or 0) keeps it unloaded. */
export function loadAddonFile(): AddonFile {
  if (loaded !== undefined) return loaded;
  const setting = process.env['SNN_NATIVE'];
  if (setting === 'off' || setting === '0') return (loaded = { addon: null, why: 'SNN_NATIVE=off' });
  const file = join(packageRoot(), 'native', 'build', 'snn_onednn.node');
  // libgomp reads its wait policy once, when it loads. Passive workers sleep between parallel
  // regions instead of spinning, so they never steal the core that runs the JS and wasm ops
  // (and parallel runs of a sweep do not spin against each other).
  process.env['OMP_WAIT_POLICY'] ??= 'PASSIVE';
  let addon: unknown;
  try {
    addon = createRequire(import.meta.url)(file);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
    const why = code === 'MODULE_NOT_FOUND' ? 'not built (npm run build:native)' : `failed to load: ${String(e).split('\n')[0]}`;
    return (loaded = { addon: null, why });
  }
  const problem = addonProblem(addon, file);
  if (problem !== null) {
    // A stale build is worth a line: the user built it and expects it to run.
    process.stderr.write(`snn: native kernels off: ${problem}\n`);
    return (loaded = { addon: null, why: problem });
  }
  return (loaded = { addon: addon as object, why: '' });
}
