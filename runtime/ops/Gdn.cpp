//===- Gdn.cpp - Gated DeltaNet forward: host logic -----------------------===//

#include "tlc/ops/Gdn.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

using namespace tlc;
using namespace tlc::ops;
using rt::DType;
using rt::Status;

namespace {

constexpr int64_t kChunk = 64;

Status invalid(std::string message) {
  return Status::error(rt::ErrorCode::InvalidArgument,
                       "tlc::ops::gdn: " + std::move(message));
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

int tlc::ops::chunkBlocksPerMultiprocessor(DType dtype) {
  return dtype == DType::F32 ? 1 : 2;
}

int64_t tlc::ops::chooseSegmentChunks(const std::vector<int32_t> &cuSeqlens,
                                      int64_t chunk,
                                      const SplitOptions &split) {
  if (split.segmentChunks != 0)
    return std::max<int64_t>(split.segmentChunks, 0);
  if (split.multiprocessors <= 0 || cuSeqlens.size() < 2)
    return 0;
  std::vector<int64_t> chunks;
  int64_t maxChunks = 0;
  for (size_t n = 0; n + 1 < cuSeqlens.size(); ++n) {
    chunks.push_back((cuSeqlens[n + 1] - cuSeqlens[n] + chunk - 1) / chunk);
    maxChunks = std::max(maxChunks, chunks.back());
  }
  const int64_t blocksPerHead = std::max<int64_t>(split.headK / 64, 1);
  const int64_t slots = int64_t(split.multiprocessors) *
                        chunkBlocksPerMultiprocessor(split.dtype);
  auto waves = [&](int64_t blocks) { return (blocks + slots - 1) / slots; };
  // A state-pass step (three gemms, no o) and a scan step (one 128 x 128 x
  // 32 f32 product a block, with M's 64 KB load) against an output step
  // (five gemms): measured on the H200, 2026-12-03 (docs/performance.md).
  constexpr double kStateStep = 0.6, kScanStep = 2.0;
  const double unsplit = double(
      waves(int64_t(chunks.size()) * split.heads * blocksPerHead) * maxChunks);
  int64_t best = 0;
  double bestCost = 0.8 * unsplit;
  // The scan runs V / 32 blocks a (sequence, head), one a multiprocessor.
  const int64_t scanBlocks = int64_t(chunks.size()) * split.heads *
                             std::max<int64_t>(split.headK / 32, 1);
  const int64_t scanWaves =
      (scanBlocks + split.multiprocessors - 1) / split.multiprocessors;
  for (int64_t length = 4; length < maxChunks; length *= 2) {
    int64_t segments = 0;
    for (int64_t c : chunks)
      segments += std::max<int64_t>((c + length - 1) / length, 1);
    const int64_t chains = segments * split.heads * blocksPerHead;
    const int64_t longest = (maxChunks + length - 1) / length;
    const double cost = double(waves(2 * chains) * length) * kStateStep +
                        double(waves(chains) * length) +
                        double(scanWaves * longest) * kScanStep;
    if (cost < bestCost) {
      best = length;
      bestCost = cost;
    }
  }
  return best;
}

namespace {
/// Tokens in a segment of `segmentChunks` chunks. Offsets are int32: a span
/// of 2^32 tokens or more cuts nothing (and the caller's segmentChunks *
/// chunk could overflow).
int64_t segmentSpan(int64_t chunk, int64_t segmentChunks) {
  const int64_t noCut = int64_t(1) << 32;
  return segmentChunks >= noCut / chunk ? noCut : segmentChunks * chunk;
}
} // namespace

int64_t tlc::ops::countSegmentOffsets(const std::vector<int32_t> &cuSeqlens,
                                      int64_t chunk, int64_t segmentChunks) {
  const int64_t span = segmentSpan(chunk, segmentChunks);
  int64_t count = 1;
  for (size_t n = 0; n + 1 < cuSeqlens.size(); ++n) {
    const int64_t length = int64_t(cuSeqlens[n + 1]) - cuSeqlens[n];
    count += length > 0 ? (length - 1) / span + 1 : 1;
  }
  return count;
}

int64_t tlc::ops::countChunks(const std::vector<int32_t> &cuSeqlens,
                              int64_t chunk) {
  int64_t count = 0;
  for (size_t n = 0; n + 1 < cuSeqlens.size(); ++n)
    if (int64_t length = int64_t(cuSeqlens[n + 1]) - cuSeqlens[n]; length > 0)
      count += (length - 1) / chunk + 1;
  return count;
}

ChunkPlan tlc::ops::planChunks(const std::vector<int32_t> &cuSeqlens,
                               int64_t chunk, int64_t segmentChunks) {
  ChunkPlan plan;
  const std::vector<int32_t> *units = &cuSeqlens;
  if (segmentChunks > 0 && !cuSeqlens.empty()) {
    // Chunk-aligned cuts, so a segment's chunks are its sequence's chunks;
    // an empty sequence keeps one empty segment (its final state is h0).
    const int64_t span = segmentSpan(chunk, segmentChunks);
    plan.segmentOffsets.push_back(cuSeqlens[0]);
    for (size_t n = 0; n + 1 < cuSeqlens.size(); ++n) {
      plan.sequenceSegments.push_back(int32_t(plan.segmentOffsets.size() - 1));
      int64_t start = cuSeqlens[n], end = cuSeqlens[n + 1];
      do {
        start = std::min(start + span, end);
        plan.segmentOffsets.push_back(int32_t(start));
      } while (start < end);
    }
    plan.sequenceSegments.push_back(int32_t(plan.segmentOffsets.size() - 1));
    units = &plan.segmentOffsets;
  }
  for (size_t n = 0; n + 1 < units->size(); ++n) {
    plan.chunkOffsets.push_back(int32_t(plan.numChunks));
    int64_t length = (*units)[n + 1] - (*units)[n];
    for (int64_t c = 0; c * chunk < length; ++c) {
      plan.chunkIndices.push_back(int32_t(n));
      plan.chunkIndices.push_back(int32_t(c));
      ++plan.numChunks;
    }
  }
  return plan;
}

rt::Expected<Dims>
tlc::ops::checkInputs(const rt::TensorRef &q, const rt::TensorRef &k,
                      const rt::TensorRef &v, const rt::TensorRef &g,
                      const rt::TensorRef &beta,
                      const rt::TensorRef &initialState, int64_t numSeqs,
                      const int32_t *cuSeqlens) {
  if (q.rank != 4)
    return invalid("q must be [B, T, H_qk, K], got rank " +
                   std::to_string(q.rank) + " " + shapeString(q));
  if (v.rank != 4)
    return invalid("v must be [B, T, H_v, V], got " + shapeString(v));
  Dims dims;
  dims.batch = q.shape[0];
  dims.tokens = q.shape[1];
  dims.hqk = q.shape[2];
  dims.headK = q.shape[3];
  dims.hv = v.shape[2];
  dims.headV = v.shape[3];
  dims.dtype = q.dtype;
  if (dims.headK != 64 && dims.headK != 128)
    return invalid(fmt::format("the head dimension K must be 64 or 128, got "
                               "{}",
                               dims.headK));
  if (dims.headV != dims.headK)
    return invalid(
        fmt::format("V must equal K ({}), got {}", dims.headK, dims.headV));
  for (Status s :
       {expectShape("k", k, {dims.batch, dims.tokens, dims.hqk, dims.headK},
                    "[B, T, H_qk, K]"),
        expectShape("v", v, {dims.batch, dims.tokens, dims.hv, dims.headV},
                    "[B, T, H_v, V]"),
        expectShape("g", g, {dims.batch, dims.tokens, dims.hv}, "[B, T, H_v]"),
        expectShape("beta", beta, {dims.batch, dims.tokens, dims.hv},
                    "[B, T, H_v]")})
    if (!s.ok())
      return s;
  if (dims.hv % dims.hqk)
    return invalid(fmt::format("H_v ({}) must be a multiple of H_qk ({}) "
                               "(grouped value attention)",
                               dims.hv, dims.hqk));
  if (q.dtype != k.dtype || q.dtype != v.dtype)
    return invalid(fmt::format("q, k and v must share a dtype, got {}, {}, {}",
                               rt::dtypeName(q.dtype), rt::dtypeName(k.dtype),
                               rt::dtypeName(v.dtype)));
  if (q.dtype != DType::BF16 && q.dtype != DType::F16 && q.dtype != DType::F32)
    return invalid(std::string("q, k, v must be bf16, f16 or f32, got ") +
                   rt::dtypeName(q.dtype));
  if (g.dtype != DType::F32 || beta.dtype != DType::F32)
    return invalid(fmt::format("g and beta must be f32, got {} and {}",
                               rt::dtypeName(g.dtype),
                               rt::dtypeName(beta.dtype)));
  for (auto [name, t] :
       {std::pair<const char *, const rt::TensorRef *>{"q", &q},
        {"k", &k},
        {"v", &v},
        {"g", &g},
        {"beta", &beta}})
    if (Status s = expectContiguous(name, *t); !s.ok())
      return s;

  if (numSeqs >= 0) {
    if (dims.batch != 1)
      return invalid(fmt::format("with cu_seqlens, B must be 1 (sequences "
                                 "are packed along T), got B = {}",
                                 dims.batch));
    if (numSeqs < 1)
      return invalid("cu_seqlens must hold at least one sequence (N+1 >= 2 "
                     "offsets)");
    if (cuSeqlens && (cuSeqlens[0] != 0 || cuSeqlens[numSeqs] != dims.tokens))
      return invalid(fmt::format("cu_seqlens must start at 0 and end at T = "
                                 "{}, got {} ... {}",
                                 dims.tokens, cuSeqlens[0],
                                 cuSeqlens[numSeqs]));
    for (int64_t i = 1; cuSeqlens && i <= numSeqs; ++i)
      if (cuSeqlens[i] < cuSeqlens[i - 1])
        return invalid(fmt::format("cu_seqlens must be non-decreasing, but "
                                   "cu_seqlens[{}] = {} < cu_seqlens[{}] = {}",
                                   i, cuSeqlens[i], i - 1, cuSeqlens[i - 1]));
    dims.numSeqs = numSeqs;
  } else {
    dims.numSeqs = dims.batch;
  }
  if (initialState.data) {
    if (Status s = expectShape("initial_state", initialState,
                               {dims.numSeqs, dims.hv, dims.headK, dims.headV},
                               "[N, H_v, K, V]");
        !s.ok())
      return s;
    if (initialState.dtype != DType::F32)
      return invalid("initial_state must be f32");
  }
  return dims;
}

namespace {
using TensorList = std::vector<std::pair<DType, std::vector<int64_t>>>;
/// The workspace's tensors, in Workspace's order (segments' only with a
/// split).
TensorList workspaceTensors(const Dims &d) {
  int64_t t = d.batch * d.tokens, chunks = std::max<int64_t>(d.numChunks, 1);
  TensorList tensors = {{DType::F32, {d.hv, chunks, kChunk}},
                        {d.dtype, {1, t, d.hv, kChunk}}};
  if (d.numSegments) {
    tensors.push_back(
        {DType::F32, {d.numSegments, d.hv, d.headK, d.headV + d.headK}});
    tensors.push_back({DType::F32, {d.numSegments, d.hv, d.headK, d.headV}});
    tensors.push_back({DType::F32, {d.numSeqs, d.hv, d.headK, d.headV}});
  }
  return tensors;
}
size_t tensorBytes(DType dtype, const std::vector<int64_t> &shape) {
  size_t n = rt::dtypeSize(dtype);
  for (int64_t e : shape)
    n *= size_t(e);
  return (n + 255) / 256 * 256;
}
} // namespace

namespace {
size_t listBytes(const TensorList &tensors) {
  size_t total = 0;
  for (auto &[dtype, shape] : tensors)
    total += tensorBytes(dtype, shape);
  return total;
}
/// The tensors of `tensors`, one after the other from `base`.
std::vector<rt::TensorRef> carveList(const TensorList &tensors, void *base) {
  std::vector<rt::TensorRef> parts;
  char *next = static_cast<char *>(base);
  for (auto &[dtype, shape] : tensors) {
    parts.push_back(rt::TensorRef::make(next, dtype, shape));
    next += tensorBytes(dtype, shape);
  }
  return parts;
}
} // namespace

size_t Workspace::bytes(const Dims &dims) {
  return listBytes(workspaceTensors(dims));
}

Workspace Workspace::carve(const Dims &dims, void *base) {
  std::vector<rt::TensorRef> p = carveList(workspaceTensors(dims), base);
  p.resize(5);
  return Workspace{p[0], p[1], p[2], p[3], p[4]};
}

rt::Status tlc::ops::launchForward(
    Backend &backend, const Dims &dims, const rt::TensorRef &q,
    const rt::TensorRef &k, const rt::TensorRef &v, const rt::TensorRef &g,
    const rt::TensorRef &beta, const rt::TensorRef &initialState,
    const PlanTensors &plan, const Workspace &ws, float scale,
    const rt::TensorRef &o, const rt::TensorRef &finalState) {
  if (!dims.numChunks)
    return Status();
  using rt::Arg;
  rt::TensorRef qp = packed(q), kp = packed(k), vp = packed(v), gp = packed(g),
                bp = packed(beta), op = packed(o);
  const bool useH0 = initialState.data != nullptr;
  const bool storeHt = finalState.data != nullptr;
  const bool split = dims.numSegments > 0;
  // The kernels walk segments when there are any: a segment is a sequence
  // to them, and only its start state links it to the one before.
  const rt::TensorRef &walked = split ? plan.segmentOffsets : plan.cuSeqlens;
  const int64_t walks = split ? dims.numSegments : dims.numSeqs;
  std::string kc = "K=" + std::to_string(dims.headK);
  std::string vc = "V=" + std::to_string(dims.headV);
  std::string dc = std::string("DT=") + dtypeConstant(dims.dtype);
  // h0 and ht are parameters of every state kernel; a missing one is a
  // zero-stride stand-in (one element of real memory), which the kernel never
  // touches without USE_H0 / STORE_HT.
  auto standIn = [&](int64_t count) {
    rt::TensorRef t = rt::TensorRef::make(
        ws.gcum.data, DType::F32,
        std::vector<int64_t>{count, dims.hv, dims.headK, dims.headV});
    std::fill(t.strides, t.strides + t.rank, 0);
    return t;
  };
  if (Status s =
          backend.launch("gdn_solve", {kc, dc},
                         {Arg::tensor(kp), Arg::tensor(gp), Arg::tensor(bp),
                          Arg::tensor(ws.gcum), Arg::tensor(ws.ag),
                          // A itself: not written without WRITE_A.
                          Arg::tensor(ws.ag), Arg::tensor(walked),
                          Arg::tensor(plan.chunkIndices)});
      !s.ok())
    return s;
  // gdn_chunk's hs (the backward's recompute) is never written here.
  rt::TensorRef statesStandIn = standIn(1);
  auto launchChunk = [&](bool h0, bool ht, bool statePass,
                         const rt::TensorRef &h0Tensor,
                         const rt::TensorRef &htTensor) {
    std::vector<std::string> constants = {
        kc, vc, dc, h0 ? "USE_H0=True" : "USE_H0=False",
        ht ? "STORE_HT=True" : "STORE_HT=False"};
    // tests/gpu/CMakeLists.txt builds the one-block variant too.
    if (chunkBlocksPerMultiprocessor(dims.dtype) == 1) {
      constants.push_back("STAGES=1");
      constants.push_back("BLOCKS=1");
    }
    if (statePass)
      constants.push_back("TRANSITION=" + std::to_string(dims.headK));
    return backend.launch(
        "gdn_chunk", constants,
        {Arg::tensor(qp), Arg::tensor(kp), Arg::tensor(vp), Arg::tensor(ws.ag),
         Arg::tensor(ws.gcum), Arg::tensor(op), Arg::tensor(h0Tensor),
         Arg::tensor(htTensor), Arg::tensor(statesStandIn), Arg::f32(scale),
         Arg::tensor(walked), Arg::tensor(plan.chunkOffsets)});
  };
  if (!split)
    return launchChunk(useH0, storeHt, /*statePass=*/false,
                       useH0 ? initialState : standIn(walks),
                       storeHt ? finalState : standIn(walks));
  // Context parallelism: every segment's zero-start end state and
  // transition, the scan over each sequence's segments (start states and
  // the final state), then o with every segment from its true start.
  if (Status s = launchChunk(false, true, /*statePass=*/true, standIn(walks),
                             ws.segmentStates);
      !s.ok())
    return s;
  if (Status s = backend.launch(
          "gdn_combine", {kc, vc, useH0 ? "USE_H0=True" : "USE_H0=False"},
          {Arg::tensor(ws.segmentStates),
           Arg::tensor(useH0 ? initialState : standIn(dims.numSeqs)),
           Arg::tensor(ws.segmentStarts),
           Arg::tensor(storeHt ? finalState : ws.scratchFinal),
           Arg::tensor(plan.sequenceSegments)});
      !s.ok())
    return s;
  return launchChunk(true, false, /*statePass=*/false, ws.segmentStarts,
                     standIn(walks));
}

namespace {

/// Backend tensors released on every exit path unless kept.
class Scratch {
public:
  explicit Scratch(Backend &backend) : backend(backend) {}
  ~Scratch() {
    for (const rt::TensorRef &t : owned)
      backend.release(t);
  }
  rt::Expected<rt::TensorRef> make(DType dtype, std::vector<int64_t> shape) {
    rt::Expected<rt::TensorRef> t = backend.allocate(dtype, std::move(shape));
    if (t)
      owned.push_back(*t);
    return t;
  }
  /// Hands `t` to the caller: it is no longer released here.
  void keep(const rt::TensorRef &t) {
    owned.erase(std::remove_if(
                    owned.begin(), owned.end(),
                    [&](const rt::TensorRef &o) { return o.data == t.data; }),
                owned.end());
  }

private:
  Backend &backend;
  std::vector<rt::TensorRef> owned;
};

/// Token offsets of the sequences: cu_seqlens, or B rows of T for a dense
/// batch.
std::vector<int32_t> sequenceOffsets(const Dims &dims,
                                     const std::vector<int32_t> *cuSeqlens) {
  if (cuSeqlens)
    return *cuSeqlens;
  std::vector<int32_t> offsets;
  for (int64_t b = 0; b <= dims.batch; ++b)
    offsets.push_back(int32_t(b * dims.tokens));
  return offsets;
}

rt::Expected<Dims> checkCall(const rt::TensorRef &q, const rt::TensorRef &k,
                             const rt::TensorRef &v, const rt::TensorRef &g,
                             const rt::TensorRef &beta,
                             const rt::TensorRef &initialState,
                             const std::vector<int32_t> *cuSeqlens) {
  return checkInputs(q, k, v, g, beta, initialState,
                     cuSeqlens ? int64_t(cuSeqlens->size()) - 1 : -1,
                     cuSeqlens ? cuSeqlens->data() : nullptr);
}

/// FLA's default scale, K^-1/2.
float scaleOrDefault(std::optional<float> scale, const Dims &dims) {
  return scale ? *scale : 1.f / std::sqrt(float(dims.headK));
}

/// The plan's int32 tables in backend memory (owned by `scratch`).
rt::Expected<PlanTensors> uploadPlan(Backend &backend, Scratch &scratch,
                                     const Dims &dims,
                                     const std::vector<int32_t> &offsets,
                                     const ChunkPlan &plan) {
  const int64_t walks = dims.numSegments ? dims.numSegments : dims.numSeqs;
  rt::Expected<rt::TensorRef> cu = scratch.make(DType::I32, {dims.numSeqs + 1});
  rt::Expected<rt::TensorRef> indices =
      scratch.make(DType::I32, {std::max<int64_t>(plan.numChunks, 1), 2});
  rt::Expected<rt::TensorRef> chunkOffsets = scratch.make(DType::I32, {walks});
  for (auto *t : {&cu, &indices, &chunkOffsets})
    if (!*t)
      return t->status();
  if (Status s = backend.upload(*cu, offsets.data(), offsets.size()); !s.ok())
    return s;
  if (plan.numChunks)
    if (Status s = backend.upload(*indices, plan.chunkIndices.data(),
                                  plan.chunkIndices.size());
        !s.ok())
      return s;
  if (Status s = backend.upload(*chunkOffsets, plan.chunkOffsets.data(),
                                plan.chunkOffsets.size());
      !s.ok())
    return s;
  PlanTensors tensors{*cu, *indices, *chunkOffsets, {}, {}};
  if (!dims.numSegments)
    return tensors;
  rt::Expected<rt::TensorRef> segmentOffsets =
      scratch.make(DType::I32, {dims.numSegments + 1});
  rt::Expected<rt::TensorRef> sequenceSegments =
      scratch.make(DType::I32, {dims.numSeqs + 1});
  for (auto *t : {&segmentOffsets, &sequenceSegments})
    if (!*t)
      return t->status();
  for (auto [dst, values] :
       {std::pair{*segmentOffsets, &plan.segmentOffsets},
        std::pair{*sequenceSegments, &plan.sequenceSegments}})
    if (Status s = backend.upload(dst, values->data(), values->size()); !s.ok())
      return s;
  tensors.segmentOffsets = *segmentOffsets;
  tensors.sequenceSegments = *sequenceSegments;
  return tensors;
}

} // namespace

rt::Expected<ForwardResult> tlc::ops::forward(
    Backend &backend, const rt::TensorRef &q, const rt::TensorRef &k,
    const rt::TensorRef &v, const rt::TensorRef &g, const rt::TensorRef &beta,
    const rt::TensorRef &initialState, const std::vector<int32_t> *cuSeqlens,
    const ForwardOptions &options) {
  rt::Expected<Dims> checked =
      checkCall(q, k, v, g, beta, initialState, cuSeqlens);
  if (!checked)
    return checked.status();
  Dims dims = *checked;
  std::vector<int32_t> offsets = sequenceOffsets(dims, cuSeqlens);
  SplitOptions split;
  split.heads = dims.hv;
  split.headK = dims.headK;
  split.multiprocessors = backend.multiprocessors();
  split.dtype = dims.dtype;
  split.segmentChunks = options.segmentChunks;
  ChunkPlan plan =
      planChunks(offsets, kChunk, chooseSegmentChunks(offsets, kChunk, split));
  dims.numChunks = plan.numChunks;
  dims.numSegments =
      plan.segmentOffsets.empty() ? 0 : int64_t(plan.segmentOffsets.size()) - 1;
  const float scale = scaleOrDefault(options.scale, dims);

  Scratch scratch(backend);
  rt::Expected<PlanTensors> tensors =
      uploadPlan(backend, scratch, dims, offsets, plan);
  rt::Expected<rt::TensorRef> workspace =
      scratch.make(DType::I8, {int64_t(Workspace::bytes(dims))});
  if (!tensors)
    return tensors.status();
  rt::Expected<rt::TensorRef> o =
      scratch.make(dims.dtype, {dims.batch, dims.tokens, dims.hv, dims.headV});
  for (auto *t : {&workspace, &o})
    if (!*t)
      return t->status();
  ForwardResult result;
  result.o = *o;
  if (options.outputFinalState) {
    rt::Expected<rt::TensorRef> ht = scratch.make(
        DType::F32, {dims.numSeqs, dims.hv, dims.headK, dims.headV});
    if (!ht)
      return ht.status();
    result.finalState = *ht;
  }
  if (Status s =
          launchForward(backend, dims, q, k, v, g, beta, initialState, *tensors,
                        Workspace::carve(dims, workspace->data), scale,
                        result.o, result.finalState);
      !s.ok())
    return s;
  scratch.keep(result.o);
  if (result.finalState.data)
    scratch.keep(result.finalState);
  return result;
}

rt::Status tlc::ops::checkBackwardInputs(const Dims &dims,
                                         const rt::TensorRef &dO,
                                         const rt::TensorRef &dFinalState) {
  if (Status s =
          expectShape("do", dO, {dims.batch, dims.tokens, dims.hv, dims.headV},
                      "[B, T, H_v, V]");
      !s.ok())
    return s;
  if (dO.dtype != dims.dtype)
    return invalid(fmt::format("do must have the dtype of v ({}), got {}",
                               rt::dtypeName(dims.dtype),
                               rt::dtypeName(dO.dtype)));
  if (Status s = expectContiguous("do", dO); !s.ok())
    return s;
  if (dFinalState.data) {
    if (Status s = expectShape("dht", dFinalState,
                               {dims.numSeqs, dims.hv, dims.headK, dims.headV},
                               "[N, H_v, K, V]");
        !s.ok())
      return s;
    if (dFinalState.dtype != DType::F32)
      return invalid(std::string("dht must be f32, got ") +
                     rt::dtypeName(dFinalState.dtype));
    if (Status s = expectContiguous("dht", dFinalState); !s.ok())
      return s;
  }
  return Status();
}

rt::Status tlc::ops::checkGradients(const Dims &dims,
                                    const BackwardResult &grads) {
  const int64_t b = dims.batch, t = dims.tokens;
  struct Expect {
    const char *name;
    const rt::TensorRef *tensor;
    std::vector<int64_t> shape;
    const char *meaning;
    DType dtype;
  } expected[] = {
      {"dq",
       &grads.dq,
       {b, t, dims.hqk, dims.headK},
       "[B, T, H_qk, K]",
       dims.dtype},
      {"dk",
       &grads.dk,
       {b, t, dims.hqk, dims.headK},
       "[B, T, H_qk, K]",
       dims.dtype},
      {"dv",
       &grads.dv,
       {b, t, dims.hv, dims.headV},
       "[B, T, H_v, V]",
       dims.dtype},
      {"dg", &grads.dg, {b, t, dims.hv}, "[B, T, H_v]", DType::F32},
      {"dbeta", &grads.dbeta, {b, t, dims.hv}, "[B, T, H_v]", DType::F32},
      {"dh0",
       &grads.dh0,
       {dims.numSeqs, dims.hv, dims.headK, dims.headV},
       "[N, H_v, K, V]",
       DType::F32}};
  for (const Expect &e : expected) {
    if (!e.tensor->data && e.tensor == &grads.dh0)
      continue;
    if (Status s = expectShape(e.name, *e.tensor, e.shape, e.meaning); !s.ok())
      return s;
    if (e.tensor->dtype != e.dtype)
      return invalid(fmt::format("{} must be {}, got {}", e.name,
                                 rt::dtypeName(e.dtype),
                                 rt::dtypeName(e.tensor->dtype)));
    if (Status s = expectContiguous(e.name, *e.tensor); !s.ok())
      return s;
  }
  return Status();
}

namespace {
/// The backward workspace's tensors, in BackwardWorkspace's order.
TensorList backwardTensors(const Dims &d) {
  int64_t t = d.batch * d.tokens, chunks = std::max<int64_t>(d.numChunks, 1);
  return {{DType::F32, {d.hv, chunks, kChunk}},
          {d.dtype, {1, t, d.hv, kChunk}},
          {d.dtype, {1, t, d.hv, kChunk}},
          {DType::F32, {chunks, d.hv, d.headK, d.headV}},
          {DType::F32, {chunks, d.hv, d.headK, d.headV}},
          {d.dtype, {1, t, d.hv, kChunk}}};
}
} // namespace

size_t BackwardWorkspace::bytes(const Dims &dims) {
  return listBytes(backwardTensors(dims));
}

BackwardWorkspace BackwardWorkspace::carve(const Dims &dims, void *base) {
  std::vector<rt::TensorRef> p = carveList(backwardTensors(dims), base);
  return BackwardWorkspace{p[0], p[1], p[2], p[3], p[4], p[5]};
}

rt::Status tlc::ops::launchBackward(
    Backend &backend, const Dims &dims, const rt::TensorRef &q,
    const rt::TensorRef &k, const rt::TensorRef &v, const rt::TensorRef &g,
    const rt::TensorRef &beta, const rt::TensorRef &initialState,
    const rt::TensorRef &dO, const rt::TensorRef &dFinalState,
    const PlanTensors &plan, const BackwardWorkspace &ws, float scale,
    const BackwardResult &grads) {
  if (!dims.numChunks)
    return Status();
  if (dims.numSegments)
    return invalid("the backward walks whole sequences: its plan must not "
                   "have segments");
  using rt::Arg;
  rt::TensorRef qp = packed(q), kp = packed(k), vp = packed(v), gp = packed(g),
                bp = packed(beta), dop = packed(dO), dqp = packed(grads.dq),
                dkp = packed(grads.dk), dvp = packed(grads.dv),
                dgp = packed(grads.dg), dbp = packed(grads.dbeta);
  const bool useH0 = initialState.data != nullptr;
  const bool useDht = dFinalState.data != nullptr;
  std::string kc = "K=" + std::to_string(dims.headK);
  std::string vc = "V=" + std::to_string(dims.headV);
  std::string dc = std::string("DT=") + dtypeConstant(dims.dtype);
  // Missing optional tensors: zero-stride stand-ins the kernels never touch.
  auto standIn = [&](DType dtype, std::vector<int64_t> shape) {
    rt::TensorRef t = rt::TensorRef::make(ws.gcum.data, dtype, shape);
    std::fill(t.strides, t.strides + t.rank, 0);
    return t;
  };
  rt::TensorRef states4 =
      standIn(DType::F32, {dims.numSeqs, dims.hv, dims.headK, dims.headV});
  // One solve: A diag(beta) for the state recompute, A for the gradients.
  if (Status s = backend.launch(
          "gdn_solve", {kc, dc, "WRITE_A=True"},
          {Arg::tensor(kp), Arg::tensor(gp), Arg::tensor(bp),
           Arg::tensor(ws.gcum), Arg::tensor(ws.ag), Arg::tensor(ws.a),
           Arg::tensor(plan.cuSeqlens), Arg::tensor(plan.chunkIndices)});
      !s.ok())
    return s;
  std::vector<std::string> chunkConstants = {
      kc, vc, dc, useH0 ? "USE_H0=True" : "USE_H0=False", "STORE_HT=False"};
  if (chunkBlocksPerMultiprocessor(dims.dtype) == 1) {
    chunkConstants.push_back("STAGES=1");
    chunkConstants.push_back("BLOCKS=1");
  }
  chunkConstants.push_back("STATES=True");
  if (Status s = backend.launch(
          "gdn_chunk", chunkConstants,
          {Arg::tensor(qp), Arg::tensor(kp), Arg::tensor(vp),
           Arg::tensor(ws.ag), Arg::tensor(ws.gcum),
           Arg::tensor(standIn(
               dims.dtype, {1, dims.batch * dims.tokens, dims.hv, dims.headV})),
           Arg::tensor(useH0 ? initialState : states4), Arg::tensor(states4),
           Arg::tensor(ws.states), Arg::f32(scale), Arg::tensor(plan.cuSeqlens),
           Arg::tensor(plan.chunkOffsets)});
      !s.ok())
    return s;
  std::vector<std::string> dhConstants = {
      kc, vc, dc, useDht ? "USE_DHT=True" : "USE_DHT=False",
      useH0 ? "STORE_DH0=True" : "STORE_DH0=False"};
  if (dims.dtype == DType::F32)
    dhConstants.push_back("STAGES=1"); // f32 tiles fit one stage
  if (Status s = backend.launch(
          "gdn_bwd_dh", dhConstants,
          {Arg::tensor(qp), Arg::tensor(kp), Arg::tensor(ws.ag),
           Arg::tensor(ws.gcum), Arg::tensor(dop),
           Arg::tensor(useDht ? dFinalState : states4),
           Arg::tensor(ws.stateGrads), Arg::tensor(dvp),
           Arg::tensor(useH0 ? grads.dh0 : states4), Arg::f32(scale),
           Arg::tensor(plan.cuSeqlens), Arg::tensor(plan.chunkOffsets)});
      !s.ok())
    return s;
  return backend.launch(
      "gdn_bwd_chunk", {kc, vc, dc},
      {Arg::tensor(qp), Arg::tensor(kp), Arg::tensor(vp), Arg::tensor(ws.a),
       Arg::tensor(bp), Arg::tensor(ws.gcum), Arg::tensor(dop),
       Arg::tensor(ws.states), Arg::tensor(ws.stateGrads), Arg::tensor(ws.dp),
       Arg::tensor(dqp), Arg::tensor(dkp), Arg::tensor(dgp), Arg::tensor(dbp),
       Arg::f32(scale), Arg::tensor(plan.cuSeqlens),
       Arg::tensor(plan.chunkIndices)});
}

rt::Expected<BackwardResult> tlc::ops::backward(
    Backend &backend, const rt::TensorRef &q, const rt::TensorRef &k,
    const rt::TensorRef &v, const rt::TensorRef &g, const rt::TensorRef &beta,
    const rt::TensorRef &initialState, const rt::TensorRef &dO,
    const rt::TensorRef &dFinalState, const std::vector<int32_t> *cuSeqlens,
    const BackwardOptions &options) {
  rt::Expected<Dims> checked =
      checkCall(q, k, v, g, beta, initialState, cuSeqlens);
  if (!checked)
    return checked.status();
  Dims dims = *checked;
  if (Status s = checkBackwardInputs(dims, dO, dFinalState); !s.ok())
    return s;
  std::vector<int32_t> offsets = sequenceOffsets(dims, cuSeqlens);
  ChunkPlan plan = planChunks(offsets, kChunk);
  dims.numChunks = plan.numChunks;
  const float scale = scaleOrDefault(options.scale, dims);

  Scratch scratch(backend);
  rt::Expected<PlanTensors> tensors =
      uploadPlan(backend, scratch, dims, offsets, plan);
  if (!tensors)
    return tensors.status();
  const size_t workspaceBytes = BackwardWorkspace::bytes(dims);
  rt::Expected<rt::TensorRef> workspace =
      scratch.make(DType::I8, {int64_t(workspaceBytes)});
  rt::Expected<rt::TensorRef> dq =
      scratch.make(dims.dtype, {dims.batch, dims.tokens, dims.hqk, dims.headK});
  rt::Expected<rt::TensorRef> dk =
      scratch.make(dims.dtype, {dims.batch, dims.tokens, dims.hqk, dims.headK});
  rt::Expected<rt::TensorRef> dv =
      scratch.make(dims.dtype, {dims.batch, dims.tokens, dims.hv, dims.headV});
  rt::Expected<rt::TensorRef> dg =
      scratch.make(DType::F32, {dims.batch, dims.tokens, dims.hv});
  rt::Expected<rt::TensorRef> dbeta =
      scratch.make(DType::F32, {dims.batch, dims.tokens, dims.hv});
  for (auto *t : {&workspace, &dq, &dk, &dv, &dg, &dbeta})
    if (!*t)
      return t->status();
  BackwardResult result{*dq, *dk, *dv, *dg, *dbeta, {}};
  if (initialState.data) {
    rt::Expected<rt::TensorRef> dh0 = scratch.make(
        DType::F32, {dims.numSeqs, dims.hv, dims.headK, dims.headV});
    if (!dh0)
      return dh0.status();
    result.dh0 = *dh0;
  }
  if (Status s = launchBackward(backend, dims, q, k, v, g, beta, initialState,
                                dO, dFinalState, *tensors,
                                BackwardWorkspace::carve(dims, workspace->data),
                                scale, result);
      !s.ok())
    return s;
  for (const rt::TensorRef &t :
       {result.dq, result.dk, result.dv, result.dg, result.dbeta, result.dh0})
    if (t.data)
      scratch.keep(t);
  return result;
}

std::string
tlc::ops::gdnVariantName(const std::vector<std::string> &constants) {
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
