//===- TileOps.cpp - Operations of the tile dialect -----------------------===//
//
// Part of tlc. Verifiers and assembly hooks of the tile ops.
//
// Verifier messages are user-facing: the compiler reports them at the source
// location of the builtin that produced the op, so they use emitError() (no
// op-name prefix) and start with the source-language builtin's name.
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace tlc::tile;

//===----------------------------------------------------------------------===//
// Custom assembly directives
//===----------------------------------------------------------------------===//

/// `custom<ReduceKind>($kind)`: the reduction kind as a bare keyword (`sum`,
/// `max`, `min`).
static ParseResult parseReduceKind(OpAsmParser &parser, ReduceKindAttr &kind) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<ReduceKind> value = symbolizeReduceKind(keyword);
  if (!value)
    return parser.emitError(loc) << "unknown reduction kind '" << keyword
                                 << "'; expected sum, max or min";
  kind = ReduceKindAttr::get(parser.getContext(), *value);
  return success();
}

static void printReduceKind(OpAsmPrinter &printer, Operation *,
                            ReduceKindAttr kind) {
  printer << stringifyReduceKind(kind.getValue());
}

#define GET_OP_CLASSES
#include "tlc/Dialect/Tile/TileOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static StringRef scopeName(MemoryScope scope) {
  return stringifyMemoryScope(scope);
}

/// Two shapes agree when they have the same rank and every pair of static
/// dimensions is equal (a dynamic global dimension agrees with anything).
static bool shapesAgree(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [l, r] : llvm::zip_equal(lhs, rhs))
    if (!ShapedType::isDynamic(l) && !ShapedType::isDynamic(r) && l != r)
      return false;
  return true;
}

/// Names the entry block arguments of `region` from `names`, in order.
static void nameBlockArguments(Region &region, ArrayRef<StringRef> names,
                               OpAsmSetValueNameFn setNameFn) {
  if (region.empty())
    return;
  for (auto [arg, name] : llvm::zip(region.front().getArguments(), names))
    setNameFn(arg, name);
}

/// Verifies that the single entry block of `region` has one `index` argument
/// per expected dimension.
static LogicalResult verifyIndexArguments(Operation *op, Region &region,
                                          size_t expected, StringRef builtin,
                                          StringRef what) {
  Block &body = region.front();
  if (body.getNumArguments() != expected)
    return op->emitError() << builtin << ": the body must have one index "
                           << "argument per " << what << " (" << expected
                           << "), but it has " << body.getNumArguments();
  for (BlockArgument arg : body.getArguments())
    if (!arg.getType().isIndex())
      return op->emitError()
             << builtin << ": body argument #" << arg.getArgNumber()
             << " must be index, not " << formatType(arg.getType());
  return success();
}

//===----------------------------------------------------------------------===//
// LaunchOp
//===----------------------------------------------------------------------===//

std::string tlc::tile::sourcePlace(Operation *op) {
  if (auto loc = op->getLoc()->findInstanceOf<FileLineColLoc>())
    return (Twine(loc.getLine()) + ":" + Twine(loc.getColumn())).str();
  return "?";
}

std::string tlc::tile::sourceName(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case<LoadOp>([](auto) { return "element read"; })
      .Case<StoreOp>([](auto) { return "element write"; })
      .Case<ParallelOp>([](auto) { return "Parallel loop"; })
      .Case<CopyOp>([](auto) { return "copy"; })
      .Case<GemmOp>([](auto) { return "gemm"; })
      .Case<GemmWaitOp>([](auto) { return "gemm wait"; })
      .Case<ViewOp>([](auto) { return "slice"; })
      .Case<FillOp>([](auto) { return "fill"; })
      .Case<ReduceOp>([](auto) { return "reduction"; })
      .Case<scf::ForOp>([](auto) { return "loop"; })
      .Case<scf::IfOp>([](auto) { return "if"; })
      .Default([](Operation *o) { return o->getName().getStringRef().str(); });
}

int64_t tlc::tile::launchRegisterCap(int64_t threads, int64_t blocksPerSM) {
  return std::min<int64_t>(255, launchRegisterFile(blocksPerSM) /
                                    std::max<int64_t>(threads, 1)) /
         8 * 8;
}

int64_t tlc::tile::launchRegisterFile(int64_t blocksPerSM) {
  return 65536 / std::max<int64_t>(blocksPerSM, 1);
}

int64_t tlc::tile::annotatedSwizzle(Operation *alloc) {
  for (Operation *user : alloc->getUsers())
    if (auto annotate = dyn_cast<AnnotateLayoutOp>(user);
        annotate && annotate.getSwizzle())
      return annotate.getSwizzle();
  return 0;
}

/// Whether nothing in the kernel writes `buffer`, a kernel parameter in
/// global memory (directly or through a slice).
static bool isReadOnlyGlobal(Value buffer) {
  auto arg = dyn_cast<BlockArgument>(buffer);
  auto type = dyn_cast<BufferType>(buffer.getType());
  if (!arg || !type || type.getScope() != MemoryScope::Global ||
      !isa<FunctionOpInterface>(arg.getOwner()->getParentOp()))
    return false;
  SmallVector<Value> worklist{buffer};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (auto view = dyn_cast<ViewOp>(user))
        worklist.push_back(view.getResult());
      else if (isa<StoreOp>(user) ||
               (isa<CopyOp>(user) && cast<CopyOp>(user).getDst() == v))
        return false;
    }
  }
  return true;
}

bool tlc::tile::isUniformScalarCode(Operation *op) {
  // A read of a tensor the kernel never writes (cu_seqlens[n], say) gives
  // every thread the same value, whenever it runs.
  auto load = dyn_cast<LoadOp>(op);
  if (load && !isReadOnlyGlobal(load.getBuffer()))
    return false;
  if (!load && !isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
      !isa<DimOp>(op))
    return false;
  return llvm::all_of(op->getOperands(), [](Value v) {
    Operation *def = v.getDefiningOp();
    return !def || isUniformScalarCode(def);
  });
}

/// The rules a kernel with roles follows on every back end, so that the
/// interpreter and the GPU path accept the same programs: roles tile the
/// block's warps (warpgroups first, none straddling a warpgroup), roles
/// sharing a warpgroup agree on `setmaxnreg`, the budgets fit the register
/// file, and the code between the roles is shared memory, channels or
/// uniform scalar code.
static LogicalResult verifyRoles(LaunchOp launch) {
  Block &body = launch.getBody().front();
  SmallVector<RoleOp> roles(body.getOps<RoleOp>());
  if (roles.empty())
    return success();
  struct Span {
    mutable RoleOp role; // (MLIR op handles are not const-correct)
    int64_t firstWarp, warps, regs;
  };
  SmallVector<Span> spans;
  int64_t warp = 0;
  for (RoleOp role : roles) {
    int64_t warps = static_cast<int64_t>(role.getWarps());
    if (warps % 4 == 0 && warp % 4)
      return role.emitError()
             << "role: '" << role.getName()
             << "' is made of warpgroups but starts at warp " << warp
             << "; wgmma needs warpgroups to start at a multiple of 4 warps "
                "(declare warpgroup roles before warp roles)";
    if (warps % 4 && warp / 4 != (warp + warps - 1) / 4)
      return role.emitError()
             << "role: '" << role.getName() << "' (" << warps
             << " warps from warp " << warp
             << ") straddles a warpgroup boundary; setmaxnreg works on "
                "whole warpgroups";
    spans.push_back(
        {role, warp, warps, role.getRegs() ? int64_t(*role.getRegs()) : 0});
    warp += warps;
  }
  int64_t threads = launch.getThreadsAttr().getInt();
  if (warp * 32 != threads)
    return launch.emitError()
           << "Kernel: the roles use " << warp << " warps but the kernel has "
           << "threads=" << threads << " (" << threads / 32 << " warps"
           << (threads % 32 ? " and a partial one" : "") << ")";
  if (spans.size() > 15)
    return roles[15].emitError("role: at most 15 roles (one named barrier "
                               "each)");
  int64_t cap = launchRegisterCap(threads, launch.getBlocksPerSM());
  int64_t total = 0;
  for (int64_t wg = 0; wg * 4 < warp; ++wg) {
    const Span *first = nullptr;
    for (const Span &span : spans) {
      if (span.firstWarp / 4 > wg || (span.firstWarp + span.warps - 1) / 4 < wg)
        continue;
      if (first && first->regs != span.regs)
        return span.role.emitError()
               << "role: roles '" << first->role.getName() << "' and '"
               << span.role.getName() << "' share warpgroup " << wg
               << " but ask for different register budgets (" << first->regs
               << " and " << span.regs
               << "); setmaxnreg applies to whole warpgroups";
      first = &span;
    }
    total += (first && first->regs ? first->regs : cap) * 128;
  }
  int64_t file = launchRegisterFile(launch.getBlocksPerSM());
  if (total > file)
    return launch.emitError()
           << "Kernel: the roles' register budgets need " << total
           << " registers per block, more than the " << file << " of "
           << (file == 65536 ? "a multiprocessor"
                             : "a block with blocks_per_sm=" +
                                   std::to_string(launch.getBlocksPerSM()));
  for (Operation &op : body) {
    if (isa<RoleOp, ChannelOp, AnnotateLayoutOp>(op) ||
        isUniformScalarCode(&op))
      continue;
    auto alloc = dyn_cast<AllocOp>(op);
    if (alloc && alloc.getType().getScope() == MemoryScope::Shared)
      continue;
    if (alloc)
      return op.emitError("alloc: in a kernel with roles, fragments and "
                          "local buffers belong to one role: allocate them "
                          "inside the role that uses them");
    return op.emitError("Kernel: in a kernel with roles, this operation "
                        "must be inside a role (only shared buffers, "
                        "channels and scalar code may sit between roles)");
  }
  return success();
}

LogicalResult LaunchOp::verify() {
  size_t numDims = getGrid().size();
  if (numDims < 1 || numDims > 3)
    return emitError() << "Kernel: the grid has " << numDims
                       << " dimensions; expected 1, 2 or 3";
  int64_t threads = getThreadsAttr().getInt();
  if (threads < 1 || threads > 1024)
    return emitError() << "Kernel: threads must be between 1 and 1024, got "
                       << threads;
  if (std::optional<ArrayRef<int64_t>> cluster = getCluster()) {
    if (cluster->size() != numDims)
      return emitError() << "Kernel: the cluster has " << cluster->size()
                         << " dimensions but the grid has " << numDims;
    int64_t blocks = 1;
    for (int64_t extent : *cluster) {
      if (extent < 1)
        return emitError() << "Kernel: cluster extents must be positive, got "
                           << formatShape(*cluster);
      blocks *= extent;
    }
    if (blocks > 16)
      return emitError() << "Kernel: a cluster of " << blocks
                         << " blocks; at most 16 (8 portably)";
  }
  int64_t blocksPerSM = getBlocksPerSM();
  if (blocksPerSM < 1 || blocksPerSM > 32)
    return emitError() << "Kernel: blocks_per_sm must be between 1 and 32, "
                          "got "
                       << blocksPerSM;
  if (blocksPerSM * threads > 2048)
    return emitError() << "Kernel: " << blocksPerSM << " blocks of " << threads
                       << " threads exceed the 2048 threads a multiprocessor "
                          "holds";
  return verifyIndexArguments(*this, getBody(), numDims, "Kernel",
                              "grid dimension");
}

// After the nested ops: the role rules read the roles' attributes.
LogicalResult LaunchOp::verifyRegions() { return verifyRoles(*this); }

LogicalResult ClusterRankOp::verify() {
  if (!(*this)->getParentOfType<LaunchOp>())
    return emitError() << "cluster_rank: must be inside a kernel (tile.launch)";
  return success();
}

void LaunchOp::getAsmBlockArgumentNames(Region &region,
                                        OpAsmSetValueNameFn setNameFn) {
  nameBlockArguments(region, {"bx", "by", "bz"}, setNameFn);
}

//===----------------------------------------------------------------------===//
// ParallelOp
//===----------------------------------------------------------------------===//

LogicalResult ParallelOp::verify() {
  ArrayRef<int64_t> extents = getExtents();
  if (extents.empty())
    return emitError() << "Parallel: needs at least one extent";
  if (llvm::any_of(extents, [](int64_t extent) { return extent <= 0; }))
    return emitError() << "Parallel: extents must be positive, got "
                       << formatShape(extents);
  if (failed(verifyIndexArguments(*this, getBody(), extents.size(), "Parallel",
                                  "extent")))
    return failure();
  if (!(*this)->getParentOfType<LaunchOp>())
    return emitError() << "Parallel: must be inside a kernel (tile.launch)";
  if ((*this)->getParentOfType<ParallelOp>())
    return emitError() << "Parallel loops cannot be nested";
  return success();
}

void ParallelOp::getAsmBlockArgumentNames(Region &region,
                                          OpAsmSetValueNameFn setNameFn) {
  nameBlockArguments(region, {"i", "j", "k"}, setNameFn);
}

//===----------------------------------------------------------------------===//
// RoleOp
//===----------------------------------------------------------------------===//

LogicalResult RoleOp::verify() {
  if (!isa_and_nonnull<LaunchOp>((*this)->getParentOp()))
    return emitError() << "role: must be directly inside the kernel body "
                          "(tile.launch)";
  int64_t warps = getWarpsAttr().getInt();
  if (warps < 1)
    return emitError() << "role: warps must be at least 1, got " << warps;
  if (IntegerAttr regsAttr = getRegsAttr()) {
    int64_t regs = regsAttr.getInt();
    if (regs < 24 || regs > 256 || regs % 8 != 0)
      return emitError() << "role: regs must be a multiple of 8 between 24 "
                            "and 256 (setmaxnreg), got "
                         << regs;
  }
  if (getBody().front().getNumArguments() != 0)
    return emitError() << "role: the body takes no arguments";
  return success();
}

//===----------------------------------------------------------------------===//
// AllocOp
//===----------------------------------------------------------------------===//

LogicalResult AllocOp::verify() {
  BufferType type = getResult().getType();
  if (type.getScope() == MemoryScope::Global)
    return emitError() << "alloc: buffers in global memory are kernel "
                          "parameters; alloc_* makes shared, fragment or "
                          "local buffers";
  // Non-global buffer types are static by construction (BufferType::verify).
  return success();
}

void AllocOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  if (std::optional<StringRef> name = getName(); name && !name->empty())
    setNameFn(getResult(), *name);
}

//===----------------------------------------------------------------------===//
// DimOp
//===----------------------------------------------------------------------===//

LogicalResult DimOp::verify() {
  int64_t index = getIndexAttr().getInt();
  int64_t rank = getBuffer().getType().getRank();
  if (index < 0 || index >= rank)
    return emitError() << "shape: dimension " << index
                       << " is out of range for a rank-" << rank << " buffer";
  return success();
}

//===----------------------------------------------------------------------===//
// ViewOp
//===----------------------------------------------------------------------===//

LogicalResult ViewOp::verify() {
  BufferType source = getSource().getType();
  BufferType result = getResult().getType();
  ArrayRef<int64_t> sourceShape = source.getShape();
  ArrayRef<int64_t> sizes = getSizes();
  ArrayRef<int64_t> dropped = getDroppedDims();
  int64_t rank = source.getRank();

  if (static_cast<int64_t>(getOffsets().size()) != rank)
    return emitError() << "view: the rank-" << rank << " buffer "
                       << formatShape(sourceShape) << " is indexed with "
                       << getOffsets().size() << " offset(s)";
  if (static_cast<int64_t>(sizes.size()) != rank)
    return emitError() << "view: the rank-" << rank << " buffer "
                       << formatShape(sourceShape) << " needs " << rank
                       << " size(s), got " << sizes.size();
  if (llvm::any_of(sizes, [](int64_t size) { return size <= 0; }))
    return emitError() << "view: sizes must be positive, got "
                       << formatShape(sizes);

  for (auto [i, dim] : llvm::enumerate(dropped)) {
    if (dim < 0 || dim >= rank)
      return emitError() << "view: dropped dimension " << dim
                         << " is out of range for a rank-" << rank << " buffer";
    if (i > 0 && dim <= dropped[i - 1])
      return emitError() << "view: dropped dimensions must be sorted and "
                            "unique";
    if (sizes[dim] != 1)
      return emitError() << "view: dimension " << dim << " has size "
                         << sizes[dim]
                         << "; only dimensions of size 1 can be dropped";
  }

  SmallVector<int64_t> expected;
  for (auto [i, size] : llvm::enumerate(sizes))
    if (!llvm::is_contained(dropped, static_cast<int64_t>(i)))
      expected.push_back(size);
  if (result.getShape() != ArrayRef<int64_t>(expected))
    return emitError() << "view: the result is "
                       << formatShape(result.getShape()) << " but a "
                       << formatShape(sizes) << " box"
                       << (dropped.empty() ? "" : " with dropped dimensions")
                       << " gives " << formatShape(expected);
  if (result.getElementType() != source.getElementType())
    return emitError() << "view: the result holds "
                       << formatType(result.getElementType())
                       << " but the source holds "
                       << formatType(source.getElementType());
  if (result.getScope() != source.getScope())
    return emitError() << "view: the result is in "
                       << scopeName(result.getScope())
                       << " memory but the source is in "
                       << scopeName(source.getScope()) << " memory";

  bool mustBeInBounds = source.getScope() != MemoryScope::Global;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t dim = sourceShape[i];
    if (ShapedType::isDynamic(dim))
      continue;
    if (sizes[i] > dim)
      return emitError() << "view: the box " << formatShape(sizes)
                         << " is larger than the buffer "
                         << formatShape(sourceShape) << " along dimension "
                         << i;
    APInt offset;
    if (!mustBeInBounds ||
        !matchPattern(getOffsets()[i], m_ConstantInt(&offset)))
      continue;
    int64_t begin = offset.getSExtValue();
    if (begin < 0 || begin + sizes[i] > dim)
      return emitError() << "view: the box [" << begin << ", "
                         << begin + sizes[i] << ") along dimension " << i
                         << " is out of bounds of the "
                         << scopeName(source.getScope()) << " buffer "
                         << formatShape(sourceShape);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AnnotateLayoutOp
//===----------------------------------------------------------------------===//

LogicalResult AnnotateLayoutOp::verify() {
  BufferType type = getBuffer().getType();
  if (type.getScope() != MemoryScope::Shared)
    return emitError() << "annotate_layout: only shared buffers have a "
                          "layout, but this buffer is in "
                       << scopeName(type.getScope()) << " memory";
  int64_t swizzle = getSwizzleAttr().getInt();
  if (swizzle != 0 && swizzle != 32 && swizzle != 64 && swizzle != 128)
    return emitError() << "annotate_layout: swizzle must be 0, 32, 64 or 128 "
                          "(bytes), got "
                       << swizzle;
  return success();
}

//===----------------------------------------------------------------------===//
// CopyOp
//===----------------------------------------------------------------------===//

LogicalResult CopyOp::verify() {
  BufferType src = getSrc().getType();
  BufferType dst = getDst().getType();
  if (!shapesAgree(src.getShape(), dst.getShape()))
    return emitError() << "copy: source is " << formatShape(src.getShape())
                       << " but destination is " << formatShape(dst.getShape());
  if (src.getScope() == MemoryScope::Global &&
      dst.getScope() == MemoryScope::Global)
    return emitError() << "copy: both sides are in global memory; stage "
                          "through shared or fragment memory";
  return success();
}

//===----------------------------------------------------------------------===//
// FillOp
//===----------------------------------------------------------------------===//

LogicalResult FillOp::verify() {
  BufferType dst = getDst().getType();
  if (dst.getScope() == MemoryScope::Global)
    return emitError() << "fill: cannot fill a global buffer; fill a shared, "
                          "fragment or local buffer and copy it out";
  Type valueType = getValue().getType();
  if (!valueType.isIntOrIndexOrFloat())
    return emitError() << "fill: the value must be an integer or float "
                          "scalar, got "
                       << formatType(valueType);
  return success();
}

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::verify() {
  BufferType a = getA().getType();
  BufferType b = getB().getType();
  BufferType c = getC().getType();

  for (auto [name, type] :
       {std::pair<StringRef, BufferType>{"A", a}, {"B", b}, {"C", c}})
    if (type.getRank() != 2)
      return emitError() << "gemm: " << name << " must be 2-D, but it is "
                         << formatShape(type.getShape());

  if (a.getScope() != MemoryScope::Shared &&
      a.getScope() != MemoryScope::Fragment)
    return emitError() << "gemm: A must be in shared or fragment memory, not "
                       << scopeName(a.getScope());
  if (b.getScope() != MemoryScope::Shared)
    return emitError() << "gemm: B must be in shared memory, not "
                       << scopeName(b.getScope());
  if (c.getScope() != MemoryScope::Fragment)
    return emitError() << "gemm: C (the accumulator) must be in fragment "
                          "memory, not "
                       << scopeName(c.getScope());

  Type in = a.getElementType();
  if (b.getElementType() != in)
    return emitError() << "gemm: A and B must have the same element type, "
                          "but A holds "
                       << formatType(in) << " and B holds "
                       << formatType(b.getElementType());
  if (!in.isBF16() && !in.isF16() && !in.isF32() && !in.isSignlessInteger(8))
    return emitError() << "gemm: unsupported input element type "
                       << formatType(in) << "; expected bf16, f16, f32 or i8";
  Type acc = c.getElementType();
  if (in.isSignlessInteger(8)) {
    if (!acc.isSignlessInteger(32))
      return emitError() << "gemm: C holds " << formatType(acc)
                         << " but i8 inputs accumulate in i32";
  } else if (!acc.isF32() && !(in.isF16() && acc.isF16())) {
    return emitError() << "gemm: C holds " << formatType(acc) << " but "
                       << formatType(in) << " inputs accumulate in f32"
                       << (in.isF16() ? " or f16" : "");
  }

  // Logical dimensions: A is MxK, B is KxN, C is MxN.
  bool transA = getTransposeA(), transB = getTransposeB();
  ArrayRef<int64_t> as = a.getShape(), bs = b.getShape(), cs = c.getShape();
  int64_t m = transA ? as[1] : as[0], kA = transA ? as[0] : as[1];
  int64_t kB = transB ? bs[1] : bs[0], n = transB ? bs[0] : bs[1];
  StringRef aLayout = transA ? "KxM, transpose_a" : "MxK";
  StringRef bLayout = transB ? "NxK, transpose_b" : "KxN";
  if (kA != kB)
    return emitError() << "gemm: the K dimensions differ: A is "
                       << formatShape(as) << " (" << aLayout << ") but B is "
                       << formatShape(bs) << " (" << bLayout << ")";
  if (m != cs[0])
    return emitError() << "gemm: the M dimensions differ: A is "
                       << formatShape(as) << " (" << aLayout << ") but C is "
                       << formatShape(cs) << " (MxN)";
  if (n != cs[1])
    return emitError() << "gemm: the N dimensions differ: B is "
                       << formatShape(bs) << " (" << bLayout << ") but C is "
                       << formatShape(cs) << " (MxN)";
  return success();
}

//===----------------------------------------------------------------------===//
// GemmWaitOp
//===----------------------------------------------------------------------===//

LogicalResult GemmWaitOp::verify() {
  for (Value accumulator : getAccumulators())
    if (cast<BufferType>(accumulator.getType()).getScope() !=
        MemoryScope::Fragment)
      return emitError()
             << "gemm_wait: it names gemm accumulators, which "
                "are in fragment memory, not "
             << scopeName(cast<BufferType>(accumulator.getType()).getScope());
  return success();
}

//===----------------------------------------------------------------------===//
// ReduceOp
//===----------------------------------------------------------------------===//

LogicalResult ReduceOp::verify() {
  BufferType src = getSrc().getType();
  BufferType dst = getDst().getType();
  int64_t rank = src.getRank();
  int64_t dim = getDimAttr().getInt();
  if (rank == 0)
    return emitError() << "reduce: cannot reduce a rank-0 buffer";
  if (dim < 0 || dim >= rank)
    return emitError() << "reduce: dim " << dim << " is out of range for the "
                       << formatShape(src.getShape()) << " source (rank "
                       << rank << ")";
  if (src.getScope() != MemoryScope::Fragment &&
      src.getScope() != MemoryScope::Shared)
    return emitError() << "reduce: the source must be in fragment or shared "
                          "memory, not "
                       << scopeName(src.getScope());
  if (dst.getScope() == MemoryScope::Global)
    return emitError() << "reduce: the destination must not be in global "
                          "memory; reduce into a fragment and copy it out";

  SmallVector<int64_t> expected(src.getShape());
  expected.erase(expected.begin() + dim);
  ArrayRef<int64_t> dstShape = dst.getShape();
  bool ok = dstShape == ArrayRef<int64_t>(expected) ||
            (rank == 1 && dstShape == ArrayRef<int64_t>{1});
  if (!ok)
    return emitError() << "reduce: reducing the " << formatShape(src.getShape())
                       << " source along dim " << dim << " gives "
                       << (rank == 1 ? "a scalar (rank 0 or shape 1)"
                                     : formatShape(expected))
                       << ", but the destination is " << formatShape(dstShape);
  return success();
}

//===----------------------------------------------------------------------===//
// CumsumOp
//===----------------------------------------------------------------------===//

LogicalResult CumsumOp::verify() {
  BufferType type = getBuffer().getType();
  int64_t rank = type.getRank();
  int64_t dim = getDimAttr().getInt();
  if (dim < 0 || dim >= rank)
    return emitError() << "cumsum: dim " << dim << " is out of range for the "
                       << formatShape(type.getShape()) << " buffer (rank "
                       << rank << ")";
  if (type.getScope() != MemoryScope::Fragment &&
      type.getScope() != MemoryScope::Shared)
    return emitError() << "cumsum: the buffer must be in fragment or shared "
                          "memory, not "
                       << scopeName(type.getScope());
  return success();
}

//===----------------------------------------------------------------------===//
// AtomicAddOp
//===----------------------------------------------------------------------===//

LogicalResult AtomicAddOp::verify() {
  BufferType src = getSrc().getType();
  BufferType dst = getDst().getType();
  if (!shapesAgree(src.getShape(), dst.getShape()))
    return emitError() << "atomic_add: source is "
                       << formatShape(src.getShape()) << " but destination is "
                       << formatShape(dst.getShape());
  if (dst.getScope() != MemoryScope::Global &&
      dst.getScope() != MemoryScope::Shared)
    return emitError() << "atomic_add: the destination must be in global or "
                          "shared memory, not "
                       << scopeName(dst.getScope());
  if (src.getScope() == MemoryScope::Global)
    return emitError() << "atomic_add: the source must not be in global "
                          "memory; load it into a fragment first";
  return success();
}

//===----------------------------------------------------------------------===//
// LoadOp / StoreOp
//===----------------------------------------------------------------------===//

LogicalResult LoadOp::verify() {
  int64_t rank = getBuffer().getType().getRank();
  if (static_cast<int64_t>(getIndices().size()) != rank)
    return emitError() << "load: a rank-" << rank << " buffer is indexed with "
                       << getIndices().size() << " index(es)";
  return success();
}

LogicalResult StoreOp::verify() {
  // The value type is checked by the TypesMatchWith constraint.
  int64_t rank = getBuffer().getType().getRank();
  if (static_cast<int64_t>(getIndices().size()) != rank)
    return emitError() << "store: a rank-" << rank << " buffer is indexed with "
                       << getIndices().size() << " index(es)";
  return success();
}

//===----------------------------------------------------------------------===//
// ChannelOp / PutOp / GetOp
//===----------------------------------------------------------------------===//

LogicalResult ChannelOp::verify() {
  if (!(*this)->getParentOfType<LaunchOp>())
    return emitError() << "channel: must be created inside a kernel "
                          "(tile.launch)";
  // One role fills the channel and one role drains it: the full and empty
  // barriers count the arrivals of exactly those roles' threads.
  // In program order (a use list is not), so the error is at the later use.
  SmallVector<Operation *> uses;
  if (auto launch = (*this)->getParentOfType<LaunchOp>())
    launch.walk([&](Operation *op) {
      if (isa<PutOp, GetOp>(op) && op->getOperand(0) == getResult())
        uses.push_back(op);
    });
  RoleOp putter, getter;
  for (Operation *user : uses) {
    auto role = user->getParentOfType<RoleOp>();
    if (!role)
      continue; // The put or get reports that it is outside a role.
    bool isPut = isa<PutOp>(user);
    RoleOp &owner = isPut ? putter : getter;
    if (owner && owner != role)
      return user->emitError()
             << (isPut ? "put: channel " : "get: channel ")
             << (getName() ? "'" + getName()->str() + "' " : std::string())
             << "is " << (isPut ? "filled" : "drained") << " by role '"
             << owner.getName() << "'; this " << (isPut ? "put" : "get")
             << " is in role '" << role.getName() << "' (one role "
             << (isPut ? "puts to" : "gets from") << " a channel)";
    owner = role;
  }
  return success();
}

void ChannelOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  if (std::optional<StringRef> name = getName(); name && !name->empty())
    setNameFn(getResult(), *name);
}

LogicalResult PutOp::verify() {
  ChannelType channel = getChannel().getType();
  BufferType src = getSrc().getType();
  if (src.getScope() == MemoryScope::Local)
    return emitError() << "put: the source must be in global, shared or "
                          "fragment memory, not local";
  if (!shapesAgree(src.getShape(), channel.getShape()))
    return emitError() << "put: the source is " << formatShape(src.getShape())
                       << " but the channel's slots are "
                       << formatShape(channel.getShape());
  if (src.getScope() == MemoryScope::Global &&
      src.getElementType() != channel.getElementType())
    return emitError() << "put: the global source holds "
                       << formatType(src.getElementType())
                       << " but the channel holds "
                       << formatType(channel.getElementType())
                       << " (a TMA load cannot convert)";
  if (!(*this)->getParentOfType<RoleOp>())
    return emitError() << "put: must be inside a role (tile.role); channels "
                          "connect roles";
  return success();
}

LogicalResult GetOp::verify() {
  ChannelType channel = getChannel().getType();
  BufferType slotType = channel.getSlotType();
  Block &body = getBody().front();
  if (body.getNumArguments() != 1)
    return emitError() << "get: the body must take exactly one argument, the "
                          "slot ("
                       << slotType << "), but it takes "
                       << body.getNumArguments();
  auto slot = dyn_cast<BufferType>(body.getArgument(0).getType());
  if (!slot || slot.getShape() != channel.getShape() ||
      slot.getElementType() != channel.getElementType() ||
      slot.getScope() != MemoryScope::Shared)
    return emitError() << "get: the body's argument must be the slot, "
                       << slotType << ", not " << body.getArgument(0).getType();
  if (!(*this)->getParentOfType<RoleOp>())
    return emitError() << "get: must be inside a role (tile.role); channels "
                          "connect roles";
  return success();
}

void GetOp::getAsmBlockArgumentNames(Region &region,
                                     OpAsmSetValueNameFn setNameFn) {
  nameBlockArguments(region, {"slot"}, setNameFn);
}
