// The exported-network runtime's native kernels (native/ternary/core.h) for the addon: OpenMP
// over output rows, and the 8-output popcount dot product in AVX-512 (VPOPCNTDQ), AVX2 (nibble
// table + SAD) or scalar code, chosen at run time from the CPU (no -march needed for any of
// them). The functions are added to the addon's exports by snn_onednn.cc's Init.
#pragma GCC optimize("fp-contract=off")  // bit-identical to the JavaScript reference: no FMA
#include <immintrin.h>
#include <node_api.h>
#include <omp.h>

#include <cstring>

namespace {
int trThreads = omp_get_max_threads();
// Below this much work (popcount words or multiply-adds) a kernel runs on one thread: waking
// the second thread costs tens of microseconds (see snn_onednn.cc's ThreadPolicy).
double trSerialWork = 2.0e5;
int trTeam(double work) { return work < trSerialWork ? 1 : trThreads; }
}  // namespace

#define TR_PARALLEL_FOR(work)              \
  const int trTeam_ = trTeam(work);        \
  _Pragma("omp parallel for schedule(static) num_threads(trTeam_)")
#define TR_PARALLEL_FOR_REDUCE(work)       \
  const int trTeam_ = trTeam(work);        \
  _Pragma("omp parallel for schedule(static) num_threads(trTeam_) reduction(+ : spikes)")

#include "ternary/core.h"

namespace {

__attribute__((target("avx512f,avx512vpopcntdq"))) void dot8Avx512(const uint64_t* p, int L, const uint64_t* wp,
                                                                      const uint64_t* wm, int32_t* acc) {
  __m512i a = _mm512_setzero_si512();
  for (int l = 0; l < L; l++) {
    const uint64_t s = p[l];
    if (s == 0) continue;
    const __m512i S = _mm512_set1_epi64(static_cast<long long>(s));
    const __m512i plus = _mm512_popcnt_epi64(_mm512_and_si512(S, _mm512_loadu_si512(wp + 8 * l)));
    const __m512i minus = _mm512_popcnt_epi64(_mm512_and_si512(S, _mm512_loadu_si512(wm + 8 * l)));
    a = _mm512_add_epi64(a, _mm512_sub_epi64(plus, minus));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc), _mm512_cvtepi64_epi32(a));
}

__attribute__((target("avx2"))) inline __m256i popcntBytes(__m256i x, __m256i lut, __m256i low) {
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)),
                         _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)));
}

// Byte counts accumulate for up to 31 words (31·8 = 248 < 256), then SAD sums them per 64-bit lane.
__attribute__((target("avx2"))) void dot8Avx2(const uint64_t* p, int L, const uint64_t* wp, const uint64_t* wm,
                                              int32_t* acc) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2,
                                       3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
  __m256i t0 = zero, t1 = zero, p0 = zero, p1 = zero, m0 = zero, m1 = zero;
  int pending = 0;
  auto flush = [&]() __attribute__((target("avx2"))) {
    t0 = _mm256_add_epi64(t0, _mm256_sub_epi64(_mm256_sad_epu8(p0, zero), _mm256_sad_epu8(m0, zero)));
    t1 = _mm256_add_epi64(t1, _mm256_sub_epi64(_mm256_sad_epu8(p1, zero), _mm256_sad_epu8(m1, zero)));
    p0 = p1 = m0 = m1 = zero;
    pending = 0;
  };
  for (int l = 0; l < L; l++) {
    const uint64_t s = p[l];
    if (s == 0) continue;
    const __m256i S = _mm256_set1_epi64x(static_cast<long long>(s));
    const __m256i* P = reinterpret_cast<const __m256i*>(wp + 8 * l);
    const __m256i* M = reinterpret_cast<const __m256i*>(wm + 8 * l);
    p0 = _mm256_add_epi8(p0, popcntBytes(_mm256_and_si256(S, _mm256_loadu_si256(P)), lut, low));
    p1 = _mm256_add_epi8(p1, popcntBytes(_mm256_and_si256(S, _mm256_loadu_si256(P + 1)), lut, low));
    m0 = _mm256_add_epi8(m0, popcntBytes(_mm256_and_si256(S, _mm256_loadu_si256(M)), lut, low));
    m1 = _mm256_add_epi8(m1, popcntBytes(_mm256_and_si256(S, _mm256_loadu_si256(M + 1)), lut, low));
    if (++pending == 31) flush();
  }
  flush();
  alignas(32) int64_t out[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), t0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out + 4), t1);
  for (int v = 0; v < 8; v++) acc[v] = static_cast<int32_t>(out[v]);
}

const char* trIsa = "scalar";

// The best ISA this CPU has, or the one asked for (tests compare them); false if unavailable.
bool chooseIsa(const char* want) {
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
  const bool has2 = __builtin_cpu_supports("avx2");
  if (want == nullptr) want = has512 ? "avx512" : has2 ? "avx2" : "scalar";
  if (std::strcmp(want, "avx512") == 0 && has512) tr_dot8 = dot8Avx512, trIsa = "avx512";
  else if (std::strcmp(want, "avx2") == 0 && has2) tr_dot8 = dot8Avx2, trIsa = "avx2";
  else if (std::strcmp(want, "scalar") == 0) tr_dot8 = tr_dot8_scalar, trIsa = "scalar";
  else return false;
  return true;
}

napi_value throwTernary(napi_env env, const char* msg) {
  napi_throw_error(env, nullptr, msg);
  return nullptr;
}

// ternaryExec(arena: ArrayBuffer, programOffset, words): runs a program (core.h) on the arena.
napi_value TernaryExec(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  size_t bytes = 0;
  double off = -1, words = -1;
  if (argc != 3 || napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok ||
      napi_get_value_double(env, argv[1], &off) != napi_ok || napi_get_value_double(env, argv[2], &words) != napi_ok ||
      !(off >= 8) || !(words >= 0) || off + 8 * words > static_cast<double>(bytes) || static_cast<int64_t>(off) % 8 != 0)
    return throwTernary(env, "ternaryExec: expected (ArrayBuffer, program offset, words) inside the buffer");
  tr_base = reinterpret_cast<uintptr_t>(data);
  tr_exec_program(reinterpret_cast<const double*>(static_cast<uint8_t*>(data) + static_cast<int64_t>(off)),
                  static_cast<int>(words));
  return nullptr;
}

// ternaryConfig(threads: number, isa: string | null) → the ISA in use; throws if unavailable.
napi_value TernaryConfig(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t threads = 0;
  if (argc != 2 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 0)
    return throwTernary(env, "ternaryConfig: expected (threads ≥ 0, isa | null)");
  if (threads > 0) trThreads = threads;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  char isa[16] = {0};
  size_t len = 0;
  if (t == napi_string) napi_get_value_string_utf8(env, argv[1], isa, sizeof isa, &len);
  if (!chooseIsa(t == napi_string ? isa : nullptr)) return throwTernary(env, "ternaryConfig: this CPU lacks the ISA asked for");
  napi_value out;
  napi_create_string_utf8(env, trIsa, NAPI_AUTO_LENGTH, &out);
  return out;
}

}  // namespace

// Called by snn_onednn.cc's Init.
void registerTernary(napi_env env, napi_value exports) {
  chooseIsa(nullptr);
  napi_property_descriptor props[] = {
      {"ternaryExec", nullptr, TernaryExec, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"ternaryConfig", nullptr, TernaryConfig, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
