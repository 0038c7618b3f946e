// snn's optional native kernels: 2-D convolution (forward, backward-data, backward-weights) and
// average pooling through oneDNN (the library PyTorch's CPU convolutions use), and the fused
// multi-step LIF and training BatchNorm of src/snn/lif.ts and src/models/layers.ts, all on
// every core (OpenMP).
//
// The wasm backend keeps every tensor in the WebAssembly heap. The JS side passes Float32Array
// views of that heap, so these functions read and write the tensors in place: no copies. Layouts
// are TensorFlow.js's: activations NHWC, filters HWIO ([fh, fw, in, out]).
//
// Built by native/build.mjs (g++ against Debian's libdnnl-dev and Node's own headers); the JS
// side falls back to the wasm kernels when this file is not built.
#include <node_api.h>

#include <dnnl.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include <cmath>
#include <vector>

#include <omp.h>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}

// ---- threads -------------------------------------------------------------------------------
//
// Waking a second OpenMP thread for a parallel region costs tens of microseconds here (the
// workers sleep between regions: OMP_WAIT_POLICY=PASSIVE, set by src/engine/native.ts), and
// splits a small kernel into pieces too small to pay for it: `tiny` at T = 1 trained 40 % slower
// on 2 threads than on 1. A kernel whose work is below the crossover therefore runs on one
// thread. Work is counted in multiply-adds for convolutions and in elements for the
// memory-bound loops (LIF, BatchNorm, pooling). bench/threads.ts measured the crossovers on a
// 2-vCPU Zen 4 (bench/results/threads-*.md): every convolution from 2.8·10⁷ multiply-adds up,
// LIF from 2.6·10⁵ elements up and BatchNorm (two regions, less work per element) from about
// 10⁶ up ran faster on 2 threads. setSerialWork (SNN_SERIAL_WORK) changes them.
struct ThreadPolicy {
  int threads;
  double serialMacs, serialElems;
};

ThreadPolicy& policy() {
  static ThreadPolicy p{omp_get_max_threads(), 3.0e7, 2.5e5};
  return p;
}

int teamFor(double work, double serial) { return work < serial ? 1 : policy().threads; }

// BatchNorm does about a quarter of LIF's work per element (and in two regions): its crossover
// is about 4× LIF's, so its elements count a quarter.
int bnTeam(int64_t M, int64_t C) { return teamFor(static_cast<double>(M) * C / 4, policy().serialElems); }

// oneDNN sizes its parallel regions from omp_get_max_threads(), when a primitive is created and
// when it runs; this sets it for one call and puts the configured count back.
struct TeamScope {
  explicit TeamScope(int team) { omp_set_num_threads(team); }
  ~TeamScope() { omp_set_num_threads(policy().threads); }
  TeamScope(const TeamScope&) = delete;
  TeamScope& operator=(const TeamScope&) = delete;
};

// One convolution geometry. Shapes are logical (oneDNN's N, C, H, W order), as oneDNN wants.
struct Geometry {
  int64_t n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl, pb, pr;
  auto key() const { return std::make_tuple(n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl, pb, pr); }
  bool operator<(const Geometry& o) const { return key() < o.key(); }
};

// The primitives of one geometry, created on first use. Creating a primitive JIT-compiles its
// kernel, which costs milliseconds; training calls the same few geometries every step.
struct Plan {
  memory::desc src, dst, weiUser;
  dnnl::convolution_forward::primitive_desc fwdPd;
  dnnl::convolution_forward fwd;
  std::unique_ptr<dnnl::convolution_backward_data> bwdData;
  dnnl::convolution_backward_data::primitive_desc bwdDataPd;
  std::unique_ptr<dnnl::convolution_backward_weights> bwdWeights;
  dnnl::convolution_backward_weights::primitive_desc bwdWeightsPd;
};

// Keyed by geometry and team size: a primitive created for one team size is tuned for it.
std::map<std::pair<Geometry, int>, std::unique_ptr<Plan>>& plans() {
  static std::map<std::pair<Geometry, int>, std::unique_ptr<Plan>> p;
  return p;
}

Plan& planFor(const Geometry& g, int team) {
  auto& all = plans();
  const auto key = std::make_pair(g, team);
  auto it = all.find(key);
  if (it != all.end()) return *it->second;
  auto& eng = cpuEngine();
  auto plan = std::make_unique<Plan>();
  memory::dims src{g.n, g.ci, g.h, g.w}, wei{g.co, g.ci, g.fh, g.fw}, dst{g.n, g.co, g.oh, g.ow};
  memory::dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, padL{g.pt, g.pl}, padR{g.pb, g.pr};
  plan->src = memory::desc(src, dt::f32, tag::nhwc);
  plan->dst = memory::desc(dst, dt::f32, tag::nhwc);
  plan->weiUser = memory::desc(wei, dt::f32, tag::hwio);
  // Weights in whatever blocked layout the chosen kernel wants; reordered from/to HWIO per call.
  memory::desc weiAny(wei, dt::f32, tag::any);
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                     plan->src, weiAny, plan->dst, strides, dil, padL, padR);
  plan->fwdPd = dnnl::convolution_forward::primitive_desc(fd, eng);
  plan->fwd = dnnl::convolution_forward(plan->fwdPd);
  dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, plan->src, weiAny, plan->dst, strides,
                                           dil, padL, padR);
  plan->bwdDataPd = dnnl::convolution_backward_data::primitive_desc(bd, eng, plan->fwdPd);
  dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, plan->src, weiAny, plan->dst,
                                              strides, dil, padL, padR);
  plan->bwdWeightsPd = dnnl::convolution_backward_weights::primitive_desc(wd, eng, plan->fwdPd);
  Plan& ref = *plan;
  all.emplace(key, std::move(plan));
  return ref;
}

// Weights in `want`'s layout: the user's HWIO memory itself when they agree, else a reorder.
memory weightsIn(const memory::desc& want, memory user) {
  if (want == user.get_desc()) return user;
  memory m(want, cpuEngine());
  dnnl::reorder(user, m).execute(cpuStream(), user, m);
  return m;
}


// ---- average pooling (padding excluded from the count, as TensorFlow's AvgPool) -------------

struct PoolGeometry {
  int64_t n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl, pb, pr;
  auto key() const { return std::make_tuple(n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl, pb, pr); }
  bool operator<(const PoolGeometry& o) const { return key() < o.key(); }
};

struct PoolPlan {
  memory::desc src, dst;
  dnnl::pooling_forward fwd;
  dnnl::pooling_backward bwd;
};

PoolPlan& poolPlanFor(const PoolGeometry& g, int team) {
  static std::map<std::pair<PoolGeometry, int>, std::unique_ptr<PoolPlan>> all;
  const auto key = std::make_pair(g, team);
  auto it = all.find(key);
  if (it != all.end()) return *it->second;
  auto& eng = cpuEngine();
  auto plan = std::make_unique<PoolPlan>();
  plan->src = memory::desc({g.n, g.c, g.h, g.w}, dt::f32, tag::nhwc);
  plan->dst = memory::desc({g.n, g.c, g.oh, g.ow}, dt::f32, tag::nhwc);
  memory::dims strides{g.sh, g.sw}, kernel{g.fh, g.fw}, padL{g.pt, g.pl}, padR{g.pb, g.pr};
  dnnl::pooling_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_avg_exclude_padding,
                                 plan->src, plan->dst, strides, kernel, padL, padR);
  dnnl::pooling_forward::primitive_desc fpd(fd, eng);
  plan->fwd = dnnl::pooling_forward(fpd);
  dnnl::pooling_backward::desc bd(dnnl::algorithm::pooling_avg_exclude_padding, plan->src, plan->dst, strides, kernel,
                                  padL, padR);
  plan->bwd = dnnl::pooling_backward(dnnl::pooling_backward::primitive_desc(bd, eng, fpd));
  PoolPlan& ref = *plan;
  all.emplace(key, std::move(plan));
  return ref;
}

// ---- multi-step LIF (equations in src/snn/lif.ts) ----------------------------------------

// glibc's vector expf (libmvec): declared SIMD-callable here, as <math.h> does only under
// -ffast-math, so that the sigmoid surrogate's loop vectorises without relaxing IEEE maths.
extern "C" {
#pragma omp declare simd notinbranch
float expf(float);
}

enum Surrogate { kSigmoid = 0, kAtan = 1, kRectangle = 2, kTriangle = 3 };

// g'(x) for the four surrogates of src/snn/surrogate.ts; a template, so that each loop sees
// straight-line code (a switch here keeps the sigmoid's exp from vectorising).
template <int kKind>
inline float surrogateGrad(float a, float x) {
  if constexpr (kKind == kSigmoid) {
    const float sg = 1.0f / (1.0f + expf(-a * x));
    return a * sg * (1.0f - sg);
  } else if constexpr (kKind == kAtan) {
    const float k = 1.57079632679489662f * a * x;
    return a / (2.0f * (1.0f + k * k));
  } else if constexpr (kKind == kRectangle) {
    return std::fabs(x) < a / 2 ? 1.0f / a : 0.0f;
  } else {
    // SpikingJelly's PiecewiseQuadratic: α − α²|x| on |x| < 1/α.
    const float r = a - a * a * std::fabs(x);
    return r > 0 ? r : 0.0f;
  }
}

struct LifParams {
  int64_t T, m;
  bool leak, hard, detach;
  float k, vth, vr;
};

// Neurons are independent: each thread takes blocks of neurons and runs all T steps on them.
constexpr int64_t kBlock = 512;

// The build is portable (x86-64 baseline, no -march=native: an addon built on one node of a
// cluster must run on its older ones). The per-block loops are compiled again for AVX2 and
// AVX-512 and picked at load time by the CPU (GCC function multiversioning); oneDNN picks its
// own kernels at run time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SNN_CLONES
#endif

// Thread `id` of `n`'s share [b, e) of `total` iterations, as OpenMP's schedule(static) splits
// them: the loops below run their share through a function with SNN_CLONES, because the body of
// an OpenMP region is outlined into a function of its own that would not get the clones.
inline void staticShare(int64_t total, int n, int id, int64_t& b, int64_t& e) {
  const int64_t q = total / n, r = total % n;
  b = id * q + std::min<int64_t>(id, r);
  e = b + q + (id < r ? 1 : 0);
}

#define SNN_SHARE(total, b, e) \
  int64_t b, e;                 \
  staticShare(total, omp_get_num_threads(), omp_get_thread_num(), b, e)

// One time step of neurons [0, n) (n ≤ kBlock): charge, fire, reset; returns the spikes fired.
// Branch-free, on locals and restrict pointers, so that it vectorises: with a branch per neuron
// the loop ran scalar and its cost followed the firing rate (spikes are random, so the branch
// mispredicts) — 4× slower at V_th 0.5 than at 1 on a `tiny` layer. Same float operations in
// the same order as before, so the same bits. Always inlined: compiled inside each clone of
// lifForwardBlock for its instruction set (a call would run the baseline's SSE2 code instead,
// and without the clones' FMA contraction, other bits).
template <bool kLeak, bool kHard>
__attribute__((always_inline)) inline int32_t lifForwardStep(const float* __restrict x, float* __restrict s, float* __restrict h, float* __restrict v,
                              int64_t n, float k, float vth, float vr) {
  int32_t fired = 0;
#pragma omp simd reduction(+ : fired)
  for (int64_t i = 0; i < n; i++) {
    const float vi = v[i];
    const float hi = kLeak ? vi + (x[i] - (vi - vr)) * k : vi + x[i];
    const bool fire = hi >= vth;
    h[i] = hi;
    s[i] = fire ? 1.0f : 0.0f;
    fired += fire ? 1 : 0;
    v[i] = fire ? (kHard ? vr : hi - vth) : hi;
  }
  return fired;
}

template <bool kLeak, bool kHard>
__attribute__((always_inline)) inline int64_t lifForwardSteps(const LifParams& p, const float* x, float* s, float* h, int64_t i0, int64_t n) {
  const int64_t T = p.T, m = p.m;
  const float k = p.k, vth = p.vth, vr = p.vr;
  int64_t count = 0;
  float v[kBlock];
  for (int64_t i = 0; i < n; i++) v[i] = vr;
  for (int64_t t = 0; t < T; t++) {
    const int64_t o = t * m + i0;
    count += lifForwardStep<kLeak, kHard>(x + o, s + o, h + o, v, n, k, vth, vr);
  }
  return count;
}

// All T steps of neurons i0 … i0+n−1 (n ≤ kBlock); returns their spike count.
SNN_CLONES int64_t lifForwardBlock(const LifParams& p, const float* x, float* s, float* h, int64_t i0, int64_t n) {
  if (p.leak) return p.hard ? lifForwardSteps<true, true>(p, x, s, h, i0, n) : lifForwardSteps<true, false>(p, x, s, h, i0, n);
  return p.hard ? lifForwardSteps<false, true>(p, x, s, h, i0, n) : lifForwardSteps<false, false>(p, x, s, h, i0, n);
}

int64_t lifForward(const LifParams& p, const float* x, float* s, float* h) {
  int64_t count = 0;
  const int64_t blocks = (p.m + kBlock - 1) / kBlock;
  const int team = teamFor(static_cast<double>(p.T) * p.m, policy().serialElems);
#pragma omp parallel for reduction(+ : count) schedule(static) num_threads(team)
  for (int64_t b = 0; b < blocks; b++) count += lifForwardBlock(p, x, s, h, b * kBlock, std::min(kBlock, p.m - b * kBlock));
  return count;
}

// BPTT; returns ∂L/∂(1/τ) when x is given (PLIF), else 0. Without s (null) the spikes are
// recomputed from H (S = Θ(H − V_th)), so the forward pass need not keep them. Templated on the surrogate and on
// PLIF so that the inner loop has no branches left on them and vectorises (exp included).
// All T steps backwards for neurons i0 … i0+n−1 (n ≤ kBlock); returns their share of ∂L/∂(1/τ).
template <int kKind, bool kPlif>
SNN_CLONES double lifBackwardBlock(const LifParams& p, float alpha, const float* gs, const float* h, const float* s,
                                   const float* x, float* gx, int64_t i0, int64_t n) {
  const float carry = p.leak ? 1.0f - p.k : 1.0f, kx = p.leak ? p.k : 1.0f;
  const float hardOn = p.hard ? 1.0f : 0.0f, detachOn = p.detach ? 1.0f : 0.0f;
  const float vth = p.vth;
  double gk = 0;
  float gv[kBlock];
  for (int64_t i = 0; i < n; i++) gv[i] = 0.0f;
  for (int64_t t = p.T - 1; t >= 0; t--) {
    const int64_t o = t * p.m + i0;
    double gkStep = 0;
    // The surrogate first, in a loop of its own: simple enough for glibc's vector expf.
    float sgv[kBlock];
    const float* hBlock = h + o;  // locals: the exp call must not force reloads through p
#pragma omp simd
    for (int64_t i = 0; i < n; i++) sgv[i] = surrogateGrad<kKind>(alpha, hBlock[i] - vth);
#pragma omp simd reduction(+ : gkStep)
    for (int64_t i = 0; i < n; i++) {
      const float hi = h[o + i];
      const float si = s != nullptr ? s[o + i] : (hi >= vth ? 1.0f : 0.0f);
      const float sg = sgv[i];
      // ∂V/∂H: hard (1 − S) + (V_reset − H) g', soft 1 − V_th g'; detachReset drops the g' term.
      const float resetTerm = hardOn * (p.vr - hi) * sg + (1.0f - hardOn) * (-p.vth * sg);
      const float dvdh = hardOn * (1.0f - si) + (1.0f - hardOn) + (1.0f - detachOn) * resetTerm;
      const float gh = gs[o + i] * sg + gv[i] * dvdh;
      gx[o + i] = gh * kx;
      gv[i] = gh * carry;
      if (kPlif) {
        float vPrev = p.vr;
        if (t > 0) {
          const float hp = h[o + i - p.m];
          const float sp = s != nullptr ? s[o + i - p.m] : (hp >= vth ? 1.0f : 0.0f);
          vPrev = p.hard ? hp * (1.0f - sp) + p.vr * sp : hp - p.vth * sp;
        }
        gkStep += gh * (x[o + i] - (vPrev - p.vr));
      }
    }
    gk += gkStep;
  }
  return gk;
}

template <int kKind, bool kPlif>
double lifBackwardT(const LifParams& p, float alpha, const float* gs, const float* h, const float* s, const float* x,
                    float* gx) {
  double gk = 0;
  const int64_t blocks = (p.m + kBlock - 1) / kBlock;
  const int team = teamFor(static_cast<double>(p.T) * p.m, policy().serialElems);
#pragma omp parallel for reduction(+ : gk) schedule(static) num_threads(team)
  for (int64_t b = 0; b < blocks; b++) {
    gk += lifBackwardBlock<kKind, kPlif>(p, alpha, gs, h, s, x, gx, b * kBlock, std::min(kBlock, p.m - b * kBlock));
  }
  return gk;
}

double lifBackward(const LifParams& p, int kind, float alpha, const float* gs, const float* h, const float* s,
                   const float* x, float* gx) {
  const bool plif = x != nullptr;
  switch (kind) {
    case kSigmoid: return plif ? lifBackwardT<kSigmoid, true>(p, alpha, gs, h, s, x, gx) : lifBackwardT<kSigmoid, false>(p, alpha, gs, h, s, x, gx);
    case kAtan: return plif ? lifBackwardT<kAtan, true>(p, alpha, gs, h, s, x, gx) : lifBackwardT<kAtan, false>(p, alpha, gs, h, s, x, gx);
    case kRectangle: return plif ? lifBackwardT<kRectangle, true>(p, alpha, gs, h, s, x, gx) : lifBackwardT<kRectangle, false>(p, alpha, gs, h, s, x, gx);
    default: return plif ? lifBackwardT<kTriangle, true>(p, alpha, gs, h, s, x, gx) : lifBackwardT<kTriangle, false>(p, alpha, gs, h, s, x, gx);
  }
}

// ---- training BatchNorm over rows of [M, C] (channels last) --------------------------------
//
// Forward: μ, σ² (biased) per channel over the M rows; y = γ (x − μ) r + β with r = 1/√(σ² + ε).
// Backward: dβ = Σ dy, dγ = Σ dy x̂, dx = γ r / M · (M dy − dβ − x̂ dγ), x̂ = (x − μ) r.
// Sums are per-thread partials in double, combined in thread order: the same result for the
// same thread count.

// Σ over the threads' partial sums, in thread order.
std::vector<double> combine(const std::vector<std::vector<double>>& parts) {
  std::vector<double> out(parts[0].size(), 0.0);
  for (const auto& part : parts)
    for (size_t c = 0; c < part.size(); c++) out[c] += part[c];
  return out;
}

// Σ (x − x₀) and Σ (x − x₀)² per channel over rows [r0, r1), added to acc[0, 2C). Shifted by the
// first row, so that Σ(x − x₀)² does not cancel for large means.
SNN_CLONES void bnSumRows(const float* x, int64_t r0, int64_t r1, int64_t C, double* acc) {
  for (int64_t r = r0; r < r1; r++) {
    const float* row = x + r * C;
    for (int64_t c = 0; c < C; c++) {
      const double d = static_cast<double>(row[c]) - x[c];
      acc[c] += d;
      acc[C + c] += d * d;
    }
  }
}

// y = x a + sh per channel, rows [r0, r1).
SNN_CLONES void bnScaleRows(const float* x, float* y, int64_t r0, int64_t r1, int64_t C, const float* a, const float* sh) {
  for (int64_t r = r0; r < r1; r++) {
    const float* row = x + r * C;
    float* out = y + r * C;
    for (int64_t c = 0; c < C; c++) out[c] = row[c] * a[c] + sh[c];
  }
}

void bnForward(int64_t M, int64_t C, float eps, const float* x, const float* gamma, const float* beta, float* y,
               float* mean, float* var) {
  const int threads = bnTeam(M, C);
  std::vector<std::vector<double>> parts(threads, std::vector<double>(2 * C, 0.0));
#pragma omp parallel num_threads(threads)
  {
    SNN_SHARE(M, r0, r1);
    bnSumRows(x, r0, r1, C, parts[omp_get_thread_num()].data());
  }
  const std::vector<double> tot = combine(parts);
  std::vector<float> a(C), sh(C);
  for (int64_t c = 0; c < C; c++) {
    const double md = tot[c] / M;
    const double v = std::max(0.0, tot[C + c] / M - md * md);
    mean[c] = static_cast<float>(md + x[c]);
    var[c] = static_cast<float>(v);
    const float r = 1.0f / std::sqrt(var[c] + eps);
    a[c] = gamma[c] * r;
    sh[c] = beta[c] - mean[c] * a[c];
  }
#pragma omp parallel num_threads(threads)
  {
    SNN_SHARE(M, r0, r1);
    bnScaleRows(x, y, r0, r1, C, a.data(), sh.data());
  }
}

// Σ dy and Σ dy x̂ per channel over rows [r0, r1), added to acc[0, 2C).
SNN_CLONES void bnGradSums(const float* x, const float* dy, const float* mean, const float* r, int64_t r0, int64_t r1,
                           int64_t C, double* acc) {
  for (int64_t i = r0; i < r1; i++) {
    const float* xr = x + i * C;
    const float* g = dy + i * C;
    for (int64_t c = 0; c < C; c++) {
      acc[c] += g[c];
      acc[C + c] += static_cast<double>(g[c]) * ((xr[c] - mean[c]) * r[c]);
    }
  }
}

// dx = k1 dy − k2 − k3 (x − μ) per channel, rows [r0, r1).
SNN_CLONES void bnGradRows(const float* x, const float* dy, const float* mean, const float* k1, const float* k2,
                           const float* k3, float* dx, int64_t r0, int64_t r1, int64_t C) {
  for (int64_t i = r0; i < r1; i++) {
    const float* xr = x + i * C;
    const float* g = dy + i * C;
    float* out = dx + i * C;
    for (int64_t c = 0; c < C; c++) out[c] = k1[c] * g[c] - k2[c] - k3[c] * (xr[c] - mean[c]);
  }
}

void bnBackward(int64_t M, int64_t C, float eps, const float* x, const float* dy, const float* gamma, const float* mean,
                const float* var, float* dx, float* dgamma, float* dbeta) {
  const int threads = bnTeam(M, C);
  std::vector<float> r(C);
  for (int64_t c = 0; c < C; c++) r[c] = 1.0f / std::sqrt(var[c] + eps);
  std::vector<std::vector<double>> parts(threads, std::vector<double>(2 * C, 0.0));
#pragma omp parallel num_threads(threads)
  {
    SNN_SHARE(M, r0, r1);
    bnGradSums(x, dy, mean, r.data(), r0, r1, C, parts[omp_get_thread_num()].data());
  }
  const std::vector<double> tot = combine(parts);
  std::vector<float> k1(C), k2(C), k3(C);
  for (int64_t c = 0; c < C; c++) {
    dbeta[c] = static_cast<float>(tot[c]);
    dgamma[c] = static_cast<float>(tot[C + c]);
    // dx = γ r dy − γ r/M dβ − γ r/M x̂ dγ, with x̂ = (x − μ) r.
    k1[c] = gamma[c] * r[c];
    k2[c] = static_cast<float>(gamma[c] * r[c] * tot[c] / M);
    k3[c] = static_cast<float>(gamma[c] * r[c] * r[c] * tot[C + c] / M);
  }
#pragma omp parallel num_threads(threads)
  {
    SNN_SHARE(M, r0, r1);
    bnGradRows(x, dy, mean, k1.data(), k2.data(), k3.data(), dx, r0, r1, C);
  }
}

// ---- binary tensors saved as bits ------------------------------------------------------

// Packs x (n values) into bits, 8 per byte, least significant first, if every value is 0 or 1
// (a layer of spikes): a 32nd of the memory for what a convolution keeps for its backward pass.
// Returns false (and `bits` is then meaningless) if any other value occurs; -0 counts as 0.
// Bytes [b0, b1) of the packing below; returns how many held a value other than 0 and 1.
// Branch-free (spikes are random: a branch per value mispredicts) so that it vectorises.
SNN_CLONES int64_t packBytes(const float* x, uint8_t* bits, int64_t b0, int64_t b1) {
  int64_t bad = 0;
  for (int64_t b = b0; b < b1; b++) {
    const float* v = x + b * 8;
    unsigned byte = 0, odd = 0;
    for (int j = 0; j < 8; j++) {
      byte |= static_cast<unsigned>(v[j] == 1.0f) << j;
      odd |= static_cast<unsigned>(v[j] != 1.0f) & static_cast<unsigned>(v[j] != 0.0f);
    }
    bits[b] = static_cast<uint8_t>(byte);
    bad += odd;
  }
  return bad;
}

SNN_CLONES void unpackBytes(const uint8_t* bits, float* x, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; b++) {
    const unsigned byte = bits[b];
    float* out = x + b * 8;
    for (int j = 0; j < 8; j++) out[j] = static_cast<float>((byte >> j) & 1u);
  }
}

bool packBinary(int64_t n, const float* x, uint8_t* bits) {
  const int64_t full = n / 8;
  const int team = teamFor(static_cast<double>(n), policy().serialElems);
  int64_t bad = 0;
#pragma omp parallel num_threads(team) reduction(+ : bad)
  {
    SNN_SHARE(full, b0, b1);
    bad += packBytes(x, bits, b0, b1);
  }
  if (full * 8 < n) {
    unsigned byte = 0;
    for (int64_t i = full * 8; i < n; i++) {
      byte |= static_cast<unsigned>(x[i] == 1.0f) << (i - full * 8);
      bad += static_cast<unsigned>(x[i] != 1.0f) & static_cast<unsigned>(x[i] != 0.0f);
    }
    bits[full] = static_cast<uint8_t>(byte);
  }
  return bad == 0;
}

void unpackBinary(int64_t n, const uint8_t* bits, float* x) {
  const int64_t full = n / 8;
  const int team = teamFor(static_cast<double>(n), policy().serialElems);
#pragma omp parallel num_threads(team)
  {
    SNN_SHARE(full, b0, b1);
    unpackBytes(bits, x, b0, b1);
  }
  for (int64_t i = full * 8; i < n; i++) x[i] = static_cast<float>((bits[full] >> (i - full * 8)) & 1u);
}

// ---- optimizer steps, in place -----------------------------------------------------------

struct AdamConsts {
  float lr, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, c1, c2, weightDecay, decay;
  int mode;  // 0: no weight decay, 1: L2 in the gradient (Adam), 2: decoupled (AdamW)
};

// One Adam step over n parameters, updating w, m and v in place. The same float32 operations in
// the same order as the composed tfjs ops of src/train/optimizer.ts, and no contraction into
// FMAs, so the result is bit-identical to them (each op is correctly rounded on both sides):
//   g ← ∇ (+ λw);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w(1−ηλ) − η (m/c₁) / (√(v/c₂) + ε)
__attribute__((optimize("fp-contract=off"))) SNN_CLONES void adamRange(int64_t i0, int64_t i1, float* w, const float* grad,
                                                                      float* m, float* v, const AdamConsts& k) {
  for (int64_t i = i0; i < i1; i++) {
    float g = grad[i];
    if (k.mode == 1) g = g + w[i] * k.weightDecay;
    const float mi = m[i] * k.beta1 + g * k.oneMinusBeta1;
    const float vi = v[i] * k.beta2 + (g * g) * k.oneMinusBeta2;
    m[i] = mi;
    v[i] = vi;
    const float base = k.mode == 2 ? w[i] * k.decay : w[i];
    const float upd = ((mi / k.c1) / (std::sqrt(vi / k.c2) + k.eps)) * k.lr;
    w[i] = base - upd;
  }
}

void adamStep(int64_t n, float* w, const float* grad, float* m, float* v, const AdamConsts& k) {
  const int team = teamFor(static_cast<double>(n), policy().serialElems);
#pragma omp parallel num_threads(team)
  {
    SNN_SHARE(n, i0, i1);
    adamRange(i0, i1, w, grad, m, v, k);
  }
}

struct SgdConsts {
  float lr, weightDecay, momentum;
  bool first, nesterov;
};

// One SGD step in place, the float32 operations of src/train/optimizer.ts in their order:
//   g ← ∇ + λw;  b ← μb + g (b = g at the first step);  w ← w − η (nesterov ? g + μb : b)
// `buf` is null without momentum.
__attribute__((optimize("fp-contract=off"))) SNN_CLONES void sgdRange(int64_t i0, int64_t i1, float* w, const float* grad,
                                                                     float* buf, const SgdConsts& k) {
  for (int64_t i = i0; i < i1; i++) {
    float g = grad[i];
    if (k.weightDecay > 0) g = g + w[i] * k.weightDecay;
    float d = g;
    if (buf != nullptr) {
      const float b = k.first ? g : buf[i] * k.momentum + g;
      buf[i] = b;
      d = k.nesterov ? g + b * k.momentum : b;
    }
    w[i] = w[i] - d * k.lr;
  }
}

void sgdStep(int64_t n, float* w, const float* grad, float* buf, const SgdConsts& k) {
  const int team = teamFor(static_cast<double>(n), policy().serialElems);
#pragma omp parallel num_threads(team)
  {
    SNN_SHARE(n, i0, i1);
    sgdRange(i0, i1, w, grad, buf, k);
  }
}

// ---- N-API glue -------------------------------------------------------------------------

napi_value throwError(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

// A typed array argument of the given element type: its data and element count.
template <typename T>
bool typedArg(napi_env env, napi_value v, napi_typedarray_type want, T** data, size_t* length) {
  bool isTyped = false;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok || type != want) return false;
  *data = static_cast<T*>(ptr);
  return true;
}

bool f32Arg(napi_env env, napi_value v, float** data, size_t* length) { return typedArg(env, v, napi_float32_array, data, length); }

bool u8Arg(napi_env env, napi_value v, uint8_t** data, size_t* length) { return typedArg(env, v, napi_uint8_array, data, length); }

bool intArg(napi_env env, napi_value v, int64_t* out) { return napi_get_value_int64(env, v, out) == napi_ok; }

// conv2d(mode, a, b, out, n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl, pb, pr)
//   mode 0: forward           a = x [n,h,w,ci],   b = filter [fh,fw,ci,co], out = y  [n,oh,ow,co]
//   mode 1: backward data     a = dy [n,oh,ow,co], b = filter,              out = dx [n,h,w,ci]
//   mode 2: backward weights  a = x,               b = dy,                  out = dW [fh,fw,ci,co]
napi_value Conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 21;
  napi_value argv[21];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 21) return throwError(env, "conv2d: expected 21 arguments");
  int64_t mode = 0;
  if (!intArg(env, argv[0], &mode) || mode < 0 || mode > 2) return throwError(env, "conv2d: mode must be 0, 1 or 2");
  float *a = nullptr, *b = nullptr, *out = nullptr;
  size_t la = 0, lb = 0, lo = 0;
  if (!f32Arg(env, argv[1], &a, &la) || !f32Arg(env, argv[2], &b, &lb) || !f32Arg(env, argv[3], &out, &lo))
    return throwError(env, "conv2d: a, b and out must be Float32Arrays");
  int64_t v[17];
  for (int i = 0; i < 17; i++) {
    if (!intArg(env, argv[4 + i], &v[i])) return throwError(env, "conv2d: geometry must be integers");
  }
  Geometry g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]};
  const size_t xLen = g.n * g.h * g.w * g.ci, yLen = g.n * g.oh * g.ow * g.co, wLen = g.fh * g.fw * g.ci * g.co;
  const size_t want[3][3] = {{xLen, wLen, yLen}, {yLen, wLen, xLen}, {xLen, yLen, wLen}};
  if (la != want[mode][0] || lb != want[mode][1] || lo != want[mode][2])
    return throwError(env, "conv2d: array lengths do not match the geometry");
  const double macs = static_cast<double>(g.n) * g.oh * g.ow * g.co * g.ci * g.fh * g.fw;
  const int team = teamFor(macs, policy().serialMacs);
  try {
    TeamScope scope(team);
    Plan& p = planFor(g, team);
    auto& eng = cpuEngine();
    auto& s = cpuStream();
    if (mode == 0) {
      memory src(p.src, eng, a), dst(p.dst, eng, out), weiUser(p.weiUser, eng, b);
      memory wei = weightsIn(p.fwdPd.weights_desc(), weiUser);
      p.fwd.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    } else if (mode == 1) {
      if (!p.bwdData) p.bwdData = std::make_unique<dnnl::convolution_backward_data>(p.bwdDataPd);
      memory diffDst(p.dst, eng, a), diffSrc(p.src, eng, out), weiUser(p.weiUser, eng, b);
      memory wei = weightsIn(p.bwdDataPd.weights_desc(), weiUser);
      p.bwdData->execute(s, {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DIFF_SRC, diffSrc}});
    } else {
      if (!p.bwdWeights) p.bwdWeights = std::make_unique<dnnl::convolution_backward_weights>(p.bwdWeightsPd);
      memory src(p.src, eng, a), diffDst(p.dst, eng, b), userOut(p.weiUser, eng, out);
      const memory::desc kernelWei = p.bwdWeightsPd.diff_weights_desc();
      memory diffWei = kernelWei == p.weiUser ? userOut : memory(kernelWei, eng);
      p.bwdWeights->execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWei}});
      if (!(kernelWei == p.weiUser)) dnnl::reorder(diffWei, userOut).execute(s, diffWei, userOut);
    }
    s.wait();
  } catch (const dnnl::error& e) {
    return throwError(env, std::string("oneDNN: ") + e.what());
  }
  return nullptr;
}


bool boolArg(napi_env env, napi_value v, bool* out) { return napi_get_value_bool(env, v, out) == napi_ok; }

bool numArg(napi_env env, napi_value v, float* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  *out = static_cast<float>(d);
  return true;
}

bool lifParamsArg(napi_env env, napi_value* a, LifParams* p) {
  return intArg(env, a[0], &p->T) && intArg(env, a[1], &p->m) && boolArg(env, a[2], &p->leak) &&
         boolArg(env, a[3], &p->hard) && boolArg(env, a[4], &p->detach) && numArg(env, a[5], &p->k) &&
         numArg(env, a[6], &p->vth) && numArg(env, a[7], &p->vr);
}

// lifForward(x, s, h, T, m, leak, hard, detach, k, vth, vr) → spike count
napi_value LifForward(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *x, *s, *h;
  size_t lx, ls, lh;
  LifParams p;
  if (argc != 11 || !f32Arg(env, argv[0], &x, &lx) || !f32Arg(env, argv[1], &s, &ls) || !f32Arg(env, argv[2], &h, &lh) ||
      !lifParamsArg(env, argv + 3, &p))
    return throwError(env, "lifForward: bad arguments");
  const size_t n = p.T * p.m;
  if (lx != n || ls != n || lh != n) return throwError(env, "lifForward: array lengths do not match T × m");
  const int64_t count = lifForward(p, x, s, h);
  napi_value out;
  napi_create_int64(env, count, &out);
  return out;
}

// lifBackward(gs, h, s|null, x|null, gx, T, m, leak, hard, detach, k, vth, vr, surrogate, alpha) → ∂L/∂(1/τ)
napi_value LifBackward(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *gs, *h, *s, *gx, *x = nullptr;
  size_t lg, lh, ls, lgx, lx = 0;
  LifParams p;
  int64_t kind = 0;
  float alpha = 0;
  napi_valuetype xType;
  if (argc != 15 || napi_typeof(env, argv[3], &xType) != napi_ok) return throwError(env, "lifBackward: bad arguments");
  napi_valuetype sType;
  if (napi_typeof(env, argv[2], &sType) != napi_ok) return throwError(env, "lifBackward: bad arguments");
  s = nullptr;
  ls = 0;
  if (!f32Arg(env, argv[0], &gs, &lg) || !f32Arg(env, argv[1], &h, &lh) || (sType != napi_null && !f32Arg(env, argv[2], &s, &ls)) ||
      (xType != napi_null && !f32Arg(env, argv[3], &x, &lx)) || !f32Arg(env, argv[4], &gx, &lgx) ||
      !lifParamsArg(env, argv + 5, &p) || !intArg(env, argv[13], &kind) || !numArg(env, argv[14], &alpha) || kind < 0 ||
      kind > 3)
    return throwError(env, "lifBackward: bad arguments");
  const size_t n = p.T * p.m;
  if (lg != n || lh != n || (s != nullptr && ls != n) || lgx != n || (x != nullptr && lx != n))
    return throwError(env, "lifBackward: array lengths do not match T × m");
  const double gk = lifBackward(p, static_cast<int>(kind), alpha, gs, h, s, x, gx);
  napi_value out;
  napi_create_double(env, gk, &out);
  return out;
}

// bnForward(x, gamma, beta, y, mean, var, M, C, eps)
napi_value BnForward(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *x, *g, *b, *y, *mean, *var;
  size_t lx, lg, lb, ly, lm, lv;
  int64_t M, C;
  float eps;
  if (argc != 9 || !f32Arg(env, argv[0], &x, &lx) || !f32Arg(env, argv[1], &g, &lg) || !f32Arg(env, argv[2], &b, &lb) ||
      !f32Arg(env, argv[3], &y, &ly) || !f32Arg(env, argv[4], &mean, &lm) || !f32Arg(env, argv[5], &var, &lv) ||
      !intArg(env, argv[6], &M) || !intArg(env, argv[7], &C) || !numArg(env, argv[8], &eps) || M < 1 || C < 1)
    return throwError(env, "bnForward: bad arguments");
  const size_t n = M * C;
  if (lx != n || ly != n || lg != static_cast<size_t>(C) || lb != static_cast<size_t>(C) ||
      lm != static_cast<size_t>(C) || lv != static_cast<size_t>(C))
    return throwError(env, "bnForward: array lengths do not match M × C");
  bnForward(M, C, eps, x, g, b, y, mean, var);
  return nullptr;
}

// bnBackward(x, dy, gamma, mean, var, dx, dgamma, dbeta, M, C, eps)
napi_value BnBackward(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *x, *dy, *g, *mean, *var, *dx, *dg, *db;
  size_t lx, ldy, lg, lm, lv, ldx, ldg, ldb;
  int64_t M, C;
  float eps;
  if (argc != 11 || !f32Arg(env, argv[0], &x, &lx) || !f32Arg(env, argv[1], &dy, &ldy) ||
      !f32Arg(env, argv[2], &g, &lg) || !f32Arg(env, argv[3], &mean, &lm) || !f32Arg(env, argv[4], &var, &lv) ||
      !f32Arg(env, argv[5], &dx, &ldx) || !f32Arg(env, argv[6], &dg, &ldg) || !f32Arg(env, argv[7], &db, &ldb) ||
      !intArg(env, argv[8], &M) || !intArg(env, argv[9], &C) || !numArg(env, argv[10], &eps) || M < 1 || C < 1)
    return throwError(env, "bnBackward: bad arguments");
  const size_t n = M * C, c = C;
  if (lx != n || ldy != n || ldx != n || lg != c || lm != c || lv != c || ldg != c || ldb != c)
    return throwError(env, "bnBackward: array lengths do not match M × C");
  bnBackward(M, C, eps, x, dy, g, mean, var, dx, dg, db);
  return nullptr;
}


// The two arguments of packBinary (floats, bits) and unpackBinary (bits, floats); false after
// throwing a JS error.
bool floatsAndBits(napi_env env, napi_callback_info info, const char* name, bool floatsFirst, float** x, uint8_t** bits,
                   int64_t* n) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  size_t lx, lb;
  if (argc != 2 || !f32Arg(env, argv[floatsFirst ? 0 : 1], x, &lx) || !u8Arg(env, argv[floatsFirst ? 1 : 0], bits, &lb)) {
    throwError(env, std::string(name) + ": bad arguments");
    return false;
  }
  if (lb != (lx + 7) / 8) {
    throwError(env, std::string(name) + ": bits must hold ceil(n / 8) bytes");
    return false;
  }
  *n = static_cast<int64_t>(lx);
  return true;
}

// packBinary(x: Float32Array, bits: Uint8Array) → boolean
napi_value PackBinary(napi_env env, napi_callback_info info) {
  float* x;
  uint8_t* bits;
  int64_t n;
  if (!floatsAndBits(env, info, "packBinary", true, &x, &bits, &n)) return nullptr;
  napi_value out;
  napi_get_boolean(env, packBinary(n, x, bits), &out);
  return out;
}

// unpackBinary(bits: Uint8Array, x: Float32Array)
napi_value UnpackBinary(napi_env env, napi_callback_info info) {
  float* x;
  uint8_t* bits;
  int64_t n;
  if (floatsAndBits(env, info, "unpackBinary", false, &x, &bits, &n)) unpackBinary(n, bits, x);
  return nullptr;
}

// sgdStep(w, g, buf | null, lr, weightDecay, momentum, first, nesterov)
napi_value SgdStep(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *w, *g, *b = nullptr;
  size_t lw, lg, lb = 0;
  SgdConsts k;
  napi_valuetype bType;
  bool ok = argc == 8 && f32Arg(env, argv[0], &w, &lw) && f32Arg(env, argv[1], &g, &lg) &&
            napi_typeof(env, argv[2], &bType) == napi_ok && (bType == napi_null || f32Arg(env, argv[2], &b, &lb)) &&
            numArg(env, argv[3], &k.lr) && numArg(env, argv[4], &k.weightDecay) && numArg(env, argv[5], &k.momentum) &&
            boolArg(env, argv[6], &k.first) && boolArg(env, argv[7], &k.nesterov);
  if (!ok) return throwError(env, "sgdStep: bad arguments");
  if (lg != lw || (b != nullptr && lb != lw)) return throwError(env, "sgdStep: arrays of different lengths");
  sgdStep(static_cast<int64_t>(lw), w, g, b, k);
  return nullptr;
}

// adamStep(w, g, m, v, lr, beta1, 1-beta1, beta2, 1-beta2, eps, c1, c2, weightDecay, 1-lr*weightDecay, mode)
napi_value AdamStep(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *w, *g, *m, *v;
  size_t lw, lg, lm, lv;
  AdamConsts k;
  int64_t mode;
  float* consts[] = {&k.lr, &k.beta1, &k.oneMinusBeta1, &k.beta2, &k.oneMinusBeta2, &k.eps, &k.c1, &k.c2, &k.weightDecay, &k.decay};
  bool ok = argc == 15 && f32Arg(env, argv[0], &w, &lw) && f32Arg(env, argv[1], &g, &lg) && f32Arg(env, argv[2], &m, &lm) &&
            f32Arg(env, argv[3], &v, &lv) && intArg(env, argv[14], &mode) && mode >= 0 && mode <= 2;
  for (int i = 0; ok && i < 10; i++) ok = numArg(env, argv[4 + i], consts[i]);
  if (!ok) return throwError(env, "adamStep: bad arguments");
  if (lg != lw || lm != lw || lv != lw) return throwError(env, "adamStep: arrays of different lengths");
  k.mode = static_cast<int>(mode);
  adamStep(static_cast<int64_t>(lw), w, g, m, v, k);
  return nullptr;
}

// avgPool(mode, a, out, n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl, pb, pr)
//   mode 0: forward   a = x [n,h,w,c],    out = y [n,oh,ow,c]
//   mode 1: backward  a = dy [n,oh,ow,c], out = dx [n,h,w,c]
napi_value AvgPool(napi_env env, napi_callback_info info) {
  size_t argc = 17;
  napi_value argv[17];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t mode = 0;
  float *a, *out;
  size_t la, lo;
  if (argc != 17 || !intArg(env, argv[0], &mode) || mode < 0 || mode > 1 || !f32Arg(env, argv[1], &a, &la) ||
      !f32Arg(env, argv[2], &out, &lo))
    return throwError(env, "avgPool: bad arguments");
  int64_t v[14];
  for (int i = 0; i < 14; i++)
    if (!intArg(env, argv[3 + i], &v[i])) return throwError(env, "avgPool: geometry must be integers");
  PoolGeometry g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
  const size_t xLen = g.n * g.h * g.w * g.c, yLen = g.n * g.oh * g.ow * g.c;
  if (la != (mode == 0 ? xLen : yLen) || lo != (mode == 0 ? yLen : xLen))
    return throwError(env, "avgPool: array lengths do not match the geometry");
  const int team = teamFor(static_cast<double>(g.n) * g.oh * g.ow * g.c * g.fh * g.fw, policy().serialElems);
  try {
    TeamScope scope(team);
    PoolPlan& p = poolPlanFor(g, team);
    auto& eng = cpuEngine();
    auto& s = cpuStream();
    if (mode == 0) {
      memory src(p.src, eng, a), dst(p.dst, eng, out);
      p.fwd.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    } else {
      memory diffDst(p.dst, eng, a), diffSrc(p.src, eng, out);
      p.bwd.execute(s, {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_SRC, diffSrc}});
    }
    s.wait();
  } catch (const dnnl::error& e) {
    return throwError(env, std::string("oneDNN: ") + e.what());
  }
  return nullptr;
}

// setThreads(n): the OpenMP team size oneDNN uses from now on.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t n = 0;
  if (argc != 1 || !intArg(env, argv[0], &n) || n < 1) return throwError(env, "setThreads: expected a positive integer");
  policy().threads = static_cast<int>(n);
  omp_set_num_threads(static_cast<int>(n));
  return nullptr;
}

// setSerialWork(macs, elements): kernels below these sizes run on one thread (0, 0: never).
napi_value SetSerialWork(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  double macs = -1, elems = -1;
  if (argc != 2 || napi_get_value_double(env, argv[0], &macs) != napi_ok ||
      napi_get_value_double(env, argv[1], &elems) != napi_ok || !(macs >= 0) || !(elems >= 0))
    return throwError(env, "setSerialWork: expected two numbers ≥ 0");
  policy().serialMacs = macs;
  policy().serialElems = elems;
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  const dnnl_version_t* ver = dnnl_version();
  std::string version = std::to_string(ver->major) + "." + std::to_string(ver->minor) + "." + std::to_string(ver->patch);
  napi_value obj, vVersion, vThreads, vIsa, vMacs, vElems;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, version.c_str(), NAPI_AUTO_LENGTH, &vVersion);
  napi_create_int32(env, policy().threads, &vThreads);
  napi_create_double(env, policy().serialMacs, &vMacs);
  napi_create_double(env, policy().serialElems, &vElems);
  const char* isa = "unknown";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: isa = "sse41"; break;
    case dnnl::cpu_isa::avx: isa = "avx"; break;
    case dnnl::cpu_isa::avx2: isa = "avx2"; break;
    case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
    case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
    default: break;
  }
  napi_create_string_utf8(env, isa, NAPI_AUTO_LENGTH, &vIsa);
  napi_set_named_property(env, obj, "onednn", vVersion);
  napi_set_named_property(env, obj, "threads", vThreads);
  napi_set_named_property(env, obj, "isa", vIsa);
  napi_set_named_property(env, obj, "serialMacs", vMacs);
  napi_set_named_property(env, obj, "serialElems", vElems);
  return obj;
}

// ADDON_INTERFACE in src/backends/wasm-native/native.ts: raise both with any change of a
// function's arguments or meaning. 3: the exported-network runtime (native/ternary.cc) joined.
constexpr int32_t kInterfaceVersion = 3;

}  // namespace

void registerTernary(napi_env env, napi_value exports);  // native/ternary.cc: the exported-network runtime

namespace {

napi_value Init(napi_env env, napi_value exports) {
  napi_value interfaceVersion;
  napi_create_int32(env, kInterfaceVersion, &interfaceVersion);
  napi_property_descriptor props[] = {
      {"interfaceVersion", nullptr, nullptr, nullptr, nullptr, interfaceVersion, napi_enumerable, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPool", nullptr, AvgPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lifForward", nullptr, LifForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lifBackward", nullptr, LifBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnForward", nullptr, BnForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnBackward", nullptr, BnBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamStep", nullptr, AdamStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgdStep", nullptr, SgdStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"packBinary", nullptr, PackBinary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unpackBinary", nullptr, UnpackBinary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setSerialWork", nullptr, SetSerialWork, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  registerTernary(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(snn_onednn, Init)
