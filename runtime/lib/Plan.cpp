//===- Plan.cpp - Check launch arguments and pack kernel parameters -------===//
//
// planLaunch runs on the CPU without the driver: it checks every argument
// against the metadata, binds the symbolic dimensions, evaluates the grid and
// packs the kernel parameters. It allocates only to build an error message.
//
//===----------------------------------------------------------------------===//

#include "tlc/runtime/Runtime.h"

#include <fmt/format.h>

#include <cstring>

using namespace tlc::rt;

namespace {

Status invalid(const KernelInfo &info, std::string_view message) {
  return Status::error(ErrorCode::InvalidArgument,
                       fmt::format("tlc: kernel '{}': {}", info.name, message));
}

std::string shapeOf(const TensorRef &t) {
  if (t.rank < 0 || t.rank > kMaxRank)
    return "";
  return fmt::format(" (shape [{}])",
                     fmt::join(t.shape, t.shape + t.rank, ", "));
}

/// Checks tensor argument `i`, binds its symbolic dimensions and packs it as
/// TensorArg<rank> { data; shape[rank]; stride[rank]; } at `dst`.
Status checkTensor(const KernelInfo &info, int i, const TensorRef &t,
                   LaunchPlan &plan, unsigned char *dst) {
  const ParamInfo &p = info.params[i];
  auto fail = [&](const std::string &message) {
    return invalid(
        info, fmt::format("argument '{}' (param {}): {}", p.name, i, message));
  };
  if (t.dtype != p.dtype)
    return fail(fmt::format("expected dtype {}, got {}", dtypeName(p.dtype),
                            dtypeName(t.dtype)));
  if (t.rank != p.rank)
    return fail(
        fmt::format("expected rank {}, got {}{}", p.rank, t.rank, shapeOf(t)));
  bool empty = false;
  for (int d = 0; d < p.rank; ++d) {
    int64_t size = t.shape[d];
    if (size < 0)
      return fail(fmt::format("dimension {} has negative size {}", d, size));
    if (t.strides[d] < 0)
      return fail(fmt::format("dimension {} has negative stride {} (strides "
                              "must be >= 0)",
                              d, t.strides[d]));
    empty |= size == 0;
    const DimInfo &dim = p.dims[d];
    if (dim.symbol < 0) {
      if (size != dim.size)
        return fail(fmt::format("dimension {} must be {}, got {}{}", d,
                                dim.size, size, shapeOf(t)));
      continue;
    }
    const SymbolInfo &s = info.symbols[dim.symbol];
    int64_t &bound = plan.symbolValues[dim.symbol];
    if (s.param == i && s.dim == d)
      bound = size;
    else if (size != bound)
      return fail(fmt::format(
          "dimension {} is '{}' = {}, but '{}' = {} from argument '{}' "
          "dimension {}",
          d, s.name, size, s.name, bound, info.params[s.param].name, s.dim));
  }
  if (!t.data && !empty)
    return fail(fmt::format("data pointer is null, but the tensor is not "
                            "empty{}",
                            shapeOf(t)));
  if (reinterpret_cast<uintptr_t>(t.data) % uint64_t(p.alignment))
    return fail(fmt::format("data pointer {} is not aligned to {} bytes",
                            fmt::ptr(t.data), p.alignment));
  std::memcpy(dst, &t.data, 8);
  std::memcpy(dst + 8, t.shape, 8 * p.rank);
  std::memcpy(dst + 8 + 8 * p.rank, t.strides, 8 * p.rank);
  return {};
}

/// Evaluates grid node `node` in int64; false (with `error` set) on overflow
/// or division by zero.
bool evaluate(const KernelInfo &info, int node, Span<const Arg> args,
              const LaunchPlan &plan, int64_t &out, std::string &error) {
  const GridNode &n = info.gridNodes[node];
  using Op = GridNode::Op;
  switch (n.op) {
  case Op::Const:
    out = n.value;
    return true;
  case Op::Dim:
    out = plan.symbolValues[n.ref];
    return true;
  case Op::Scalar: {
    const Arg &a = args[n.ref];
    out = a.scalarType == DType::I32 ? a.value.i32 : a.value.i64;
    return true;
  }
  default:
    break;
  }
  int64_t a, b;
  if (!evaluate(info, n.lhs, args, plan, a, error) ||
      !evaluate(info, n.rhs, args, plan, b, error))
    return false;
  bool overflow = false;
  switch (n.op) {
  case Op::Add:
    overflow = __builtin_add_overflow(a, b, &out);
    break;
  case Op::Sub:
    overflow = __builtin_sub_overflow(a, b, &out);
    break;
  case Op::Mul:
    overflow = __builtin_mul_overflow(a, b, &out);
    break;
  case Op::FloorDiv:
  case Op::CeilDiv:
    if (b == 0) {
      error = fmt::format("division by zero in {}", printGridExpr(info, node));
      return false;
    }
    overflow = a == INT64_MIN && b == -1;
    if (!overflow) {
      out = a / b; // rounds toward zero; adjust toward -inf or +inf
      bool inexact = a % b != 0, positive = (a < 0) == (b < 0);
      if (inexact && n.op == Op::FloorDiv && !positive)
        --out;
      if (inexact && n.op == Op::CeilDiv && positive)
        ++out;
    }
    break;
  case Op::Max:
    out = std::max(a, b);
    break;
  default: // Op::Min
    out = std::min(a, b);
    break;
  }
  if (overflow)
    error = fmt::format("{} overflows int64 (with operands {} and {})",
                        printGridExpr(info, node), a, b);
  return !overflow;
}

/// What cuTensorMapEncodeTiled accepts: a 16-byte aligned address, a
/// contiguous innermost dimension, other strides multiples of 16 bytes below
/// 2^40, and sizes in [1, 2^32].
bool tmaCanDescribe(const TensorRef &t) {
  int64_t size = int64_t(dtypeSize(t.dtype));
  if (reinterpret_cast<uintptr_t>(t.data) % 16 || t.rank < 1 ||
      t.strides[t.rank - 1] != 1)
    return false;
  for (int d = 0; d < t.rank; ++d) {
    if (t.shape[d] < 1 || t.shape[d] > (int64_t(1) << 32))
      return false;
    // The stride's range is checked before it is scaled: a caller's huge
    // stride would overflow the product, and the encoder takes unsigned
    // strides (zero, as in the never-read stand-ins, is one).
    if (d < t.rank - 1 &&
        (t.strides[d] < 0 || t.strides[d] >= (int64_t(1) << 40) / size ||
         (t.strides[d] * size) % 16))
      return false;
  }
  return true;
}

} // namespace

Status tlc::rt::checkArgCount(const KernelInfo &info, size_t numArgs) {
  if (numArgs == info.params.size())
    return {};
  std::string names;
  for (const ParamInfo &p : info.params)
    names += (names.empty() ? "" : ", ") + p.name;
  return invalid(info, fmt::format("expected {} arguments ({}), got {}",
                                   info.params.size(), names, numArgs));
}

Expected<LaunchPlan> tlc::rt::planLaunch(const KernelInfo &info,
                                         Span<const Arg> args) {
  if (Status s = checkArgCount(info, args.size()); !s.ok())
    return s;
  LaunchPlan plan;
  plan.numParams = int(info.params.size());
  std::memset(plan.storage, 0, info.paramBytes);
  for (int i = 0; i < plan.numParams; ++i) {
    const ParamInfo &p = info.params[i];
    const Arg &a = args[i];
    unsigned char *dst = plan.storage + p.offset;
    plan.offsets[i] = p.offset;
    if (p.kind == ArgKind::Tensor) {
      if (a.kind != ArgKind::Tensor)
        return invalid(info, fmt::format("argument '{}' (param {}): expected "
                                         "a tensor, got a scalar",
                                         p.name, i));
      if (Status s = checkTensor(info, i, a.ref, plan, dst); !s.ok())
        return s;
      continue;
    }
    if (a.kind != ArgKind::Scalar || a.scalarType != p.dtype)
      return invalid(
          info,
          fmt::format("argument '{}' (param {}): expected a scalar {}, "
                      "got {} {}",
                      p.name, i, dtypeName(p.dtype),
                      a.kind == ArgKind::Tensor ? "a tensor of" : "a scalar",
                      dtypeName(a.kind == ArgKind::Tensor ? a.ref.dtype
                                                          : a.scalarType)));
    std::memcpy(dst, &a.value, p.size); // the union's members share its start
  }

  for (const TensorMapInfo &map : info.tensorMaps)
    plan.useFallback |= !tmaCanDescribe(args[map.param].ref);

  static constexpr int64_t kGridLimit[3] = {INT32_MAX, 65535, 65535};
  for (int axis = 0; axis < 3; ++axis) {
    int64_t v = 0;
    std::string error;
    char name = "xyz"[axis];
    if (!evaluate(info, info.grid[axis], args, plan, v, error))
      return invalid(info, fmt::format("grid {}: {}", name, error));
    int64_t limit = kGridLimit[axis], cluster = info.cluster[axis];
    if (v < 0 || v > limit || v % cluster) {
      std::string why =
          v < 0 ? std::string("below 0")
          : v > limit
              ? fmt::format("above the limit {}", limit)
              : fmt::format("not a multiple of the cluster size {}", cluster);
      return invalid(info,
                     fmt::format("grid {} = {} is {}, {}", name,
                                 printGridExpr(info, info.grid[axis]), v, why));
    }
    plan.grid[axis] = unsigned(v);
  }
  return plan;
}
