//===- Runtime.h - Load and launch tlc kernels (C++ API) -------*- C++ -*-===//
//
// The compiler emits, per kernel, `NAME.ptx` and `NAME.json` (metadata,
// schema `tlc.kernel/1`, see docs/runtime.md). This API parses the metadata,
// validates launch arguments against it on the CPU (`planLaunch`), loads the
// PTX with the CUDA driver and launches the kernel on a stream.
//
// Errors never throw across the API: functions return `Status` or
// `Expected<T>`. The CUDA driver is loaded on first use (dlopen of
// libcuda.so.1), so parsing and validation work on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_RUNTIME_RUNTIME_H
#define TLC_RUNTIME_RUNTIME_H

#include <cuda.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tlc::rt {

/// Limits of the launch path; metadata beyond them is rejected when parsed.
constexpr int kMaxRank = 8;
constexpr int kMaxParams = 64;
constexpr int kMaxParamBytes = 4096; // CUDA's portable kernel-parameter limit
constexpr int kMaxSymbols = 32;      // distinct symbolic dimension names

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// Values equal the C ABI's `tlc_status` codes.
enum class ErrorCode : int {
  Ok = 0,
  InvalidArgument = 1,
  Driver = 2,
  NotFound = 3,
  Parse = 4,
};

/// Success, or an error code with a message. Success does not allocate.
class Status {
public:
  Status() = default;
  static Status error(ErrorCode code, std::string message) {
    assert(code != ErrorCode::Ok && "an error needs an error code");
    Status s;
    s.errorCode = code;
    s.text = std::move(message);
    return s;
  }

  bool ok() const { return errorCode == ErrorCode::Ok; }
  ErrorCode code() const { return errorCode; }
  const std::string &message() const { return text; }

private:
  ErrorCode errorCode = ErrorCode::Ok;
  std::string text;
};

/// A value or an error `Status`.
template <typename T> class Expected {
public:
  Expected(T value) : value(std::move(value)) {}
  Expected(Status error) : err(std::move(error)) {
    assert(!err.ok() && "Expected built from a success Status");
  }

  explicit operator bool() const { return value.has_value(); }
  const Status &status() const { return err; }
  T &operator*() { return *value; }
  const T &operator*() const { return *value; }
  T *operator->() { return &*value; }
  const T *operator->() const { return &*value; }

private:
  std::optional<T> value;
  Status err;
};

/// A non-owning view of a contiguous array (std::span is C++20).
template <typename T> class Span {
public:
  Span() = default;
  Span(T *data, size_t size) : ptr(data), count(size) {}
  // For arguments, as in `launch(stream, {Arg::i32(1), ...})` (as C++26's
  // std::span); the list lives until the end of the full expression.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  Span(std::initializer_list<std::remove_const_t<T>> list)
      : ptr(list.begin()), count(list.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  template <typename A>
  Span(const std::vector<std::remove_const_t<T>, A> &v)
      : ptr(v.data()), count(v.size()) {}
  template <size_t N> Span(T (&array)[N]) : ptr(array), count(N) {}

  T *begin() const { return ptr; }
  T *end() const { return ptr + count; }
  size_t size() const { return count; }
  T &operator[](size_t i) const { return ptr[i]; }

private:
  T *ptr = nullptr;
  size_t count = 0;
};

//===----------------------------------------------------------------------===//
// Data types and arguments
//===----------------------------------------------------------------------===//

/// Values equal the C ABI's `tlc_dtype` codes.
enum class DType : uint8_t { BF16, F16, F32, F64, I8, I32, I64, Bool };

size_t dtypeSize(DType dtype);
const char *dtypeName(DType dtype);
std::optional<DType> parseDType(std::string_view name);

/// A strided tensor in device memory. Strides are in elements.
struct TensorRef {
  void *data = nullptr;
  DType dtype = DType::F32;
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};

  /// A tensor of the given shape; empty `strides` means contiguous row-major.
  static TensorRef make(void *data, DType dtype,
                        std::initializer_list<int64_t> shape,
                        std::initializer_list<int64_t> strides = {});
  /// A contiguous row-major tensor of `shape`.
  static TensorRef make(void *data, DType dtype,
                        const std::vector<int64_t> &shape);
};

enum class ArgKind : uint8_t { Tensor, Scalar };

/// One kernel argument: a tensor, or a scalar of type i32, i64 or f32.
struct Arg {
  ArgKind kind = ArgKind::Scalar;
  TensorRef ref;                 // kind == Tensor
  DType scalarType = DType::I32; // kind == Scalar
  union {
    int32_t i32;
    int64_t i64;
    float f32;
  } value = {};

  static Arg tensor(const TensorRef &ref);
  static Arg tensor(void *data, DType dtype,
                    std::initializer_list<int64_t> shape,
                    std::initializer_list<int64_t> strides = {}) {
    return tensor(TensorRef::make(data, dtype, shape, strides));
  }
  static Arg i32(int32_t v);
  static Arg i64(int64_t v);
  static Arg f32(float v);
};

//===----------------------------------------------------------------------===//
// Kernel metadata (schema tlc.kernel/1)
//===----------------------------------------------------------------------===//

/// One dimension of a tensor parameter: static (`symbol < 0`, `size` is the
/// value) or symbolic (`symbol` indexes KernelInfo::symbols).
struct DimInfo {
  std::string name; // as written in the metadata: "M" or "128"
  int64_t size = -1;
  int symbol = -1;
};

struct ParamInfo {
  std::string name;
  ArgKind kind = ArgKind::Tensor;
  DType dtype = DType::F32;
  int rank = 0;              // tensors
  std::vector<DimInfo> dims; // tensors, `rank` entries
  int64_t alignment = 1;     // tensors: required alignment of `data`, bytes
  uint32_t offset = 0;       // place in the packed parameter buffer
  uint32_t size = 0;
};

/// A symbolic dimension; its value comes from its first occurrence.
struct SymbolInfo {
  std::string name;
  int param = 0;
  int dim = 0;
};

/// A node of a grid expression; nodes refer to their operands by index.
struct GridNode {
  enum class Op : uint8_t {
    Const,
    Dim,
    Scalar,
    Add,
    Sub,
    Mul,
    FloorDiv,
    CeilDiv,
    Max,
    Min
  };
  Op op = Op::Const;
  int64_t value = 0; // Const
  int ref = 0;       // Dim: symbol index; Scalar: parameter index
  int lhs = -1, rhs = -1;
};

/// A TMA tensor map the kernel takes after its parameters (sm_90a
/// pipelines): the runtime encodes it at launch from tensor argument
/// `param`, with box `box` (per tensor dimension, outermost first) and the
/// given swizzle, and passes it by value (128 bytes, 64-byte aligned).
struct TensorMapInfo {
  std::string name;
  int param = 0;
  std::vector<uint32_t> box;
  int swizzle = 0; // bytes: 0, 32, 64 or 128
  uint32_t offset = 0;
};

/// The same kernel without TMA, in the same module: launched instead when an
/// argument's address or strides rule TMA out.
struct FallbackInfo {
  std::string name;
  int threads = 0;
  int dynamicSharedBytes = 0;
};

struct KernelInfo {
  std::string name; // PTX entry symbol
  std::string arch;
  int threads = 0;
  int dynamicSharedBytes = 0;
  unsigned cluster[3] = {1, 1, 1};
  std::vector<ParamInfo> params;
  std::vector<SymbolInfo> symbols;
  std::vector<GridNode> gridNodes;
  int grid[3] = {}; // root node of each axis' expression
  std::vector<TensorMapInfo> tensorMaps;
  std::optional<FallbackInfo> fallback; // present when tensorMaps is not empty
  uint32_t paramBytes = 0;
  /// Informational fields; values of `constants` and `compileOptions` are
  /// JSON text (`128`, `"bf16"`, `true`).
  std::map<std::string, std::string> constants;
  std::string compileOptions, sourceHash, compilerVersion, nvrtcVersion;
};

Expected<KernelInfo> parseKernelInfo(std::string_view json);

/// Prints a grid expression, e.g. `ceildiv(M, 128)`; `node` indexes
/// KernelInfo::gridNodes (`info.grid[axis]` for a whole axis).
std::string printGridExpr(const KernelInfo &info, int node);

//===----------------------------------------------------------------------===//
// Validation (CPU only)
//===----------------------------------------------------------------------===//

/// A checked launch: grid, bound dimensions and the packed kernel parameters
/// (each laid out as the kernel's ABI expects, at `offsets[i]` in `storage`).
struct LaunchPlan {
  unsigned grid[3] = {};
  int numParams = 0;
  uint32_t offsets[kMaxParams] = {};
  int64_t symbolValues[kMaxSymbols] = {}; // indexed like KernelInfo::symbols
  /// The kernel has tensor maps but an argument cannot be described by one
  /// (address not 16-byte aligned, innermost stride not 1, another stride
  /// not a multiple of 16 bytes): launch the fallback kernel.
  bool useFallback = false;
  alignas(64) unsigned char storage[kMaxParamBytes];

  /// A grid with a zero axis launches nothing.
  bool empty() const { return !grid[0] || !grid[1] || !grid[2]; }
};

Expected<LaunchPlan> planLaunch(const KernelInfo &info, Span<const Arg> args);

/// The argument-count check of planLaunch, on its own.
Status checkArgCount(const KernelInfo &info, size_t numArgs);

//===----------------------------------------------------------------------===//
// Device, modules and kernels
//===----------------------------------------------------------------------===//

/// cuInit, then retains the primary context of device `ordinal` and makes it
/// current on the calling thread.
Status initDevice(int ordinal = 0);

class Module;
struct TensorMapCache;

class Kernel {
public:
  const KernelInfo &info() const { return kernelInfo; }
  CUfunction function() const { return fn; }

  /// Validates `args`, then launches on `stream`. No synchronisation, no
  /// allocation: may be captured into a CUDA graph.
  Status launch(CUstream stream, Span<const Arg> args) const;

  /// The kernel launched when a tensor map cannot be built (or null).
  CUfunction fallbackFunction() const { return fallbackFn; }

private:
  friend class Module;
  Status encodeTensorMaps(LaunchPlan &plan, Span<const Arg> args) const;

  KernelInfo kernelInfo;
  CUfunction fn = nullptr;
  CUfunction fallbackFn = nullptr;
  std::shared_ptr<TensorMapCache> tensorMapCache;
};

/// A loaded CUDA module holding one kernel. Move-only; unloads on destruction.
class Module {
public:
  /// Loads PTX (NUL-terminated or not) or a cubin into the current context.
  static Expected<Module> load(std::string_view ptxOrCubin,
                               std::string_view metadataJson);
  static Expected<Module> loadFiles(const std::filesystem::path &ptx,
                                    const std::filesystem::path &json);

  Module(Module &&other) noexcept;
  Module &operator=(Module &&other) noexcept;
  ~Module();

  Kernel &kernel() { return k; }
  CUmodule handle() const { return mod; }

private:
  Module() = default;
  CUmodule mod = nullptr;
  Kernel k;
};

/// Process-wide cache of modules, one per (PTX path, current context).
/// `NAME.ptx` is loaded with its metadata `NAME.json`.
class ModuleCache {
public:
  /// The returned module lives until `clear()`.
  static Expected<Module *> get(const std::filesystem::path &ptx);
  /// Unloads every cached module (call before destroying a context).
  static void clear();
};

} // namespace tlc::rt

#endif // TLC_RUNTIME_RUNTIME_H
