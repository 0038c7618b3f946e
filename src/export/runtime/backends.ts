/**
 * Where the fast runtime's kernels (native/ternary/core.h) run: a WebAssembly SIMD instance
 * (src/export/runtime/ternary.wasm, built from native/ternary/wasm.c; runs on every Node) or
 * the native addon (native/ternary.cc: OpenMP threads, AVX-512/AVX2/scalar by the CPU). Both
 * execute a program written into one arena (the wasm memory, or an ArrayBuffer for the addon).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAddonFile } from '../../backends/wasm-native/addonFile.js';
import { packageRoot } from '../../util/paths.js';

export type KernelKind = 'wasm' | 'native';

export interface KernelBackend {
  kind: KernelKind;
  /** wasm: 'simd128' or 'scalar'; native: 'avx512', 'avx2' or 'scalar'. */
  isa: string;
  /** The first byte the runtime may use. */
  base: number;
  /** Makes the arena at least `bytes` long; returns its (possibly new) buffer. */
  reserve(bytes: number): ArrayBuffer;
  exec(offset: number, words: number): void;
}

interface WasmExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  exec(prog: number, words: number, simd: number): void;
}

let wasmModule: WebAssembly.Module | undefined;

/** The compiled module (shipped beside the compiled JavaScript's source: src/export/runtime/ternary.wasm). */
export function ternaryWasmModule(): WebAssembly.Module {
  wasmModule ??= new WebAssembly.Module(readFileSync(join(packageRoot(), 'src', 'export', 'runtime', 'ternary.wasm')));
  return wasmModule;
}

export function wasmBackend(isa: 'simd128' | 'scalar' = 'simd128', module = ternaryWasmModule()): KernelBackend {
  const ex = new WebAssembly.Instance(module, {}).exports as unknown as WasmExports;
  const simd = isa === 'simd128' ? 1 : 0;
  return {
    kind: 'wasm',
    isa,
    base: ex.heapBase(),
    reserve(bytes) {
      const have = ex.memory.buffer.byteLength;
      if (bytes > have) ex.memory.grow(Math.ceil((bytes - have) / 65536));
      return ex.memory.buffer;
    },
    exec: (offset, words) => ex.exec(offset, words, simd),
  };
}

interface TernaryAddon {
  ternaryExec(arena: ArrayBuffer, offset: number, words: number): void;
  ternaryConfig(threads: number, isa: string | null): string;
}

/** Why the native kernels are unavailable, or null. */
export function nativeUnavailable(): string | null {
  const s = loadAddonFile();
  if (!s.addon) return s.why;
  if (typeof (s.addon as Partial<TernaryAddon>).ternaryExec !== 'function') return 'the native addon predates the ternary kernels: npm run build:native';
  return null;
}

/** The addon's kernels with `threads` OpenMP threads; `isa` forces a vector width (tests). */
export function nativeBackend(threads: number, isa: 'avx512' | 'avx2' | 'scalar' | null = null): KernelBackend {
  const why = nativeUnavailable();
  if (why !== null) throw new Error(`native ternary kernels unavailable: ${why}`);
  const addon = loadAddonFile().addon as TernaryAddon;
  const chosen = addon.ternaryConfig(threads, isa);
  let arena = new ArrayBuffer(0);
  return {
    kind: 'native',
    isa: chosen,
    base: 64,
    reserve(bytes) {
      if (bytes > arena.byteLength) arena = new ArrayBuffer(bytes);
      return arena;
    },
    exec(offset, words) {
      // The ISA and thread count are process-wide in the addon: set them again for this runtime.
      addon.ternaryConfig(threads, chosen);
      addon.ternaryExec(arena, offset, words);
    },
  };
}
