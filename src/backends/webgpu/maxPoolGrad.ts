/**
 * MaxPoolGrad for 'webgpu'. The shipped kernel sends a window's gradient to the *last* of tied
 * maxima (its positions pass keeps `value >= max`); the cpu backend and PyTorch send it to the
 * first. Spike maps tie in nearly every window, so the two give different gradients. This one
 * follows the cpu backend: each window's gradient goes to the first element, in row-major
 * window order, strictly greater than all before it (starting from −∞), so a window of −∞ or
 * NaN passes nothing back.
 *
 * One invocation per input element (b, r, q, c): for every output window covering it, the
 * window's arg-max is recomputed and, when it is this element, dy of that window is added.
 */
import * as tf from '@tensorflow/tfjs';
import { asWebgpu, deviceOutput, dispatchShader, INDEX_WGSL, uniformStruct, WORKGROUP } from './dispatch.js';

const FIELDS = ['size', 'h', 'w', 'c', 'oh', 'ow', 'fh', 'fw', 'sh', 'sw', 'pt', 'pl'] as const;

const SHADER = `
@group(0) @binding(0) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
${uniformStruct(FIELDS.map((name) => ({ name, type: 'u32' as const })), 3)}
${INDEX_WGSL}
/** First output index o with o·s + f > v (windows of size f, stride s, reaching v). */
fn firstWindow(v: i32, f: i32, s: i32) -> i32 {
  let num = v - f + 1;
  if (num <= 0) { return 0; }
  return (num + s - 1) / s;
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(wid, lid, nwg);
  if (i >= p.size) { return; }
  let h = i32(p.h); let w = i32(p.w); let c = i32(p.c);
  let fh = i32(p.fh); let fw = i32(p.fw); let sh = i32(p.sh); let sw = i32(p.sw);
  let ii = i32(i);
  let k = ii % c;
  let q = (ii / c) % w;
  let r = (ii / (c * w)) % h;
  let b = ii / (c * w * h);
  let rp = r + i32(p.pt);
  let qp = q + i32(p.pl);
  let negInf = bitcast<f32>(0xff800000u + p.size * 0u);
  var acc = 0.0;
  for (var orow = firstWindow(rp, fh, sh); orow <= min(i32(p.oh) - 1, rp / sh); orow = orow + 1) {
    for (var ocol = firstWindow(qp, fw, sw); ocol <= min(i32(p.ow) - 1, qp / sw); ocol = ocol + 1) {
      let r0 = orow * sh - i32(p.pt);
      let q0 = ocol * sw - i32(p.pl);
      var best = negInf;
      var arg = -1;
      for (var xr = max(r0, 0); xr < min(r0 + fh, h); xr = xr + 1) {
        for (var xq = max(q0, 0); xq < min(q0 + fw, w); xq = xq + 1) {
          let v = x[((b * h + xr) * w + xq) * c + k];
          if (v > best) { best = v; arg = xr * w + xq; }
        }
      }
      if (arg == r * w + q) { acc = acc + dy[((b * i32(p.oh) + orow) * i32(p.ow) + ocol) * c + k]; }
    }
  }
  dx[i] = acc;
}`;

const maxPoolGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = asWebgpu(backend);
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const dx = deviceOutput(b, input.shape);
  const size = tf.util.sizeFromShape(input.shape);
  const values: Record<(typeof FIELDS)[number], number> = {
    size, h: info.inHeight, w: info.inWidth, c: info.inChannels, oh: info.outHeight, ow: info.outWidth,
    fh: info.filterHeight, fw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth, pt: info.padInfo.top, pl: info.padInfo.left,
  };
  dispatchShader(b, 'snn-max-pool-grad', () => SHADER, [dx], [input, dy], FIELDS.map((f) => ({ type: 'uint32', value: values[f] })), size);
  return dx;
};

export const webgpuMaxPoolGradConfig: tf.KernelConfig = { kernelName: tf.MaxPoolGrad, backendName: 'webgpu', kernelFunc: maxPoolGrad };
