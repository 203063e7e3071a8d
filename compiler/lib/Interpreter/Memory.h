//===- Memory.h - Buffers and views of the interpreter ----------*- C++ -*-===//
//
// Part of tlc. Private to the interpreter: the storage of a buffer (a kernel's
// tensor argument or an allocation), views of it (boxes that may overhang a
// global tensor), and whole-tile reads and writes through a view in tight
// loops over flat arrays.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_LIB_INTERPRETER_MEMORY_H
#define TLC_LIB_INTERPRETER_MEMORY_H

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Interpreter/Interpreter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace tlc::interp::detail {

/// The largest rank of a buffer the interpreter handles.
constexpr int kMaxRank = 8;

/// Rounds `value` to a float format with `mantissaBits` explicit mantissa
/// bits, smallest normal exponent `minExponent` and largest finite value
/// `maxFinite`, to nearest even, with gradual underflow and overflow to
/// infinity.
inline double roundToFormat(double value, int mantissaBits, int minExponent,
                            double maxFinite) {
  uint64_t bits;
  std::memcpy(&bits, &value, 8);
  int exponent = int((bits >> 52) & 0x7ff) - 1023;
  if (exponent == 1024) // inf or NaN
    return value;
  // (value + c) - c rounds to a multiple of 2^quantum when c = 1.5 *
  // 2^(quantum + 52): the ulp of c is 2^quantum.
  int quantum = std::max(exponent, minExponent) - mantissaBits;
  uint64_t cBits = uint64_t(quantum + 52 + 1023) << 52 | uint64_t(1) << 51;
  double c;
  std::memcpy(&c, &cBits, 8);
  double rounded = (value + c) - c;
  if (std::fabs(rounded) > maxFinite)
    return std::copysign(INFINITY, value);
  return rounded == 0 ? std::copysign(0.0, value) : rounded;
}

/// Rounds a float result to the float dtype `dtype`.
inline double roundFloat(DType dtype, double value) {
  switch (dtype) {
  case DType::F32:
    return double(float(value));
  case DType::BF16:
    return roundToFormat(value, 7, -126, 3.38953138925153547590e38);
  case DType::F16:
    return roundToFormat(value, 10, -14, 65504.0);
  default:
    return value;
  }
}

/// Wraps an integer to the width of the integer dtype `dtype` (sign
/// extended; bool is 0 or 1).
inline int64_t wrapInt(DType dtype, int64_t value) {
  switch (dtype) {
  case DType::I32:
    return int32_t(uint32_t(uint64_t(value)));
  case DType::I8:
    return int8_t(uint8_t(uint64_t(value)));
  case DType::Bool:
    return value & 1;
  default:
    return value;
  }
}

inline bool isFloat(DType dtype) {
  return dtype == DType::BF16 || dtype == DType::F16 || dtype == DType::F32 ||
         dtype == DType::F64;
}

/// Converts a double to an integer of `dtype`: truncation toward zero,
/// saturating at the dtype's range, NaN gives 0 (as CUDA's conversions do).
int64_t floatToInt(DType dtype, double value);

/// The dtype of a scalar or element type (`index` is I64); none for types
/// the interpreter does not handle.
std::optional<DType> dtypeOf(mlir::Type type);

/// The storage of one buffer: a kernel's tensor argument (global, the data
/// of a HostTensor) or an allocation (shared, fragment or local, owned, with
/// a written flag per element).
struct Storage {
  DType dtype = DType::F32;
  tile::MemoryScope scope = tile::MemoryScope::Global;
  std::string name;
  llvm::SmallVector<int64_t, 4> shape;
  double *data = nullptr;
  std::vector<double> own;
  std::vector<uint8_t> written; // empty for global storage

  bool isGlobal() const { return scope == tile::MemoryScope::Global; }
  /// Makes this a fresh allocation of `shape` whose elements are unwritten.
  void allocate(DType dtype, tile::MemoryScope scope,
                llvm::ArrayRef<int64_t> shape, llvm::StringRef name);
  /// Makes this allocation fresh again: every element unwritten.
  void reset();
  /// `the fragment buffer 'acc' (64x64xf32)`, `the global tensor 'X' of
  /// shape [100, 50]`: for diagnostics.
  std::string describe() const;
  /// `[3, 5]`: the coordinates of element `flat`, for diagnostics.
  std::string coordinates(int64_t flat) const;
};

/// A box of a storage: element `i` (one index per dimension) lives at
/// `base + sum(i[d] * stride[d])`. The valid indices along dimension d are
/// those in [lo[d], hi[d]) (clamped to [0, shape[d])); for a global storage
/// the others are outside the tensor (they read 0, writes to them are
/// dropped). `outside` is set when a dropped dimension's coordinate is
/// outside the tensor, which puts every element outside.
struct View {
  Storage *storage = nullptr;
  int rank = 0;
  bool outside = false;
  int64_t base = 0;
  int64_t shape[kMaxRank] = {};
  int64_t stride[kMaxRank] = {};
  int64_t lo[kMaxRank] = {};
  int64_t hi[kMaxRank] = {};

  /// The whole of `storage`.
  static View whole(Storage &storage);
  llvm::ArrayRef<int64_t> getShape() const { return {shape, size_t(rank)}; }
  int64_t numElements() const;
  /// Same shape, no overhang and no offset: the whole storage.
  bool isWhole() const;
};

/// Reports an error at `op`'s location, prefixed with the op's name without
/// its dialect (`copy: `).
mlir::InFlightDiagnostic opError(mlir::Operation *op);

/// Sets `result` to the box of `source` that starts at `offsets` and has
/// `sizes`, without the dimensions `dropped`. A box of a shared, fragment or
/// local buffer must be in bounds; otherwise this reports at `op` and fails.
mlir::LogicalResult makeView(const View &source,
                             llvm::ArrayRef<int64_t> offsets,
                             llvm::ArrayRef<int64_t> sizes,
                             llvm::ArrayRef<int64_t> dropped,
                             mlir::Operation *op, View &result);

/// `view` reshaped to `shape` at the same origin: a whole global tensor,
/// whose dimensions agree with any size, used as a box of a static tile.
View fitTo(const View &view, llvm::ArrayRef<int64_t> shape);

/// Reads every element of `view`, in row-major order, into `out`. Elements
/// outside a global tensor read 0; reading an unwritten element of a shared,
/// fragment or local buffer is reported at `op`.
mlir::LogicalResult readDense(const View &view, std::vector<double> &out,
                              mlir::Operation *op);

/// Writes `values` (row-major, one per element of `view`) through `view`,
/// rounding to the storage's dtype; writes outside a global tensor are
/// dropped.
void writeDense(const View &view, const double *values);

/// Writes `value` to every element of `view`.
void fillView(const View &view, double value);

/// The flat offset of the element at `indices` of `view`; an index out of
/// the view's shape, or outside the global tensor, is reported at `op`.
mlir::LogicalResult elementOffset(const View &view,
                                  llvm::ArrayRef<int64_t> indices,
                                  mlir::Operation *op, int64_t &flat);

/// Reads element `flat` of `storage`, which must have been written unless
/// the storage is global (reported at `op`).
mlir::LogicalResult readElement(const Storage &storage, int64_t flat,
                                mlir::Operation *op, double &value);

/// Stores `value`, rounded to the storage's dtype, at element `flat`.
inline void writeElement(Storage &storage, int64_t flat, double value) {
  storage.data[flat] = roundTo(storage.dtype, value);
  if (!storage.isGlobal())
    storage.written[flat] = 1;
}

} // namespace tlc::interp::detail

#endif // TLC_LIB_INTERPRETER_MEMORY_H
