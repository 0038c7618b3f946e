/*
 * The exported-network runtime's kernels as WebAssembly (SIMD128), for every Node. Built by
 * native/ternary/build-wasm.mjs into src/export/runtime/ternary.wasm (committed); the arena is
 * the module's own memory, byte offsets are addresses.
 */
#include <wasm_simd128.h>

#include "core.h"

/* 8 outputs as four i64x2 lanes: byte popcounts accumulate for up to 31 words (≤ 248), then widen. */
static void dot8_simd(const uint64_t *p, int L, const uint64_t *wp, const uint64_t *wm, int32_t *acc) {
  v128_t tot[4], bp[4], bm[4];
  const v128_t lo32 = wasm_i64x2_splat(0xffffffffLL);
  for (int v = 0; v < 4; v++) tot[v] = bp[v] = bm[v] = wasm_i64x2_splat(0);
  int pending = 0;
  for (int l = 0; l <= L; l++) {
    if (l < L) {
      const uint64_t s = p[l];
      if (s == 0) continue;
      const v128_t S = wasm_i64x2_splat((int64_t)s);
      for (int v = 0; v < 4; v++) {
        bp[v] = wasm_i8x16_add(bp[v], wasm_i8x16_popcnt(wasm_v128_and(S, wasm_v128_load(wp + 8 * l + 2 * v))));
        bm[v] = wasm_i8x16_add(bm[v], wasm_i8x16_popcnt(wasm_v128_and(S, wasm_v128_load(wm + 8 * l + 2 * v))));
      }
      if (++pending < 31) continue;
    }
    for (int v = 0; v < 4; v++) {
      const v128_t p32 = wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(bp[v]));
      const v128_t m32 = wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(bm[v]));
      const v128_t p64 = wasm_i64x2_add(wasm_v128_and(p32, lo32), wasm_u64x2_shr(p32, 32));
      const v128_t m64 = wasm_i64x2_add(wasm_v128_and(m32, lo32), wasm_u64x2_shr(m32, 32));
      tot[v] = wasm_i64x2_add(tot[v], wasm_i64x2_sub(p64, m64));
      bp[v] = bm[v] = wasm_i64x2_splat(0);
    }
    pending = 0;
  }
  for (int v = 0; v < 4; v++) {
    acc[2 * v] = (int32_t)wasm_i64x2_extract_lane(tot[v], 0);
    acc[2 * v + 1] = (int32_t)wasm_i64x2_extract_lane(tot[v], 1);
  }
}

extern unsigned char __heap_base;

__attribute__((export_name("heapBase"))) uintptr_t heap_base(void) { return (uintptr_t)&__heap_base; }

/* simd: 1 for the SIMD128 dot product, 0 for the scalar one (tests compare them). */
__attribute__((export_name("exec"))) void exec(const double *prog, int words, int simd) {
  tr_base = 0;
  tr_dot8 = simd ? dot8_simd : tr_dot8_scalar;
  tr_exec_program(prog, words);
}
