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

#include "neuron.h"

enum {
  OP_FILL = 1, OP_FILL64, OP_FCONV, OP_TCONV, OP_NEURON, OP_ADD, OP_IAND, OP_MEAN,
  OP_MAXPOOL, OP_AVGPOOL, OP_PACK, OP_TACC, OP_TFIN, OP_FLINB
};


#include "layers.h"

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
