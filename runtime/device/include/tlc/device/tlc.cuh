//===- tlc.cuh - Device library of tlc-generated kernels -------*- CUDA -*-===//
//
// Everything generated CUDA C++ calls lives here: tensor arguments and views,
// fragment layouts, cooperative copies, mma.sync GEMM, warp reductions and
// scans. The compiler embeds this file and hands it to NVRTC in memory, so
// kernels compile without a toolkit include path beyond cuda_bf16.h.
//
// Conventions: indices are `long long`; a fragment is a per-thread register
// array `T regs[Layout::kRegs]` whose register r holds logical element
// `Layout::element(r, team.tid)` (a row-major linear index, or -1 when the
// register holds nothing).
//
// Operations that split work over threads (copies, fragments, reductions,
// GEMMs) take the `Team` running them: the block, or one role of a
// warp-specialised kernel; fragment layouts are indexed by `team.tid`.
//
//===----------------------------------------------------------------------===//

#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#include "tlc/device/tlc_wgmma.cuh"
#endif

namespace tlc {

typedef long long i64;
typedef __nv_bfloat16 bf16;
typedef __half f16;

/// The threads that run a tile operation together: the block, a role of a
/// warp-specialised kernel, or its consumer warpgroups. `tid` counts from
/// the team's first thread.
struct Team {
  int tid;
  int size;
};

/// `x`, hidden from the optimiser. The unrolled element loops derive one
/// index (and address) per element from the thread's index; left visible,
/// ptxas hoists all of them out of an enclosing loop and keeps them live
/// across it, which spills the registers a pipelined loop's fragments need.
/// Through this they are recomputed where they are used.
__device__ __forceinline__ int rematerialize(int x) {
  int y;
  asm volatile("mov.b32 %0, %1;" : "=r"(y) : "r"(x));
  return y;
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

template <class To, class From> struct Convert {
  static __device__ __forceinline__ To apply(From x) {
    return static_cast<To>(x);
  }
};
template <class From> struct Convert<bf16, From> {
  static __device__ __forceinline__ bf16 apply(From x) {
    return __float2bfloat16(static_cast<float>(x));
  }
};
template <class From> struct Convert<f16, From> {
  static __device__ __forceinline__ f16 apply(From x) {
    return __float2half(static_cast<float>(x));
  }
};
template <class To> struct Convert<To, bf16> {
  static __device__ __forceinline__ To apply(bf16 x) {
    return static_cast<To>(__bfloat162float(x));
  }
};
template <class To> struct Convert<To, f16> {
  static __device__ __forceinline__ To apply(f16 x) {
    return static_cast<To>(__half2float(x));
  }
};
template <> struct Convert<bf16, bf16> {
  static __device__ __forceinline__ bf16 apply(bf16 x) { return x; }
};
template <> struct Convert<f16, f16> {
  static __device__ __forceinline__ f16 apply(f16 x) { return x; }
};
template <> struct Convert<bf16, f16> {
  static __device__ __forceinline__ bf16 apply(f16 x) {
    return __float2bfloat16(__half2float(x));
  }
};
template <> struct Convert<f16, bf16> {
  static __device__ __forceinline__ f16 apply(bf16 x) {
    return __float2half(__bfloat162float(x));
  }
};
template <class To, class From> __device__ __forceinline__ To cvt(From x) {
  return Convert<To, From>::apply(x);
}

__device__ __forceinline__ i64 floordiv(i64 a, i64 b) {
  i64 q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
__device__ __forceinline__ i64 ceildiv(i64 a, i64 b) {
  return -floordiv(-a, b);
}

template <class T> struct Zero {
  static __device__ __forceinline__ T get() { return T(0); }
};
template <> struct Zero<bf16> {
  static __device__ __forceinline__ bf16 get() { return __float2bfloat16(0.f); }
};
template <> struct Zero<f16> {
  static __device__ __forceinline__ f16 get() { return __float2half(0.f); }
};

//===----------------------------------------------------------------------===//
// Shapes and tensors
//===----------------------------------------------------------------------===//

/// A static row-major shape.
template <i64... Dims> struct Shape {
  static constexpr int kRank = sizeof...(Dims);
  static constexpr i64 kNumel = (Dims * ... * 1);
  static constexpr i64 kDims[sizeof...(Dims) + 1] = {Dims..., 1};
  /// The innermost extent.
  static constexpr i64 kLast = kRank > 0 ? kDims[kRank > 0 ? kRank - 1 : 0] : 1;
  /// `lin` (0 <= lin < kNumel) as an index. Tiles are far smaller than 2^32
  /// elements, so this is unsigned 32-bit arithmetic: shifts and masks for
  /// power-of-two extents, where signed 64-bit division by a constant costs
  /// a dozen instructions an element in the unrolled element loops.
  template <class Index>
  static __device__ __forceinline__ void
  unravel(i64 lin, Index (&idx)[kRank > 0 ? kRank : 1]) {
    static_assert(kNumel < (i64(1) << 31), "tile too large");
    constexpr unsigned dims[] = {unsigned(Dims)..., 1u};
    unsigned u = unsigned(lin);
#pragma unroll
    for (int d = kRank - 1; d >= 0; --d) {
      idx[d] = Index(u % dims[d]);
      u /= dims[d];
    }
  }
};

/// A kernel's tensor parameter (passed by value; strides in elements).
template <int R> struct TensorArg {
  void *data;
  i64 shape[R];
  i64 stride[R];
};

/// A box of a global tensor. `extent` is what remains of the tensor from the
/// box's origin along each kept dimension (<= 0 when the box starts past the
/// end): accesses beyond it read zero and drop writes (ragged edges).
template <class T, int R> struct GView {
  T *ptr;
  i64 extent[R > 0 ? R : 1];
  i64 stride[R > 0 ? R : 1];
  __device__ __forceinline__ bool
  inBounds(const i64 (&idx)[R > 0 ? R : 1]) const {
    for (int d = 0; d < R; ++d)
      if (idx[d] >= extent[d])
        return false;
    return true;
  }
  __device__ __forceinline__ i64 offset(const i64 (&idx)[R > 0 ? R : 1]) const {
    i64 off = 0;
    for (int d = 0; d < R; ++d)
      off += idx[d] * stride[d];
    return off;
  }
  __device__ __forceinline__ T load(const i64 (&idx)[R > 0 ? R : 1]) const {
    return inBounds(idx) ? ptr[offset(idx)] : Zero<T>::get();
  }
  __device__ __forceinline__ void store(const i64 (&idx)[R > 0 ? R : 1],
                                        T v) const {
    if (inBounds(idx))
      ptr[offset(idx)] = v;
  }
  __device__ __forceinline__ T *address(const i64 (&idx)[R > 0 ? R : 1]) const {
    return inBounds(idx) ? ptr + offset(idx) : nullptr;
  }
};

/// Single elements of a whole tensor parameter, masked like a view (reads
/// past the shape return zero, writes are dropped). Extents known at
/// compile time (>= 0; -1: the shape's) make their checks constants.
template <class T, int R, i64... Static> struct Elements {
  static_assert(sizeof...(Static) == R, "one extent a dimension");
  const TensorArg<R> &arg;
  __device__ __forceinline__ bool inBounds(const i64 (&idx)[R]) const {
    constexpr i64 fixed[R] = {Static...};
    bool in = true;
#pragma unroll
    for (int d = 0; d < R; ++d)
      in &= (unsigned long long)idx[d] <
            (unsigned long long)(fixed[d] >= 0 ? fixed[d] : arg.shape[d]);
    return in;
  }
  __device__ __forceinline__ T *address(const i64 (&idx)[R]) const {
    i64 off = 0;
#pragma unroll
    for (int d = 0; d < R; ++d)
      off += idx[d] * arg.stride[d];
    return static_cast<T *>(arg.data) + off;
  }
  __device__ __forceinline__ T load(const i64 (&idx)[R]) const {
    return inBounds(idx) ? *address(idx) : Zero<T>::get();
  }
  __device__ __forceinline__ void store(const i64 (&idx)[R], T v) const {
    if (inBounds(idx))
      *address(idx) = v;
  }
};

/// Builds the view of `arg` at `offsets` (one per tensor dim) keeping the
/// dims listed in `kept` (K of them).
template <class T, int K, int R>
__device__ __forceinline__ GView<T, K>
makeView(const TensorArg<R> &arg, const i64 (&offsets)[R],
         const int (&kept)[K > 0 ? K : 1]) {
  GView<T, K> v;
  bool inside = true;
  i64 off = 0;
  for (int d = 0; d < R; ++d) {
    off += offsets[d] * arg.stride[d];
    inside &= offsets[d] >= 0 && offsets[d] < arg.shape[d];
  }
  v.ptr = static_cast<T *>(arg.data) + off;
  for (int k = 0; k < K; ++k) {
    v.extent[k] = inside ? arg.shape[kept[k]] - offsets[kept[k]] : 0;
    v.stride[k] = arg.stride[kept[k]];
  }
  return v;
}

/// A strided box of a shared-memory (or local) buffer; always in bounds.
template <class T, int R> struct SView {
  T *ptr;
  i64 stride[R > 0 ? R : 1];
  __device__ __forceinline__ i64 offset(const i64 (&idx)[R > 0 ? R : 1]) const {
    i64 off = 0;
    for (int d = 0; d < R; ++d)
      off += idx[d] * stride[d];
    return off;
  }
  __device__ __forceinline__ T load(const i64 (&idx)[R > 0 ? R : 1]) const {
    return ptr[offset(idx)];
  }
  __device__ __forceinline__ void store(const i64 (&idx)[R > 0 ? R : 1],
                                        T v) const {
    ptr[offset(idx)] = v;
  }
};

/// A 2-D shared tile as TMA writes it with CU_TENSOR_MAP_SWIZZLE_<Sw>B and
/// wgmma reads it: each row is cut into chunks of Sw bytes, chunk c of all
/// rows forms a [Rows][Sw bytes] block, and within each 8-row pattern the
/// 16-byte units are XOR-ed with the row (address bits 4.. ^= bits 7..).
/// The buffer starts on a 1024-byte boundary.
template <class T, int Rows, int Sw> struct SwzView {
  static constexpr int kChunk = Sw / int(sizeof(T));
  /// Rows are not evenly strided; 16-byte runs along a row are contiguous,
  /// which is what vectorised copies check.
  static constexpr i64 stride[2] = {0, 1};
  T *ptr;
  /// Unsigned 32-bit arithmetic (indices are in the tile, a few KB), so
  /// that the divisions by the power-of-two chunk are shifts.
  static __device__ __forceinline__ i64 offset(const i64 (&idx)[2]) {
    unsigned row = unsigned(idx[0]), col = unsigned(idx[1]);
    unsigned byte = (col / kChunk) * unsigned(Rows * Sw) + row * unsigned(Sw) +
                    (col % kChunk) * unsigned(sizeof(T));
    byte ^= ((byte >> 7) & unsigned(Sw / 16 - 1)) << 4;
    return i64(byte / unsigned(sizeof(T)));
  }
  __device__ __forceinline__ T load(const i64 (&idx)[2]) const {
    return ptr[offset(idx)];
  }
  __device__ __forceinline__ void store(const i64 (&idx)[2], T v) const {
    ptr[offset(idx)] = v;
  }
};

//===----------------------------------------------------------------------===//
// Fragment layouts
//===----------------------------------------------------------------------===//

/// Element e lives in thread e % Threads, register e / Threads: consecutive
/// threads hold consecutive elements, so global copies coalesce.
/// Element `r` of thread `tid` in a walk of a Dims... tile by Threads
/// threads (element r * Threads + tid), as indices; false past the tile's
/// end. When the team covers whole rows (Threads a multiple of the
/// innermost extent), the column is tid's alone and the row a constant plus
/// tid's: after unrolling, every shared-memory address of the loop is one
/// base plus constant offsets, which the generic unravel of
/// r * Threads + tid hides from the compiler.
template <int Threads, i64... Dims> struct StridedIndex {
  static constexpr int kRank = sizeof...(Dims);
  static constexpr i64 kDims[kRank] = {Dims...};
  static constexpr i64 kNumel = (Dims * ...);
  static constexpr i64 kLast = kDims[kRank - 1];
  static_assert(kNumel < (i64(1) << 31), "tile too large");
  /// `rest` as indices of the dimensions before `last` (the outermost takes
  /// the quotient as is: it is in range whenever the element is).
  static __device__ __forceinline__ void outer(unsigned rest, int last,
                                               int (&idx)[kRank]) {
#pragma unroll
    for (int d = last - 1; d > 0; --d) {
      idx[d] = int(rest % unsigned(kDims[d]));
      rest /= unsigned(kDims[d]);
    }
    if (last > 0)
      idx[0] = int(rest);
  }
  static __device__ __forceinline__ bool index(int r, int tid,
                                               int (&idx)[kRank]) {
    const unsigned t = unsigned(tid);
    if constexpr (kRank > 1 && Threads % kLast == 0) {
      idx[kRank - 1] = int(t % unsigned(kLast));
      const unsigned rest =
          unsigned(r) * unsigned(Threads / kLast) + t / unsigned(kLast);
      outer(rest, kRank - 1, idx);
      return kNumel % Threads == 0 || rest < unsigned(kNumel / kLast);
    } else {
      const unsigned e = unsigned(r) * unsigned(Threads) + t;
      outer(e, kRank, idx);
      return kNumel % Threads == 0 || e < unsigned(kNumel);
    }
  }
};

template <i64 Numel, int Threads> struct StridedLayout {
  static constexpr int kRegs = int((Numel + Threads - 1) / Threads);
  static __device__ __forceinline__ i64 element(int r, int tid) {
    i64 e = i64(r) * Threads + tid;
    return e < Numel ? e : -1;
  }
};

/// The accumulator layout of mma.sync m16n8: an M x N tile split over
/// WM x WN warps, each warp owning (M/WM) x (N/WN) as 16x8 sub-tiles.
template <int M, int N, int WM, int WN> struct MmaLayout {
  static constexpr int kWarpM = M / WM, kWarpN = N / WN;
  static constexpr int kTilesM = kWarpM / 16, kTilesN = kWarpN / 8;
  static constexpr int kRegs = kTilesM * kTilesN * 4;
  /// A thread's registers are the product of kRowSlots rows and kColSlots
  /// columns: element loops walk rows outside and columns inside, so that
  /// what depends only on the row is computed once per row.
  static constexpr int kRowSlots = kTilesM * 2, kColSlots = kTilesN * 2;
  static __device__ __forceinline__ unsigned row(int rs, int tid) {
    unsigned warp = unsigned(tid) / 32, lane = unsigned(tid) % 32;
    return (warp / WN) * kWarpM + (rs / 2) * 16 + lane / 4 + (rs % 2) * 8;
  }
  static __device__ __forceinline__ unsigned col(int cs, int tid) {
    unsigned warp = unsigned(tid) / 32, lane = unsigned(tid) % 32;
    return (warp % WN) * kWarpN + (cs / 2) * 8 + (lane % 4) * 2 + (cs & 1);
  }
  static __device__ __forceinline__ constexpr int reg(int rs, int cs) {
    return ((rs / 2) * kTilesN + cs / 2) * 4 + (rs % 2) * 2 + (cs & 1);
  }
  static __device__ __forceinline__ i64 element(int r, int tid) {
    int c = r % 4, nt = (r / 4) % kTilesN, mt = r / 4 / kTilesN;
    int rs = mt * 2 + c / 2, cs = nt * 2 + (c & 1);
    return i64(row(rs, tid) * unsigned(N) + col(cs, tid));
  }
};

//===----------------------------------------------------------------------===//
// Copies
//===----------------------------------------------------------------------===//

template <class V> struct ViewTraits {
  static constexpr bool kGlobal = false, kShared = false;
};
template <class T, int R> struct ViewTraits<GView<T, R>> {
  static constexpr bool kGlobal = true, kShared = false;
  typedef T Element;
};
template <class T, int Rows, int Sw> struct ViewTraits<SwzView<T, Rows, Sw>> {
  static constexpr bool kGlobal = false, kShared = true;
  typedef T Element;
};
template <class T, int R> struct ViewTraits<SView<T, R>> {
  static constexpr bool kGlobal = false, kShared = true;
  typedef T Element;
};
template <class A, class B> struct SameType {
  static constexpr bool value = false;
};
template <class A> struct SameType<A, A> {
  static constexpr bool value = true;
};

/// The register type that moves `Bytes` (4, 8 or 16) in one access.
template <int Bytes> struct RawVector;
template <> struct RawVector<4> { typedef unsigned Type; };
template <> struct RawVector<8> { typedef uint2 Type; };
template <> struct RawVector<16> { typedef uint4 Type; };

/// Copies the N elements along the innermost dimension starting at `idx`
/// as one load and one store (converting SrcT to DstT in registers) when
/// the run is wholly in bounds and both ends are aligned to their access
/// size; returns false otherwise. N elements of the wider type make 16
/// bytes, so a run never crosses a swizzled tile's 16-byte unit.
template <int R, int N, class SrcT, class DstT, class Src, class Dst>
__device__ __forceinline__ bool copyVector(const Src &src, const Dst &dst,
                                           const i64 (&idx)[R]) {
  typedef typename RawVector<int(sizeof(SrcT)) * N>::Type SrcRaw;
  typedef typename RawVector<int(sizeof(DstT)) * N>::Type DstRaw;
  i64 last[R];
#pragma unroll
  for (int d = 0; d < R; ++d)
    last[d] = idx[d];
  last[R - 1] += N - 1;
  if constexpr (ViewTraits<Src>::kGlobal) {
    if (!src.inBounds(last))
      return false;
  } else {
    if (!dst.inBounds(last))
      return false;
  }
  const SrcT *from = src.ptr + src.offset(idx);
  DstT *to = dst.ptr + dst.offset(idx);
  if (reinterpret_cast<unsigned long long>(from) % sizeof(SrcRaw) ||
      reinterpret_cast<unsigned long long>(to) % sizeof(DstRaw))
    return false;
  if constexpr (SameType<SrcT, DstT>::value) {
    *reinterpret_cast<DstRaw *>(to) = *reinterpret_cast<const SrcRaw *>(from);
  } else {
    const SrcRaw raw = *reinterpret_cast<const SrcRaw *>(from);
    const SrcT *in = reinterpret_cast<const SrcT *>(&raw);
    alignas(sizeof(DstRaw)) DstT out[N];
#pragma unroll
    for (int e = 0; e < N; ++e)
      out[e] = cvt<DstT>(in[e]);
    *reinterpret_cast<DstRaw *>(to) = *reinterpret_cast<const DstRaw *>(out);
  }
  return true;
}

/// All threads of the team copy a static-shape box. Global <-> shared
/// copies move runs of 16 bytes (of the wider dtype; the narrower side
/// converts in registers) along the innermost dimension where it is
/// contiguous, aligned and in bounds; other elements go one by one (with
/// the ragged-edge guards). Each thread's walk is a loop of a constant trip
/// count over 32-bit indices, unrolled by four: a rolled 64-bit walk cost
/// several times the instructions of the bytes it moves, and a full unroll
/// lets ptxas hoist every address out of the kernel's loops (gdn_solve went
/// from 113 to 253 registers and 47% slower).
template <class S, class DstT, class Src, class Dst>
__device__ __forceinline__ void copyBlock(const Src &src, const Dst &dst,
                                          const Team &team) {
  constexpr int kRank = S::kRank > 0 ? S::kRank : 1;
  static_assert(S::kNumel < (i64(1) << 31), "tile too large");
  const int tid = rematerialize(team.tid);
  if constexpr (S::kRank > 0 &&
                ViewTraits<Src>::kGlobal + ViewTraits<Dst>::kGlobal == 1 &&
                ViewTraits<Src>::kShared + ViewTraits<Dst>::kShared == 1) {
    typedef typename ViewTraits<Src>::Element SrcT;
    constexpr int kWidest =
        int(sizeof(SrcT) > sizeof(DstT) ? sizeof(SrcT) : sizeof(DstT));
    constexpr int kVec = 16 / kWidest;
    if constexpr (SameType<DstT, typename ViewTraits<Dst>::Element>::value &&
                  kVec > 1 && S::kLast % kVec == 0) {
      if (src.stride[kRank - 1] == 1 && dst.stride[kRank - 1] == 1) {
        constexpr int kVectors = int(S::kNumel / kVec);
#pragma unroll 4
        for (int step = 0; step < (kVectors + team.size - 1) / team.size;
             ++step) {
          const int v = step * team.size + tid;
          if (kVectors % team.size != 0 && v >= kVectors)
            break;
          i64 idx[kRank];
          S::unravel(v * kVec, idx);
          if (copyVector<kRank, kVec, SrcT, DstT>(src, dst, idx))
            continue;
          for (int e = 0; e < kVec; ++e) {
            i64 one[kRank];
            S::unravel(v * kVec + e, one);
            dst.store(one, cvt<DstT>(src.load(one)));
          }
        }
        return;
      }
    }
  }
#pragma unroll 4
  for (int step = 0; step < int(S::kNumel + team.size - 1) / team.size;
       ++step) {
    const int lin = step * team.size + tid;
    if (S::kNumel % team.size != 0 && lin >= S::kNumel)
      break;
    i64 idx[kRank];
    S::unravel(lin, idx);
    dst.store(idx, cvt<DstT>(src.load(idx)));
  }
}

//===----------------------------------------------------------------------===//
// Asynchronous copies (cp.async) for software-pipelined loops
//===----------------------------------------------------------------------===//

/// 16 bytes global -> shared without staging in registers; `valid == false`
/// zero-fills the destination without reading.
__device__ __forceinline__ void cpAsync16(void *smem, const void *gmem,
                                          bool valid) {
  unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  int bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s),
               "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
/// Waits until at most `Pending` committed groups are still in flight.
template <int Pending> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

/// Starts copying a global box into shared memory. Whole 16-byte vectors go
/// through cp.async (zero-filled past the tensor's end); vectors that
/// straddle the end, and shapes that do not vectorise, are copied
/// synchronously. Complete after cpAsyncWait + __syncthreads.
template <class S, class T, int R>
__device__ __forceinline__ void
copyAsync(const GView<T, R> &src, const SView<T, R> &dst, const Team &team) {
  constexpr i64 kVec = 16 / sizeof(T);
  if constexpr (S::kRank > 0 && kVec > 1 && S::kLast % kVec == 0) {
    if (src.stride[R - 1] == 1 && dst.stride[R - 1] == 1) {
      for (i64 v = team.tid; v < S::kNumel / kVec; v += team.size) {
        i64 idx[R];
        S::unravel(v * kVec, idx);
        i64 last[R];
#pragma unroll
        for (int d = 0; d < R; ++d)
          last[d] = idx[d];
        last[R - 1] += kVec - 1;
        const T *from = src.ptr + src.offset(idx);
        T *to = dst.ptr + dst.offset(idx);
        bool aligned = ((reinterpret_cast<unsigned long long>(from) |
                         reinterpret_cast<unsigned long long>(to)) %
                        16) == 0;
        if (aligned && src.inBounds(last)) {
          cpAsync16(to, from, true);
        } else if (aligned && !src.inBounds(idx)) {
          cpAsync16(to, src.ptr, false);
        } else {
          for (i64 e = 0; e < kVec; ++e) {
            i64 one[R];
            S::unravel(v * kVec + e, one);
            dst.store(one, src.load(one));
          }
        }
      }
      return;
    }
  }
  copyBlock<S, T>(src, dst, team);
}

/// Each thread loads the elements its fragment registers hold.
template <class S, class L, class T, class Src>
__device__ __forceinline__ void
loadFragment(const Src &src, T (&regs)[L::kRegs], const Team &team) {
#pragma unroll
  for (int r = 0; r < L::kRegs; ++r) {
    i64 e = L::element(r, team.tid);
    if (e < 0)
      continue;
    i64 idx[S::kRank > 0 ? S::kRank : 1];
    S::unravel(e, idx);
    regs[r] = cvt<T>(src.load(idx));
  }
}

template <class S, class L, class DstT, class T, class Dst>
__device__ __forceinline__ void
storeFragment(const T (&regs)[L::kRegs], const Dst &dst, const Team &team) {
#pragma unroll
  for (int r = 0; r < L::kRegs; ++r) {
    i64 e = L::element(r, team.tid);
    if (e < 0)
      continue;
    i64 idx[S::kRank > 0 ? S::kRank : 1];
    S::unravel(e, idx);
    dst.store(idx, cvt<DstT>(regs[r]));
  }
}

/// Fragment <-> row-major scratch in shared memory (for cross-thread access).
template <class L, class T, class U>
__device__ __forceinline__ void spill(const T (&regs)[L::kRegs], U *scratch,
                                      const Team &team) {
#pragma unroll
  for (int r = 0; r < L::kRegs; ++r) {
    i64 e = L::element(r, team.tid);
    if (e >= 0)
      scratch[e] = cvt<U>(regs[r]);
  }
}
template <class L, class T, class U>
__device__ __forceinline__ void reload(T (&regs)[L::kRegs], const U *scratch,
                                       const Team &team) {
#pragma unroll
  for (int r = 0; r < L::kRegs; ++r) {
    i64 e = L::element(r, team.tid);
    if (e >= 0)
      regs[r] = cvt<T>(scratch[e]);
  }
}

template <class L, class T, class V>
__device__ __forceinline__ void fillFragment(T (&regs)[L::kRegs], V value) {
#pragma unroll
  for (int r = 0; r < L::kRegs; ++r)
    regs[r] = cvt<T>(value);
}

template <class S, class T, class V, class Dst>
__device__ __forceinline__ void fillBlock(const Dst &dst, V value,
                                          const Team &team) {
  for (i64 lin = team.tid; lin < S::kNumel; lin += team.size) {
    i64 idx[S::kRank > 0 ? S::kRank : 1];
    S::unravel(lin, idx);
    dst.store(idx, cvt<T>(value));
  }
}

/// dst[idx] += src[idx] atomically, for every element of a static box.
template <class S, class Src, class T, int R>
__device__ __forceinline__ void
atomicAddBlock(const Src &src, const GView<T, R> &dst, const Team &team) {
  for (i64 lin = team.tid; lin < S::kNumel; lin += team.size) {
    i64 idx[S::kRank > 0 ? S::kRank : 1];
    S::unravel(lin, idx);
    if (T *p = dst.address(idx))
      atomicAdd(p, cvt<T>(src.load(idx)));
  }
}

//===----------------------------------------------------------------------===//
// Reductions and scans over row-major scratch
//===----------------------------------------------------------------------===//

struct SumOp {
  template <class T> static __device__ __forceinline__ T identity() {
    return T(0);
  }
  template <class T> static __device__ __forceinline__ T apply(T a, T b) {
    return a + b;
  }
};
struct MaxOp {
  template <class T> static __device__ __forceinline__ T identity() {
    return -__int_as_float(0x7f800000);
  }
  template <class T> static __device__ __forceinline__ T apply(T a, T b) {
    return fmaxf(a, b);
  }
};
struct MinOp {
  template <class T> static __device__ __forceinline__ T identity() {
    return __int_as_float(0x7f800000);
  }
  template <class T> static __device__ __forceinline__ T apply(T a, T b) {
    return fminf(a, b);
  }
};

/// Reduces src, viewed as [Outer, Len, Inner], along Len into dst
/// [Outer, Inner]: one warp per output, lanes stride over Len, then a
/// shuffle tree. With Accumulate, dst's old value joins the reduction.
/// Both walks have constant trip counts over 32-bit indices, so they
/// unroll (a rolled 64-bit walk cost ~4x the instructions of the sums).
template <class Op, i64 Outer, i64 Len, i64 Inner, bool Accumulate>
__device__ __forceinline__ void reduceScratch(const float *src, float *dst,
                                              const Team &team) {
  static_assert(Outer * Len * Inner < (i64(1) << 31), "scratch too large");
  constexpr int kLines = int(Outer * Inner), kLen = int(Len);
  constexpr int kInner = int(Inner);
  const int tid = rematerialize(team.tid);
  const int warp = tid / 32, lane = tid % 32;
  const int warps = team.size / 32;
#pragma unroll
  for (int step = 0; step < (kLines + warps - 1) / warps; ++step) {
    const int o = step * warps + warp;
    if (kLines % warps != 0 && o >= kLines)
      break;
    const int base = (o / kInner) * kLen * kInner + o % kInner;
    float acc = Op::template identity<float>();
#pragma unroll
    for (int part = 0; part < (kLen + 31) / 32; ++part) {
      const int l = part * 32 + lane;
      if (kLen % 32 == 0 || l < kLen)
        acc = Op::apply(acc, src[base + l * kInner]);
    }
#pragma unroll
    for (int s = 16; s > 0; s /= 2)
      acc = Op::apply(acc, __shfl_xor_sync(0xffffffffu, acc, s));
    if (lane == 0)
      dst[o] = Accumulate ? Op::apply(dst[o], acc) : acc;
  }
}

/// Inclusive prefix sum along Len of [Outer, Len, Inner] in place (suffix
/// sum when Reverse): one warp per line, 32 elements at a time.
template <i64 Outer, i64 Len, i64 Inner, bool Reverse>
__device__ __forceinline__ void cumsumScratch(float *buf, const Team &team) {
  int warp = team.tid / 32, lane = team.tid % 32;
  int warps = team.size / 32;
  for (i64 line = warp; line < Outer * Inner; line += warps) {
    i64 base = (line / Inner) * Len * Inner + line % Inner;
    float carry = 0.f;
    for (i64 chunk = 0; chunk < Len; chunk += 32) {
      i64 l = chunk + lane;
      i64 pos = Reverse ? Len - 1 - l : l;
      float v = l < Len ? buf[base + pos * Inner] : 0.f;
#pragma unroll
      for (int s = 1; s < 32; s *= 2) {
        float up = __shfl_up_sync(0xffffffffu, v, s);
        if (lane >= s)
          v += up;
      }
      v += carry;
      if (l < Len)
        buf[base + pos * Inner] = v;
      carry = __shfl_sync(0xffffffffu, v, 31);
    }
  }
}

//===----------------------------------------------------------------------===//
// GEMM on tensor cores (mma.sync m16n8k16, bf16/f16 in, f32 accumulate)
//===----------------------------------------------------------------------===//

__device__ __forceinline__ void mma16816(float (&d)[4], const unsigned (&a)[4],
                                         const unsigned (&b)[2], bf16) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]));
}
__device__ __forceinline__ void mma16816(float (&d)[4], const unsigned (&a)[4],
                                         const unsigned (&b)[2], f16) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]));
}

/// ldmatrix: 8x8 b16 matrices from shared memory, one row address per lane.
__device__ __forceinline__ void ldmatrixX4(unsigned (&r)[4], const void *p) {
  unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
}
__device__ __forceinline__ void ldmatrixX4Trans(unsigned (&r)[4],
                                                const void *p) {
  unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(a));
}
__device__ __forceinline__ void ldmatrixX2(unsigned (&r)[2], const void *p) {
  unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(a));
}
__device__ __forceinline__ void ldmatrixX2Trans(unsigned (&r)[2],
                                                const void *p) {
  unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(a));
}

/// acc (MmaLayout<M, N, WM, WN>) += op(A) * op(B), with A and B row-major
/// in shared memory: A is M x K (K x M when TransA), B is K x N (N x K when
/// TransB). Operand fragments come from ldmatrix (transposing where the
/// storage order differs from what mma.sync wants); rows are 16-byte
/// aligned because K, M and N are multiples of 8.
template <int M, int N, int K, int WM, int WN, bool TransA, bool TransB,
          class T>
__device__ __forceinline__ void
gemmShared(const T *A, const T *B, float (&acc)[MmaLayout<M, N, WM, WN>::kRegs],
           const Team &team) {
  typedef MmaLayout<M, N, WM, WN> L;
  int warp = team.tid / 32, lane = team.tid % 32;
  int wm = warp / WN, wn = warp % WN;
  for (int k0 = 0; k0 < K; k0 += 16) {
    unsigned bf[L::kTilesN][2];
#pragma unroll
    for (int nt = 0; nt < L::kTilesN; ++nt) {
      int n0 = wn * L::kWarpN + nt * 8;
      if (TransB)
        ldmatrixX2(bf[nt], &B[(n0 + lane % 8) * K + k0 + ((lane / 8) % 2) * 8]);
      else
        ldmatrixX2Trans(bf[nt], &B[(k0 + lane % 16) * N + n0]);
    }
#pragma unroll
    for (int mt = 0; mt < L::kTilesM; ++mt) {
      int m0 = wm * L::kWarpM + mt * 16;
      unsigned af[4];
      if (TransA)
        ldmatrixX4Trans(af, &A[(k0 + lane % 8 + (lane / 16) * 8) * M + m0 +
                               ((lane / 8) % 2) * 8]);
      else
        ldmatrixX4(af, &A[(m0 + lane % 16) * K + k0 + (lane / 16) * 8]);
#pragma unroll
      for (int nt = 0; nt < L::kTilesN; ++nt) {
        float *d = &acc[(mt * L::kTilesN + nt) * 4];
        mma16816(*reinterpret_cast<float(*)[4]>(d), af, bf[nt], T());
      }
    }
  }
}

/// Whether a fragment layout is rows x columns of slots (MmaLayout).
template <class L> struct HasSlots {
  template <class U> static char test(decltype(U::kRowSlots) *);
  template <class U> static long test(...);
  static constexpr bool value = sizeof(test<L>(nullptr)) == 1;
};

/// acc (any layout L) += op(A) * op(B) with plain FMAs, for element types
/// mma.sync does not take (f32). A thread of a rows x columns layout loads
/// its rows' A values and its columns' B values once per k and updates all
/// its elements from them (one shared load per 2.7 FMAs for a 4 x 8 block,
/// not two per FMA); other layouts compute element by element.
template <int M, int N, int K, class L, bool TransA, bool TransB, class T>
__device__ __forceinline__ void
gemmSimt(const T *A, const T *B, float (&acc)[L::kRegs], const Team &team) {
  if constexpr (HasSlots<L>::value) {
    constexpr int RS = L::kRowSlots, CS = L::kColSlots;
    int rows[RS], cols[CS];
#pragma unroll
    for (int rs = 0; rs < RS; ++rs)
      rows[rs] = int(L::row(rs, team.tid));
#pragma unroll
    for (int cs = 0; cs < CS; ++cs)
      cols[cs] = int(L::col(cs, team.tid));
#pragma unroll 4
    for (int k = 0; k < K; ++k) {
      float a[RS], b[CS];
#pragma unroll
      for (int rs = 0; rs < RS; ++rs)
        a[rs] = cvt<float>(TransA ? A[k * M + rows[rs]] : A[rows[rs] * K + k]);
#pragma unroll
      for (int cs = 0; cs < CS; ++cs)
        b[cs] = cvt<float>(TransB ? B[cols[cs] * K + k] : B[k * N + cols[cs]]);
#pragma unroll
      for (int rs = 0; rs < RS; ++rs)
#pragma unroll
        for (int cs = 0; cs < CS; ++cs)
          acc[L::reg(rs, cs)] += a[rs] * b[cs];
    }
  } else {
#pragma unroll
    for (int r = 0; r < L::kRegs; ++r) {
      i64 e = L::element(r, team.tid);
      if (e < 0)
        continue;
      int m = int(e / N), n = int(e % N);
      float sum = 0.f;
      for (int k = 0; k < K; ++k)
        sum += cvt<float>(TransA ? A[k * M + m] : A[m * K + k]) *
               cvt<float>(TransB ? B[n * K + k] : B[k * N + n]);
      acc[r] += sum;
    }
  }
}

//===----------------------------------------------------------------------===//
// Hopper (sm_90a): mbarriers, TMA, wgmma, named barriers, setmaxnreg
//===----------------------------------------------------------------------===//

/// A CUtensorMap by value: the runtime encodes it at launch and passes it as
/// a `const __grid_constant__` parameter (the TMA unit reads it from there).
struct alignas(64) TensorMap {
  unsigned long long words[16];
};

/// The block's rank in its thread-block cluster (0 without clusters).
__device__ __forceinline__ i64 clusterRank() {
  unsigned rank = 0;
#if __CUDA_ARCH__ >= 900
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(rank));
#endif
  return i64(rank);
}

__device__ __forceinline__ unsigned smemAddress(const void *p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

typedef unsigned long long Mbarrier;

__device__ __forceinline__ void mbarrierInit(Mbarrier *bar, unsigned count) {
  asm volatile(
      "mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smemAddress(bar)),
      "r"(count));
}
/// Makes barrier initialisation visible to the async proxy (TMA).
__device__ __forceinline__ void fenceBarrierInit() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
__device__ __forceinline__ void mbarrierArrive(Mbarrier *bar) {
  asm volatile(
      "mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smemAddress(bar))
      : "memory");
}
/// Arrives and announces `bytes` of transactions (TMA copies) that must also
/// complete before the phase flips.
__device__ __forceinline__ void mbarrierArriveExpectTx(Mbarrier *bar,
                                                       unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(
                   smemAddress(bar)),
               "r"(bytes)
               : "memory");
}
/// Waits until the phase with parity `parity` has completed. Each try_wait
/// may suspend the thread until the phase completes (up to the 10 ms hint):
/// without a hint it returns almost at once, and a waiting producer warp
/// spins, taking issue slots from the consumer warps beside it.
__device__ __forceinline__ void mbarrierWait(Mbarrier *bar, unsigned parity) {
  unsigned done = 0;
  unsigned address = smemAddress(bar);
  do {
    asm volatile("{\n.reg .pred p;\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2, "
                 "10000000;\n"
                 "selp.u32 %0, 1, 0, p;\n}\n"
                 : "=r"(done)
                 : "r"(address), "r"(parity)
                 : "memory");
  } while (!done);
}

/// TMA: copies the box at `coords` (innermost dimension first) of the
/// tensor described by `map` into shared memory at `dst`, completing
/// `map`'s box bytes on `bar`. Out-of-bounds elements are filled with zeros.
template <int R>
__device__ __forceinline__ void tmaLoad(const TensorMap &map, void *dst,
                                        Mbarrier *bar, const int (&c)[R]) {
  unsigned d = smemAddress(dst), b = smemAddress(bar);
  const void *m = &map;
  if constexpr (R == 1)
    asm volatile("cp.async.bulk.tensor.1d.shared::cluster.global.mbarrier::"
                 "complete_tx::bytes [%0], [%1, {%2}], [%3];\n" ::"r"(d),
                 "l"(m), "r"(c[0]), "r"(b)
                 : "memory");
  else if constexpr (R == 2)
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::"
                 "complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(d),
                 "l"(m), "r"(c[0]), "r"(c[1]), "r"(b)
                 : "memory");
  else if constexpr (R == 3)
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::"
        "complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];\n" ::"r"(d),
        "l"(m), "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(b)
        : "memory");
  else if constexpr (R == 4)
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::"
        "complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(d),
        "l"(m), "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(c[3]), "r"(b)
        : "memory");
  else
    asm volatile(
        "cp.async.bulk.tensor.5d.shared::cluster.global.mbarrier::"
        "complete_tx::bytes [%0], [%1, {%2, %3, %4, %5, %6}], [%7];\n" ::"r"(d),
        "l"(m), "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(c[3]), "r"(c[4]), "r"(b)
        : "memory");
}

/// Starts a TMA store of one box from shared memory at `src` to the tensor
/// `map` describes, at coordinates `c` (innermost first); parts of the box
/// outside the tensor are not written. The store joins this thread's open
/// bulk group (see bulkCommit).
template <int R>
__device__ __forceinline__ void tmaStore(const TensorMap &map, const void *src,
                                         const int (&c)[R]) {
  unsigned s = smemAddress(src);
  const void *m = &map;
  if constexpr (R == 1)
    asm volatile("cp.async.bulk.tensor.1d.global.shared::cta.bulk_group"
                 " [%0, {%1}], [%2];\n" ::"l"(m),
                 "r"(c[0]), "r"(s)
                 : "memory");
  else if constexpr (R == 2)
    asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group"
                 " [%0, {%1, %2}], [%3];\n" ::"l"(m),
                 "r"(c[0]), "r"(c[1]), "r"(s)
                 : "memory");
  else if constexpr (R == 3)
    asm volatile("cp.async.bulk.tensor.3d.global.shared::cta.bulk_group"
                 " [%0, {%1, %2, %3}], [%4];\n" ::"l"(m),
                 "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(s)
                 : "memory");
  else if constexpr (R == 4)
    asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.bulk_group"
                 " [%0, {%1, %2, %3, %4}], [%5];\n" ::"l"(m),
                 "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(c[3]), "r"(s)
                 : "memory");
  else
    asm volatile("cp.async.bulk.tensor.5d.global.shared::cta.bulk_group"
                 " [%0, {%1, %2, %3, %4, %5}], [%6];\n" ::"l"(m),
                 "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(c[3]), "r"(c[4]), "r"(s)
                 : "memory");
}

/// Closes this thread's bulk group of TMA stores.
__device__ __forceinline__ void bulkCommit() {
  asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
}

/// Waits until at most `N` of this thread's bulk groups still read shared
/// memory (their sources may then be overwritten).
template <int N> __device__ __forceinline__ void bulkWaitRead() {
  asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(N) : "memory");
}

/// e^x in f32 as the hardware's base-2 approximation, as Triton's and
/// CUDA's fast-math exp: one multiply and one MUFU.EX2 instead of expf's
/// range reduction (relative error about 2^-22 plus |x| 2^-24). Results
/// below 2^-126 flush to zero (.ftz): without it ptxas wraps every MUFU in
/// a compare and two predicated multiplies for the denormal range.
__device__ __forceinline__ float fastExp(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x * 1.4426950408889634f));
  return y;
}

/// Orders this thread's generic-proxy shared-memory writes before later
/// async-proxy (TMA, wgmma) accesses; before sm_90 there is no async proxy.
__device__ __forceinline__ void fenceProxyAsync() {
#if __CUDA_ARCH__ >= 900
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

/// Named barrier `Id` (1..15) over the `Threads` threads of one role of a
/// warp-specialised kernel (barrier 0 is __syncthreads).
template <int Id, int Threads> __device__ __forceinline__ void namedSync() {
  asm volatile("bar.sync %0, %1;\n" ::"n"(Id), "n"(Threads) : "memory");
}

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
template <int Regs> __device__ __forceinline__ void setMaxRegsInc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(Regs));
}
template <int Regs> __device__ __forceinline__ void setMaxRegsDec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(Regs));
}

__device__ __forceinline__ void wgmmaFence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmmaCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
/// Waits until at most `Pending` committed wgmma groups are in flight.
template <int Pending> __device__ __forceinline__ void wgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory");
}
/// Keeps the compiler from moving accumulator accesses across an
/// asynchronous wgmma (the asm above does not name the registers).
template <int N> __device__ __forceinline__ void wgmmaFenceRegs(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    asm volatile("" : "+f"(d[i])::"memory");
}

/// The wgmma shared-memory matrix descriptor: start address, leading and
/// stride byte offsets (16-byte units) and the swizzle mode (bits 62-63:
/// 1 = 128-byte, 2 = 64-byte, 3 = 32-byte).
__device__ __forceinline__ unsigned long long
wgmmaDescriptor(const void *p, unsigned leadingBytes, unsigned strideBytes,
                int swizzleBytes) {
  unsigned long long mode = swizzleBytes == 128  ? 1
                            : swizzleBytes == 64 ? 2
                            : swizzleBytes == 32 ? 3
                                                 : 0;
  return (unsigned long long)((smemAddress(p) & 0x3FFFF) >> 4) |
         (unsigned long long)((leadingBytes >> 4) & 0x3FFF) << 16 |
         (unsigned long long)((strideBytes >> 4) & 0x3FFF) << 32 | mode << 62;
}

/// Offset (in elements) of the 64-row (or column) slice `slice` and k16
/// step `kk` of a 16-bit operand tile as TMA writes it: the tile is stored
/// in chunks of Sw / 2 elements along its contiguous dimension, each chunk
/// a [rows][Sw / 2] block with the Sw-byte swizzle. KMajor: the contiguous
/// dimension is K (Rows = M or N); otherwise it is M or N (Rows = K).
template <bool KMajor, int Rows, int Sw>
__device__ __forceinline__ int wgmmaOperandOffset(int mnOffset, int k) {
  constexpr int kChunk = Sw / 2;
  if (KMajor)
    return (k / kChunk) * Rows * kChunk + mnOffset * kChunk + k % kChunk;
  return (mnOffset / kChunk) * Rows * kChunk + k * kChunk;
}

/// acc (MmaLayout<M, N, M / 16, 1>: warpgroup g owns rows 64g..64g+63, as
/// wgmma's m64 accumulators) (+)= op(A) * op(B) on the tensor cores, A and B
/// in shared memory as TMA wrote them with swizzles SwA / SwB. Issues the
/// K / 16 wgmmas and commits them as one group; wait with wgmmaWait. With
/// Accumulate false the first wgmma overwrites acc (scale-d 0), so that no
/// register write sits between an in-flight wgmma and this one.
template <int M, int N, int K, bool TransA, bool TransB, int SwA, int SwB,
          bool Accumulate, class T>
__device__ __forceinline__ void
wgmmaShared(const T *A, const T *B, float (&acc)[N / 2], const Team &team) {
  static_assert(M % 64 == 0 && K % 16 == 0, "wgmma tile shape");
  const int g = team.tid / 128;
  constexpr bool kAKMajor = !TransA, kBKMajor = TransB;
  constexpr unsigned kLeadA = kAKMajor ? 16 : K * SwA;
  constexpr unsigned kLeadB = kBKMajor ? 16 : K * SwB;
  wgmmaFenceRegs(acc);
  wgmmaFence();
#pragma unroll
  for (int k = 0; k < K; k += 16) {
    const T *a = A + wgmmaOperandOffset < kAKMajor, kAKMajor ? M : K,
            SwA > (64 * g, k);
    const T *b = B + wgmmaOperandOffset < kBKMajor, kBKMajor ? N : K,
            SwB > (0, k);
    Wgmma<N, T>::template ss<kAKMajor ? 0 : 1, kBKMajor ? 0 : 1>(
        acc, wgmmaDescriptor(a, kLeadA, 8 * SwA, SwA),
        wgmmaDescriptor(b, kLeadB, 8 * SwB, SwB), Accumulate || k > 0);
  }
  wgmmaCommit();
  wgmmaFenceRegs(acc);
}

template <class T> __device__ __forceinline__ unsigned packPair(T lo, T hi) {
  unsigned short a = *reinterpret_cast<unsigned short *>(&lo);
  unsigned short b = *reinterpret_cast<unsigned short *>(&hi);
  return unsigned(a) | (unsigned(b) << 16);
}

/// acc += A * op(B) on the tensor cores with A in registers: `a` is an
/// M x K fragment in MmaLayout<M, K, M / 16, 1>, whose registers 8k..8k+7
/// are exactly the four 32-bit registers wgmma wants for the k-th 16-wide
/// step (rows g and g + 8, columns 2t, 2t + 1 and 2t + 8, 2t + 9 of the
/// warp's 16 x 16 block). B is in shared memory as TMA wrote it (swizzle
/// SwB). Issues and commits the K / 16 wgmmas; wait with wgmmaWait. A is
/// packed into 32-bit pairs before the first wgmma: a register written
/// between two wgmmas of a group would make ptxas wait for the first.
/// Accumulate as for wgmmaShared.
template <int M, int N, int K, bool TransB, int SwB, bool Accumulate, class T>
__device__ __forceinline__ void wgmmaRegA(const T (&a)[K / 2], const T *B,
                                          float (&acc)[N / 2],
                                          const Team &team) {
  static_assert(M % 64 == 0 && K % 16 == 0, "wgmma tile shape");
  constexpr bool kBKMajor = TransB;
  constexpr unsigned kLeadB = kBKMajor ? 16 : K * SwB;
  unsigned regs[K / 16][4];
#pragma unroll
  for (int k = 0; k < K; k += 16)
#pragma unroll
    for (int j = 0; j < 4; ++j)
      regs[k / 16][j] = packPair(a[k / 2 + 2 * j], a[k / 2 + 2 * j + 1]);
  wgmmaFenceRegs(acc);
  wgmmaFence();
#pragma unroll
  for (int k = 0; k < K; k += 16) {
    const T *b = B + wgmmaOperandOffset < kBKMajor, kBKMajor ? N : K,
            SwB > (0, k);
    Wgmma<N, T>::template rs<kBKMajor ? 0 : 1>(
        acc, regs[k / 16], wgmmaDescriptor(b, kLeadB, 8 * SwB, SwB),
        Accumulate || k > 0);
  }
  wgmmaCommit();
  wgmmaFenceRegs(acc);
}
#endif

} // namespace tlc
