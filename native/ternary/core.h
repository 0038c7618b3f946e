/*
 * The exported-network runtime's kernels (src/export/runtime/), shared by the WebAssembly build
 * (native/ternary/wasm.c, compiled with clang --target=wasm32) and the native addon
 * (native/ternary.cc, g++). Plain C that also compiles as C++.
 *
 * A hidden ternary layer reads spikes s ∈ {0, 1}, bit-packed along channels (64 per word), and
 * has weights α_o·c with c ∈ {−1, 0, +1} stored as two bit-planes w⁺ (c = +1) and w⁻ (c = −1):
 *
 *   y_o = scale_o · Σ_l (popcount(s_l ∧ w⁺_{o,l}) − popcount(s_l ∧ w⁻_{o,l})) + bias_o
 *
 * The integer sum is exact; the epilogue is computed in double and rounded once to float32,
 * which is what the reference engine (src/export/runtime/reference.ts) computes in JavaScript
 * (float32 sums of ±1 are exact integers, `sum * scale + bias` in double, stored as float32).
 * Every other kernel also reproduces the reference's arithmetic operation by operation (float
 * accumulation in the reference's order, the neuron update in double), so the runtime's
 * outputs are bit-identical to the reference's. That needs no FMA contraction: the wasm build
 * has none, native/ternary.cc turns it off.
 *
 * The host (TypeScript) lays out one arena (the wasm memory, or an ArrayBuffer for the addon)
 * and writes a program into it: a sequence of float64 words [opcode, arguments...]; byte
 * offsets into the arena are arguments like any other number. tr_exec runs a program.
 */
#include <stdint.h>
#include <stddef.h>

/* Native builds parallelise the outer loops with OpenMP (native/ternary.cc); wasm runs one thread per instance. */
#ifndef TR_PARALLEL_FOR
#define TR_PARALLEL_FOR(work)
#define TR_PARALLEL_FOR_REDUCE(work)
#endif

static uintptr_t tr_base;
#define AT(T, off) ((T *)(tr_base + (uintptr_t)(off)))
#define OPT(T, off) ((off) == 0 ? (T *)0 : AT(T, off))

/* Longest patch of one output position (K·K·words); checked by the host. */
#define TR_MAX_PATCH 4096

/* acc[v] = Σ_l popcount(p_l ∧ wp[l][v]) − popcount(p_l ∧ wm[l][v]), v < 8. Set per ISA. */
typedef void (*tr_dot8_fn)(const uint64_t *p, int L, const uint64_t *wp, const uint64_t *wm, int32_t *acc);
static tr_dot8_fn tr_dot8;

static int tr_popcount64(uint64_t x) {
#if defined(__GNUC__)
  return __builtin_popcountll(x);
#else
  int n = 0;
  while (x) { x &= x - 1; n++; }
  return n;
#endif
}

static void tr_dot8_scalar(const uint64_t *p, int L, const uint64_t *wp, const uint64_t *wm, int32_t *acc) {
  int32_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int l = 0; l < L; l++) {
    const uint64_t s = p[l];
    if (s == 0) continue;
    const uint64_t *P = wp + 8 * l, *M = wm + 8 * l;
    for (int v = 0; v < 8; v++) a[v] += tr_popcount64(s & P[v]) - tr_popcount64(s & M[v]);
  }
  for (int v = 0; v < 8; v++) acc[v] = a[v];
}

/* The neuron of one layer: src/snn/lif.ts's update, as the reference computes it. */
typedef struct {
  float *v;
  int leak, hard;
  double k, vth, vr;
} tr_neuron;

/*
 * One neuron update per value of a row: the spike (0/1) into s. Branch-free (spikes are random,
 * a branch per value mispredicts) so that it vectorises; the same arithmetic as the reference.
 */
/* f ? a : b without a branch (bit masks), so the loops below vectorise. */
static inline float tr_select(int f, float a, float b) {
  union { float f; uint32_t u; } x, y;
  x.f = a;
  y.f = b;
  const uint32_t m = 0u - (uint32_t)f;
  x.u = (x.u & m) | (y.u & ~m);
  return x.f;
}

#define TR_FIRE_LOOP(CHARGE, AFTER)                    \
  for (int i = 0; i < m; i++) {                        \
    const double vi = (double)v[i];                    \
    const double h = CHARGE;                           \
    const int f = h >= vth;                            \
    v[i] = tr_select(f, (AFTER), (float)h);            \
    s[i] = (uint8_t)f;                                 \
    count += f;                                        \
  }

static inline int tr_fire_row(const tr_neuron *n, float *__restrict v, const float *__restrict x, uint8_t *__restrict s, int m) {
  int count = 0;
  const double vth = n->vth, vr = n->vr, k = n->k;
  const float vrf = (float)vr;
  if (n->leak && n->hard) TR_FIRE_LOOP(vi + ((double)x[i] - (vi - vr)) * k, vrf)
  else if (n->leak) TR_FIRE_LOOP(vi + ((double)x[i] - (vi - vr)) * k, (float)(h - vth))
  else if (n->hard) TR_FIRE_LOOP(vi + (double)x[i], vrf)
  else TR_FIRE_LOOP(vi + (double)x[i], (float)(h - vth))
  return count;
}

/* Spikes s[0..m) as bits (word j holds s[64j … 64j+63]) and/or floats. */
static inline void tr_emit_spikes(const uint8_t *s, int m, uint64_t *bits, float *f) {
  if (bits) {
    for (int j = 0; j < (m + 63) / 64; j++) {
      uint64_t w = 0;
      const int e = m - 64 * j < 64 ? m - 64 * j : 64;
      for (int b = 0; b < e; b++) w |= (uint64_t)s[64 * j + b] << b;
      bits[j] = w;
    }
  }
  if (f) for (int i = 0; i < m; i++) f[i] = (float)s[i];
}

/* Widest row (output channels, or channels of a neuron layer) the kernels take; checked by the host. */
#define TR_MAX_ROW 8192

enum {
  OP_FILL = 1, OP_FILL64, OP_FCONV, OP_TCONV, OP_NEURON, OP_ADD, OP_IAND, OP_MEAN,
  OP_MAXPOOL, OP_AVGPOOL, OP_PACK, OP_TACC, OP_TFIN, OP_FLINB
};

/*
 * Float convolution (stem, float layers, and ternary layers whose input is not binary, then
 * with the codes as ±1.0 weights). x [N,H,W,C], w [K,K,C,O]; acc starts at bias (no scale) or
 * 0 (scale given: y = acc·scale + bias). Accumulates in float32 over (kh, kw, c), skipping
 * zero inputs: the reference's order. Linear layers are the case H = W = K = 1.
 */
static void tr_fconv(const double *a) {
  const float *x = AT(float, a[0]), *w = AT(float, a[1]), *bias = AT(float, a[2]);
  const float *scale = OPT(float, a[3]);
  float *y = AT(float, a[4]);
  const int N = (int)a[5], H = (int)a[6], W = (int)a[7], C = (int)a[8], O = (int)a[9];
  const int OH = (int)a[10], OW = (int)a[11], K = (int)a[12], S = (int)a[13], P = (int)a[14];
  const int rows = N * OH;
  TR_PARALLEL_FOR((double)rows * OW * K * K * C * O)
  for (int r = 0; r < rows; r++) {
    const int n = r / OH, oh = r % OH;
    for (int ow = 0; ow < OW; ow++) {
      float *acc = y + (((size_t)n * OH + oh) * OW + ow) * O;
      for (int o = 0; o < O; o++) acc[o] = scale ? 0.0f : bias[o];
      for (int kh = 0; kh < K; kh++) {
        const int ih = oh * S - P + kh;
        if (ih < 0 || ih >= H) continue;
        for (int kw = 0; kw < K; kw++) {
          const int iw = ow * S - P + kw;
          if (iw < 0 || iw >= W) continue;
          const float *xp = x + (((size_t)n * H + ih) * W + iw) * C;
          const float *wt = w + (size_t)(kh * K + kw) * C * O;
          for (int c = 0; c < C; c++) {
            const float v = xp[c];
            if (v == 0.0f) continue;
            const float *wr = wt + (size_t)c * O;
            for (int o = 0; o < O; o++) acc[o] = (float)((double)acc[o] + (double)v * (double)wr[o]);
          }
        }
      }
      if (scale)
        for (int o = 0; o < O; o++) acc[o] = (float)((double)acc[o] * (double)scale[o] + (double)bias[o]);
    }
  }
}

/*
 * Ternary convolution of bit-packed spikes. x [N,H,W,Cw] words; wp, wm [G][K·K·Cw][8] words
 * (G = ⌈O/8⌉, the 8 outputs of a group interleaved). Epilogue per output: pre =
 * float(sum·scale + bias), then + res (float, optional); written to y (optional); fed to the
 * neuron (optional: v non-zero), whose spikes go to sbits [N,OH,OW,⌈O/64⌉] and/or sfloat.
 * Returns the spike count.
 */
static double tr_tconv(const double *a) {
  const uint64_t *x = AT(uint64_t, a[0]), *wp = AT(uint64_t, a[1]), *wm = AT(uint64_t, a[2]);
  const float *scale = AT(float, a[3]), *bias = AT(float, a[4]);
  const int N = (int)a[5], H = (int)a[6], W = (int)a[7], Cw = (int)a[8], O = (int)a[9];
  const int OH = (int)a[10], OW = (int)a[11], K = (int)a[12], S = (int)a[13], P = (int)a[14];
  const float *res = OPT(float, a[15]);
  float *y = OPT(float, a[16]);
  tr_neuron nr = {OPT(float, a[17]), (int)a[18], (int)a[19], a[20], a[21], a[22]};
  uint64_t *sbits = OPT(uint64_t, a[23]);
  float *sfloat = OPT(float, a[24]);
  const int L = K * K * Cw, G = (O + 7) / 8, Ow = (O + 63) / 64;
  const int direct = K == 1 && S == 1 && P == 0;
  const int rows = N * OH;
  double spikes = 0;
  TR_PARALLEL_FOR_REDUCE((double)rows * OW * L * O / 32)
  for (int r = 0; r < rows; r++) {
    const int n = r / OH, oh = r % OH;
    uint64_t patch[TR_MAX_PATCH];
    int32_t acc[TR_MAX_ROW + 8];
    float yrow[TR_MAX_ROW];
    uint8_t srow[TR_MAX_ROW];
    /* Positions in chunks of Q: the epilogue and the neuron run over Q·O contiguous values. */
    const int O8 = 8 * G, Q = TR_MAX_ROW / O8 < 1 ? 1 : TR_MAX_ROW / O8;
    for (int ow0 = 0; ow0 < OW; ow0 += Q) {
      const int q1 = OW - ow0 < Q ? OW - ow0 : Q;
      for (int q = 0; q < q1; q++) {
        const int ow = ow0 + q;
        const uint64_t *pp = patch;
        if (direct) pp = x + (((size_t)n * H + oh) * W + ow) * Cw;
        else {
          for (int kh = 0; kh < K; kh++) {
            const int ih = oh * S - P + kh;
            for (int kw = 0; kw < K; kw++) {
              const int iw = ow * S - P + kw;
              uint64_t *dst = patch + (kh * K + kw) * Cw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
                for (int j = 0; j < Cw; j++) dst[j] = 0;
              } else {
                const uint64_t *src = x + (((size_t)n * H + ih) * W + iw) * Cw;
                for (int j = 0; j < Cw; j++) dst[j] = src[j];
              }
            }
          }
        }
        for (int g = 0; g < G; g++) tr_dot8(pp, L, wp + (size_t)g * L * 8, wm + (size_t)g * L * 8, acc + q * O8 + 8 * g);
      }
      const size_t pos0 = ((size_t)n * OH + oh) * OW + ow0;
      float *pre = y ? y + pos0 * O : yrow;
      for (int q = 0; q < q1; q++)
        for (int o = 0; o < O; o++) pre[q * O + o] = (float)((double)acc[q * O8 + o] * (double)scale[o] + (double)bias[o]);
      if (res) {
        const float *r0 = res + pos0 * O;
        for (int i = 0; i < q1 * O; i++) pre[i] = pre[i] + r0[i];
      }
      if (nr.v) {
        spikes += tr_fire_row(&nr, nr.v + pos0 * O, pre, srow, q1 * O);
        for (int q = 0; q < q1; q++)
          tr_emit_spikes(srow + q * O, O, sbits ? sbits + (pos0 + q) * Ow : (uint64_t *)0, sfloat ? sfloat + (pos0 + q) * O : (float *)0);
      }
    }
  }
  return spikes;
}

/* Neuron layer over M positions of C channels: float input x; spikes to sbits [M,⌈C/64⌉] and/or sfloat. */
static double tr_neuron_layer(const double *a) {
  const float *x = AT(float, a[0]);
  tr_neuron nr = {AT(float, a[1]), (int)a[4], (int)a[5], a[6], a[7], a[8]};
  const int M = (int)a[2], C = (int)a[3];
  uint64_t *sbits = OPT(uint64_t, a[9]);
  float *sfloat = OPT(float, a[10]);
  const int Cw = (C + 63) / 64;
  double spikes = 0;
  /* Rows in chunks of Q, so that the neuron loop runs over Q·C contiguous values. */
  const int Q = TR_MAX_ROW / C < 1 ? 1 : TR_MAX_ROW / C;
  const int chunks = (M + Q - 1) / Q;
  TR_PARALLEL_FOR_REDUCE((double)M * C * 8)
  for (int ch = 0; ch < chunks; ch++) {
    uint8_t srow[TR_MAX_ROW];
    const int m0 = ch * Q, q1 = M - m0 < Q ? M - m0 : Q;
    const size_t i = (size_t)m0 * C;
    spikes += tr_fire_row(&nr, nr.v + i, x + i, srow, q1 * C);
    for (int q = 0; q < q1; q++)
      tr_emit_spikes(srow + q * C, C, sbits ? sbits + (size_t)(m0 + q) * Cw : (uint64_t *)0, sfloat ? sfloat + i + (size_t)q * C : (float *)0);
  }
  return spikes;
}

/* Float linear layer on bit-packed spikes x [N,P,Cw]: acc = bias, then + w[i] for every input i = p·C + c that fired, in order. */
static void tr_flinb(const double *a) {
  const uint64_t *x = AT(uint64_t, a[0]);
  const float *w = AT(float, a[1]), *bias = AT(float, a[2]);
  float *y = AT(float, a[3]);
  const int N = (int)a[4], P = (int)a[5], C = (int)a[6], O = (int)a[7];
  const int Cw = (C + 63) / 64;
  TR_PARALLEL_FOR((double)N * P * C * O / 8)
  for (int n = 0; n < N; n++) {
    float *acc = y + (size_t)n * O;
    for (int o = 0; o < O; o++) acc[o] = bias[o];
    for (int p = 0; p < P; p++) {
      for (int j = 0; j < Cw; j++) {
        uint64_t word = x[((size_t)n * P + p) * Cw + j];
        while (word) {
          const int c = 64 * j + __builtin_ctzll(word);
          word &= word - 1;
          const float *wr = w + ((size_t)p * C + c) * O;
          for (int o = 0; o < O; o++) acc[o] = acc[o] + wr[o];
        }
      }
    }
  }
}

static void tr_maxpool(const double *a) {
  const float *x = AT(float, a[0]);
  float *y = AT(float, a[1]);
  const int N = (int)a[2], H = (int)a[3], W = (int)a[4], C = (int)a[5], OH = (int)a[6], OW = (int)a[7];
  const int K = (int)a[8], S = (int)a[9], P = (int)a[10];
  for (int n = 0; n < N; n++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++)
        for (int c = 0; c < C; c++) {
          float best = -__builtin_inff();
          for (int kh = 0; kh < K; kh++) {
            const int ih = oh * S - P + kh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < K; kw++) {
              const int iw = ow * S - P + kw;
              if (iw < 0 || iw >= W) continue;
              const float v = x[(((size_t)n * H + ih) * W + iw) * C + c];
              if (v > best) best = v;
            }
          }
          y[(((size_t)n * OH + oh) * OW + ow) * C + c] = best;
        }
}

/* Runs a program of `len` float64 words at `prog`; per-layer spike counts are added to tally slots (float64). */
static void tr_exec_program(const double *prog, int len) {
  int i = 0;
  while (i < len) {
    const int op = (int)prog[i];
    const double *a = prog + i + 1;
    int n = 0;
    switch (op) {
      case OP_FILL: {
        float *p = AT(float, a[0]);
        const size_t m = (size_t)a[1];
        const float v = (float)a[2];
        for (size_t j = 0; j < m; j++) p[j] = v;
        n = 3;
        break;
      }
      case OP_FILL64: {
        double *p = AT(double, a[0]);
        const size_t m = (size_t)a[1];
        for (size_t j = 0; j < m; j++) p[j] = a[2];
        n = 3;
        break;
      }
      case OP_FCONV: tr_fconv(a); n = 15; break;
      case OP_TCONV: {
        const double s = tr_tconv(a);
        if (a[25] != 0) *AT(double, a[25]) += s;
        n = 26;
        break;
      }
      case OP_NEURON: {
        const double s = tr_neuron_layer(a);
        if (a[11] != 0) *AT(double, a[11]) += s;
        n = 12;
        break;
      }
      case OP_ADD: case OP_IAND: {
        const float *x0 = AT(float, a[0]), *x1 = AT(float, a[1]);
        float *y = AT(float, a[2]);
        const size_t m = (size_t)a[3];
        if (op == OP_ADD) for (size_t j = 0; j < m; j++) y[j] = x0[j] + x1[j];
        else for (size_t j = 0; j < m; j++) y[j] = (float)((double)(float)(1.0 - (double)x0[j]) * (double)x1[j]);
        n = 4;
        break;
      }
      case OP_MEAN: {
        float *y = AT(float, a[0]);
        const size_t m = (size_t)a[1];
        const int k = (int)a[2];
        const float *x0 = AT(float, a[3]);
        for (size_t j = 0; j < m; j++) y[j] = x0[j];
        for (int q = 1; q < k; q++) {
          const float *xq = AT(float, a[3 + q]);
          for (size_t j = 0; j < m; j++) y[j] = y[j] + xq[j];
        }
        for (size_t j = 0; j < m; j++) y[j] = y[j] / (float)k;
        n = 3 + k;
        break;
      }
      case OP_MAXPOOL: tr_maxpool(a); n = 11; break;
      case OP_AVGPOOL: {
        const float *x = AT(float, a[0]);
        float *y = AT(float, a[1]);
        const int N = (int)a[2], HW = (int)a[3], C = (int)a[4];
        for (int b = 0; b < N; b++)
          for (int c = 0; c < C; c++) {
            double s = 0;
            for (int p = 0; p < HW; p++) s += (double)x[((size_t)b * HW + p) * C + c];
            y[(size_t)b * C + c] = (float)(s / HW);
          }
        n = 5;
        break;
      }
      case OP_PACK: {
        const float *x = AT(float, a[0]);
        uint64_t *bits = AT(uint64_t, a[1]);
        const int M = (int)a[2], C = (int)a[3], Cw = (C + 63) / 64;
        for (int m = 0; m < M; m++) {
          uint64_t *b = bits + (size_t)m * Cw;
          for (int j = 0; j < Cw; j++) b[j] = 0;
          for (int c = 0; c < C; c++)
            if (x[(size_t)m * C + c] != 0.0f) b[c >> 6] |= (uint64_t)1 << (c & 63);
        }
        n = 4;
        break;
      }
      case OP_TACC: {
        const float *x = AT(float, a[0]);
        double *s = AT(double, a[1]);
        const size_t m = (size_t)a[2];
        for (size_t j = 0; j < m; j++) s[j] += (double)x[j];
        n = 3;
        break;
      }
      case OP_TFIN: {
        const double *s = AT(double, a[0]);
        float *y = AT(float, a[1]);
        const size_t m = (size_t)a[2];
        for (size_t j = 0; j < m; j++) y[j] = (float)(s[j] / a[3]);
        n = 4;
        break;
      }
      case OP_FLINB: tr_flinb(a); n = 8; break;
      default: return; /* the host validates programs; an unknown opcode stops */
    }
    i += 1 + n;
  }
}
