//===- Gdn.h - Gated DeltaNet forward: host logic --------------*- C++ -*-===//
//
// The host side of GDN chunked prefill, forward and backward
// (docs/kernels/gdn.md): argument
// checks, chunk indices for packed sequences, buffers between kernels and
// the launch order of kernels/gdn/gdn.tl. Kernels run through a backend:
// the CUDA runtime (GPU) or the CPU interpreter (tests, CI), so the same
// host logic is tested without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_OPS_GDN_H
#define TLC_OPS_GDN_H

#include "tlc/runtime/Runtime.h"

#include <string>
#include <string_view>
#include <vector>

namespace tlc::ops {

/// Where GDN's kernels run. Tensors are rt::TensorRefs whose `data` means
/// what the backend says (device pointers for CUDA).
class Backend {
public:
  virtual ~Backend() = default;
  /// Contiguous storage of the given shape; contents undefined.
  virtual rt::Expected<rt::TensorRef> allocate(rt::DType dtype,
                                               std::vector<int64_t> shape) = 0;
  virtual void release(const rt::TensorRef &tensor) = 0;
  /// Copies `count` int32 values from the host into `dst`.
  virtual rt::Status upload(const rt::TensorRef &dst, const int32_t *values,
                            size_t count) = 0;
  /// Launches `kernel` of kernels/gdn/gdn.tl instantiated with
  /// `constants` (each "NAME=VALUE", as for tlc -D).
  virtual rt::Status launch(std::string_view kernel,
                            const std::vector<std::string> &constants,
                            std::vector<rt::Arg> args) = 0;
  /// Multiprocessors of the device, for the context-parallel split; 0 when
  /// unknown (then sequences are split only when asked).
  virtual int multiprocessors() { return 0; }
};

struct ForwardOptions {
  /// Defaults to K^-1/2 when not set.
  std::optional<float> scale;
  bool outputFinalState = false;
  /// Context parallelism: 0 lets splitSequences decide, < 0 never splits,
  /// > 0 cuts every longer sequence into segments of this many chunks.
  int64_t segmentChunks = 0;
};

struct ForwardResult {
  rt::TensorRef o;          // [B, T, H_v, V], dtype of v
  rt::TensorRef finalState; // [N, H_v, K, V] f32 (data null unless asked)
};

/// o, final_state = GDN(q, k, v, g, beta) with FLA's conventions:
/// q, k [B, T, H_qk, K]; v [B, T, H_v, V]; g, beta [B, T, H_v] f32;
/// initial_state [N, H_v, K, V] f32 (optional: data == nullptr for none);
/// cu_seqlens (host, N+1 offsets) packs N sequences along T when B == 1.
/// The caller releases the results with backend.release().
rt::Expected<ForwardResult>
forward(Backend &backend, const rt::TensorRef &q, const rt::TensorRef &k,
        const rt::TensorRef &v, const rt::TensorRef &g,
        const rt::TensorRef &beta, const rt::TensorRef &initialState,
        const std::vector<int32_t> *cuSeqlens, const ForwardOptions &options);

/// The problem's sizes, from checked arguments.
struct Dims {
  int64_t batch = 0, tokens = 0, hqk = 0, hv = 0, headK = 0, headV = 0;
  int64_t numSeqs = 0, numChunks = 0;
  /// Segments of context parallelism; 0: sequences are not split.
  int64_t numSegments = 0;
  rt::DType dtype = rt::DType::BF16;
};

/// Intermediate tensors between the kernels, carved from one workspace:
/// the chunk-local cumsum of g, chunk-major [H_v, NT, 64] f32 (a sequence's
/// padded rows hold its last row's value), and the gated inverse per chunk,
/// A_g = Ab * M with Ab = (I + StrictLower(diag(beta) K K^T))^-1 diag(beta)
/// and M[i, j] = e^(gcum_i - gcum_j) for i >= j (else 0),
/// [1, T, H_v, 64] in the dtype of q. With S segments (context
/// parallelism), also each segment's zero-start end state beside its
/// transition, [S, H_v, K, V + K] f32, each segment's start state
/// [S, H_v, K, V] f32, and a final state the caller did not ask for
/// [N, H_v, K, V] f32 (the scan writes one anyway).
struct Workspace {
  rt::TensorRef gcum, ag;
  rt::TensorRef segmentStates, segmentStarts, scratchFinal;
  /// Bytes of workspace for `dims` (256-byte aligned pieces).
  static size_t bytes(const Dims &dims);
  static Workspace carve(const Dims &dims, void *base);
};

/// Checks q, k, v, g, beta, the initial state (data == nullptr: none) and
/// returns the sizes (`numChunks` left 0). `numSeqs` < 0 means a dense
/// batch; otherwise B must be 1 and, when `cuSeqlens` (host, numSeqs + 1
/// offsets) is given, its contents are checked too.
rt::Expected<Dims> checkInputs(const rt::TensorRef &q, const rt::TensorRef &k,
                               const rt::TensorRef &v, const rt::TensorRef &g,
                               const rt::TensorRef &beta,
                               const rt::TensorRef &initialState,
                               int64_t numSeqs, const int32_t *cuSeqlens);

/// The int32 device tensors that say how the kernels walk the tokens:
/// cuSeqlens [N+1]; chunkIndices [NT, 2] and chunkOffsets [N or S] of the
/// sequences, or of the segments when there are any; segmentOffsets [S+1]
/// (token offsets of the segments) and sequenceSegments [N+1] (sequence n
/// owns segments sequenceSegments[n] .. [n+1]-1), data null without
/// context parallelism.
struct PlanTensors {
  rt::TensorRef cuSeqlens, chunkIndices, chunkOffsets;
  rt::TensorRef segmentOffsets, sequenceSegments;
};

/// Launches the kernels on memory the caller provides: no allocation and no
/// host copy, so a CUDA backend call can be captured in a graph.
/// `finalState.data == nullptr` skips the final state.
rt::Status launchForward(Backend &backend, const Dims &dims,
                         const rt::TensorRef &q, const rt::TensorRef &k,
                         const rt::TensorRef &v, const rt::TensorRef &g,
                         const rt::TensorRef &beta,
                         const rt::TensorRef &initialState,
                         const PlanTensors &plan, const Workspace &workspace,
                         float scale, const rt::TensorRef &o,
                         const rt::TensorRef &finalState);

/// Context parallelism (docs/kernels/gdn.md): when few (sequence, head)
/// chains would leave multiprocessors idle, sequences are cut into
/// chunk-aligned segments that run in parallel.
struct SplitOptions {
  int64_t heads = 1;                 // value heads
  int64_t headK = 128;               // K = V: gdn_chunk's blocks per head
  int multiprocessors = 0;           // 0: unknown, never split unless forced
  rt::DType dtype = rt::DType::BF16; // of q, k, v: gdn_chunk's variant
  /// 0: choose by the cost model below; < 0: never; > 0: this many chunks.
  int64_t segmentChunks = 0;
};

/// Blocks of gdn_chunk a multiprocessor runs for inputs of `dtype`: two, or
/// one for f32, whose tiles are twice the bytes (that variant also has one
/// stage); launchForward picks the variant and the split's cost model
/// counts waves by the same number.
int chunkBlocksPerMultiprocessor(rt::DType dtype);

/// The segment length in chunks for sequences of `cuSeqlens`, or 0 for no
/// split. The model counts waves of gdn_chunk's blocks (two a
/// multiprocessor) times serial chunk steps: unsplit, max chunks per
/// sequence; split into L-chunk segments, the state pass (V + K columns, a
/// step ~0.6 of an output step), the output pass over L, and the scan over
/// the longest sequence's segments (a step ~2). It splits when that saves
/// a fifth or more.
int64_t chooseSegmentChunks(const std::vector<int32_t> &cuSeqlens,
                            int64_t chunk, const SplitOptions &split);

/// For packed sequences: (sequence, chunk in sequence) for every chunk of
/// `chunk` tokens, and the index of each sequence's first chunk. With
/// `segmentChunks` > 0, sequences longer than that are cut into segments of
/// that many chunks (the rest last) and the chunk lists index segments.
struct ChunkPlan {
  std::vector<int32_t> chunkIndices; // 2 per chunk
  std::vector<int32_t> chunkOffsets; // 1 per sequence or segment
  int64_t numChunks = 0;
  /// Empty without a split.
  std::vector<int32_t> segmentOffsets;   // S + 1 token offsets
  std::vector<int32_t> sequenceSegments; // N + 1
};

ChunkPlan planChunks(const std::vector<int32_t> &cuSeqlens, int64_t chunk,
                     int64_t segmentChunks = 0);

/// planChunks(cuSeqlens, chunk).numChunks without building the lists (a
/// caller's buffer can be checked before they are).
int64_t countChunks(const std::vector<int32_t> &cuSeqlens, int64_t chunk);

/// planChunks(cuSeqlens, chunk, segmentChunks).segmentOffsets.size() for
/// segmentChunks > 0, without building the lists.
int64_t countSegmentOffsets(const std::vector<int32_t> &cuSeqlens,
                            int64_t chunk, int64_t segmentChunks);

struct BackwardOptions {
  /// Defaults to K^-1/2 when not set (the forward's scale).
  std::optional<float> scale;
};

/// Gradients of GDN's inputs, in FLA's conventions.
struct BackwardResult {
  rt::TensorRef dq, dk; // [B, T, H_qk, K], dtype of q (summed over groups)
  rt::TensorRef dv;     // [B, T, H_v, V], dtype of v
  rt::TensorRef dg;     // [B, T, H_v] f32, w.r.t. the raw (per-token) g
  rt::TensorRef dbeta;  // [B, T, H_v] f32
  rt::TensorRef dh0;    // [N, H_v, K, V] f32 (data null without h0)
};

/// Gradients of o, final_state = forward(...) given dO ([B, T, H_v, V],
/// dtype of v) and dFinalState ([N, H_v, K, V] f32; data == nullptr for
/// none), for the same inputs. The forward is recomputed (its chunk-entry
/// states), nothing of it is kept. The caller releases the results.
rt::Expected<BackwardResult>
backward(Backend &backend, const rt::TensorRef &q, const rt::TensorRef &k,
         const rt::TensorRef &v, const rt::TensorRef &g,
         const rt::TensorRef &beta, const rt::TensorRef &initialState,
         const rt::TensorRef &dO, const rt::TensorRef &dFinalState,
         const std::vector<int32_t> *cuSeqlens, const BackwardOptions &options);

/// Checks the backward's extra inputs against `dims` (from checkInputs).
rt::Status checkBackwardInputs(const Dims &dims, const rt::TensorRef &dO,
                               const rt::TensorRef &dFinalState);

/// Checks the gradients' tensors against `dims`: dq, dk [B, T, H_qk, K]
/// and dv [B, T, H_v, V] in the dtype of q, dg and dbeta [B, T, H_v] f32,
/// all contiguous, and dh0 [N, H_v, K, V] f32 when its data is set.
rt::Status checkGradients(const Dims &dims, const BackwardResult &grads);

/// The backward's tensors between kernels: gcum and A_g as in Workspace
/// (the state recompute runs the forward's gdn_chunk), A itself
/// [1, T, H_v, 64] (dtype of q), every chunk's entering state and the
/// gradient of its leaving state, [NT, H_v, K, V] f32 each (16-bit copies
/// of them cost dg its precision under strong decay), and dP, the gradient
/// of the masked scores, [1, T, H_v, 64] (dtype of q), between
/// gdn_bwd_chunk's two passes.
struct BackwardWorkspace {
  rt::TensorRef gcum, ag, a, states, stateGrads, dp;
  static size_t bytes(const Dims &dims);
  static BackwardWorkspace carve(const Dims &dims, void *base);
};

/// Launches the backward's kernels on caller memory (no allocation, no host
/// copy). `plan` is unsplit (no segments). dh0 is written when
/// `initialState.data` is set; dFinalState may be null (zero).
rt::Status
launchBackward(Backend &backend, const Dims &dims, const rt::TensorRef &q,
               const rt::TensorRef &k, const rt::TensorRef &v,
               const rt::TensorRef &g, const rt::TensorRef &beta,
               const rt::TensorRef &initialState, const rt::TensorRef &dO,
               const rt::TensorRef &dFinalState, const PlanTensors &plan,
               const BackwardWorkspace &workspace, float scale,
               const BackwardResult &grads);

/// The CUDA backend: kernels compiled ahead of time by tlc into
/// `kernelDir/<variant>/<kernel>.ptx` (see gdnVariantName), device memory
/// from cuMemAlloc, launches on `stream`.
class CudaBackend : public Backend {
public:
  CudaBackend(std::string kernelDir, CUstream stream = nullptr)
      : kernelDir(std::move(kernelDir)), stream(stream) {}
  ~CudaBackend() override;
  rt::Expected<rt::TensorRef> allocate(rt::DType dtype,
                                       std::vector<int64_t> shape) override;
  void release(const rt::TensorRef &tensor) override;
  rt::Status upload(const rt::TensorRef &dst, const int32_t *values,
                    size_t count) override;
  rt::Status launch(std::string_view kernel,
                    const std::vector<std::string> &constants,
                    std::vector<rt::Arg> args) override;
  int multiprocessors() override;

private:
  std::string kernelDir;
  CUstream stream;
};

/// A backend that runs nothing: each launch checks that the kernel's PTX
/// is compiled in `kernelDir`, where CudaBackend would load it from, and
/// fails (NotFound) naming the first one missing. A dry run of
/// launchForward or launchBackward on it checks a call's kernels without a
/// GPU (they touch no memory through it).
class CompiledKernelCheck : public Backend {
public:
  explicit CompiledKernelCheck(std::string kernelDir)
      : kernelDir(std::move(kernelDir)) {}
  rt::Expected<rt::TensorRef> allocate(rt::DType dtype,
                                       std::vector<int64_t> shape) override;
  void release(const rt::TensorRef &) override {}
  rt::Status upload(const rt::TensorRef &, const int32_t *, size_t) override {
    return rt::Status();
  }
  rt::Status launch(std::string_view kernel,
                    const std::vector<std::string> &constants,
                    std::vector<rt::Arg> args) override;

private:
  std::string kernelDir;
};

/// The folder name of a compiled variant: constants joined with '_', e.g.
/// "K=128_V=128_DT=bf16" -> "K128_V128_DTbf16".
std::string gdnVariantName(const std::vector<std::string> &constants);

/// Where `kernel` instantiated with `constants` is compiled to under
/// `kernelDir`: `kernelDir/<gdnVariantName>/<kernel>.ptx`.
std::string compiledKernelPath(const std::string &kernelDir,
                               std::string_view kernel,
                               const std::vector<std::string> &constants);

} // namespace tlc::ops

#endif // TLC_OPS_GDN_H
