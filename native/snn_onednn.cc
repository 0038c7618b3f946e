// snn's optional native convolution kernels: 2-D convolution forward, backward-data and
// backward-weights through oneDNN (the library PyTorch's CPU convolutions use), on all cores.
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

std::map<Geometry, std::unique_ptr<Plan>>& plans() {
  static std::map<Geometry, std::unique_ptr<Plan>> p;
  return p;
}

Plan& planFor(const Geometry& g) {
  auto& all = plans();
  auto it = all.find(g);
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
  all.emplace(g, std::move(plan));
  return ref;
}

// Weights in `want`'s layout: the user's HWIO memory itself when they agree, else a reorder.
memory weightsIn(const memory::desc& want, memory user) {
  if (want == user.get_desc()) return user;
  memory m(want, cpuEngine());
  dnnl::reorder(user, m).execute(cpuStream(), user, m);
  return m;
}

// ---- N-API glue -------------------------------------------------------------------------

napi_value throwError(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

bool f32Arg(napi_env env, napi_value v, float** data, size_t* length) {
  bool isTyped = false;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = static_cast<float*>(ptr);
  return true;
}

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
  try {
    Plan& p = planFor(g);
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

// setThreads(n): the OpenMP team size oneDNN uses from now on.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t n = 0;
  if (argc != 1 || !intArg(env, argv[0], &n) || n < 1) return throwError(env, "setThreads: expected a positive integer");
  omp_set_num_threads(static_cast<int>(n));
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  const dnnl_version_t* ver = dnnl_version();
  std::string version = std::to_string(ver->major) + "." + std::to_string(ver->minor) + "." + std::to_string(ver->patch);
  napi_value obj, vVersion, vThreads, vIsa;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, version.c_str(), NAPI_AUTO_LENGTH, &vVersion);
  napi_create_int32(env, omp_get_max_threads(), &vThreads);
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
  return obj;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(snn_onednn, Init)
