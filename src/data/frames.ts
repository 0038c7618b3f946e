/**
 * Event integration: a stream of events becomes T frames of per-polarity counts, the
 * representation SpikingJelly calls `data_type='frame'`.
 *
 * Which frame an event falls in (N events, times t, T frames), as SpikingJelly's
 * `cal_fixed_frames_number_segment_index`:
 * - `number`: d = floor(N / T); event i goes to frame min(T-1, floor(i / d)), so every frame has
 *   d events and the last also takes the remainder.
 * - `time`: d = floor((t[N-1] - t[0]) / T); an event at t goes to frame min(T-1, floor((t - t[0]) / d)),
 *   so frames span equal durations and the last also takes the end.
 * When d is 0 (fewer events than frames, or no time span) every event lands in the last frame,
 * which is what those index ranges give too.
 *
 * Downscaling bins event coordinates: a sensor pixel x goes to floor(x * size / sensorWidth), and
 * counts add up. For a size that divides the sensor (64, 32) the bins are equal squares; for 48
 * on 128 they cover 3, 3, 2 pixels in turn (tonic's Downsample does the same floor). Summing,
 * not averaging, keeps counts integral, so frames are stored as uint16 (saturating at 65535).
 *
 * A sample's frames are laid out [T, H, W, 2]: the HWC layout of every image in this project,
 * with polarity as the channel.
 */
import type { Events } from './aedat.js';

export type SplitBy = 'number' | 'time';

export interface FrameSpec {
  frames: number;
  splitBy: SplitBy;
  sensorHeight: number;
  sensorWidth: number;
  /** Output size; equal to the sensor's for no downscaling. */
  height: number;
  width: number;
}

/** Values per sample: T * H * W * 2. */
export function frameSize(spec: FrameSpec): number {
  return spec.frames * spec.height * spec.width * 2;
}

/** The frame index of every event. */
export function frameIndices(ev: Pick<Events, 't' | 'count'>, frames: number, splitBy: SplitBy): Uint16Array {
  const n = ev.count;
  const out = new Uint16Array(n);
  const last = frames - 1;
  if (n === 0) return out;
  if (splitBy === 'number') {
    const d = Math.floor(n / frames);
    for (let i = 0; i < n; i++) out[i] = d === 0 ? last : Math.min(last, Math.floor(i / d));
  } else {
    const t0 = ev.t[0];
    const d = Math.floor((ev.t[n - 1] - t0) / frames);
    for (let i = 0; i < n; i++) {
      const f = d <= 0 ? last : Math.floor((ev.t[i] - t0) / d);
      out[i] = f < 0 ? 0 : f > last ? last : f;
    }
  }
  return out;
}

/**
 * Adds the events' counts into `out` (T*H*W*2 values from `offset`, zeroed first). Coordinates
 * must lie on the sensor; the caller checks (see cifar10Dvs.ts), since only it knows the sensor.
 */
export function integrateInto(ev: Events, spec: FrameSpec, out: Uint16Array, offset = 0): void {
  const size = frameSize(spec);
  out.fill(0, offset, offset + size);
  const { height: h, width: w, sensorHeight: sh, sensorWidth: sw } = spec;
  const plane = h * w * 2;
  const frame = frameIndices(ev, spec.frames, spec.splitBy);
  for (let i = 0; i < ev.count; i++) {
    const y = Math.floor((ev.y[i] * h) / sh);
    const x = Math.floor((ev.x[i] * w) / sw);
    const at = offset + frame[i] * plane + (y * w + x) * 2 + ev.p[i];
    if (out[at] < 0xffff) out[at]++;
  }
}

/** A sample's frames as a new array. */
export function integrate(ev: Events, spec: FrameSpec): Uint16Array {
  const out = new Uint16Array(frameSize(spec));
  integrateInto(ev, spec, out);
  return out;
}
