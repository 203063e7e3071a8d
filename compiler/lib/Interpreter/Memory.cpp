//===- Memory.cpp - Buffers and views of the interpreter ------------------===//
//
// Part of tlc. Storage, views (boxes that may overhang a global tensor) and
// whole-tile reads and writes. The walks over a view run a row (the last
// dimension) at a time with precomputed strides and bounds, so tile ops cost
// a few instructions per element.
//
//===----------------------------------------------------------------------===//

#include "Memory.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <limits>

using namespace tlc::interp;
using namespace tlc::interp::detail;
using tlc::tile::MemoryScope;

//===----------------------------------------------------------------------===//
// Dtypes
//===----------------------------------------------------------------------===//

llvm::StringRef tlc::interp::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::BF16:
    return "bf16";
  case DType::F16:
    return "f16";
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::I8:
    return "i8";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

int64_t tlc::interp::detail::floatToInt(DType dtype, double value) {
  if (std::isnan(value))
    return 0;
  double lo, hi;
  switch (dtype) {
  case DType::I8:
    lo = -128, hi = 127;
    break;
  case DType::I32:
    lo = -2147483648.0, hi = 2147483647.0;
    break;
  case DType::Bool:
    return value != 0;
  default:
    // The largest double below 2^63 and -2^63.
    lo = -9223372036854775808.0, hi = 9223372036854774784.0;
    break;
  }
  return int64_t(std::trunc(std::clamp(value, lo, hi)));
}

double tlc::interp::roundTo(DType dtype, double value) {
  switch (dtype) {
  case DType::BF16:
  case DType::F16:
  case DType::F32:
    return detail::roundFloat(dtype, value);
  case DType::F64:
    return value;
  case DType::Bool:
    return value != 0 ? 1.0 : 0.0;
  case DType::I8:
  case DType::I32:
  case DType::I64:
    break;
  }
  if (std::isnan(value))
    return 0;
  // Truncate toward zero, then wrap to the width (through int64, saturated).
  double t = std::trunc(value);
  int64_t i = t >= 9223372036854775807.0    ? INT64_MAX
              : t <= -9223372036854775808.0 ? INT64_MIN
                                            : int64_t(t);
  return double(wrapInt(dtype, i));
}

std::optional<DType> tlc::interp::detail::dtypeOf(mlir::Type type) {
  if (type.isIndex() || type.isInteger(64))
    return DType::I64;
  if (type.isInteger(32))
    return DType::I32;
  if (type.isInteger(8))
    return DType::I8;
  if (type.isInteger(1))
    return DType::Bool;
  if (type.isF32())
    return DType::F32;
  if (type.isF64())
    return DType::F64;
  if (type.isF16())
    return DType::F16;
  if (type.isBF16())
    return DType::BF16;
  return std::nullopt;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

HostTensor tlc::interp::makeTensor(DType dtype, std::vector<int64_t> shape,
                                   double fill) {
  HostTensor t{dtype, std::move(shape), {}};
  t.data.assign(std::max<int64_t>(t.numElements(), 0), roundTo(dtype, fill));
  return t;
}

//===----------------------------------------------------------------------===//
// Storage
//===----------------------------------------------------------------------===//

static std::string formatInts(llvm::ArrayRef<int64_t> values) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << '[';
  llvm::interleaveComma(values, os);
  os << ']';
  return s;
}

void Storage::allocate(DType newDtype, MemoryScope newScope,
                       llvm::ArrayRef<int64_t> newShape,
                       llvm::StringRef newName) {
  dtype = newDtype;
  scope = newScope;
  name = newName.str();
  shape.assign(newShape.begin(), newShape.end());
  reset();
}

void Storage::reset() {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  // Unwritten elements hold NaN, which would show if a read slipped through.
  own.assign(n, std::numeric_limits<double>::quiet_NaN());
  written.assign(n, 0);
  data = own.data();
}

std::string Storage::describe() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (isGlobal()) {
    os << "the global tensor '" << name << "' of shape " << formatInts(shape);
    return s;
  }
  os << "the " << tile::stringifyMemoryScope(scope) << " buffer";
  if (!name.empty())
    os << " '" << name << "'";
  os << " (";
  for (int64_t d : shape)
    os << d << 'x';
  os << dtypeName(dtype) << ')';
  return s;
}

std::string Storage::coordinates(int64_t flat) const {
  llvm::SmallVector<int64_t, 4> coords(shape.size());
  for (int d = int(shape.size()) - 1; d >= 0; --d) {
    coords[d] = flat % shape[d];
    flat /= shape[d];
  }
  return formatInts(coords);
}

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

View View::whole(Storage &storage) {
  View v;
  v.storage = &storage;
  v.rank = int(storage.shape.size());
  int64_t stride = 1;
  for (int d = v.rank - 1; d >= 0; --d) {
    v.shape[d] = storage.shape[d];
    v.stride[d] = stride;
    v.lo[d] = 0;
    v.hi[d] = storage.shape[d];
    stride *= storage.shape[d];
  }
  return v;
}

int64_t View::numElements() const {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d)
    n *= shape[d];
  return n;
}

bool View::isWhole() const {
  if (outside || base != 0 || rank != int(storage->shape.size()))
    return false;
  for (int d = 0; d < rank; ++d)
    if (shape[d] != storage->shape[d] || lo[d] != 0 || hi[d] != shape[d])
      return false;
  return true;
}

mlir::InFlightDiagnostic tlc::interp::detail::opError(mlir::Operation *op) {
  return mlir::emitError(op->getLoc()) << op->getName().stripDialect() << ": ";
}

mlir::LogicalResult tlc::interp::detail::makeView(
    const View &source, llvm::ArrayRef<int64_t> offsets,
    llvm::ArrayRef<int64_t> sizes, llvm::ArrayRef<int64_t> dropped,
    mlir::Operation *op, View &result) {
  bool global = source.storage->isGlobal();
  View v;
  v.storage = source.storage;
  v.outside = source.outside;
  v.base = source.base;
  for (int d = 0; d < source.rank; ++d) {
    int64_t offset = offsets[d], size = sizes[d];
    if (!global && (offset < 0 || offset + size > source.shape[d])) {
      opError(op) << "the box [" << offset << ", " << offset + size
                  << ") along dimension " << d << " is out of bounds of "
                  << (source.isWhole() ? "" : "a view of ")
                  << source.storage->describe();
      return mlir::failure();
    }
    v.base += offset * source.stride[d];
    if (llvm::is_contained(dropped, d)) {
      v.outside |= offset < source.lo[d] || offset >= source.hi[d];
      continue;
    }
    v.shape[v.rank] = size;
    v.stride[v.rank] = source.stride[d];
    v.lo[v.rank] = source.lo[d] - offset;
    v.hi[v.rank] = source.hi[d] - offset;
    ++v.rank;
  }
  result = v;
  return mlir::success();
}

View tlc::interp::detail::fitTo(const View &view,
                                llvm::ArrayRef<int64_t> shape) {
  View v = view;
  for (int d = 0; d < v.rank; ++d)
    v.shape[d] = shape[d];
  return v;
}

/// Calls `f(n, flat)` for every element of `view` in row-major order: `n`
/// numbers the elements, `flat` is the element's offset in the storage, or
/// -1 when the element is outside the (global) tensor.
template <typename F> static void forEachElement(const View &view, F &&f) {
  if (view.rank == 0) {
    f(int64_t(0), view.outside ? int64_t(-1) : view.base);
    return;
  }
  int last = view.rank - 1;
  int64_t len = view.shape[last], step = view.stride[last];
  int64_t lo = std::clamp<int64_t>(view.lo[last], 0, len);
  int64_t hi = std::clamp<int64_t>(view.hi[last], lo, len);
  int64_t index[kMaxRank] = {};
  for (int64_t n = 0;; n += len) {
    int64_t rowBase = view.base;
    bool rowInside = !view.outside;
    for (int d = 0; d < last; ++d) {
      rowBase += index[d] * view.stride[d];
      rowInside &= index[d] >= view.lo[d] && index[d] < view.hi[d];
    }
    int64_t j = 0;
    if (rowInside) {
      for (; j < lo; ++j)
        f(n + j, int64_t(-1));
      for (; j < hi; ++j)
        f(n + j, rowBase + j * step);
    }
    for (; j < len; ++j)
      f(n + j, int64_t(-1));
    int d = last - 1;
    for (; d >= 0; --d) {
      if (++index[d] < view.shape[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

mlir::LogicalResult tlc::interp::detail::readDense(const View &view,
                                                   std::vector<double> &out,
                                                   mlir::Operation *op) {
  const Storage &s = *view.storage;
  out.resize(view.numElements());
  double *dst = out.data();
  const double *data = s.data;
  if (s.isGlobal()) {
    forEachElement(view, [&](int64_t n, int64_t flat) {
      dst[n] = flat < 0 ? 0.0 : data[flat];
    });
    return mlir::success();
  }
  const uint8_t *written = s.written.data();
  bool allWritten = true;
  forEachElement(view, [&](int64_t n, int64_t flat) {
    dst[n] = data[flat];
    allWritten &= written[flat] != 0;
  });
  if (allWritten)
    return mlir::success();
  int64_t first = -1;
  forEachElement(view, [&](int64_t, int64_t flat) {
    if (first < 0 && !written[flat])
      first = flat;
  });
  opError(op) << "element " << s.coordinates(first) << " of " << s.describe()
              << " is read before it is written";
  return mlir::failure();
}

void tlc::interp::detail::writeDense(const View &view, const double *values) {
  Storage &s = *view.storage;
  double *data = s.data;
  DType dtype = s.dtype;
  if (s.isGlobal()) {
    forEachElement(view, [&](int64_t n, int64_t flat) {
      if (flat >= 0)
        data[flat] = roundTo(dtype, values[n]);
    });
    return;
  }
  uint8_t *written = s.written.data();
  forEachElement(view, [&](int64_t n, int64_t flat) {
    data[flat] = roundTo(dtype, values[n]);
    written[flat] = 1;
  });
}

void tlc::interp::detail::fillView(const View &view, double value) {
  Storage &s = *view.storage;
  double rounded = roundTo(s.dtype, value);
  bool global = s.isGlobal();
  forEachElement(view, [&](int64_t, int64_t flat) {
    if (flat < 0)
      return;
    s.data[flat] = rounded;
    if (!global)
      s.written[flat] = 1;
  });
}

mlir::LogicalResult
tlc::interp::detail::elementOffset(const View &view,
                                   llvm::ArrayRef<int64_t> indices,
                                   mlir::Operation *op, int64_t &flat) {
  flat = view.base;
  bool inside = !view.outside;
  bool inShape = true;
  for (int d = 0; d < view.rank; ++d) {
    int64_t i = indices[d];
    inShape &= i >= 0 && i < view.shape[d];
    inside &= i >= view.lo[d] && i < view.hi[d];
    flat += i * view.stride[d];
  }
  if (inShape && inside)
    return mlir::success();
  const Storage &s = *view.storage;
  mlir::InFlightDiagnostic diag = opError(op);
  diag << "index " << formatInts(indices);
  if (!view.isWhole()) {
    diag << " of a ";
    for (int d = 0; d < view.rank; ++d)
      diag << (d ? "x" : "") << view.shape[d];
    diag << " box";
  }
  if (s.isGlobal() && inShape)
    diag << " is outside " << s.describe();
  else
    diag << " is out of bounds of " << s.describe();
  return mlir::failure();
}

mlir::LogicalResult tlc::interp::detail::readElement(const Storage &storage,
                                                     int64_t flat,
                                                     mlir::Operation *op,
                                                     double &value) {
  if (!storage.isGlobal() && !storage.written[flat]) {
    opError(op) << "element " << storage.coordinates(flat) << " of "
                << storage.describe() << " is read before it is written";
    return mlir::failure();
  }
  value = storage.data[flat];
  return mlir::success();
}
