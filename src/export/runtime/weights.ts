/**
 * Weights in the form the fast runtime's kernels read (native/ternary/core.h).
 *
 * A ternary layer reading bit-packed spikes becomes two bit-planes, w⁺ (code +1) and w⁻
 * (code −1), laid out [G][L][8] as 64-bit words: G = ⌈O/8⌉ groups of 8 output channels
 * (interleaved, so one spike word meets 8 outputs in one vector), L words per output along the
 * input (conv: (kh, kw, ⌈C/64⌉) — channel c of a tap in word c/64, bit c mod 64; linear on a
 * flattened map of P pixels × C channels: (p, ⌈C/64⌉)). Padding bits and outputs are 0, so
 * they never count. Resident size: 2·G·8·L·8 bytes ≈ 2 bits per weight (+ channel padding).
 */

/** The two planes of codes laid out [taps, C, O] (conv [kh, kw, C, O]; linear [P, C, O] = [P·C, O]). */
export function bitPlanes(codes: Int8Array, taps: number, C: number, O: number): { plus: Uint32Array; minus: Uint32Array; L: number } {
  if (codes.length !== taps * C * O) throw new Error(`bitPlanes: ${codes.length} codes for ${taps}×${C}×${O}`);
  const Cw = Math.ceil(C / 64);
  const L = taps * Cw;
  const G = Math.ceil(O / 8);
  // Uint32 halves of the 64-bit words (little-endian: bit b of word w is bit b%32 of half 2w + b/32).
  const plus = new Uint32Array(G * L * 8 * 2);
  const minus = new Uint32Array(G * L * 8 * 2);
  for (let t = 0; t < taps; t++) {
    for (let c = 0; c < C; c++) {
      const l = t * Cw + (c >> 6);
      const half = (c & 63) >> 5;
      const bit = 1 << (c & 31);
      const row = (t * C + c) * O;
      for (let o = 0; o < O; o++) {
        const code = codes[row + o];
        if (code === 0) continue;
        const idx = (((o >> 3) * L + l) * 8 + (o & 7)) * 2 + half;
        if (code > 0) plus[idx] |= bit;
        else minus[idx] |= bit;
      }
    }
  }
  return { plus, minus, L };
}

/** Codes as float ±1/0 weights, for a ternary layer whose input is not binary (float kernel). */
export const codesAsFloats = (codes: Int8Array): Float32Array => Float32Array.from(codes);
