//===- GdnArgsFuzzer.cpp - libFuzzer harness: the GDN operator's C ABI ----===//
//
// Part of tlc. Hostile calls of the GDN entry points that need no GPU: the
// argument checks of the forward and the backward (through their
// workspace-size queries, which check every tensor a launch would) and the
// two host planners, with descriptors that are almost right (dtypes and
// ranks as documented, bad shapes, strides and pointers) or random, and
// arbitrary cu_seqlens. Properties: no crash or undefined behaviour (ASan,
// UBSan); every failure says why; a planner that succeeds wrote within the
// capacity it was given and returned offsets that cover the tokens.
//
//===----------------------------------------------------------------------===//

#include "FuzzInput.h"

#include "tlc/runtime/tlc_runtime.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <vector>

namespace {
using tlc::fuzz::FuzzInput;

void requireReason(tlc_status status) {
  if (status != TLC_OK && !*tlc_last_error())
    std::abort();
}

/// A tensor argument shaped like the documented one of that rank and dtype,
/// or a random one; `optional` ones are sometimes absent (data NULL).
tlc_arg tensor(FuzzInput &in, int dtype, int rank, bool optional = false) {
  tlc_arg a = in.argument(TLC_ARG_TENSOR, dtype, rank);
  if (optional && in.byte() < 64)
    a.data = nullptr;
  return a;
}

/// The fields both directions share: the inputs (q, k, v in dtype `dt`),
/// the plan, the workspace and the scale.
template <class Args> void sharedFields(FuzzInput &in, int dt, Args &args) {
  args.q = tensor(in, dt, 4);
  args.k = tensor(in, dt, 4);
  args.v = tensor(in, dt, 4);
  args.g = tensor(in, TLC_DTYPE_F32, 3);
  args.beta = tensor(in, in.byte() % 2 ? TLC_DTYPE_F32 : dt, 3);
  args.initial_state = tensor(in, TLC_DTYPE_F32, 4, true);
  args.cu_seqlens = tensor(in, TLC_DTYPE_I32, 1);
  args.chunk_indices = tensor(in, TLC_DTYPE_I32, 2);
  args.chunk_offsets = tensor(in, TLC_DTYPE_I32, 1);
  args.workspace = in.pointer();
  args.workspace_bytes = size_t(in.integer());
  args.scale = float(in.integer());
}

void forward(FuzzInput &in) {
  int dt = in.byte() % 3; // bf16, f16, f32
  tlc_gdn_forward_args args;
  sharedFields(in, dt, args);
  args.o = tensor(in, dt, 4);
  args.final_state = tensor(in, TLC_DTYPE_F32, 4, true);
  args.segment_offsets = tensor(in, TLC_DTYPE_I32, 1, true);
  args.sequence_segments = tensor(in, TLC_DTYPE_I32, 1, true);
  size_t bytes = 0;
  requireReason(tlc_gdn_workspace_bytes(in.byte() < 8 ? nullptr : &args,
                                        in.byte() < 8 ? nullptr : &bytes));
}

void backward(FuzzInput &in) {
  int dt = in.byte() % 3;
  tlc_gdn_backward_args args;
  sharedFields(in, dt, args);
  args.d_o = tensor(in, dt, 4);
  args.d_final_state = tensor(in, TLC_DTYPE_F32, 4, true);
  args.dq = tensor(in, dt, 4);
  args.dk = tensor(in, dt, 4);
  args.dv = tensor(in, dt, 4);
  args.dg = tensor(in, TLC_DTYPE_F32, 3);
  args.dbeta = tensor(in, TLC_DTYPE_F32, 3);
  args.dh0 = tensor(in, TLC_DTYPE_F32, 4, true);
  size_t bytes = 0;
  requireReason(tlc_gdn_backward_workspace_bytes(
      in.byte() < 8 ? nullptr : &args, &bytes));
}

/// cu_seqlens of up to 64 sequences: usually non-decreasing from 0 with
/// small or edge steps, sometimes arbitrary (int32 extremes included).
std::vector<int32_t> offsets(FuzzInput &in) {
  std::vector<int32_t> cu(in.byte() % 66);
  bool arbitrary = in.byte() < 32;
  int64_t at = 0;
  for (int32_t &c : cu) {
    if (arbitrary) {
      c = int32_t(in.integer());
      continue;
    }
    c = int32_t(at);
    int64_t step =
        in.byte() < 200 ? in.byte() * 7 : in.integer() % (int64_t(1) << 32);
    // Up to 4M tokens: the planners' work grows with the tokens, and the
    // int32 extremes come from the arbitrary lists.
    at = std::min<int64_t>(at + step, int64_t(1) << 22);
    at = std::max<int64_t>(at, 0);
  }
  return cu;
}

/// The count of sequences passed with `cu`: its own, one that overstates it
/// by an amount no int32 offsets can describe (which must be refused before
/// the array is read), or zero or negative.
int64_t sequenceCount(FuzzInput &in, const std::vector<int32_t> &cu) {
  int64_t own = cu.empty() ? 0 : int64_t(cu.size()) - 1;
  switch (in.byte() % 16) {
  case 0:
    return int64_t(std::numeric_limits<int32_t>::max()) + in.byte();
  case 1:
    return std::numeric_limits<int64_t>::max() - int64_t(in.byte());
  case 2:
    return -int64_t(in.byte());
  default:
    return own;
  }
}

void planChunks(FuzzInput &in) {
  std::vector<int32_t> cu = offsets(in);
  int64_t seqs = sequenceCount(in, cu);
  int64_t chunk = in.byte() < 224 ? 64 : in.integer();
  int64_t capacity = in.byte() < 128 ? 1 + in.byte() * 4 : 4096;
  std::vector<int32_t> indices(size_t(std::max<int64_t>(capacity, 0)) + 1);
  std::vector<int32_t> firsts(cu.size() + 1);
  int64_t count = -1;
  tlc_status status =
      tlc_gdn_plan_chunks(cu.empty() ? nullptr : cu.data(), seqs, chunk,
                          indices.data(), capacity, firsts.data(), &count);
  requireReason(status);
  if (status == TLC_OK && (count < 0 || 2 * count > capacity))
    std::abort();
}

void planSegments(FuzzInput &in) {
  std::vector<int32_t> cu = offsets(in);
  int64_t seqs = sequenceCount(in, cu);
  int64_t heads = in.integer(), headK = in.byte() % 2 ? 128 : in.integer();
  int sms = int(in.integer()), dtype = int(in.integer() % 9);
  int64_t segmentChunks =
      in.byte() < 128 ? int64_t(in.byte() % 9) - 1 : in.integer();
  int64_t capacity = in.byte() < 128 ? int64_t(in.byte()) : 8192;
  std::vector<int32_t> segments(size_t(std::max<int64_t>(capacity, 0)) + 1);
  std::vector<int32_t> sequenceSegments(cu.size() + 1);
  int64_t count = -1;
  tlc_status status =
      tlc_gdn_plan_segments(cu.empty() ? nullptr : cu.data(), seqs, heads,
                            headK, sms, dtype, segmentChunks, segments.data(),
                            capacity, sequenceSegments.data(), &count);
  requireReason(status);
  if (status == TLC_OK && (count < 0 || count > capacity))
    std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in(data, size);
  switch (in.byte() % 4) {
  case 0:
    forward(in);
    break;
  case 1:
    backward(in);
    break;
  case 2:
    planChunks(in);
    break;
  default:
    planSegments(in);
    break;
  }
  return 0;
}
