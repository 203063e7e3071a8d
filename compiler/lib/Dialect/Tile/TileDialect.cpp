//===- TileDialect.cpp - The tile dialect ---------------------------------===//
//
// Part of tlc. Dialect registration and verification of the dialect's
// discardable attributes (tile.kernel, tile.constants, tile.num_stages,
// tile.dims).
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace tlc::tile;

#include "tlc/Dialect/Tile/TileDialect.cpp.inc"
#include "tlc/Dialect/Tile/TileEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "tlc/Dialect/Tile/TileAttrs.cpp.inc"

void TileDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "tlc/Dialect/Tile/TileOps.cpp.inc"
      >();
}

void TileDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "tlc/Dialect/Tile/TileAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Discardable attributes
//===----------------------------------------------------------------------===//

bool tlc::tile::isReservedCudaName(StringRef name) {
  static const llvm::StringSet<> reserved = {
      // C++ keywords and alternative tokens.
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor",
      "bool", "break", "case", "catch", "char", "char8_t", "char16_t",
      "char32_t", "class", "compl", "concept", "const", "consteval",
      "constexpr", "constinit", "const_cast", "continue", "co_await",
      "co_return", "co_yield", "decltype", "default", "delete", "do", "double",
      "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false",
      "float", "for", "friend", "goto", "if", "inline", "int", "long",
      "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr",
      "operator", "or", "or_eq", "private", "protected", "public", "register",
      "reinterpret_cast", "requires", "return", "short", "signed", "sizeof",
      "static", "static_assert", "static_cast", "struct", "switch", "template",
      "this", "thread_local", "throw", "true", "try", "typedef", "typeid",
      "typename", "union", "unsigned", "using", "virtual", "void", "volatile",
      "wchar_t", "while", "main",
      // CUDA built-ins and the namespaces generated code uses.
      "threadIdx", "blockIdx", "blockDim", "gridDim", "warpSize", "tlc", "std"};
  return reserved.contains(name) || name.starts_with("_") ||
         name.contains("__");
}

/// `tile.kernel` on a func.func: a name the CUDA back end can launch it by,
/// no results, parameters are global buffers or i32/i64/f32 scalars, and the
/// body holds exactly one top-level tile.launch.
static LogicalResult verifyKernel(Operation *op) {
  auto func = dyn_cast<func::FuncOp>(op);
  if (!func)
    return op->emitError() << "kernel: '" << TileDialect::getKernelAttrName()
                           << "' is only valid on func.func, not on '"
                           << op->getName() << "'";
  if (isReservedCudaName(func.getSymName()))
    return func.emitError()
           << "kernel name '" << func.getSymName()
           << "' is a C++ or CUDA reserved word, or a name the generated code "
              "uses; the runtime launches kernels by name, so choose another";
  if (func.getNumResults() != 0)
    return func.emitError()
           << "kernel: a kernel returns nothing, but '" << func.getSymName()
           << "' has " << func.getNumResults() << " result(s)";
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    if (auto buffer = dyn_cast<BufferType>(type)) {
      if (buffer.getScope() != MemoryScope::Global)
        return func.emitError()
               << "kernel: parameter #" << i << " is a "
               << stringifyMemoryScope(buffer.getScope())
               << " buffer; buffer parameters of a kernel are in global "
                  "memory";
      continue;
    }
    if (type.isSignlessInteger(32) || type.isSignlessInteger(64) ||
        type.isF32())
      continue;
    return func.emitError()
           << "kernel: parameter #" << i << " has type " << formatType(type)
           << "; kernel parameters are global buffers or "
              "i32, i64 or f32 scalars";
  }
  unsigned numLaunches = 0;
  for (Block &block : func.getBody())
    for (Operation &nested : block)
      numLaunches += isa<LaunchOp>(nested);
  if (numLaunches != 1)
    return func.emitError()
           << "kernel: the body of '" << func.getSymName()
           << "' must contain exactly one tile.launch at top level, found "
           << numLaunches;
  return success();
}

LogicalResult TileDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  StringRef name = attr.getName().getValue();

  if (name == getKernelAttrName()) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "kernel: '" << name << "' must be a unit "
                             << "attribute";
    return verifyKernel(op);
  }

  if (name == getConstantsAttrName()) {
    if (!isa<func::FuncOp>(op))
      return op->emitError()
             << "'" << name << "' is only valid on func.func, not on '"
             << op->getName() << "'";
    if (!isa<DictionaryAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' must be a dictionary";
    return success();
  }

  if (name == getNumStagesAttrName()) {
    if (!isa<scf::ForOp>(op))
      return op->emitError()
             << "Pipelined: '" << name << "' is only valid on scf.for, not on '"
             << op->getName() << "'";
    auto stages = dyn_cast<IntegerAttr>(attr.getValue());
    if (!stages || !stages.getType().isSignlessInteger())
      return op->emitError() << "Pipelined: num_stages must be an integer";
    if (stages.getValue().slt(1))
      return op->emitError() << "Pipelined: num_stages must be at least 1";
    return success();
  }

  if (name == getPrefetchAttrName()) {
    auto copy = dyn_cast<CopyOp>(op);
    auto loop = op->getParentOfType<scf::ForOp>();
    if (!copy || !loop || !loop->hasAttr(getNumStagesAttrName()))
      return op->emitError() << "'" << name
                             << "' is only valid on a tile.copy in a "
                                "Pipelined loop (scf.for with tile.num_stages)";
    auto stages = dyn_cast<IntegerAttr>(attr.getValue());
    if (!stages || !stages.getType().isSignlessInteger() ||
        stages.getValue().slt(2))
      return op->emitError()
             << "'" << name << "' must be an integer ring size of at least 2";
    if (copy.getSrc().getType().getScope() != MemoryScope::Global ||
        copy.getDst().getType().getScope() != MemoryScope::Shared)
      return op->emitError()
             << "'" << name << "': only global->shared copies are prefetched";
    return success();
  }

  if (name == getTmaPipelineAttrName()) {
    if (!isa<scf::ForOp>(op) || !op->hasAttr(getNumStagesAttrName()))
      return op->emitError() << "'" << name
                             << "' is only valid on a Pipelined loop (scf.for "
                                "with tile.num_stages)";
    auto plan = dyn_cast<DictionaryAttr>(attr.getValue());
    if (!plan)
      return op->emitError() << "'" << name << "' must be a dictionary";
    for (StringRef field :
         {"producer_threads", "producer_regs", "consumer_regs", "wait_depth"}) {
      auto value = plan.getAs<IntegerAttr>(field);
      if (!value || value.getValue().isNegative())
        return op->emitError() << "'" << name << "' needs a non-negative "
                               << "integer '" << field << "'";
    }
    int64_t producer = plan.getAs<IntegerAttr>("producer_threads").getInt();
    if (producer != 0 && producer != 128)
      return op->emitError() << "'" << name
                             << "': producer_threads is 0 or one warpgroup "
                                "(128), not "
                             << producer;
    return success();
  }

  if (name == getSwizzleAttrName()) {
    auto alloc = dyn_cast<AllocOp>(op);
    auto bytes = dyn_cast<IntegerAttr>(attr.getValue());
    if (!alloc || alloc.getType().getScope() != MemoryScope::Shared)
      return op->emitError()
             << "'" << name << "' is only valid on shared allocations";
    BufferType type = alloc.getType();
    Type elem = type.getElementType();
    int64_t rowBytes = type.getRank() == 2 && (elem.isBF16() || elem.isF16())
                           ? type.getShape()[1] * 2
                           : 0;
    if (!bytes || !llvm::is_contained({32, 64, 128}, bytes.getInt()) ||
        !rowBytes || rowBytes % bytes.getInt())
      return op->emitError()
             << "'" << name
             << "' must be 32, 64 or 128 bytes on a 2-D 16-bit tile whose "
                "rows are a multiple of it";
    return success();
  }

  if (name == getLayoutAttrName()) {
    auto alloc = dyn_cast<AllocOp>(op);
    if (!alloc || alloc.getType().getScope() != MemoryScope::Fragment)
      return op->emitError()
             << "'" << name << "' is only valid on fragment allocations";
    auto layout = dyn_cast<DictionaryAttr>(attr.getValue());
    auto kind = layout ? layout.getAs<StringAttr>("kind") : StringAttr();
    if (!kind || (kind.getValue() != "strided" && kind.getValue() != "mma"))
      return op->emitError() << "'" << name
                             << "' must be {kind = \"strided\"} or {kind = "
                                "\"mma\", warps_m = M, warps_n = N}";
    if (kind.getValue() == "mma" && (!layout.getAs<IntegerAttr>("warps_m") ||
                                     !layout.getAs<IntegerAttr>("warps_n")))
      return op->emitError() << "an mma layout needs warps_m and warps_n";
    return success();
  }

  return op->emitError() << "unknown tile dialect attribute '" << name << "'";
}

LogicalResult TileDialect::verifyRegionArgAttribute(Operation *op,
                                                    unsigned regionIndex,
                                                    unsigned argIndex,
                                                    NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == getParamNameAttrName()) {
    if (!isa<StringAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' must be a string";
    return success();
  }
  if (name != getDimsAttrName())
    return op->emitError() << "unknown tile dialect argument attribute '"
                           << name << "'";

  // Read the type from the function type: a declaration has no entry block.
  auto func = dyn_cast<func::FuncOp>(op);
  if (!func || !func->hasAttr(getKernelAttrName()))
    return op->emitError() << "'" << name
                           << "' is only valid on the parameters of a "
                              "tile.kernel function";
  auto buffer = dyn_cast<BufferType>(func.getArgumentTypes()[argIndex]);
  if (!buffer)
    return op->emitError() << "kernel: parameter #" << argIndex
                           << " is not a buffer but carries '" << name << "'";
  auto dims = dyn_cast<ArrayAttr>(attr.getValue());
  if (!dims || !llvm::all_of(dims, llvm::IsaPred<StringAttr>))
    return op->emitError() << "kernel: '" << name << "' of parameter #"
                           << argIndex << " must be an array of strings";
  if (static_cast<int64_t>(dims.size()) != buffer.getRank())
    return op->emitError() << "kernel: parameter #" << argIndex << " has rank "
                           << buffer.getRank() << " but '" << name << "' names "
                           << dims.size() << " dimension(s)";
  return success();
}
