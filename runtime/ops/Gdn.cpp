//===- Gdn.cpp - Gated DeltaNet forward: host logic -----------------------===//

#include "tlc/ops/Gdn.h"

#include <fmt/format.h>

#include <cmath>

using namespace tlc;
using namespace tlc::ops;
using rt::DType;
using rt::Status;

namespace {

constexpr int64_t kChunk = 64;

Status invalid(std::string message) {
  return Status::error(rt::ErrorCode::InvalidArgument,
                       "tlc::ops::gdn::forward: " + std::move(message));
}

std::string shapeString(const rt::TensorRef &t) {
  std::string s = "[";
  for (int d = 0; d < t.rank; ++d)
    s += (d ? ", " : "") + std::to_string(t.shape[d]);
  return s + "]";
}

Status expectShape(const char *name, const rt::TensorRef &t,
                   std::vector<int64_t> shape, const char *meaning) {
  bool same = t.rank == int(shape.size());
  for (int d = 0; same && d < t.rank; ++d)
    same = t.shape[d] == shape[d];
  if (same)
    return Status();
  std::string want = "[";
  for (size_t d = 0; d < shape.size(); ++d)
    want += (d ? ", " : "") + std::to_string(shape[d]);
  return invalid(fmt::format("{} must have shape {} = {}, got {}", name,
                             meaning, want + "]", shapeString(t)));
}

Status expectContiguous(const char *name, const rt::TensorRef &t) {
  int64_t stride = 1;
  for (int d = t.rank - 1; d >= 0; --d) {
    if (t.shape[d] != 1 && t.strides[d] != stride)
      return invalid(fmt::format("{} must be contiguous (token-major); its "
                                 "strides are not row-major",
                                 name));
    stride *= t.shape[d];
  }
  return Status();
}

/// Views a contiguous [B, T, ...] tensor as [1, B*T, ...].
rt::TensorRef packed(const rt::TensorRef &t) {
  rt::TensorRef p = t;
  p.shape[1] = t.shape[0] * t.shape[1];
  p.shape[0] = 1;
  p.strides[0] = p.shape[1] * p.strides[1];
  return p;
}

const char *dtypeConstant(DType dtype) {
  switch (dtype) {
  case DType::BF16:
    return "bf16";
  case DType::F16:
    return "f16";
  default:
    return "f32";
  }
}

} // namespace

ChunkPlan tlc::ops::planChunks(const std::vector<int32_t> &cuSeqlens,
                               int64_t chunk) {
  ChunkPlan plan;
  for (size_t n = 0; n + 1 < cuSeqlens.size(); ++n) {
    plan.chunkOffsets.push_back(int32_t(plan.numChunks));
    int64_t length = cuSeqlens[n + 1] - cuSeqlens[n];
    for (int64_t c = 0; c * chunk < length; ++c) {
      plan.chunkIndices.push_back(int32_t(n));
      plan.chunkIndices.push_back(int32_t(c));
      ++plan.numChunks;
    }
  }
  return plan;
}

rt::Expected<ForwardResult>
tlc::ops::forward(Backend &backend, const rt::TensorRef &q,
                  const rt::TensorRef &k, const rt::TensorRef &v,
                  const rt::TensorRef &g, const rt::TensorRef &beta,
                  const rt::TensorRef &initialState,
                  const std::vector<int32_t> *cuSeqlens,
                  const ForwardOptions &options) {
  // Shapes and dtypes.
  if (q.rank != 4)
    return invalid("q must be [B, T, H_qk, K], got rank " +
                   std::to_string(q.rank) + " " + shapeString(q));
  if (v.rank != 4)
    return invalid("v must be [B, T, H_v, V], got " + shapeString(v));
  const int64_t batch = q.shape[0], tokens = q.shape[1], hqk = q.shape[2],
                headK = q.shape[3], hv = v.shape[2], headV = v.shape[3];
  if (headK != 64 && headK != 128)
    return invalid(fmt::format("the head dimension K must be 64 or 128, got "
                               "{}",
                               headK));
  if (headV != headK)
    return invalid(fmt::format("V must equal K ({}), got {}", headK, headV));
  for (Status s :
       {expectShape("k", k, {batch, tokens, hqk, headK}, "[B, T, H_qk, K]"),
        expectShape("v", v, {batch, tokens, hv, headV}, "[B, T, H_v, V]"),
        expectShape("g", g, {batch, tokens, hv}, "[B, T, H_v]"),
        expectShape("beta", beta, {batch, tokens, hv}, "[B, T, H_v]")})
    if (!s.ok())
      return s;
  if (hv % hqk)
    return invalid(fmt::format("H_v ({}) must be a multiple of H_qk ({}) "
                               "(grouped value attention)",
                               hv, hqk));
  if (q.dtype != k.dtype || q.dtype != v.dtype)
    return invalid(fmt::format("q, k and v must share a dtype, got {}, {}, {}",
                               rt::dtypeName(q.dtype), rt::dtypeName(k.dtype),
                               rt::dtypeName(v.dtype)));
  if (q.dtype != DType::BF16 && q.dtype != DType::F16 &&
      q.dtype != DType::F32)
    return invalid(std::string("q, k, v must be bf16, f16 or f32, got ") +
                   rt::dtypeName(q.dtype));
  if (g.dtype != DType::F32 || beta.dtype != DType::F32)
    return invalid(fmt::format("g and beta must be f32, got {} and {}",
                               rt::dtypeName(g.dtype),
                               rt::dtypeName(beta.dtype)));
  for (auto [name, t] : {std::pair<const char *, const rt::TensorRef *>{"q", &q},
                         {"k", &k}, {"v", &v}, {"g", &g}, {"beta", &beta}})
    if (Status s = expectContiguous(name, *t); !s.ok())
      return s;

  // Sequences.
  std::vector<int32_t> offsets;
  if (cuSeqlens) {
    if (batch != 1)
      return invalid(fmt::format("with cu_seqlens, B must be 1 (sequences "
                                 "are packed along T), got B = {}",
                                 batch));
    offsets = *cuSeqlens;
    if (offsets.size() < 2 || offsets.front() != 0 ||
        offsets.back() != tokens)
      return invalid(fmt::format("cu_seqlens must start at 0 and end at T = "
                                 "{} with at least one sequence",
                                 tokens));
    for (size_t i = 1; i < offsets.size(); ++i)
      if (offsets[i] < offsets[i - 1])
        return invalid(fmt::format("cu_seqlens must be non-decreasing, but "
                                   "cu_seqlens[{}] = {} < cu_seqlens[{}] = {}",
                                   i, offsets[i], i - 1, offsets[i - 1]));
  } else {
    for (int64_t b = 0; b <= batch; ++b)
      offsets.push_back(int32_t(b * tokens));
  }
  const int64_t numSeqs = int64_t(offsets.size()) - 1;
  const bool useH0 = initialState.data != nullptr;
  if (useH0) {
    if (Status s = expectShape("initial_state", initialState,
                               {numSeqs, hv, headK, headV},
                               "[N, H_v, K, V]");
        !s.ok())
      return s;
    if (initialState.dtype != DType::F32)
      return invalid("initial_state must be f32");
  }
  const float scale =
      options.scale ? *options.scale : 1.f / std::sqrt(float(headK));

  ChunkPlan plan = planChunks(offsets, kChunk);
  const int64_t totalTokens = batch * tokens;
  const DType dt = q.dtype;

  // Intermediates, released on every exit path.
  std::vector<rt::TensorRef> owned;
  struct Releaser {
    Backend &backend;
    std::vector<rt::TensorRef> &owned;
    ~Releaser() {
      for (const rt::TensorRef &t : owned)
        backend.release(t);
    }
  } releaser{backend, owned};
  auto make = [&](DType dtype, std::vector<int64_t> shape)
      -> rt::Expected<rt::TensorRef> {
    rt::Expected<rt::TensorRef> t = backend.allocate(dtype, std::move(shape));
    if (t)
      owned.push_back(*t);
    return t;
  };
  rt::Expected<rt::TensorRef> cu = make(DType::I32, {numSeqs + 1});
  rt::Expected<rt::TensorRef> indices =
      make(DType::I32, {std::max<int64_t>(plan.numChunks, 1), 2});
  rt::Expected<rt::TensorRef> chunkOffsets = make(DType::I32, {numSeqs});
  rt::Expected<rt::TensorRef> gcum = make(DType::F32, {1, totalTokens, hv});
  rt::Expected<rt::TensorRef> w = make(dt, {1, totalTokens, hv, headK});
  rt::Expected<rt::TensorRef> u = make(dt, {1, totalTokens, hv, headV});
  rt::Expected<rt::TensorRef> vNew = make(dt, {1, totalTokens, hv, headV});
  rt::Expected<rt::TensorRef> states =
      make(dt, {std::max<int64_t>(plan.numChunks, 1), hv, headK, headV});
  for (auto *t : {&cu, &indices, &chunkOffsets, &gcum, &w, &u, &vNew, &states})
    if (!*t)
      return t->status();
  rt::Expected<rt::TensorRef> o = backend.allocate(dt, {batch, tokens, hv, headV});
  if (!o)
    return o.status();
  rt::Expected<rt::TensorRef> ht =
      backend.allocate(DType::F32, {numSeqs, hv, headK, headV});
  if (!ht) {
    backend.release(*o);
    return ht.status();
  }
  auto fail = [&](Status s) -> rt::Expected<ForwardResult> {
    backend.release(*o);
    backend.release(*ht);
    return s;
  };
  if (Status s = backend.upload(*cu, offsets.data(), offsets.size()); !s.ok())
    return fail(s);
  if (plan.numChunks) {
    if (Status s = backend.upload(*indices, plan.chunkIndices.data(),
                                  plan.chunkIndices.size());
        !s.ok())
      return fail(s);
  }
  if (Status s = backend.upload(*chunkOffsets, plan.chunkOffsets.data(),
                                plan.chunkOffsets.size());
      !s.ok())
    return fail(s);

  if (plan.numChunks) {
    rt::TensorRef qp = packed(q), kp = packed(k), vp = packed(v),
                  gp = packed(g), bp = packed(beta), op = packed(*o);
    rt::TensorRef chunkList = *indices;
    chunkList.shape[0] = plan.numChunks;
    std::string kc = "K=" + std::to_string(headK);
    std::string vc = "V=" + std::to_string(headV);
    std::string dc = std::string("DT=") + dtypeConstant(dt);
    using rt::Arg;
    if (Status s = backend.launch("gdn_cumsum", {},
                                  {Arg::tensor(gp), Arg::tensor(*gcum),
                                   Arg::tensor(*cu), Arg::tensor(chunkList)});
        !s.ok())
      return fail(s);
    if (Status s = backend.launch(
            "gdn_prepare", {kc, vc, dc},
            {Arg::tensor(kp), Arg::tensor(vp), Arg::tensor(bp),
             Arg::tensor(*gcum), Arg::tensor(*w), Arg::tensor(*u),
             Arg::tensor(*cu), Arg::tensor(chunkList)});
        !s.ok())
      return fail(s);
    rt::TensorRef h0 = useH0 ? initialState : *ht;
    rt::TensorRef stateList = *states;
    stateList.shape[0] = plan.numChunks;
    if (Status s = backend.launch(
            "gdn_state",
            {kc, vc, dc, useH0 ? "USE_H0=True" : "USE_H0=False",
             options.outputFinalState ? "STORE_HT=True" : "STORE_HT=False"},
            {Arg::tensor(kp), Arg::tensor(*w), Arg::tensor(*u),
             Arg::tensor(*gcum), Arg::tensor(stateList), Arg::tensor(*vNew),
             Arg::tensor(h0), Arg::tensor(*ht), Arg::tensor(*cu),
             Arg::tensor(*chunkOffsets)});
        !s.ok())
      return fail(s);
    if (Status s = backend.launch(
            "gdn_output", {kc, vc, dc},
            {Arg::tensor(qp), Arg::tensor(kp), Arg::tensor(*vNew),
             Arg::tensor(*gcum), Arg::tensor(stateList), Arg::tensor(op),
             Arg::f32(scale), Arg::tensor(*cu), Arg::tensor(chunkList)});
        !s.ok())
      return fail(s);
  }

  ForwardResult result;
  result.o = *o;
  if (options.outputFinalState) {
    result.finalState = *ht;
  } else {
    backend.release(*ht);
    result.finalState = rt::TensorRef();
  }
  return result;
}

std::string tlc::ops::gdnVariantName(const std::vector<std::string> &constants) {
  std::string name;
  for (const std::string &c : constants) {
    if (!name.empty())
      name += '_';
    for (char ch : c)
      if (ch != '=')
        name += ch;
  }
  return name.empty() ? "default" : name;
}
