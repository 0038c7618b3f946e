/**
 * WGSL of the multi-step IF/LIF/PLIF neuron (src/snn/lif.ts): one invocation per neuron i runs
 * the whole recursion over the T time steps, so a forward or backward pass is one dispatch
 * whatever T is. Per neuron, V_{−1} = V_reset:
 *
 *   forward   H_t = V_{t−1} + k (X_t − (V_{t−1} − V_reset))   (leak; IF: H_t = V_{t−1} + X_t)
 *             S_t = Θ(H_t − V_th), Θ(0) = 1                    (smooth: g(H_t − V_th))
 *             V_t = H_t (1 − S_t) + V_reset S_t  (hard)   V_t = H_t − V_th S_t  (soft)
 *   backward  from t = T−1 down, ∂L/∂V_{T−1} = 0, S_t recomputed from H_t:
 *             ∂V_t/∂H_t = (1 − S_t) + (V_reset − H_t) g'_t (hard) | 1 − V_th g'_t (soft),
 *                         the g'_t term dropped with detachReset
 *             ∂L/∂H_t = ∂L/∂S_t g'_t + ∂L/∂V_t ∂V_t/∂H_t
 *             ∂L/∂X_t = k ∂L/∂H_t,  ∂L/∂V_{t−1} = (1 − k) ∂L/∂H_t    (leak; IF: both ∂L/∂H_t)
 *             ∂L/∂k  += ∂L/∂H_t (X_t − (V_{t−1} − V_reset))         (decayGrad: a partial
 *                        sum per neuron, summed by `SUM_WGSL`)
 *
 * The constants that change the code (leak, reset, detachReset, surrogate, firing, decayGrad)
 * are compiled in; T, m, V_th, V_reset and α are uniforms.
 */
import type { SurrogateName } from '../../engine/snnKernels.js';
import { INDEX_WGSL, uniformStruct, WORKGROUP } from './dispatch.js';

/** What selects a neuron shader's code. */
export interface NeuronVariant {
  leak: boolean;
  hard: boolean;
  detachReset: boolean;
  surrogate: SurrogateName;
  smooth: boolean;
  decayGrad: boolean;
}

export const variantKey = (v: NeuronVariant): string =>
  [v.leak ? 'leak' : 'if', v.hard ? 'hard' : 'soft', v.detachReset ? 'detach' : 'attached', v.surrogate, v.smooth ? 'smooth' : 'step', v.decayGrad ? 'dk' : 'nodk'].join('-');

/** Uniform order shared by both neuron shaders (dispatch.ts binds them in this order). */
export const NEURON_UNIFORMS = [
  { name: 'm', type: 'u32' },
  { name: 'T', type: 'u32' },
  { name: 'vth', type: 'f32' },
  { name: 'vr', type: 'f32' },
  { name: 'alpha', type: 'f32' },
] as const;

/** g'(u) of src/snn/surrogate.ts, α = p.alpha. */
function surrogateDerivative(name: SurrogateName): string {
  switch (name) {
    case 'sigmoid':
      return 'let sg = 1.0 / (1.0 + exp(-p.alpha * u)); return p.alpha * sg * (1.0 - sg);';
    case 'atan':
      return 'let q = 1.5707963267948966 * p.alpha * u; return p.alpha / (2.0 * (1.0 + q * q));';
    case 'rectangle':
      return 'return select(0.0, 1.0 / p.alpha, abs(u) < p.alpha / 2.0);';
    case 'triangle':
      // SpikingJelly's PiecewiseQuadratic: α is a sharpness (half-width 1/α, peak α).
      return 'return max(0.0, p.alpha - p.alpha * p.alpha * abs(u));';
  }
}

/** The smooth step g(u) whose derivative is g' (gradient checks only). */
function surrogatePrimitive(name: SurrogateName): string {
  switch (name) {
    case 'sigmoid':
      return 'return 1.0 / (1.0 + exp(-p.alpha * u));';
    case 'atan':
      return 'return atan(1.5707963267948966 * p.alpha * u) / 3.141592653589793 + 0.5;';
    case 'rectangle':
      return 'return min(1.0, max(0.0, u / p.alpha + 0.5));';
    case 'triangle':
      return `let a = p.alpha; let w = min(1.0 / a, max(-1.0 / a, u));
  return -(a * a / 2.0) * abs(w) * w + a * w + 0.5;`;
  }
}

/** fire(h): the spike S for a charged membrane h; reset(h, s): the membrane after it. */
function common(v: NeuronVariant): string {
  const fire = v.smooth ? 'return smoothStep(h - p.vth);' : 'return select(0.0, 1.0, h >= p.vth);';
  const reset = v.hard ? 'return h * (1.0 - s) + p.vr * s;' : 'return h - p.vth * s;';
  return `${INDEX_WGSL}
fn smoothStep(u: f32) -> f32 {
  ${surrogatePrimitive(v.surrogate)}
}
fn fire(h: f32) -> f32 {
  ${fire}
}
fn afterReset(h: f32, s: f32) -> f32 {
  ${reset}
}`;
}

const ENTRY = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(wid, lid, nwg);
  if (i >= p.m) { return; }`;

/** Outputs s, h; inputs x and, with leak, decay [1]. */
export function forwardShader(v: NeuronVariant): string {
  const inputs = ['x', ...(v.leak ? ['decay'] : [])];
  const charge = v.leak ? 'vv + (x[o] - (vv - p.vr)) * k' : 'vv + x[o]';
  return `
@group(0) @binding(0) var<storage, read_write> s: array<f32>;
@group(0) @binding(1) var<storage, read_write> h: array<f32>;
${inputs.map((n, j) => `@group(0) @binding(${2 + j}) var<storage, read> ${n}: array<f32>;`).join('\n')}
${uniformStruct([...NEURON_UNIFORMS], 2 + inputs.length)}
${common(v)}
${ENTRY}
  ${v.leak ? 'let k = decay[0];' : ''}
  var vv = p.vr;
  for (var t = 0u; t < p.T; t = t + 1u) {
    let o = t * p.m + i;
    let ht = ${charge};
    let st = fire(ht);
    h[o] = ht;
    s[o] = st;
    vv = afterReset(ht, st);
  }
}`;
}

/**
 * Outputs dx and, with decayGrad, the per-neuron partial sums of ∂L/∂k [m]; inputs dy, h,
 * then decay [1] (leak) and x (decayGrad).
 */
export function backwardShader(v: NeuronVariant): string {
  const outputs = ['dx', ...(v.decayGrad ? ['part'] : [])];
  const inputs = ['dy', 'h', ...(v.leak ? ['decay'] : []), ...(v.decayGrad ? ['x'] : [])];
  let dvdh: string;
  if (v.hard) dvdh = v.detachReset ? '1.0 - st' : '1.0 - st + (p.vr - ht) * sg';
  else dvdh = v.detachReset ? '1.0' : '1.0 - p.vth * sg';
  const decayTerm = v.decayGrad
    ? `var vPrev = p.vr;
    if (t > 0u) {
      let hp = h[o - p.m];
      vPrev = afterReset(hp, fire(hp));
    }
    gk = gk + gh * (x[o] - (vPrev - p.vr));`
    : '';
  return `
${outputs.map((n, j) => `@group(0) @binding(${j}) var<storage, read_write> ${n}: array<f32>;`).join('\n')}
${inputs.map((n, j) => `@group(0) @binding(${outputs.length + j}) var<storage, read> ${n}: array<f32>;`).join('\n')}
${uniformStruct([...NEURON_UNIFORMS], outputs.length + inputs.length)}
${common(v)}
fn surrogateGrad(u: f32) -> f32 {
  ${surrogateDerivative(v.surrogate)}
}
${ENTRY}
  let kx = ${v.leak ? 'decay[0]' : '1.0'};
  let carry = ${v.leak ? '1.0 - decay[0]' : '1.0'};
  var gv = 0.0;
  var gk = 0.0;
  for (var r = 0u; r < p.T; r = r + 1u) {
    let t = p.T - 1u - r;
    let o = t * p.m + i;
    let ht = h[o];
    let st = fire(ht);
    let sg = surrogateGrad(ht - p.vth);
    let gh = dy[o] * sg + gv * (${dvdh});
    dx[o] = gh * kx;
    gv = gh * carry;
    ${decayTerm}
  }
  ${v.decayGrad ? 'part[i] = gk;' : ''}
}`;
}

/**
 * Sum of a vector of n values into out[0], by one workgroup: each of the 64 invocations adds
 * a strided share, then a tree reduction in workgroup memory.
 */
export const SUM_WGSL = `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> part: array<f32>;
${uniformStruct([{ name: 'n', type: 'u32' }], 2)}
var<workgroup> acc: array<f32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var j = lid.x; j < p.n; j = j + ${WORKGROUP}u) { s = s + part[j]; }
  acc[lid.x] = s;
  workgroupBarrier();
  for (var w = ${WORKGROUP / 2}u; w > 0u; w = w / 2u) {
    if (lid.x < w) { acc[lid.x] = acc[lid.x] + acc[lid.x + w]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[0] = acc[0]; }
}`;
