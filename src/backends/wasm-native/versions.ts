/**
 * The versions of the tfjs packages whose internals this folder uses: heap.ts and heapGuard.ts
 * reach into @tensorflow/tfjs-backend-wasm (its dataIdMap, private id counter, the module's
 * malloc) and the native kernels into tfjs-core's kernel arguments. Another version may lay
 * those out differently, and the XNNPACK cache trick failing would mean silently stale weights,
 * so on any version not tested here the tricks are off (the wasm backend runs its own kernels)
 * and one line says why. package.json pins the same versions.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';

export const TESTED_VERSIONS: Readonly<Record<string, string>> = {
  '@tensorflow/tfjs-core': '4.22.0',
  '@tensorflow/tfjs-backend-wasm': '4.22.0',
};

export function installedVersions(): Record<string, string> {
  return { '@tensorflow/tfjs-core': tf.version_core, '@tensorflow/tfjs-backend-wasm': version_wasm };
}

/** Why the internals must not be used with these versions, or null when they were tested. */
export function untestedVersion(installed: Record<string, string>): string | null {
  for (const [pkg, tested] of Object.entries(TESTED_VERSIONS)) {
    const have = installed[pkg] ?? 'unknown';
    if (have !== tested) return `${pkg} ${have} is not the tested ${tested}, so snn does not touch its internals`;
  }
  return null;
}

let told = false;

/** The check against what is installed; its line goes to stderr once per process. */
export function internalsUsable(installed: Record<string, string> = installedVersions()): string | null {
  const why = untestedVersion(installed);
  if (why !== null && !told) {
    told = true;
    process.stderr.write(`snn: native kernels and wasm heap guard off: ${why}\n`);
  }
  return why;
}
