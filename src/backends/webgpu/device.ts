/**
 * The WebGPU engine: Dawn's Node binding (npm `webgpu`, prebuilt inside the package) gives a
 * GPUDevice on Vulkan (Linux), Metal (macOS) or D3D12 (Windows), and
 * @tensorflow/tfjs-backend-webgpu runs TensorFlow.js on it. Both packages are imported only
 * when this backend is asked for.
 *
 * tfjs-backend-webgpu registers itself only where `navigator.gpu` exists (browsers), so the
 * backend is registered here over an adapter this module requested and described, with
 * WebGPU's globals (GPUBufferUsage, ...) from the binding.
 *
 * A software adapter (Mesa's lavapipe/llvmpipe, SwiftShader, Dawn's fallback adapter) runs
 * every shader on the CPU, slower than the wasm engine: it is good for testing the GPU path on
 * a machine without a GPU, and `auto` never picks it (ours).
 */
/// <reference types="@webgpu/types" />
import { existsSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';

/** What the adapter says about itself (GPUAdapterInfo), plus whether it is a software device. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  /** The driver, e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)" or "NVIDIA 550.54". */
  description: string;
  /** A CPU implementation of the API (lavapipe, SwiftShader, a fallback adapter). */
  software: boolean;
}

/** The adapter as one line: "mesa llvmpipe-… (llvmpipe: Mesa 25.0.7 …; software)". */
export function adapterLine(a: AdapterDescription): string {
  const parts = [a.description, a.software ? 'software' : ''].filter((s) => s !== '');
  return `${[a.vendor, a.device].filter((s) => s !== '').join(' ') || 'unnamed adapter'}${parts.length > 0 ? ` (${parts.join('; ')})` : ''}`;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|software|microsoft basic render/i;

/**
 * Whether an adapter is a CPU implementation. Dawn marks its fallback adapters, and Mesa's
 * lavapipe reports architecture "software"; the names catch drivers that do neither.
 */
export function isSoftwareAdapter(info: { vendor: string; architecture: string; device: string; description: string }, isFallback: boolean): boolean {
  if (isFallback) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => SOFTWARE_NAMES.test(s));
}

/**
 * On Linux, whether a GPU device node exists (a DRM render node, or NVIDIA's proprietary
 * /dev/nvidia0). Without one only a software Vulkan device can answer, which `auto` would not
 * take; checking first spares loading Dawn, which prints warnings about lavapipe's limits
 * straight to stderr. Elsewhere (macOS, Windows) Dawn is asked.
 */
export function gpuDeviceNodeExists(): boolean {
  if (process.platform !== 'linux') return true;
  if (existsSync('/dev/nvidia0')) return true;
  try {
    return readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

/** Why the WebGPU engine cannot run here, as a message completing "backend 'webgpu' is not available: ". */
export class WebgpuUnavailable extends Error {}

interface DawnBinding {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let loaded: AdapterDescription | null = null;

async function importBinding(): Promise<DawnBinding> {
  const specifier: string = 'webgpu';
  try {
    return (await import(specifier)) as DawnBinding;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new WebgpuUnavailable(`the 'webgpu' package (Dawn's Node binding) failed to load: ${msg}`);
  }
}

/**
 * Loads the binding, requests a high-performance adapter and registers tfjs's 'webgpu'
 * backend on a device of it (once per process). Throws WebgpuUnavailable when there is no
 * adapter (no Vulkan driver: install mesa-vulkan-drivers or the GPU vendor's driver), or when
 * the adapter is a software one and `allowSoftware` is false (before any device is made).
 */
export async function registerWebgpuBackend(allowSoftware: boolean): Promise<AdapterDescription> {
  if (loaded !== null) {
    if (loaded.software && !allowSoftware) throw new WebgpuUnavailable(softwareRefusal(loaded));
    return loaded;
  }
  if (!allowSoftware && !gpuDeviceNodeExists()) {
    throw new WebgpuUnavailable('no GPU device node (/dev/dri/renderD*, /dev/nvidia0), so no hardware adapter (choose backend \'webgpu\' to use a software one)');
  }
  // The Vulkan loader and Mesa want a runtime directory; a container or a service has none.
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
  const binding = await importBinding();
  const gpu = binding.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    throw new WebgpuUnavailable('Dawn found no GPU adapter (no Vulkan/Metal/D3D12 driver; on Linux check `vulkaninfo --summary`, or install mesa-vulkan-drivers for a software device)');
  }
  const info = adapter.info;
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const description: AdapterDescription = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: isSoftwareAdapter(info, fallback),
  };
  if (description.software && !allowSoftware) throw new WebgpuUnavailable(softwareRefusal(description));
  for (const [k, v] of Object.entries(binding.globals)) {
    if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
  // Imported before navigator.gpu is set, so that it does not register a backend of its own.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // WebGPUBackend's constructor checks navigator.gpu (Node 20 has no navigator, 21+ one without gpu).
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  if (g.navigator !== undefined && !('gpu' in g.navigator)) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    // The adapter's full limits, as tfjs-backend-webgpu's own registration asks for.
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info), 0);
  loaded = description;
  return loaded;
}

function softwareRefusal(a: AdapterDescription): string {
  return `the only adapter is a software device, ${adapterLine(a)}, slower than wasm (choose backend 'webgpu' to use it anyway)`;
}
