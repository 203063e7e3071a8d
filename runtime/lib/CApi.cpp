//===- CApi.cpp - The C ABI (tlc_runtime.h) over the C++ API --------------===//
//
// No exception crosses the ABI: each function converts errors to a
// tlc_status and keeps the message for tlc_last_error().
//
//===----------------------------------------------------------------------===//

#include "tlc/ops/Gdn.h"
#include "tlc/runtime/Runtime.h"
#include "tlc/runtime/tlc_runtime.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <new>

using namespace tlc::rt;

struct tlc_module {
  Module module;
};

static_assert(sizeof(tlc_arg) == 160 && offsetof(tlc_arg, data) == 16 &&
                  offsetof(tlc_arg, shape) == 24 &&
                  offsetof(tlc_arg, strides) == 88 &&
                  offsetof(tlc_arg, scalar) == 152,
              "tlc_arg layout is part of the ABI (docs/runtime.md)");
static_assert(int(DType::Bool) == TLC_DTYPE_BOOL && TLC_MAX_RANK == kMaxRank,
              "C and C++ codes must agree");

namespace {

thread_local std::string lastError;

/// Runs `body` (returning Status), turning errors and exceptions into a code.
template <typename F> tlc_status guarded(F &&body) {
  Status s;
  try {
    s = body();
  } catch (const std::bad_alloc &) {
    s = Status::error(ErrorCode::Driver, "tlc: out of host memory");
  } catch (const std::exception &e) {
    s = Status::error(ErrorCode::InvalidArgument,
                      fmt::format("tlc: internal error: {}", e.what()));
  }
  if (!s.ok())
    lastError = s.message();
  return tlc_status(s.code());
}

Status nullArgument(const char *what) {
  return Status::error(ErrorCode::InvalidArgument,
                       fmt::format("tlc: {} is NULL", what));
}

const KernelInfo &unwrap(const tlc_kernel_info *info) {
  return *reinterpret_cast<const KernelInfo *>(info);
}

const Kernel &unwrap(const tlc_kernel *kernel) {
  return *reinterpret_cast<const Kernel *>(kernel);
}

/// Converts C arguments into `out` (room for kMaxParams) after checking the
/// count against the kernel's.
Status convertArgs(const KernelInfo &info, const tlc_arg *args, int nargs,
                   Arg *out) {
  if (nargs < 0 || (nargs > 0 && !args))
    return Status::error(ErrorCode::InvalidArgument,
                         fmt::format("tlc: kernel '{}': invalid argument array "
                                     "({} arguments at {})",
                                     info.name, nargs, fmt::ptr(args)));
  if (Status s = checkArgCount(info, size_t(nargs)); !s.ok())
    return s;
  for (int i = 0; i < nargs; ++i) {
    const tlc_arg &a = args[i];
    if (a.kind != TLC_ARG_TENSOR && a.kind != TLC_ARG_SCALAR)
      return Status::error(ErrorCode::InvalidArgument,
                           fmt::format("tlc: kernel '{}': argument {} has an "
                                       "invalid kind code {}",
                                       info.name, i, a.kind));
    if (a.dtype < 0 || a.dtype > TLC_DTYPE_BOOL)
      return Status::error(ErrorCode::InvalidArgument,
                           fmt::format("tlc: kernel '{}': argument {} has an "
                                       "invalid dtype code {}",
                                       info.name, i, a.dtype));
    Arg &arg = out[i];
    if (a.kind == TLC_ARG_TENSOR) {
      arg.kind = ArgKind::Tensor;
      arg.ref.data = a.data;
      arg.ref.dtype = DType(a.dtype);
      arg.ref.rank = a.rank;
      std::memcpy(arg.ref.shape, a.shape, sizeof(a.shape));
      std::memcpy(arg.ref.strides, a.strides, sizeof(a.strides));
    } else {
      arg.kind = ArgKind::Scalar;
      arg.scalarType = DType(a.dtype);
      std::memcpy(&arg.value, &a.scalar, sizeof(a.scalar));
    }
  }
  return {};
}

/// A C tensor argument as a TensorRef; `name` is for messages.
Status tensorFromC(const tlc_arg &a, const char *name, TensorRef &out) {
  if (a.kind != TLC_ARG_TENSOR || a.dtype < 0 || a.dtype > TLC_DTYPE_BOOL ||
      a.rank < 0 || a.rank > kMaxRank)
    return Status::error(ErrorCode::InvalidArgument,
                         fmt::format("tlc: GDN argument '{}' is not a valid "
                                     "tensor (kind {}, dtype {}, rank {})",
                                     name, a.kind, a.dtype, a.rank));
  // Extents are non-negative and their product (zeros aside, so that any
  // product of some of them) fits int64: the checks multiply them.
  int64_t product = 1;
  for (int d = 0; d < a.rank; ++d) {
    if (a.shape[d] < 0)
      return Status::error(ErrorCode::InvalidArgument,
                           fmt::format("tlc: GDN argument '{}' has a negative "
                                       "extent: shape[{}] = {}",
                                       name, d, a.shape[d]));
    if (a.shape[d] > 0 && __builtin_mul_overflow(product, a.shape[d], &product))
      return Status::error(ErrorCode::InvalidArgument,
                           fmt::format("tlc: GDN argument '{}' has more "
                                       "elements than int64 counts",
                                       name));
  }
  out.data = a.data;
  out.dtype = DType(a.dtype);
  out.rank = a.rank;
  std::memcpy(out.shape, a.shape, sizeof(a.shape));
  std::memcpy(out.strides, a.strides, sizeof(a.strides));
  return {};
}

/// Converts and checks the GDN arguments.
struct GdnCall {
  TensorRef q, k, v, g, beta, h0, o, ht;
  tlc::ops::PlanTensors plan;
  tlc::ops::Dims dims;
};
Status gdnFromC(const tlc_gdn_forward_args *args, GdnCall &call) {
  if (!args)
    return nullArgument("the GDN arguments");
  std::pair<const tlc_arg *, TensorRef *> fields[] = {
      {&args->q, &call.q},
      {&args->k, &call.k},
      {&args->v, &call.v},
      {&args->g, &call.g},
      {&args->beta, &call.beta},
      {&args->cu_seqlens, &call.plan.cuSeqlens},
      {&args->chunk_indices, &call.plan.chunkIndices},
      {&args->chunk_offsets, &call.plan.chunkOffsets},
      {&args->o, &call.o}};
  const char *names[] = {"q",
                         "k",
                         "v",
                         "g",
                         "beta",
                         "cu_seqlens",
                         "chunk_indices",
                         "chunk_offsets",
                         "o"};
  for (size_t i = 0; i < std::size(fields); ++i)
    if (Status s = tensorFromC(*fields[i].first, names[i], *fields[i].second);
        !s.ok())
      return s;
  if (args->initial_state.data)
    if (Status s = tensorFromC(args->initial_state, "initial_state", call.h0);
        !s.ok())
      return s;
  if (args->final_state.data)
    if (Status s = tensorFromC(args->final_state, "final_state", call.ht);
        !s.ok())
      return s;
  tlc::ops::PlanTensors &plan = call.plan;
  const bool split = args->segment_offsets.data != nullptr;
  if (split != (args->sequence_segments.data != nullptr))
    return Status::error(ErrorCode::InvalidArgument,
                         "tlc: GDN: segment_offsets and sequence_segments go "
                         "together (both or neither)");
  if (split) {
    if (Status s = tensorFromC(args->segment_offsets, "segment_offsets",
                               plan.segmentOffsets);
        !s.ok())
      return s;
    if (Status s = tensorFromC(args->sequence_segments, "sequence_segments",
                               plan.sequenceSegments);
        !s.ok())
      return s;
  }
  if (plan.cuSeqlens.rank != 1 || plan.chunkIndices.rank != 2 ||
      plan.chunkOffsets.rank != 1)
    return Status::error(ErrorCode::InvalidArgument,
                         "tlc: GDN: cu_seqlens must be [N+1], chunk_indices "
                         "[NT, 2] and chunk_offsets [N] (or [S] with "
                         "segments)");
  // A dense batch is passed with cu_seqlens too; view it as packed.
  int64_t numSeqs = plan.cuSeqlens.shape[0] - 1;
  int64_t numSegments = 0;
  if (split) {
    if (plan.segmentOffsets.rank != 1 || plan.segmentOffsets.shape[0] < 2 ||
        plan.sequenceSegments.rank != 1 ||
        plan.sequenceSegments.shape[0] != numSeqs + 1)
      return Status::error(
          ErrorCode::InvalidArgument,
          fmt::format("tlc: GDN: segment_offsets must be [S+1] (S >= 1) and "
                      "sequence_segments [N+1] = [{}], got ranks {} and {}, "
                      "sizes {} and {}",
                      numSeqs + 1, plan.segmentOffsets.rank,
                      plan.sequenceSegments.rank, plan.segmentOffsets.shape[0],
                      plan.sequenceSegments.shape[0]));
    numSegments = plan.segmentOffsets.shape[0] - 1;
  }
  const int64_t walks = split ? numSegments : numSeqs;
  if (plan.chunkOffsets.shape[0] != walks)
    return Status::error(
        ErrorCode::InvalidArgument,
        fmt::format("tlc: GDN: chunk_offsets must have one entry per {} ({}), "
                    "got {}",
                    split ? "segment" : "sequence", walks,
                    plan.chunkOffsets.shape[0]));
  TensorRef q = call.q, k = call.k, v = call.v, g = call.g, beta = call.beta;
  for (TensorRef *t : {&q, &k, &v, &g, &beta}) {
    t->shape[1] *= t->shape[0];
    t->shape[0] = 1;
  }
  Expected<tlc::ops::Dims> dims = tlc::ops::checkInputs(
      q, k, v, g, beta, call.h0, numSeqs, /*cuSeqlens=*/nullptr);
  if (!dims)
    return dims.status();
  call.dims = *dims;
  call.dims.batch = call.q.shape[0];
  call.dims.tokens = call.q.shape[1];
  call.dims.numChunks = plan.chunkIndices.shape[0];
  call.dims.numSegments = numSegments;
  return {};
}

/// Converts and checks the backward's arguments: the forward's (through
/// gdnFromC, with d_o standing in for o) and the gradients.
struct GdnBackwardCall {
  GdnCall forward;
  TensorRef dO, dht;
  tlc::ops::BackwardResult grads;
};
Status gdnBackwardFromC(const tlc_gdn_backward_args *args,
                        GdnBackwardCall &call) {
  if (!args)
    return nullArgument("the GDN backward arguments");
  tlc_gdn_forward_args forward{};
  forward.q = args->q;
  forward.k = args->k;
  forward.v = args->v;
  forward.g = args->g;
  forward.beta = args->beta;
  forward.initial_state = args->initial_state;
  forward.cu_seqlens = args->cu_seqlens;
  forward.chunk_indices = args->chunk_indices;
  forward.chunk_offsets = args->chunk_offsets;
  forward.o = args->d_o;
  if (Status s = gdnFromC(&forward, call.forward); !s.ok())
    return s;
  call.dO = call.forward.o;
  if (args->d_final_state.data)
    if (Status s = tensorFromC(args->d_final_state, "d_final_state", call.dht);
        !s.ok())
      return s;
  tlc::ops::BackwardResult &g = call.grads;
  std::pair<const tlc_arg *, TensorRef *> fields[] = {{&args->dq, &g.dq},
                                                      {&args->dk, &g.dk},
                                                      {&args->dv, &g.dv},
                                                      {&args->dg, &g.dg},
                                                      {&args->dbeta, &g.dbeta}};
  const char *names[] = {"dq", "dk", "dv", "dg", "dbeta"};
  for (size_t i = 0; i < std::size(fields); ++i)
    if (Status s = tensorFromC(*fields[i].first, names[i], *fields[i].second);
        !s.ok())
      return s;
  if (call.forward.h0.data)
    if (Status s = tensorFromC(args->dh0, "dh0", g.dh0); !s.ok())
      return s;
  if (Status s =
          tlc::ops::checkBackwardInputs(call.forward.dims, call.dO, call.dht);
      !s.ok())
    return s;
  return tlc::ops::checkGradients(call.forward.dims, g);
}

/// Stores a loaded module in `*out`.
Status wrapModule(Expected<Module> m, tlc_module **out) {
  if (!m)
    return m.status();
  *out = new tlc_module{std::move(*m)};
  return {};
}

/// Copies and checks host offsets of packed sequences for the planners.
Status planOffsets(const int32_t *cuSeqlens, int64_t numSeqs,
                   std::vector<int32_t> &cu) {
  // cu_seqlens holds int32 token offsets, so more sequences than int32
  // can count is a bad count (and reading numSeqs + 1 of them would run
  // past any array the caller has).
  if (numSeqs < 1 || numSeqs >= std::numeric_limits<int32_t>::max())
    return Status::error(ErrorCode::InvalidArgument,
                         fmt::format("tlc: GDN plan: num_seqs must be in [1, "
                                     "{}], got {}",
                                     std::numeric_limits<int32_t>::max() - 1,
                                     numSeqs));
  cu.assign(cuSeqlens, cuSeqlens + numSeqs + 1);
  for (int64_t i = 0; i <= numSeqs; ++i)
    if (cu[i] < (i ? cu[i - 1] : 0))
      return Status::error(
          ErrorCode::InvalidArgument,
          fmt::format("tlc: GDN plan: cu_seqlens must be non-negative and "
                      "non-decreasing, but cu_seqlens[{}] = {}",
                      i, cu[i]));
  return Status();
}

/// A planner's list of `count` ints against the caller's `capacity`,
/// checked from the count before the list is built (a small chunk over a
/// long batch would otherwise build gigabytes for a buffer they cannot fit).
Status checkCapacity(int64_t count, int64_t capacity, const char *what) {
  if (count > capacity)
    return Status::error(ErrorCode::InvalidArgument,
                         fmt::format("tlc: GDN plan: {} {} do not fit the "
                                     "capacity {}",
                                     count, what, capacity));
  return Status();
}

/// The caller's workspace for a GDN call that needs `need` bytes (a dry run
/// needs none); `what` names the call in the message.
Status checkWorkspace(const char *what, size_t need, const void *workspace,
                      size_t bytes, bool dryRun) {
  if (!dryRun && (!workspace || bytes < need))
    return Status::error(ErrorCode::InvalidArgument,
                         fmt::format("tlc: {} needs a workspace of {} bytes, "
                                     "got {} at {}",
                                     what, need, bytes, fmt::ptr(workspace)));
  return Status();
}

/// A dry run's workspace: a base no launch dereferences (the check backend
/// touches no memory), far from null so that carving it stays in range.
void *const kDryRunWorkspace = reinterpret_cast<void *>(uintptr_t(1) << 44);

/// The GDN forward on `backend` (a real one after the workspace check, or
/// the kernel check with `dryRun`).
Status runForward(tlc::ops::Backend &backend, const tlc_gdn_forward_args *args,
                  bool dryRun) {
  GdnCall call;
  if (Status s = gdnFromC(args, call); !s.ok())
    return s;
  if (Status s = checkWorkspace("GDN", tlc::ops::Workspace::bytes(call.dims),
                                args->workspace, args->workspace_bytes, dryRun);
      !s.ok())
    return s;
  return tlc::ops::launchForward(
      backend, call.dims, call.q, call.k, call.v, call.g, call.beta, call.h0,
      call.plan,
      tlc::ops::Workspace::carve(call.dims,
                                 dryRun ? kDryRunWorkspace : args->workspace),
      args->scale, call.o, call.ht);
}

/// The GDN backward on `backend`, as runForward.
Status runBackward(tlc::ops::Backend &backend,
                   const tlc_gdn_backward_args *args, bool dryRun) {
  GdnBackwardCall call;
  if (Status s = gdnBackwardFromC(args, call); !s.ok())
    return s;
  const tlc::ops::Dims &dims = call.forward.dims;
  if (Status s = checkWorkspace("GDN backward",
                                tlc::ops::BackwardWorkspace::bytes(dims),
                                args->workspace, args->workspace_bytes, dryRun);
      !s.ok())
    return s;
  const GdnCall &f = call.forward;
  return tlc::ops::launchBackward(
      backend, dims, f.q, f.k, f.v, f.g, f.beta, f.h0, call.dO, call.dht,
      f.plan,
      tlc::ops::BackwardWorkspace::carve(dims, dryRun ? kDryRunWorkspace
                                                      : args->workspace),
      args->scale, call.grads);
}
/// A GDN entry point: `run` (runForward or runBackward) on the CUDA backend
/// of `kernelDir`, or, with `dryRun`, on the kernel check.
template <class Args>
tlc_status gdnEntry(const char *kernelDir, void *stream, const Args *args,
                    bool dryRun,
                    Status (*run)(tlc::ops::Backend &, const Args *, bool)) {
  return guarded([&] {
    if (!kernelDir)
      return nullArgument("the kernel folder");
    if (dryRun) {
      tlc::ops::CompiledKernelCheck backend(kernelDir);
      return run(backend, args, true);
    }
    tlc::ops::CudaBackend backend(kernelDir, static_cast<CUstream>(stream));
    return run(backend, args, false);
  });
}
} // namespace

extern "C" {

tlc_status tlc_init(int device) {
  return guarded([&] { return initDevice(device); });
}

tlc_status tlc_module_load_files(const char *ptx_path, const char *json_path,
                                 tlc_module **out) {
  return guarded([&] {
    if (!ptx_path || !json_path || !out)
      return nullArgument("a path or the output pointer");
    return wrapModule(Module::loadFiles(ptx_path, json_path), out);
  });
}

tlc_status tlc_module_load_data(const void *image, size_t size,
                                const char *json, tlc_module **out) {
  return guarded([&] {
    if (!image || !json || !out)
      return nullArgument("the image, the metadata or the output pointer");
    return wrapModule(
        Module::load({static_cast<const char *>(image), size}, json), out);
  });
}

void tlc_module_free(tlc_module *module) { delete module; }

tlc_status tlc_module_kernel(tlc_module *module, tlc_kernel **out) {
  return guarded([&] {
    if (!module || !out)
      return nullArgument("the module or the output pointer");
    *out = reinterpret_cast<tlc_kernel *>(&module->module.kernel());
    return Status();
  });
}

tlc_status tlc_kernel_launch(tlc_kernel *kernel, void *stream,
                             const tlc_arg *args, int nargs) {
  return guarded([&] {
    if (!kernel)
      return nullArgument("the kernel");
    const Kernel &k = unwrap(kernel);
    Arg converted[kMaxParams];
    if (Status s = convertArgs(k.info(), args, nargs, converted); !s.ok())
      return s;
    return k.launch(static_cast<CUstream>(stream), {converted, size_t(nargs)});
  });
}

const tlc_kernel_info *tlc_kernel_get_info(const tlc_kernel *kernel) {
  return kernel
             ? reinterpret_cast<const tlc_kernel_info *>(&unwrap(kernel).info())
             : nullptr;
}

tlc_status tlc_kernel_info_parse(const char *json, tlc_kernel_info **out) {
  return guarded([&] {
    if (!json || !out)
      return nullArgument("the metadata or the output pointer");
    Expected<KernelInfo> info = parseKernelInfo(json);
    if (!info)
      return info.status();
    *out =
        reinterpret_cast<tlc_kernel_info *>(new KernelInfo(std::move(*info)));
    return Status();
  });
}

tlc_status tlc_check_args(const tlc_kernel_info *info, const tlc_arg *args,
                          int nargs, uint32_t grid[3]) {
  return guarded([&] {
    if (!info)
      return nullArgument("the kernel info");
    Arg converted[kMaxParams];
    if (Status s = convertArgs(unwrap(info), args, nargs, converted); !s.ok())
      return s;
    Expected<LaunchPlan> plan =
        planLaunch(unwrap(info), {converted, size_t(nargs)});
    if (!plan)
      return plan.status();
    if (grid)
      std::copy_n(plan->grid, 3, grid);
    return Status();
  });
}

void tlc_kernel_info_free(tlc_kernel_info *info) {
  delete reinterpret_cast<KernelInfo *>(info);
}

const char *tlc_last_error(void) { return lastError.c_str(); }

tlc_status tlc_gdn_workspace_bytes(const tlc_gdn_forward_args *args,
                                   size_t *bytes) {
  return guarded([&] {
    GdnCall call;
    if (!bytes)
      return nullArgument("the output pointer");
    if (Status s = gdnFromC(args, call); !s.ok())
      return s;
    *bytes = tlc::ops::Workspace::bytes(call.dims);
    return Status();
  });
}

tlc_status tlc_gdn_forward(const char *kernel_dir, void *stream,
                           const tlc_gdn_forward_args *args) {
  return gdnEntry(kernel_dir, stream, args, /*dryRun=*/false, runForward);
}

tlc_status tlc_gdn_forward_check_kernels(const char *kernel_dir,
                                         const tlc_gdn_forward_args *args) {
  return gdnEntry(kernel_dir, nullptr, args, /*dryRun=*/true, runForward);
}

tlc_status tlc_gdn_backward_workspace_bytes(const tlc_gdn_backward_args *args,
                                            size_t *bytes) {
  return guarded([&] {
    GdnBackwardCall call;
    if (!bytes)
      return nullArgument("the output pointer");
    if (Status s = gdnBackwardFromC(args, call); !s.ok())
      return s;
    *bytes = tlc::ops::BackwardWorkspace::bytes(call.forward.dims);
    return Status();
  });
}

tlc_status tlc_gdn_backward(const char *kernel_dir, void *stream,
                            const tlc_gdn_backward_args *args) {
  return gdnEntry(kernel_dir, stream, args, /*dryRun=*/false, runBackward);
}

tlc_status tlc_gdn_backward_check_kernels(const char *kernel_dir,
                                          const tlc_gdn_backward_args *args) {
  return gdnEntry(kernel_dir, nullptr, args, /*dryRun=*/true, runBackward);
}

tlc_status tlc_gdn_plan_chunks(const int32_t *cu_seqlens, int64_t num_seqs,
                               int64_t chunk, int32_t *chunk_indices,
                               int64_t capacity, int32_t *chunk_offsets,
                               int64_t *num_chunks) {
  return guarded([&] {
    if (!cu_seqlens || !chunk_offsets || !num_chunks ||
        (!chunk_indices && capacity > 0))
      return nullArgument("a GDN plan pointer");
    if (chunk < 1)
      return Status::error(ErrorCode::InvalidArgument,
                           fmt::format("tlc: GDN plan: chunk must be >= 1, "
                                       "got {}",
                                       chunk));
    std::vector<int32_t> cu;
    if (Status st = planOffsets(cu_seqlens, num_seqs, cu); !st.ok())
      return st;
    if (Status st = checkCapacity(2 * tlc::ops::countChunks(cu, chunk),
                                  capacity, "chunk index entries");
        !st.ok())
      return st;
    tlc::ops::ChunkPlan plan = tlc::ops::planChunks(cu, chunk);
    std::copy(plan.chunkIndices.begin(), plan.chunkIndices.end(),
              chunk_indices);
    std::copy(plan.chunkOffsets.begin(), plan.chunkOffsets.end(),
              chunk_offsets);
    *num_chunks = plan.numChunks;
    return Status();
  });
}

tlc_status tlc_gdn_plan_segments(const int32_t *cu_seqlens, int64_t num_seqs,
                                 int64_t heads, int64_t head_k,
                                 int multiprocessors, int dtype,
                                 int64_t segment_chunks,
                                 int32_t *segment_offsets, int64_t capacity,
                                 int32_t *sequence_segments, int64_t *count) {
  return guarded([&] {
    if (!cu_seqlens || !segment_offsets || !sequence_segments || !count)
      return nullArgument("a GDN plan pointer");
    // Heads are a grid axis of the kernels (at most 65535 blocks); the
    // bounds also keep the cost model's products in range.
    if (heads < 1 || heads > 65535 || head_k < 1 || head_k > 4096)
      return Status::error(ErrorCode::InvalidArgument,
                           fmt::format("tlc: GDN plan: heads must be in [1, "
                                       "65535] and head_k in [1, 4096], got "
                                       "{} and {}",
                                       heads, head_k));
    std::vector<int32_t> cu;
    if (Status st = planOffsets(cu_seqlens, num_seqs, cu); !st.ok())
      return st;
    tlc::ops::SplitOptions split;
    split.heads = heads;
    split.headK = head_k;
    split.multiprocessors = multiprocessors;
    if (dtype < TLC_DTYPE_BF16 || dtype > TLC_DTYPE_BOOL)
      return Status::error(
          ErrorCode::InvalidArgument,
          fmt::format("tlc: GDN plan: invalid dtype code {}", dtype));
    split.dtype = DType(dtype);
    split.segmentChunks = segment_chunks;
    int64_t length = tlc::ops::chooseSegmentChunks(cu, 64, split);
    *count = 0;
    if (!length)
      return Status();
    if (Status st = checkCapacity(tlc::ops::countSegmentOffsets(cu, 64, length),
                                  capacity, "segment offsets");
        !st.ok())
      return st;
    tlc::ops::ChunkPlan plan = tlc::ops::planChunks(cu, 64, length);
    std::copy(plan.segmentOffsets.begin(), plan.segmentOffsets.end(),
              segment_offsets);
    std::copy(plan.sequenceSegments.begin(), plan.sequenceSegments.end(),
              sequence_segments);
    *count = int64_t(plan.segmentOffsets.size());
    return Status();
  });
}

} // extern "C"
