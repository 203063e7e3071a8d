//===- CudaEmitter.cpp - Tile dialect to CUDA C++ -------------------------===//
//
// Walks a kernel's IR and prints CUDA C++ that calls the device library.
// Buffers map to C objects by scope: global parameters to `TensorArg<R>`
// and their boxes to `GView` (bounds-guarded), shared buffers to pointers
// into dynamic shared memory (offsets from their live ranges, so that
// buffers never live at once share bytes: SharedMemoryPlan.h) and `SView`s,
// fragments to per-thread register arrays with a layout type, local buffers
// to per-thread arrays. A `tile.parallel` iterates over the registers of an
// anchor fragment's layout, so same-layout fragment elements are registers;
// other fragments it reads are first spilled to a shared scratch area.
// Barriers are conservative: around every op that touches shared memory.
//
//===----------------------------------------------------------------------===//

#include "tlc/Codegen/CudaEmitter.h"
#include "tlc/Codegen/SharedLiveness.h"
#include "tlc/Codegen/SharedMemoryPlan.h"
#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Transforms/HopperRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace tlc;
using namespace tlc::tile;

namespace {

std::string cType(Type type) {
  if (type.isIndex())
    return "tlc::i64";
  if (type.isInteger(1))
    return "bool";
  if (type.isInteger(8))
    return "signed char";
  if (type.isInteger(32))
    return "int";
  if (type.isInteger(64))
    return "tlc::i64";
  if (type.isF32())
    return "float";
  if (type.isF64())
    return "double";
  if (type.isBF16())
    return "tlc::bf16";
  if (type.isF16())
    return "tlc::f16";
  return "";
}

/// The C++ identifier of a kernel parameter named `name` in the .tl file.
/// The generated locals are these fixed words or end in a counter, so a user
/// name that is neither (nor reserved) is kept (the generated code stays
/// readable); any other gets the prefix `p_` and a final `_`, which no
/// generated name has.
std::string parameterIdentifier(StringRef name) {
  static const llvm::StringSet<> generatedLocals = {
      "team", "tlc_smem", "bx", "by",  "bz",  "r",
      "rs",   "cs",       "e",  "idx", "lin", "s"};
  if (!isReservedCudaName(name) && !generatedLocals.contains(name) &&
      !name.empty() && !llvm::isDigit(name.back()))
    return name.str();
  return ("p_" + name + "_").str();
}

/// A parameter's name as the .tl spells it (metadata binds arguments by
/// it), or arg<i> for an unnamed one.
std::string sourceParamName(func::FuncOp func, unsigned i) {
  auto nameAttr =
      func.getArgAttrOfType<StringAttr>(i, TileDialect::getParamNameAttrName());
  return nameAttr ? nameAttr.getValue().str() : "arg" + std::to_string(i);
}

std::string dtypeName(Type type) {
  if (type.isInteger(1))
    return "bool";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

int64_t elementBytes(Type type) {
  return std::max<int64_t>(1, type.getIntOrFloatBitWidth() / 8);
}

std::string joinInts(ArrayRef<int64_t> values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? ", " : "") + std::to_string(values[i]);
  return s;
}

int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

std::string shapeType(ArrayRef<int64_t> shape) {
  return "tlc::Shape<" + joinInts(shape) + ">";
}

struct Buffer;
static std::string accessorFor(const Buffer &b, int64_t rank);
static std::string elementAccessor(const Buffer &b, int64_t rank);

/// How a buffer value is represented in the generated code.
struct Buffer {
  enum Kind { GlobalArg, GlobalView, Shared, SharedView, Fragment, Local };
  Kind kind;
  std::string name;
  std::string elem;               // C element type
  SmallVector<int64_t> shape;     // static shape (global args: dynamic < 0)
  std::string layout;             // fragments: layout type
  SmallVector<int64_t> strides;   // shared, shared views, locals
  int64_t warpsM = 0, warpsN = 0; // fragments in the mma layout
  int64_t swizzle = 0; // shared: TMA/wgmma swizzle in bytes (SwzView), or 0
};

class KernelEmitter {
public:
  KernelEmitter(func::FuncOp func, const CodegenOptions &options,
                StringRef nameSuffix = "")
      : func(func), options(options), nameSuffix(nameSuffix), os(code) {}

  FailureOr<KernelArtifact> emit();

private:
  // Output helpers.
  llvm::raw_ostream &line() {
    lastWasBarrier = false;
    return os.indent(indent * 2);
  }
  /// A block-wide barrier, or one over the consumer threads inside the
  /// consumer role of a warp-specialised kernel.
  void barrier() {
    drainTmaStores();
    if (lastWasBarrier)
      return;
    if (roleThreads)
      os.indent(indent * 2) << "tlc::namedSync<" << roleBarrier << ", "
                            << roleThreads << ">();\n";
    else
      os.indent(indent * 2) << "__syncthreads();\n";
    lastWasBarrier = true;
  }
  void lineDirective(Location loc);
  /// Waits on ring slot `slot` of the mbarrier array `barriers` for use
  /// number `use` of a `stages`-slot ring: the one parity rule of every
  /// ring (TMA pipelines and channels). Use u of a slot completes phase
  /// u / stages of its full barrier; an empty barrier's parity is flipped
  /// so that the first pass over a fresh ring does not wait.
  void waitRingSlot(StringRef barriers, StringRef slot, StringRef use,
                    int64_t stages, bool emptyBarrier) {
    line() << "tlc::mbarrierWait(&" << barriers << "[" << slot
           << "], (unsigned(" << use << " / " << stages << ") & 1u)"
           << (emptyBarrier ? " ^ 1u" : "") << ");\n";
  }
  std::string fresh(StringRef prefix) {
    return (prefix + Twine(counter++)).str();
  }
  std::string name(Value v);
  std::string bind(Value v, StringRef prefix = "v");

  // Signature and metadata.
  LogicalResult emitSignature(LaunchOp launch);
  FailureOr<llvm::json::Value> gridExpr(Value v);
  LogicalResult planSharedMemory(LaunchOp launch);

  // Ops.
  LogicalResult emitBlock(mlir::Block &block);
  LogicalResult emitOp(Operation *op);
  LogicalResult emitArith(Operation *op);
  LogicalResult emitScalarLoad(LoadOp op);
  LogicalResult emitScalarStore(StoreOp op);
  LogicalResult emitView(ViewOp op);
  LogicalResult emitCopy(CopyOp op);
  LogicalResult emitFill(FillOp op);
  LogicalResult emitGemm(GemmOp op);
  LogicalResult emitGemmWait(GemmWaitOp op);
  LogicalResult emitReduce(ReduceOp op);
  LogicalResult emitCumsum(CumsumOp op);
  LogicalResult emitAtomicAdd(AtomicAddOp op);
  LogicalResult emitParallel(ParallelOp op);
  /// The body of a Parallel loop over an mma-layout fragment, as row and
  /// column loops with row-only and invariant ops hoisted.
  LogicalResult emitRowFactoredBody(ParallelOp op, StringRef tid);
  LogicalResult emitFor(scf::ForOp op);
  LogicalResult emitIf(scf::IfOp op);

  // Buffers.
  Buffer *buffer(Value v) {
    auto it = buffers.find(v);
    return it == buffers.end() ? nullptr : &it->second;
  }
  std::string linearIndex(const Buffer &b, ValueRange indices);
  bool touchesShared(Operation *op);
  /// Reserves `bytes` of shared scratch for the current op.
  std::string scratch(int64_t offsetBytes, int64_t bytes, StringRef type);

  func::FuncOp func;
  const CodegenOptions &options;
  std::string nameSuffix;
  std::string code;
  llvm::raw_string_ostream os;
  int indent = 1;
  int counter = 0;
  bool lastWasBarrier = false;
  unsigned lastLine = 0;
  int64_t threads = 0;
  int64_t blocksPerSM = 1; // Blocks sharing a multiprocessor.
  int64_t sharedTop = 0;
  int64_t scratchBytes = 0;
  DenseMap<Value, std::string> names;
  DenseMap<Value, Buffer> buffers;
  llvm::json::Array params;
  SmallVector<std::string> argDims;

  // Software pipelining of `Pipelined` loops: global->shared copies that
  // are prefetched num_stages - 1 iterations ahead into a ring of buffers.
  struct PipelinedLoop {
    int64_t stages = 1;
    SmallVector<CopyOp> copies;
  };
  DenseMap<Operation *, PipelinedLoop> pipelinedLoops;
  DenseMap<Operation *, int64_t> stagesOf; // shared alloc -> ring size
  llvm::SmallPtrSet<Operation *, 8> prefetchedCopies;
  void findPipelinedCopies(LaunchOp launch);
  LogicalResult emitPipelinedFor(scf::ForOp op, const PipelinedLoop &loop);
  /// Emits the ops computing `copy`'s source view with the loop variable
  /// named `iv`, then starts the asynchronous copy into `dst`.
  LogicalResult emitPrefetch(scf::ForOp loop, CopyOp copy, StringRef iv,
                             StringRef stage);
  /// Emits the ops of `loop`'s body that `roots` depend on, with the loop
  /// variable named `iv`.
  LogicalResult emitLoopSlice(scf::ForOp loop, ValueRange roots, StringRef iv);
  /// Elements of one ring slot of shared buffer `alloc`.
  int64_t stageElements(Value alloc);
  /// Emits `body` with slot `it % stages` of each ring standing in for the
  /// ring's buffer.
  LogicalResult emitWithRingSlots(mlir::Block &body, ArrayRef<Value> rings,
                                  StringRef it, int64_t stages);

  // Hopper (sm_90a): the Pipelined loop whose rings tile-plan-tma gave to
  // TMA (tile.tma_pipeline). With warp specialisation a producer warpgroup
  // (after the block's own threads) issues the copies; the block's threads
  // are the consumers.
  struct TmaCopy : TmaBox {
    mutable CopyOp copy; // (MLIR op handles are not const-correct)
    mutable ViewOp view;
    std::string map; // the tensor-map parameter
  };
  struct TmaPipeline {
    scf::ForOp loop;
    int64_t stages = 1;
    SmallVector<TmaCopy> copies;
    DenseMap<Operation *, int64_t> swizzleOf; // ring alloc -> swizzle bytes
    int64_t stageBytes = 0;
    /// wgmma groups left in flight across iterations (0: wait each gemm).
    int64_t waitDepth = 0;
    int64_t consumerThreads = 0, producerThreads = 0;
    int64_t producerRegs = 0, consumerRegs = 0; // 0: no setmaxnreg
    int64_t barrierOffset = 0; // of its full and empty mbarriers
    std::string full, empty, counter;
  };
  /// The TMA pipelines, in program order (pointers stay valid once planned).
  SmallVector<TmaPipeline, 1> tmaLoops;
  /// Shared tiles outside the rings that the pipelines' wgmmas read (a state
  /// the threads write each iteration, say): swizzle bytes.
  DenseMap<Operation *, int64_t> operandSwizzleOf;
  /// The TMA pipeline of `loop`, or null.
  TmaPipeline *tmaPipelineOf(Operation *loop) {
    for (TmaPipeline &p : tmaLoops)
      if (p.loop == loop)
        return &p;
    return nullptr;
  }
  /// The producer warpgroup's threads (0: none); one for all pipelines.
  int64_t producerThreads() const {
    return tmaLoops.empty() ? 0 : tmaLoops.front().producerThreads;
  }
  /// The name of the next tensor-map parameter, for argument `param`
  /// (`planned`: maps of a pipeline being planned, not yet in `tma`).
  std::string tensorMapName(unsigned param, size_t planned = 0) {
    return names.lookup(func.getArgument(param)) + "_tma" +
           std::to_string(tensorMaps().size() + planned);
  }
  SmallVector<const TmaCopy *> tensorMaps() const {
    SmallVector<const TmaCopy *> maps;
    for (const TmaPipeline &p : tmaLoops)
      for (const TmaCopy &copy : p.copies)
        maps.push_back(&copy);
    for (const auto &entry : tmaOps)
      maps.push_back(&entry.second);
    return maps;
  }

  // Explicit warp specialisation: roles, channels, put and get.
  struct RoleInfo {
    mutable RoleOp role; // (MLIR op handles are not const-correct)
    int64_t firstWarp = 0, warps = 0;
    int64_t regs = 0; // setmaxnreg budget, 0 for none
  };
  struct Channel {
    std::string slots, full, empty; // ring base and barrier arrays
    std::string elem;
    SmallVector<int64_t> shape;
    int64_t stages = 1, stageElements = 0, swizzle = 0;
    bool tmaPut = false; // puts load with TMA: 1 arrival + tx bytes
    int64_t fullArrivals = 0, emptyArrivals = 0;
    std::string putCounter, getCounter;
    RoleOp putter, getter;
  };
  SmallVector<RoleInfo> roleInfos;
  llvm::MapVector<Value, Channel> channels;
  // Single TMA copies: channel puts that load, and shared->global copies
  // that store.
  llvm::MapVector<Operation *, TmaCopy> tmaOps;
  DenseMap<Operation *, int64_t> annotatedSwizzle; // shared alloc -> bytes
  /// The swizzle (bytes) of a shared alloc: its TMA ring's, or the one
  /// annotate_layout asked for; 0 when it is row-major.
  int64_t sharedSwizzle(Operation *alloc) const {
    for (const TmaPipeline &p : tmaLoops)
      if (int64_t ring = p.swizzleOf.lookup(alloc))
        return ring;
    if (int64_t operand = operandSwizzleOf.lookup(alloc))
      return operand;
    return annotatedSwizzle.lookup(alloc);
  }
  LogicalResult planRoles(LaunchOp launch);
  LogicalResult emitRoles(mlir::Block &body);
  LogicalResult emitRoleBody(const RoleInfo &info, int64_t index);
  /// Opens a block for one use of the next slot of `c`: waits for it and
  /// names it; returns the slot index and pointer variables.
  std::pair<std::string, std::string> openSlot(const Channel &c, bool producer);
  LogicalResult emitPut(PutOp op);
  LogicalResult emitGet(GetOp op);
  /// Whether `gemm` reads two swizzled shared tiles with an accumulator
  /// layout wgmma produces, on the current team.
  /// wgmmaMisfit for the operands as lowered so far.
  std::string wgmmaMisfitOfBuffers(GemmOp gemm);
  /// Some shared buffer or channel uses a swizzled layout (1024-aligned).
  bool swizzled = false;
  DenseMap<Operation *, TmaPipeline *> wgmmaGemms; // gemm -> its pipeline
  /// Accumulators of the async wgmma gemms issued and not yet waited for,
  /// oldest first (tile.gemm_wait finishes a prefix).
  SmallVector<Value> asyncWgmmas;
  /// Inside a role (or the consumers of a TMA pipeline): its thread count
  /// and named barrier; 0 outside.
  int64_t roleThreads = 0, roleBarrier = 1;
  /// The threads of the current team: the block's, or the role's.
  int64_t teamThreads = 0;
  /// Adopts the TMA pipeline tile-plan-tma recorded, if any.
  LogicalResult planTma(LaunchOp launch);
  /// The TMA copy of `tile` to or from global `view`, with the shared side
  /// swizzled by `swizzle` bytes (0: row-major), if TMA can do it.
  std::optional<TmaCopy> planTmaCopy(ViewOp view, BufferType tile,
                                     int64_t swizzle);
  /// Shared->global copies of whole tiles that TMA can store.
  void planTmaStores(LaunchOp launch);
  /// A TMA store was issued and may still read its source: the issuing
  /// thread waits for it before the next barrier (and at the end).
  bool tmaStorePending = false;
  void drainTmaStores() {
    if (!tmaStorePending)
      return;
    tmaStorePending = false;
    line() << "if (team.tid == 0) tlc::bulkWaitRead<0>();\n";
  }
  LogicalResult emitTmaBody(mlir::Block &body);
  LogicalResult emitTmaProducer(mlir::Block &block);
  LogicalResult emitTmaLoop(TmaPipeline &p);
  LogicalResult emitTmaIssueAll(const TmaPipeline &p, StringRef iv,
                                StringRef slot);
  LogicalResult emitTmaIssue(const TmaPipeline &p, const TmaCopy &copy,
                             StringRef iv, StringRef stage, StringRef bar);
  /// The TMA copies of one box, one per swizzled chunk: loads into `smem`
  /// completing on `bar`, or, without `bar`, stores from `smem`.
  void emitTmaBoxes(const TmaCopy &copy, StringRef smem, StringRef bar = "");
  LogicalResult emitTmaConsumerIteration(TmaPipeline &p, StringRef it);

  // Inside a tile.parallel: the layout being iterated, the register index,
  // the loop variables, and fragments read through scratch.
  struct ParallelScope {
    std::string layout;
    SmallVector<int64_t> extents;
    SmallVector<Value> ivs;
    DenseMap<Value, std::string> staged;
  };
  ParallelScope *parallel = nullptr;
};

std::string KernelEmitter::name(Value v) {
  auto it = names.find(v);
  if (it != names.end())
    return it->second;
  return bind(v);
}

std::string KernelEmitter::bind(Value v, StringRef prefix) {
  std::string n = fresh(prefix);
  names[v] = n;
  return n;
}

void KernelEmitter::lineDirective(Location loc) {
  auto fileLoc = dyn_cast<FileLineColLoc>(loc);
  if (!fileLoc || fileLoc.getLine() == lastLine)
    return;
  lastLine = fileLoc.getLine();
  os << "#line " << lastLine << " \"" << fileLoc.getFilename().getValue()
     << "\"\n";
}

//===----------------------------------------------------------------------===//
// Signature, grid, shared memory
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::emitSignature(LaunchOp launch) {
  threads = static_cast<int64_t>(launch.getThreads());
  // The fallback (no TMA, for arguments TMA cannot take) is the slow path
  // kept only for correctness; its staging scratch may not fit the shared
  // memory share of several blocks, so it asks for one.
  bool fallback = !nameSuffix.empty();
  blocksPerSM = fallback ? 1 : launch.getBlocksPerSM();
  os << "extern \"C\" __global__ void __launch_bounds__("
     << threads + producerThreads() << ", " << blocksPerSM << ")\n"
     << func.getName() << nameSuffix << "(";
  mlir::Block &entry = func.getBody().front();
  for (auto [i, arg] : llvm::enumerate(entry.getArguments())) {
    std::string argName = sourceParamName(func, i);
    const std::string &identifier = names[arg]; // Bound by emit().
    llvm::json::Object param;
    param["name"] = argName;
    if (i)
      os << ", ";
    if (auto type = dyn_cast<BufferType>(arg.getType())) {
      std::string elem = cType(type.getElementType());
      if (elem.empty())
        return emitError(arg.getLoc(), "code generation: unsupported dtype ")
               << type.getElementType();
      os << "tlc::TensorArg<" << type.getRank() << "> " << identifier;
      SmallVector<int64_t> shape;
      for (int64_t e : type.getShape())
        shape.push_back(ShapedType::isDynamic(e) ? -1 : e);
      buffers[arg] = Buffer{Buffer::GlobalArg, identifier, elem, shape, "", {}};
      auto dims =
          func.getArgAttrOfType<ArrayAttr>(i, TileDialect::getDimsAttrName());
      llvm::json::Array dimNames;
      for (int64_t d = 0; d < type.getRank(); ++d)
        dimNames.push_back(dims ? cast<StringAttr>(dims[d]).getValue().str()
                                : std::to_string(type.getShape()[d]));
      param["kind"] = "tensor";
      param["dtype"] = dtypeName(type.getElementType());
      param["rank"] = type.getRank();
      param["dims"] = std::move(dimNames);
      param["alignment"] = elementBytes(type.getElementType());
    } else {
      os << cType(arg.getType()) << " " << identifier;
      param["kind"] = "scalar";
      param["dtype"] = dtypeName(arg.getType());
    }
    params.push_back(std::move(param));
  }
  for (const TmaCopy *map : tensorMaps())
    os << ", const __grid_constant__ tlc::TensorMap " << map->map;
  os << ") {\n";
  return success();
}

/// Translates a grid size into the metadata's expression tree, evaluated by
/// the runtime from the launch arguments.
FailureOr<llvm::json::Value> KernelEmitter::gridExpr(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getOwner()->getParentOp() == func.getOperation())
      return llvm::json::Value(llvm::json::Object{{"scalar", names[v]}});
    return failure();
  }
  Operation *op = v.getDefiningOp();
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    if (auto attr = dyn_cast<IntegerAttr>(constant.getValue()))
      return llvm::json::Value(llvm::json::Object{{"const", attr.getInt()}});
    return failure();
  }
  if (auto dim = dyn_cast<DimOp>(op)) {
    auto arg = dyn_cast<BlockArgument>(dim.getBuffer());
    if (!arg)
      return failure();
    auto dims = func.getArgAttrOfType<ArrayAttr>(
        arg.getArgNumber(), TileDialect::getDimsAttrName());
    if (!dims)
      return failure();
    return llvm::json::Value(llvm::json::Object{
        {"dim", cast<StringAttr>(dims[dim.getIndex()]).getValue().str()}});
  }
  if (isa<arith::IndexCastOp, arith::ExtSIOp>(op))
    return gridExpr(op->getOperand(0));
  StringRef opName =
      llvm::TypeSwitch<Operation *, StringRef>(op)
          .Case<arith::AddIOp>([](auto) { return "add"; })
          .Case<arith::SubIOp>([](auto) { return "sub"; })
          .Case<arith::MulIOp>([](auto) { return "mul"; })
          .Case<arith::FloorDivSIOp, arith::DivSIOp>(
              [](auto) { return "floordiv"; })
          .Case<arith::CeilDivSIOp>([](auto) { return "ceildiv"; })
          .Case<arith::MaxSIOp>([](auto) { return "max"; })
          .Case<arith::MinSIOp>([](auto) { return "min"; })
          .Default([](Operation *) { return ""; });
  if (opName.empty())
    return failure();
  FailureOr<llvm::json::Value> lhs = gridExpr(op->getOperand(0));
  FailureOr<llvm::json::Value> rhs = gridExpr(op->getOperand(1));
  if (failed(lhs) || failed(rhs))
    return failure();
  return llvm::json::Value(llvm::json::Object{
      {"op", opName}, {"args", llvm::json::Array{*lhs, *rhs}}});
}

LogicalResult KernelEmitter::planSharedMemory(LaunchOp launch) {
  ProgramPoints points;
  points.number(launch);
  // Roles run concurrently: their buffers, channels and barriers live for
  // the whole kernel, as do the TMA pipeline's barriers.
  bool concurrent = !roleInfos.empty();
  auto wholeKernel = [&](int64_t bytes, int64_t align) {
    return SharedBufferRequest{bytes, align, 0, points.end};
  };
  SmallVector<SharedBufferRequest> requests;
  SmallVector<AllocOp> allocs;
  WalkResult result = launch.walk([&](AllocOp alloc) -> WalkResult {
    BufferType type = alloc.getType();
    std::string elem = cType(type.getElementType());
    if (elem.empty())
      return alloc.emitError("code generation: unsupported dtype ")
             << type.getElementType();
    if (type.getScope() != MemoryScope::Shared)
      return WalkResult::advance();
    int64_t bytes =
        numElements(type.getShape()) * elementBytes(type.getElementType());
    // Swizzled tiles (TMA rings, annotated buffers) must start on the
    // swizzle pattern (1024 bytes).
    int64_t align = sharedSwizzle(alloc) ? 1024 : 128;
    bytes = llvm::alignTo(bytes, align) * stagesOf.lookup_or(alloc, 1);
    SharedBufferRequest request = wholeKernel(bytes, align);
    if (!concurrent)
      std::tie(request.first, request.last) = sharedLiveRange(
          alloc, points, launch,
          /*iterationLocal=*/stagesOf.lookup_or(alloc, 1) == 1 &&
              llvm::none_of(tmaLoops, [&](const TmaPipeline &p) {
                return p.swizzleOf.count(alloc) != 0;
              }));
    // The producer starts filling the first pipeline's rings at once, while
    // the consumers may still be using earlier buffers; a later pipeline's
    // rings once the previous pipeline is drained (emitTmaProducer).
    for (auto [k, p] : llvm::enumerate(tmaLoops))
      if (producerThreads() && p.swizzleOf.count(alloc))
        request.first =
            k == 0 ? 0
                   : std::min<int64_t>(
                         request.first,
                         points.span.lookup(tmaLoops[k - 1].loop).second + 1);
    requests.push_back(request);
    allocs.push_back(alloc);
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  for (auto &[value, c] : channels) {
    int64_t slotBytes = elementBytes(
        cast<ChannelType>(value.getType()).getSlotType().getElementType());
    requests.push_back(
        wholeKernel(c.stages * c.stageElements * slotBytes, 1024));
    requests.push_back(wholeKernel(2 * 8 * c.stages, 8));
  }
  for (const TmaPipeline &p : tmaLoops)
    requests.push_back(wholeKernel(2 * 8 * p.stages, 8));
  sharedTop = llvm::alignTo(packSharedBuffers(requests), 128);

  for (auto [alloc, request] : llvm::zip(allocs, requests)) {
    BufferType type = alloc.getType();
    std::string elem = cType(type.getElementType());
    std::string n = alloc.getName() ? alloc.getName()->str() : fresh("smem");
    n = fresh(n + "_");
    names[alloc] = n;
    buffers[alloc] = Buffer{Buffer::Shared,
                            n,
                            elem,
                            SmallVector<int64_t>(type.getShape()),
                            "",
                            rowMajorStrides(type.getShape())};
    buffers[alloc].swizzle = sharedSwizzle(alloc);
    line() << elem << " *const " << n << " = reinterpret_cast<" << elem
           << " *>(tlc_smem + " << request.offset << ");\n";
  }
  const SharedBufferRequest *next = requests.begin() + allocs.size();
  for (auto &[value, c] : channels) {
    line() << c.elem << " *const " << c.slots << " = reinterpret_cast<"
           << c.elem << " *>(tlc_smem + " << (next++)->offset << ");\n";
    line() << "tlc::Mbarrier *const " << c.full
           << " = reinterpret_cast<tlc::Mbarrier *>(tlc_smem + "
           << (next++)->offset << ");\n";
    line() << "tlc::Mbarrier *const " << c.empty << " = " << c.full << " + "
           << c.stages << ";\n";
  }
  for (TmaPipeline &p : tmaLoops)
    p.barrierOffset = (next++)->offset;
  return success();
}

std::string KernelEmitter::scratch(int64_t offsetBytes, int64_t bytes,
                                   StringRef type) {
  scratchBytes = std::max(scratchBytes, offsetBytes + bytes);
  return ("reinterpret_cast<" + type + " *>(tlc_smem + " +
          Twine(sharedTop + offsetBytes) + ")")
      .str();
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::emitBlock(mlir::Block &block) {
  for (Operation &op : block)
    if (failed(emitOp(&op)))
      return failure();
  return success();
}

bool KernelEmitter::touchesShared(Operation *op) {
  bool shared = false;
  auto check = [&](Value v) {
    if (Buffer *b = buffer(v))
      shared |= b->kind == Buffer::Shared || b->kind == Buffer::SharedView;
  };
  for (Value v : op->getOperands())
    check(v);
  op->walk([&](Operation *nested) {
    for (Value v : nested->getOperands())
      check(v);
  });
  return shared;
}

LogicalResult KernelEmitter::emitOp(Operation *op) {
  lineDirective(op->getLoc());
  // A loop whose body stores with TMA: the next iteration's first barrier
  // waits for the previous iteration's store.
  if (isa<LoopLikeOpInterface>(op) && op->walk([&](CopyOp copy) {
                                          return tmaOps.count(copy)
                                                     ? WalkResult::interrupt()
                                                     : WalkResult::advance();
                                        }).wasInterrupted())
    tmaStorePending = true;
  if (isa<arith::ArithDialect, math::MathDialect>(op->getDialect()))
    return emitArith(op);
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<scf::YieldOp, func::ReturnOp>([](auto) { return success(); })
      .Case<ClusterRankOp>([&](ClusterRankOp rank) {
        line() << "const tlc::i64 " << bind(rank) << " = tlc::clusterRank();\n";
        return success();
      })
      .Case<DimOp>([&](DimOp dim) {
        line() << "const tlc::i64 " << bind(dim) << " = "
               << name(dim.getBuffer()) << ".shape[" << dim.getIndex()
               << "];\n";
        return success();
      })
      .Case<AllocOp>([&](AllocOp alloc) -> LogicalResult {
        BufferType type = alloc.getType();
        std::string elem = cType(type.getElementType());
        std::string n = alloc.getName() ? alloc.getName()->str() : "buf";
        switch (type.getScope()) {
        case MemoryScope::Shared:
          return success(); // Planned up front.
        case MemoryScope::Fragment: {
          auto layout = alloc->getAttrOfType<DictionaryAttr>(
              TileDialect::getLayoutAttrName());
          if (!layout)
            return alloc.emitError("code generation: fragment without a "
                                   "layout (run tile-infer-layouts)");
          std::string cname = fresh(n + "_");
          Buffer fragment{Buffer::Fragment,
                          cname,
                          elem,
                          SmallVector<int64_t>(type.getShape()),
                          "",
                          {}};
          if (std::optional<MmaWarps> warps = mmaWarpsOf(alloc)) {
            fragment.warpsM = warps->m;
            fragment.warpsN = warps->n;
            fragment.layout = llvm::formatv(
                "tlc::MmaLayout<{0}, {1}, {2}, {3}>", type.getShape()[0],
                type.getShape()[1], fragment.warpsM, fragment.warpsN);
          } else {
            fragment.layout =
                llvm::formatv("tlc::StridedLayout<{0}, {1}>",
                              numElements(type.getShape()), teamThreads);
          }
          std::string layoutType = fragment.layout;
          names[alloc] = cname;
          buffers[alloc] = std::move(fragment);
          line() << elem << " " << cname << "[" << layoutType << "::kRegs];\n";
          return success();
        }
        case MemoryScope::Local: {
          std::string cname = fresh(n + "_");
          names[alloc] = cname;
          buffers[alloc] = Buffer{Buffer::Local,
                                  cname,
                                  elem,
                                  SmallVector<int64_t>(type.getShape()),
                                  "",
                                  rowMajorStrides(type.getShape())};
          line() << elem << " " << cname << "[" << numElements(type.getShape())
                 << "];\n";
          return success();
        }
        case MemoryScope::Global:
          break;
        }
        return alloc.emitError("code generation: cannot allocate global "
                               "memory");
      })
      .Case<ViewOp>([&](ViewOp v) { return emitView(v); })
      .Case<LoadOp>([&](LoadOp v) { return emitScalarLoad(v); })
      .Case<StoreOp>([&](StoreOp v) { return emitScalarStore(v); })
      .Case<CopyOp>([&](CopyOp v) { return emitCopy(v); })
      .Case<FillOp>([&](FillOp v) { return emitFill(v); })
      .Case<GemmOp>([&](GemmOp v) { return emitGemm(v); })
      .Case<GemmWaitOp>([&](GemmWaitOp v) { return emitGemmWait(v); })
      .Case<ReduceOp>([&](ReduceOp v) { return emitReduce(v); })
      .Case<CumsumOp>([&](CumsumOp v) { return emitCumsum(v); })
      .Case<AtomicAddOp>([&](AtomicAddOp v) { return emitAtomicAdd(v); })
      .Case<ParallelOp>([&](ParallelOp v) { return emitParallel(v); })
      .Case<scf::ForOp>([&](scf::ForOp v) { return emitFor(v); })
      .Case<scf::IfOp>([&](scf::IfOp v) { return emitIf(v); })
      .Case<ChannelOp, AnnotateLayoutOp>(
          [](Operation *) { return success(); }) // Planned up front.
      .Case<PutOp>([&](PutOp v) { return emitPut(v); })
      .Case<GetOp>([&](GetOp v) { return emitGet(v); })
      .Case<RoleOp>([&](RoleOp v) {
        return v.emitError("code generation: a role must be directly in the "
                           "Kernel body");
      })
      .Default([&](Operation *o) {
        return o->emitError()
               << "code generation: cannot lower " << o->getName();
      });
}

LogicalResult KernelEmitter::emitArith(Operation *op) {
  if (op->getNumResults() != 1)
    return op->emitError() << "code generation: cannot lower " << op->getName();
  Type type = op->getResult(0).getType();
  std::string t = cType(type);
  if (t.empty())
    return op->emitError("code generation: unsupported type ") << type;
  auto operand = [&](unsigned i) { return name(op->getOperand(i)); };
  bool is16 = type.isBF16() || type.isF16();
  // Math on 16-bit floats goes through f32.
  auto mathCall = [&](StringRef f32Name, StringRef f64Name) {
    if (type.isF64())
      return (f64Name + "(" + operand(0) + ")").str();
    std::string call =
        (f32Name + "(tlc::cvt<float>(" + operand(0) + "))").str();
    return is16 ? "tlc::cvt<" + t + ">(" + call + ")" : call;
  };
  auto binary = [&](StringRef symbol) {
    return "(" + operand(0) + " " + symbol.str() + " " + operand(1) + ")";
  };
  std::string expr;
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    Attribute value = constant.getValue();
    if (auto intAttr = dyn_cast<IntegerAttr>(value)) {
      expr = type.isInteger(1)
                 ? (intAttr.getValue().isZero() ? "false" : "true")
                 : std::to_string(intAttr.getInt()) + "LL";
    } else if (auto floatAttr = dyn_cast<FloatAttr>(value)) {
      double d = floatAttr.getValueAsDouble();
      std::string literal;
      if (std::isinf(d))
        literal =
            d > 0 ? "__int_as_float(0x7f800000)" : "__int_as_float(0xff800000)";
      else if (std::isnan(d))
        literal = "__int_as_float(0x7fc00000)";
      else
        literal = llvm::formatv("{0:e17}", d).str();
      expr = "tlc::cvt<" + t + ">(" + literal + ")";
    } else {
      return op->emitError("code generation: unsupported constant");
    }
  } else if (isa<arith::AddIOp, arith::AddFOp>(op)) {
    expr = binary("+");
  } else if (isa<arith::SubIOp, arith::SubFOp>(op)) {
    expr = binary("-");
  } else if (isa<arith::MulIOp, arith::MulFOp>(op)) {
    expr = binary("*");
  } else if (isa<arith::DivFOp, arith::DivSIOp>(op)) {
    expr = binary("/");
  } else if (isa<arith::RemSIOp>(op)) {
    expr = binary("%");
  } else if (isa<arith::FloorDivSIOp>(op)) {
    expr = "tlc::floordiv(" + operand(0) + ", " + operand(1) + ")";
  } else if (isa<arith::CeilDivSIOp>(op)) {
    expr = "tlc::ceildiv(" + operand(0) + ", " + operand(1) + ")";
  } else if (isa<arith::MaxSIOp>(op)) {
    expr = "(" + operand(0) + " > " + operand(1) + " ? " + operand(0) + " : " +
           operand(1) + ")";
  } else if (isa<arith::MinSIOp>(op)) {
    expr = "(" + operand(0) + " < " + operand(1) + " ? " + operand(0) + " : " +
           operand(1) + ")";
  } else if (isa<arith::MaximumFOp, arith::MinimumFOp>(op)) {
    StringRef f = isa<arith::MaximumFOp>(op) ? "fmax" : "fmin";
    if (type.isF64())
      expr = (f + "(" + operand(0) + ", " + operand(1) + ")").str();
    else
      expr = "tlc::cvt<" + t + ">(" + f.str() + "f(tlc::cvt<float>(" +
             operand(0) + "), tlc::cvt<float>(" + operand(1) + ")))";
  } else if (isa<arith::NegFOp>(op)) {
    expr = "(-" + operand(0) + ")";
  } else if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
    static const char *symbols[] = {"==", "!=", "<",  "<=", ">",
                                    ">=", "<",  "<=", ">",  ">="};
    expr = binary(symbols[static_cast<int>(cmp.getPredicate())]);
  } else if (auto cmp = dyn_cast<arith::CmpFOp>(op)) {
    using P = arith::CmpFPredicate;
    StringRef symbol;
    switch (cmp.getPredicate()) {
    case P::OEQ:
    case P::UEQ:
      symbol = "==";
      break;
    case P::ONE:
    case P::UNE:
      symbol = "!=";
      break;
    case P::OLT:
    case P::ULT:
      symbol = "<";
      break;
    case P::OLE:
    case P::ULE:
      symbol = "<=";
      break;
    case P::OGT:
    case P::UGT:
      symbol = ">";
      break;
    case P::OGE:
    case P::UGE:
      symbol = ">=";
      break;
    default:
      return op->emitError("code generation: unsupported comparison");
    }
    expr = binary(symbol);
  } else if (isa<arith::SelectOp>(op)) {
    expr = "(" + operand(0) + " ? " + operand(1) + " : " + operand(2) + ")";
  } else if (isa<arith::AndIOp>(op)) {
    expr = binary(type.isInteger(1) ? "&&" : "&");
  } else if (isa<arith::OrIOp>(op)) {
    expr = binary(type.isInteger(1) ? "||" : "|");
  } else if (isa<arith::XOrIOp>(op)) {
    expr = binary(type.isInteger(1) ? "!=" : "^");
  } else if (isa<arith::IndexCastOp, arith::ExtSIOp, arith::ExtUIOp,
                 arith::TruncIOp, arith::SIToFPOp, arith::FPToSIOp,
                 arith::ExtFOp, arith::TruncFOp>(op)) {
    expr = "tlc::cvt<" + t + ">(" + operand(0) + ")";
  } else if (isa<math::ExpOp>(op)) {
    expr = mathCall("tlc::fastExp", "exp");
  } else if (isa<math::Exp2Op>(op)) {
    expr = mathCall("exp2f", "exp2");
  } else if (isa<math::LogOp>(op)) {
    expr = mathCall("logf", "log");
  } else if (isa<math::Log2Op>(op)) {
    expr = mathCall("log2f", "log2");
  } else if (isa<math::SqrtOp>(op)) {
    expr = mathCall("sqrtf", "sqrt");
  } else if (isa<math::RsqrtOp>(op)) {
    expr = mathCall("rsqrtf", "rsqrt");
  } else if (isa<math::AbsFOp>(op)) {
    expr = mathCall("fabsf", "fabs");
  } else if (isa<math::FloorOp>(op)) {
    expr = mathCall("floorf", "floor");
  } else if (isa<math::AbsIOp>(op)) {
    expr =
        "(" + operand(0) + " < 0 ? -" + operand(0) + " : " + operand(0) + ")";
  } else {
    return op->emitError() << "code generation: cannot lower " << op->getName();
  }
  line() << "const " << t << " " << bind(op->getResult(0)) << " = " << expr
         << ";\n";
  return success();
}

std::string KernelEmitter::linearIndex(const Buffer &b, ValueRange indices) {
  std::string s;
  for (auto [d, index] : llvm::enumerate(indices)) {
    if (!s.empty())
      s += " + ";
    s += name(index);
    if (b.strides[d] != 1)
      s += " * " + std::to_string(b.strides[d]);
  }
  return s.empty() ? "0" : s;
}

LogicalResult KernelEmitter::emitView(ViewOp op) {
  Buffer *base = buffer(op.getSource());
  if (!base)
    return op.emitError("code generation: view of an unknown buffer");
  BufferType resultType = op.getType();
  ArrayRef<int64_t> dropped = op.getDroppedDims();
  SmallVector<int64_t> kept;
  for (int64_t d = 0; d < static_cast<int64_t>(op.getSizes().size()); ++d)
    if (!llvm::is_contained(dropped, d))
      kept.push_back(d);
  std::string n = bind(op, "view");
  std::string offsets;
  for (auto [i, offset] : llvm::enumerate(op.getOffsets()))
    offsets += (i ? ", " : "") + name(offset);
  if (base->kind == Buffer::GlobalArg) {
    line() << "const tlc::GView<" << base->elem << ", " << kept.size() << "> "
           << n << " = tlc::makeView<" << base->elem << ", " << kept.size()
           << ">(" << base->name << ", {" << offsets << "}, {"
           << (kept.empty() ? "0" : joinInts(kept)) << "});\n";
    buffers[op] = Buffer{Buffer::GlobalView,
                         n,
                         base->elem,
                         SmallVector<int64_t>(resultType.getShape()),
                         "",
                         {}};
    return success();
  }
  if (base->swizzle)
    return op.emitError("code generation: views of a swizzled shared buffer "
                        "(annotate_layout, channel slots) are not supported; "
                        "use the whole buffer");
  if (base->kind == Buffer::Shared || base->kind == Buffer::Local) {
    std::string start;
    for (auto [d, offset] : llvm::enumerate(op.getOffsets())) {
      start += " + " + name(offset);
      if (base->strides[d] != 1)
        start += " * " + std::to_string(base->strides[d]);
    }
    SmallVector<int64_t> strides;
    for (int64_t d : kept)
      strides.push_back(base->strides[d]);
    line() << "const tlc::SView<" << base->elem << ", " << kept.size() << "> "
           << n << "{" << base->name << start << ", {"
           << (strides.empty() ? "1" : joinInts(strides)) << "}};\n";
    buffers[op] = Buffer{Buffer::SharedView,
                         n,
                         base->elem,
                         SmallVector<int64_t>(resultType.getShape()),
                         "",
                         strides};
    return success();
  }
  return op.emitError("code generation: views of fragments are not "
                      "supported yet; copy the fragment to shared memory "
                      "first");
}

LogicalResult KernelEmitter::emitScalarLoad(LoadOp op) {
  Buffer *b = buffer(op.getBuffer());
  if (!b)
    return op.emitError("code generation: load from an unknown buffer");
  std::string t = cType(op.getType());
  std::string n = bind(op);
  switch (b->kind) {
  case Buffer::Fragment: {
    if (!parallel)
      return op.emitError(
          "code generation: fragment elements can only be read inside a "
          "Parallel loop; copy the fragment to shared memory to read it "
          "elsewhere");
    auto staged = parallel->staged.find(op.getBuffer());
    if (staged != parallel->staged.end()) {
      SmallVector<int64_t> strides = rowMajorStrides(b->shape);
      Buffer view = *b;
      view.strides = strides;
      line() << "const " << t << " " << n << " = " << staged->second << "["
             << linearIndex(view, op.getIndices()) << "];\n";
    } else {
      line() << "const " << t << " " << n << " = " << b->name << "[r];\n";
    }
    return success();
  }
  case Buffer::Shared:
    if (b->swizzle) {
      line() << "const " << t << " " << n << " = " << accessorFor(*b, 2)
             << ".load({" << name(op.getIndices()[0]) << ", "
             << name(op.getIndices()[1]) << "});\n";
      return success();
    }
    [[fallthrough]];
  case Buffer::Local:
  case Buffer::SharedView:
    line() << "const " << t << " " << n << " = " << b->name << "["
           << linearIndex(*b, op.getIndices()) << "];\n";
    return success();
  case Buffer::GlobalArg:
  case Buffer::GlobalView: {
    std::string idx;
    for (auto [i, v] : llvm::enumerate(op.getIndices()))
      idx += (i ? ", " : "") + name(v);
    std::string view = elementAccessor(*b, op.getIndices().size());
    line() << "const " << t << " " << n << " = " << view << ".load({" << idx
           << "});\n";
    return success();
  }
  }
  return failure();
}

LogicalResult KernelEmitter::emitScalarStore(StoreOp op) {
  Buffer *b = buffer(op.getBuffer());
  if (!b)
    return op.emitError("code generation: store to an unknown buffer");
  std::string value = name(op.getValue());
  switch (b->kind) {
  case Buffer::Fragment: {
    if (!parallel || parallel->staged.count(op.getBuffer()) ||
        b->layout != parallel->layout ||
        !llvm::equal(b->shape, parallel->extents) ||
        !llvm::equal(op.getIndices(), parallel->ivs))
      return op.emitError(
          "code generation: a fragment element can only be written inside a "
          "Parallel loop over the fragment's own shape, at the loop "
          "variables");
    line() << b->name << "[r] = " << value << ";\n";
    return success();
  }
  case Buffer::Shared:
    if (b->swizzle) {
      line() << accessorFor(*b, 2) << ".store({" << name(op.getIndices()[0])
             << ", " << name(op.getIndices()[1]) << "}, " << value << ");\n";
      return success();
    }
    [[fallthrough]];
  case Buffer::Local:
  case Buffer::SharedView:
    line() << b->name << "[" << linearIndex(*b, op.getIndices())
           << "] = " << value << ";\n";
    return success();
  case Buffer::GlobalView:
  case Buffer::GlobalArg: {
    std::string idx;
    for (auto [i, v] : llvm::enumerate(op.getIndices()))
      idx += (i ? ", " : "") + name(v);
    line() << elementAccessor(*b, op.getIndices().size()) << ".store({" << idx
           << "}, " << value << ");\n";
    return success();
  }
  }
  return failure();
}

/// The accessor of single elements of a global buffer: a whole tensor's
/// elements go through tlc::Elements, whose bounds checks use the static
/// extents of the parameter's type (a view from the origin would check
/// offsets and recompute its extents at every element).
static std::string elementAccessor(const Buffer &b, int64_t rank) {
  if (b.kind != Buffer::GlobalArg || int64_t(b.shape.size()) != rank)
    return accessorFor(b, rank);
  std::string extents;
  for (int64_t e : b.shape)
    extents += ", " + std::to_string(e);
  return llvm::formatv("tlc::Elements<{0}, {1}{2}>{{{3}}", b.elem, rank,
                       extents, b.name)
      .str();
}

/// An accessor expression for a non-fragment buffer (whole global tensors
/// become a view from the origin).
static std::string accessorFor(const Buffer &b, int64_t rank) {
  switch (b.kind) {
  case Buffer::GlobalArg: {
    std::string zeros, all;
    for (int64_t d = 0; d < rank; ++d) {
      zeros += std::string(d ? ", " : "") + "0";
      all += std::string(d ? ", " : "") + std::to_string(d);
    }
    return llvm::formatv("tlc::makeView<{0}, {1}>({2}, {{{3}}, {{{4}})", b.elem,
                         rank, b.name, zeros, all)
        .str();
  }
  case Buffer::GlobalView:
  case Buffer::SharedView:
    return b.name;
  case Buffer::Shared:
    if (b.swizzle)
      return llvm::formatv("tlc::SwzView<{0}, {1}, {2}>{{{3}}", b.elem,
                           b.shape[0], b.swizzle, b.name)
          .str();
    [[fallthrough]];
  case Buffer::Local:
    return llvm::formatv("tlc::SView<{0}, {1}>{{{2}, {{{3}}}", b.elem,
                         b.shape.size(), b.name,
                         b.shape.empty() ? "1"
                                         : joinInts(rowMajorStrides(b.shape)))
        .str();
  case Buffer::Fragment:
    break;
  }
  return "";
}

LogicalResult KernelEmitter::emitCopy(CopyOp op) {
  if (prefetchedCopies.contains(op))
    return success(); // Issued ahead by the pipelined loop.
  Buffer *src = buffer(op.getSrc());
  Buffer *dst = buffer(op.getDst());
  if (!src || !dst)
    return op.emitError("code generation: copy of an unknown buffer");
  ArrayRef<int64_t> shape = op.getDst().getType().getShape();
  if (src->kind == Buffer::GlobalArg)
    shape = op.getDst().getType().getShape();
  if (dst->kind == Buffer::GlobalArg)
    shape = op.getSrc().getType().getShape();
  int64_t rank = shape.size();
  std::string s = shapeType(shape);
  if (auto store = tmaOps.find(op); store != tmaOps.end()) {
    // Every thread orders its writes of the tile before the async proxy's
    // reads; after the barrier one thread stores the tile, and waits for
    // the reads only before the next barrier (or the end).
    line() << "tlc::fenceProxyAsync();\n";
    barrier();
    line() << "if (team.tid == 0) {\n";
    ++indent;
    emitTmaBoxes(store->second, src->name);
    line() << "tlc::bulkCommit();\n";
    --indent;
    line() << "}\n";
    tmaStorePending = true;
    return success();
  }
  bool shared = touchesShared(op);
  if (shared)
    barrier();
  if (src->kind == Buffer::Fragment && dst->kind == Buffer::Fragment) {
    if (src->layout == dst->layout) {
      line() << "#pragma unroll\n";
      line() << "for (int r = 0; r < " << dst->layout << "::kRegs; ++r) "
             << dst->name << "[r] = tlc::cvt<" << dst->elem << ">(" << src->name
             << "[r]);\n";
    } else {
      std::string tmp = scratch(0, numElements(shape) * 4, "float");
      barrier();
      line() << "tlc::spill<" << src->layout << ">(" << src->name << ", " << tmp
             << ", team);\n";
      barrier();
      line() << "tlc::reload<" << dst->layout << ">(" << dst->name << ", "
             << tmp << ", team);\n";
      barrier();
    }
  } else if (dst->kind == Buffer::Fragment) {
    line() << "tlc::loadFragment<" << s << ", " << dst->layout << ">("
           << accessorFor(*src, rank) << ", " << dst->name << ", team);\n";
  } else if (src->kind == Buffer::Fragment) {
    line() << "tlc::storeFragment<" << s << ", " << src->layout << ", "
           << dst->elem << ">(" << src->name << ", " << accessorFor(*dst, rank)
           << ", team);\n";
  } else if (src->kind == Buffer::Local || dst->kind == Buffer::Local) {
    line() << "for (tlc::i64 lin = 0; lin < " << s << "::kNumel; ++lin) { "
           << "tlc::i64 idx[" << std::max<int64_t>(rank, 1) << "]; " << s
           << "::unravel(lin, idx); " << accessorFor(*dst, rank)
           << ".store(idx, tlc::cvt<" << dst->elem << ">("
           << accessorFor(*src, rank) << ".load(idx))); }\n";
  } else {
    line() << "tlc::copyBlock<" << s << ", " << dst->elem << ">("
           << accessorFor(*src, rank) << ", " << accessorFor(*dst, rank) << ", "
           << "team);\n";
  }
  // Generic writes that wgmma or TMA read next: order them for the async
  // proxy before the barrier.
  if (dst->kind == Buffer::Shared && dst->swizzle)
    line() << "tlc::fenceProxyAsync();\n";
  if (shared)
    barrier();
  return success();
}

LogicalResult KernelEmitter::emitFill(FillOp op) {
  Buffer *dst = buffer(op.getDst());
  if (!dst)
    return op.emitError("code generation: fill of an unknown buffer");
  std::string value = name(op.getValue());
  ArrayRef<int64_t> shape = op.getDst().getType().getShape();
  switch (dst->kind) {
  case Buffer::Fragment:
    line() << "tlc::fillFragment<" << dst->layout << ">(" << dst->name << ", "
           << value << ");\n";
    return success();
  case Buffer::Local:
    line() << "for (int e = 0; e < " << numElements(shape) << "; ++e) "
           << dst->name << "[e] = tlc::cvt<" << dst->elem << ">(" << value
           << ");\n";
    return success();
  default:
    barrier();
    line() << "tlc::fillBlock<" << shapeType(shape) << ", " << dst->elem << ">("
           << accessorFor(*dst, shape.size()) << ", " << value << ", "
           << "team);\n";
    barrier();
    return success();
  }
}

LogicalResult KernelEmitter::emitGemmWait(GemmWaitOp op) {
  // tile-place-gemm-waits counted every gemm that may run on wgmma; this
  // lowering may have run some of them synchronously (the fallback kernel
  // has no swizzled TMA rings, so their gemms take mma.sync). Wait for what
  // is really in flight: the wgmma groups issued up to the last of the
  // op's accumulators, leaving the ones issued after it pending.
  size_t last = 0;
  for (auto [index, accumulator] : llvm::enumerate(asyncWgmmas))
    if (llvm::is_contained(op.getAccumulators(), accumulator))
      last = index + 1;
  if (last == 0)
    return success();
  line() << "tlc::wgmmaWait<" << asyncWgmmas.size() - last << ">();\n";
  asyncWgmmas.erase(asyncWgmmas.begin(), asyncWgmmas.begin() + last);
  // The wait names no registers: keep the accumulators' next reads after it.
  for (Value accumulator : op.getAccumulators()) {
    Buffer *c = buffer(accumulator);
    if (!c || c->kind != Buffer::Fragment)
      return op.emitError("code generation: gemm_wait of an unknown "
                          "accumulator");
    line() << "tlc::wgmmaFenceRegs(" << c->name << ");\n";
  }
  return success();
}

LogicalResult KernelEmitter::emitGemm(GemmOp op) {
  Buffer *a = buffer(op.getA());
  Buffer *b = buffer(op.getB());
  Buffer *c = buffer(op.getC());
  if (!a || !b || !c)
    return op.emitError("code generation: gemm of an unknown buffer");
  Type elem = op.getA().getType().getElementType();
  // Swizzled operands (TMA ring slots, channel slots, annotated tiles) are
  // what wgmma reads. A TMA pipeline may leave the gemm in flight; the ring's
  // mbarriers order everything else.
  if ((a->kind == Buffer::Shared && a->swizzle) ||
      (b->kind == Buffer::Shared && b->swizzle)) {
    if (std::string why = wgmmaMisfitOfBuffers(op); !why.empty())
      return op.emitError()
             << "gemm: on swizzled shared tiles it runs on wgmma, but " << why;
    ArrayRef<int64_t> cShape = op.getC().getType().getShape();
    ArrayRef<int64_t> aShape = op.getA().getType().getShape();
    // clear_accum: the first wgmma overwrites C (no register writes between
    // wgmmas that would make ptxas wait for the ones in flight).
    StringRef accumulate = op.getClearAccum() ? "false" : "true";
    if (a->kind == Buffer::Fragment) {
      line() << "tlc::wgmmaRegA<" << cShape[0] << ", " << cShape[1] << ", "
             << aShape[1] << ", " << (op.getTransposeB() ? "true" : "false")
             << ", " << b->swizzle << ", " << accumulate << ">(" << a->name
             << ", " << b->name << ", " << c->name << ", team);\n";
      if (op.getAsync())
        asyncWgmmas.push_back(op.getC());
      else
        line() << "tlc::wgmmaWait<0>();\n";
      return success();
    }
    bool inFlight =
        op.getAsync() || (wgmmaGemms.count(op) && wgmmaGemms[op]->waitDepth);
    line() << "tlc::wgmmaShared<" << cShape[0] << ", " << cShape[1] << ", "
           << (op.getTransposeA() ? aShape[0] : aShape[1]) << ", "
           << (op.getTransposeA() ? "true" : "false") << ", "
           << (op.getTransposeB() ? "true" : "false") << ", " << a->swizzle
           << ", " << b->swizzle << ", " << accumulate << ">(" << a->name
           << ", " << b->name << ", " << c->name << ", team);\n";
    if (op.getAsync())
      asyncWgmmas.push_back(op.getC());
    else if (!inFlight)
      line() << "tlc::wgmmaWait<0>();\n";
    return success();
  }
  // bf16/f16 go to the tensor cores (mma.sync, which fixes C's layout);
  // other element types use FMAs over any accumulator layout.
  bool tensorCores = elem.isBF16() || elem.isF16();
  if (c->kind != Buffer::Fragment || (tensorCores && !c->warpsM))
    return op.emitError("code generation: the gemm accumulator must be a "
                        "whole fragment (with the mma layout for bf16/f16)");
  if (b->kind != Buffer::Shared)
    return op.emitError("code generation: gemm's B must be a whole shared "
                        "buffer (slices are not lowered yet)");
  ArrayRef<int64_t> aShape = op.getA().getType().getShape();
  ArrayRef<int64_t> cShape = op.getC().getType().getShape();
  int64_t m = cShape[0], n = cShape[1];
  int64_t k = op.getTransposeA() ? aShape[0] : aShape[1];
  if (tensorCores && k % 16)
    return op.emitError("code generation: mma.sync needs K to be a multiple "
                        "of 16, got ")
           << k;
  std::string aPtr = a->name;
  barrier();
  if (a->kind == Buffer::Fragment) {
    // Register A: stage it row-major in scratch.
    aPtr = scratch(0, numElements(aShape) * elementBytes(elem), a->elem);
    line() << "tlc::spill<" << a->layout << ">(" << a->name << ", " << aPtr
           << ", team);\n";
    barrier();
  } else if (a->kind != Buffer::Shared) {
    return op.emitError("code generation: gemm's A must be a whole shared "
                        "buffer or a fragment");
  }
  if (op.getClearAccum())
    line() << "tlc::fillFragment<" << c->layout << ">(" << c->name
           << ", 0.f);\n";
  std::string flags = std::string(op.getTransposeA() ? "true" : "false") +
                      ", " + (op.getTransposeB() ? "true" : "false");
  if (tensorCores) {
    line() << "tlc::gemmShared<" << m << ", " << n << ", " << k << ", "
           << c->warpsM << ", " << c->warpsN << ", " << flags << ">(" << aPtr
           << ", " << b->name << ", " << c->name << ", team);\n";
  } else {
    line() << "tlc::gemmSimt<" << m << ", " << n << ", " << k << ", "
           << c->layout << ", " << flags << ">(" << aPtr << ", " << b->name
           << ", " << c->name << ", team);\n";
  }
  barrier();
  return success();
}

/// [outer, len, inner] sizes of a row-major shape around `dim`.
static std::tuple<int64_t, int64_t, int64_t>
splitAround(ArrayRef<int64_t> shape, int64_t dim) {
  int64_t outer = numElements(shape.take_front(dim));
  int64_t inner = numElements(shape.drop_front(dim + 1));
  return {outer, shape[dim], inner};
}

LogicalResult KernelEmitter::emitReduce(ReduceOp op) {
  Buffer *src = buffer(op.getSrc());
  Buffer *dst = buffer(op.getDst());
  if (!src || !dst)
    return op.emitError("code generation: reduce of an unknown buffer");
  ArrayRef<int64_t> srcShape = op.getSrc().getType().getShape();
  int64_t srcNumel = numElements(srcShape);
  int64_t dstNumel = numElements(op.getDst().getType().getShape());
  auto [outer, len, inner] = splitAround(srcShape, op.getDim());
  StringRef opName = op.getKind() == ReduceKind::Sum   ? "tlc::SumOp"
                     : op.getKind() == ReduceKind::Max ? "tlc::MaxOp"
                                                       : "tlc::MinOp";
  std::string srcScratch = scratch(0, srcNumel * 4, "float");
  std::string dstScratch = scratch(srcNumel * 4, dstNumel * 4, "float");
  barrier();
  if (src->kind == Buffer::Fragment)
    line() << "tlc::spill<" << src->layout << ">(" << src->name << ", "
           << srcScratch << ", team);\n";
  else
    line() << "tlc::copyBlock<" << shapeType(srcShape) << ", float>("
           << accessorFor(*src, srcShape.size()) << ", tlc::SView<float, "
           << srcShape.size() << ">{" << srcScratch << ", {"
           << joinInts(rowMajorStrides(srcShape)) << "}}, team);\n";
  bool accumulate = !op.getClear();
  if (accumulate) {
    if (dst->kind == Buffer::Fragment)
      line() << "tlc::spill<" << dst->layout << ">(" << dst->name << ", "
             << dstScratch << ", team);\n";
    else
      line() << "for (tlc::i64 e = team.tid; e < " << dstNumel
             << "; e += team.size) " << dstScratch << "[e] = tlc::cvt<float>("
             << dst->name << "[e]);\n";
  }
  barrier();
  line() << "tlc::reduceScratch<" << opName << ", " << outer << ", " << len
         << ", " << inner << ", " << (accumulate ? "true" : "false") << ">("
         << srcScratch << ", " << dstScratch << ", "
         << "team);\n";
  barrier();
  if (dst->kind == Buffer::Fragment) {
    line() << "tlc::reload<" << dst->layout << ">(" << dst->name << ", "
           << dstScratch << ", team);\n";
  } else if (dst->kind == Buffer::Local) {
    line() << "for (int e = 0; e < " << dstNumel << "; ++e) " << dst->name
           << "[e] = tlc::cvt<" << dst->elem << ">(" << dstScratch << "[e]);\n";
  } else if (dst->kind == Buffer::Shared) {
    line() << "for (tlc::i64 e = team.tid; e < " << dstNumel
           << "; e += team.size) " << dst->name << "[e] = tlc::cvt<"
           << dst->elem << ">(" << dstScratch << "[e]);\n";
  } else {
    return op.emitError("code generation: reduce into this buffer is not "
                        "lowered");
  }
  barrier();
  return success();
}

LogicalResult KernelEmitter::emitCumsum(CumsumOp op) {
  Buffer *b = buffer(op.getBuffer());
  if (!b || (b->kind != Buffer::Fragment && b->kind != Buffer::Shared))
    return op.emitError("code generation: cumsum works on whole fragment or "
                        "shared buffers");
  ArrayRef<int64_t> shape = op.getBuffer().getType().getShape();
  auto [outer, len, inner] = splitAround(shape, op.getDim());
  std::string tmp = scratch(0, numElements(shape) * 4, "float");
  barrier();
  if (b->kind == Buffer::Fragment)
    line() << "tlc::spill<" << b->layout << ">(" << b->name << ", " << tmp
           << ", team);\n";
  else
    line() << "for (tlc::i64 e = team.tid; e < " << numElements(shape)
           << "; e += team.size) " << tmp << "[e] = tlc::cvt<float>(" << b->name
           << "[e]);\n";
  barrier();
  line() << "tlc::cumsumScratch<" << outer << ", " << len << ", " << inner
         << ", " << (op.getReverse() ? "true" : "false") << ">(" << tmp << ", "
         << "team);\n";
  barrier();
  if (b->kind == Buffer::Fragment)
    line() << "tlc::reload<" << b->layout << ">(" << b->name << ", " << tmp
           << ", team);\n";
  else
    line() << "for (tlc::i64 e = team.tid; e < " << numElements(shape)
           << "; e += team.size) " << b->name << "[e] = tlc::cvt<" << b->elem
           << ">(" << tmp << "[e]);\n";
  barrier();
  return success();
}

LogicalResult KernelEmitter::emitAtomicAdd(AtomicAddOp op) {
  Buffer *src = buffer(op.getSrc());
  Buffer *dst = buffer(op.getDst());
  if (!src || !dst ||
      (dst->kind != Buffer::GlobalView && dst->kind != Buffer::GlobalArg))
    return op.emitError("code generation: atomic_add into global memory "
                        "only, so far");
  ArrayRef<int64_t> shape = op.getSrc().getType().getShape();
  std::string s = shapeType(shape);
  std::string source = accessorFor(*src, shape.size());
  if (src->kind == Buffer::Fragment) {
    // Stage the fragment so that the block-wide loop can read any element.
    source = llvm::formatv("tlc::SView<float, {0}>{{{1}, {{{2}}}", shape.size(),
                           scratch(0, numElements(shape) * 4, "float"),
                           joinInts(rowMajorStrides(shape)))
                 .str();
    barrier();
    line() << "tlc::spill<" << src->layout << ">(" << src->name << ", "
           << scratch(0, numElements(shape) * 4, "float") << ", team);\n";
  }
  barrier();
  line() << "tlc::atomicAddBlock<" << s << ">(" << source << ", "
         << accessorFor(*dst, shape.size()) << ", "
         << "team);\n";
  barrier();
  return success();
}

LogicalResult KernelEmitter::emitParallel(ParallelOp op) {
  if (parallel)
    return op.emitError("code generation: nested Parallel loops");
  ArrayRef<int64_t> extents = op.getExtents();
  mlir::Block &body = op.getBody().front();
  SmallVector<Value> ivs(body.getArguments().begin(),
                         body.getArguments().end());
  auto isAnchor = [&](Value buf, ValueRange indices) {
    Buffer *b = buffer(buf);
    return b && b->kind == Buffer::Fragment && llvm::equal(b->shape, extents) &&
           llvm::equal(indices, ivs);
  };
  // The anchor: a fragment written (else read) at exactly the loop
  // variables; its layout decides which thread runs which iteration.
  Value anchor;
  op.walk([&](StoreOp store) {
    if (!anchor && isAnchor(store.getBuffer(), store.getIndices()))
      anchor = store.getBuffer();
  });
  op.walk([&](LoadOp load) {
    if (!anchor && isAnchor(load.getBuffer(), load.getIndices()))
      anchor = load.getBuffer();
  });
  ParallelScope scope;
  scope.extents.assign(extents.begin(), extents.end());
  scope.ivs = ivs;
  scope.layout = anchor ? buffer(anchor)->layout
                        : llvm::formatv("tlc::StridedLayout<{0}, {1}>",
                                        numElements(extents), teamThreads)
                              .str();
  // Fragments read at other positions or with another layout go through
  // shared scratch.
  int64_t scratchOffset = 0;
  SmallVector<std::pair<Value, std::string>> spills;
  op.walk([&](LoadOp load) {
    Buffer *b = buffer(load.getBuffer());
    if (!b || b->kind != Buffer::Fragment ||
        scope.staged.count(load.getBuffer()))
      return;
    bool local = b->layout == scope.layout && llvm::equal(b->shape, extents) &&
                 llvm::equal(load.getIndices(), ivs);
    if (local)
      return;
    int64_t bytes = numElements(b->shape) * 4;
    std::string ptr = scratch(scratchOffset, bytes, "float");
    scratchOffset += llvm::alignTo(bytes, 16);
    scope.staged[load.getBuffer()] = ptr;
    spills.push_back({load.getBuffer(), ptr});
  });
  bool shared = touchesShared(op) || !spills.empty();
  if (shared)
    barrier();
  for (auto &[buf, ptr] : spills)
    line() << "tlc::spill<" << buffer(buf)->layout << ">(" << buffer(buf)->name
           << ", " << ptr << ", team);\n";
  if (!spills.empty())
    barrier();

  std::string tid = fresh("tid");
  line() << "const int " << tid << " = tlc::rematerialize(team.tid);\n";
  parallel = &scope;
  LogicalResult result = success();
  if (anchor && buffer(anchor)->warpsM > 0 && extents.size() == 2) {
    result = emitRowFactoredBody(op, tid);
  } else {
    // Fragments need the full unroll (their registers are indexed by
    // constants); a long walk over shared or global memory does not, and
    // unrolled it would take NVRTC minutes.
    const bool unrollAll =
        anchor || llvm::divideCeil(numElements(extents), teamThreads) <= 256;
    line() << (unrollAll ? "#pragma unroll\n" : "#pragma unroll 4\n");
    line() << "for (int r = 0; r < " << scope.layout << "::kRegs; ++r) {\n";
    ++indent;
    // Element indices are 32-bit: tiles are far smaller than 2^31
    // elements, and 64-bit index arithmetic costs every element of the
    // unrolled loop extra conversions and wide adds for its shared-memory
    // addresses. They widen where they meet 64-bit values.
    line() << "int idx[" << extents.size() << "];\n";
    if (anchor) {
      line() << "const int e = int(" << scope.layout << "::element(r, " << tid
             << "));\n";
      line() << "if (e < 0) continue;\n";
      line() << shapeType(extents) << "::unravel(e, idx);\n";
    } else {
      std::string dims;
      for (int64_t e : extents)
        dims += ", " + std::to_string(e);
      std::string index = llvm::formatv("tlc::StridedIndex<{0}{1}>::index(r, "
                                        "{2}, idx)",
                                        teamThreads, dims, tid)
                              .str();
      // A walk whose extent the team divides has no idle slots.
      if (numElements(extents) % teamThreads)
        line() << "if (!" << index << ") continue;\n";
      else
        line() << index << ";\n";
    }
    for (auto [d, iv] : llvm::enumerate(ivs)) {
      std::string n = bind(iv, "i");
      line() << "const int " << n << " = idx[" << d << "];\n";
    }
    result = emitBlock(body);
    --indent;
    line() << "}\n";
  }
  parallel = nullptr;
  // Element writes to a swizzled tile, which wgmma or TMA read next: order
  // them for the async proxy before the barrier.
  if (op.walk([&](StoreOp store) {
          Buffer *b = buffer(store.getBuffer());
          return b && b->kind == Buffer::Shared && b->swizzle
                     ? WalkResult::interrupt()
                     : WalkResult::advance();
        }).wasInterrupted())
    line() << "tlc::fenceProxyAsync();\n";
  if (shared)
    barrier();
  return result;
}

LogicalResult KernelEmitter::emitRowFactoredBody(ParallelOp op, StringRef tid) {
  // An mma-layout fragment's registers are rows x columns of the tile, so
  // the loop runs over row slots outside and column slots inside, and each
  // op of the body goes to the outermost place its operands allow: before
  // the loop when it uses neither index (e^{g_last}), per row when it uses
  // only the row (e^{g_i}, the row's bound check), else per element. Only
  // ops without effects move, and loads only from buffers the body does not
  // write, so the order the body's effects happen in is unchanged.
  enum Level { Invariant = 0, Row = 1, Element = 2 };
  mlir::Block &body = op.getBody().front();
  Value rowIv = body.getArgument(0), colIv = body.getArgument(1);
  llvm::SmallPtrSet<Value, 8> written;
  op.walk([&](StoreOp store) { written.insert(store.getBuffer()); });
  DenseMap<Operation *, Level> levels;
  auto levelOf = [&](Value v) {
    if (v == rowIv)
      return Row;
    if (v == colIv)
      return Element;
    Operation *def = v.getDefiningOp();
    if (!def || !op->isProperAncestor(def))
      return Invariant;
    auto it = levels.find(def);
    return it == levels.end() ? Element : it->second;
  };
  for (Operation &inner : body) {
    bool movable = inner.getNumRegions() == 0 && inner.getNumResults() == 1;
    if (auto load = dyn_cast<LoadOp>(&inner)) {
      Buffer *b = buffer(load.getBuffer());
      movable &=
          b && b->kind != Buffer::Fragment && !written.count(load.getBuffer());
    } else {
      movable &= mlir::isMemoryEffectFree(&inner);
    }
    Level level = Invariant;
    for (Value operand : inner.getOperands())
      level = std::max(level, levelOf(operand));
    levels[&inner] = movable ? level : Element;
  }
  auto emitLevel = [&](Level level) -> LogicalResult {
    for (Operation &inner : body)
      if (levels[&inner] == level && failed(emitOp(&inner)))
        return failure();
    return success();
  };
  StringRef layout = parallel->layout;
  if (failed(emitLevel(Invariant)))
    return failure();
  line() << "#pragma unroll\n";
  line() << "for (int rs = 0; rs < " << layout << "::kRowSlots; ++rs) {\n";
  ++indent;
  line() << "const int " << bind(rowIv, "i") << " = " << layout << "::row(rs, "
         << tid << ");\n";
  if (failed(emitLevel(Row)))
    return failure();
  line() << "#pragma unroll\n";
  line() << "for (int cs = 0; cs < " << layout << "::kColSlots; ++cs) {\n";
  ++indent;
  line() << "const int r = " << layout << "::reg(rs, cs);\n";
  line() << "const int " << bind(colIv, "i") << " = " << layout << "::col(cs, "
         << tid << ");\n";
  if (failed(emitLevel(Element)))
    return failure();
  --indent;
  line() << "}\n";
  --indent;
  line() << "}\n";
  return success();
}

void KernelEmitter::findPipelinedCopies(LaunchOp launch) {
  // tile-plan-prefetch chose the prefetched copies.
  launch.walk([&](CopyOp copy) {
    auto stages =
        copy->getAttrOfType<IntegerAttr>(TileDialect::getPrefetchAttrName());
    if (!stages)
      return;
    PipelinedLoop &plan = pipelinedLoops[copy->getParentOp()];
    plan.stages = stages.getInt();
    plan.copies.push_back(copy);
    stagesOf[copy.getDst().getDefiningOp()] = plan.stages;
    prefetchedCopies.insert(copy);
  });
}

LogicalResult KernelEmitter::emitWithRingSlots(mlir::Block &body,
                                               ArrayRef<Value> rings,
                                               StringRef it, int64_t stages) {
  SmallVector<std::pair<Value, std::string>> saved;
  for (Value ring : rings) {
    Buffer &b = buffers[ring];
    std::string cur = fresh(b.name + "_cur");
    line() << b.elem << " *const " << cur << " = " << b.name << " + (" << it
           << " % " << stages << ") * " << stageElements(ring) << ";\n";
    saved.push_back({ring, b.name});
    b.name = cur;
  }
  LogicalResult result = emitBlock(body);
  for (auto &[ring, original] : saved)
    buffers[ring].name = original;
  return result;
}

int64_t KernelEmitter::stageElements(Value alloc) {
  BufferType type = cast<BufferType>(alloc.getType());
  int64_t width = elementBytes(type.getElementType());
  int64_t align = sharedSwizzle(alloc.getDefiningOp()) ? 1024 : 128;
  return llvm::alignTo(numElements(type.getShape()) * width, align) / width;
}

LogicalResult KernelEmitter::emitLoopSlice(scf::ForOp loop, ValueRange roots,
                                           StringRef iv) {
  llvm::SetVector<Operation *> slice;
  SmallVector<Operation *> work;
  for (Value root : roots)
    work.push_back(root.getDefiningOp());
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!op || op->getBlock() != loop.getBody() || !slice.insert(op))
      continue;
    for (Value operand : op->getOperands())
      work.push_back(operand.getDefiningOp());
  }
  SmallVector<Operation *> ordered(slice.begin(), slice.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  std::string savedIv = names[loop.getInductionVar()];
  names[loop.getInductionVar()] = iv.str();
  for (Operation *op : ordered)
    if (failed(emitOp(op)))
      return failure();
  names[loop.getInductionVar()] = savedIv;
  lastLine = 0; // The body re-emits these lines: restate #line there.
  return success();
}

LogicalResult KernelEmitter::emitPrefetch(scf::ForOp loop, CopyOp copy,
                                          StringRef iv, StringRef stage) {
  if (failed(emitLoopSlice(loop, copy.getSrc(), iv)))
    return failure();
  Buffer &dst = buffers[copy.getDst()];
  ArrayRef<int64_t> shape = copy.getDst().getType().getShape();
  line() << "tlc::copyAsync<" << shapeType(shape) << ">(" << name(copy.getSrc())
         << ", tlc::SView<" << dst.elem << ", " << shape.size() << ">{"
         << dst.name << " + (" << stage << ") * "
         << stageElements(copy.getDst()) << ", {"
         << joinInts(rowMajorStrides(shape)) << "}}, "
         << "team);\n";
  return success();
}

LogicalResult KernelEmitter::emitPipelinedFor(scf::ForOp op,
                                              const PipelinedLoop &loop) {
  int64_t stages = loop.stages;
  std::string lb = name(op.getLowerBound()), ub = name(op.getUpperBound()),
              step = name(op.getStep());
  // Prologue: the first stages - 1 iterations' copies.
  std::string ps = fresh("ps");
  line() << "for (int " << ps << " = 0; " << ps << " < " << stages - 1 << "; ++"
         << ps << ") {\n";
  ++indent;
  std::string tp = fresh("tp");
  line() << "const tlc::i64 " << tp << " = " << lb << " + " << ps << " * "
         << step << ";\n";
  line() << "if (" << tp << " < " << ub << ") {\n";
  ++indent;
  for (CopyOp copy : loop.copies)
    if (failed(emitPrefetch(op, copy, tp, ps)))
      return failure();
  --indent;
  line() << "}\n";
  line() << "tlc::cpAsyncCommit();\n";
  --indent;
  line() << "}\n";

  std::string iv = bind(op.getInductionVar(), "t");
  std::string it = fresh("it");
  line() << "for (tlc::i64 " << iv << " = " << lb << ", " << it << " = 0; "
         << iv << " < " << ub << "; " << iv << " += " << step << ", ++" << it
         << ") {\n";
  ++indent;
  std::string ahead = fresh("tp");
  line() << "const tlc::i64 " << ahead << " = " << iv << " + " << stages - 1
         << " * " << step << ";\n";
  line() << "if (" << ahead << " < " << ub << ") {\n";
  ++indent;
  std::string aheadStage = "(" + it + " + " + std::to_string(stages - 1) +
                           ") % " + std::to_string(stages);
  for (CopyOp copy : loop.copies)
    if (failed(emitPrefetch(op, copy, ahead, aheadStage)))
      return failure();
  --indent;
  line() << "}\n";
  line() << "tlc::cpAsyncCommit();\n";
  line() << "tlc::cpAsyncWait<" << stages - 1 << ">();\n";
  barrier();
  SmallVector<Value> rings;
  for (CopyOp copy : loop.copies)
    rings.push_back(copy.getDst());
  LogicalResult result = emitWithRingSlots(*op.getBody(), rings, it, stages);
  barrier();
  --indent;
  line() << "}\n";
  return result;
}

//===----------------------------------------------------------------------===//
// Hopper pipelines: TMA rings, mbarriers, wgmma, warp specialisation
//===----------------------------------------------------------------------===//

std::optional<KernelEmitter::TmaCopy>
KernelEmitter::planTmaCopy(ViewOp view, BufferType tile, int64_t swizzle) {
  std::optional<TmaBox> box = tmaBoxFor(view, tile, swizzle);
  if (!box)
    return std::nullopt;
  TmaCopy t;
  static_cast<TmaBox &>(t) = std::move(*box);
  t.view = view;
  return t;
}

void KernelEmitter::planTmaStores(LaunchOp launch) {
  if (!options.tma || options.arch != "sm_90a")
    return;
  launch.walk([&](CopyOp copy) {
    // The source is a whole shared tile: a buffer or a channel slot.
    Value src = copy.getSrc();
    int64_t swizzle = 0;
    if (auto alloc = src.getDefiningOp<AllocOp>()) {
      if (alloc.getType().getScope() != MemoryScope::Shared ||
          stagesOf.count(alloc))
        return;
      swizzle = sharedSwizzle(alloc);
    } else if (auto slot = dyn_cast<BlockArgument>(src);
               slot && isa<GetOp>(slot.getOwner()->getParentOp())) {
      auto get = cast<GetOp>(slot.getOwner()->getParentOp());
      swizzle = channels.lookup(get.getChannel()).swizzle;
    } else {
      return;
    }
    std::optional<TmaCopy> t =
        planTmaCopy(copy.getDst().getDefiningOp<ViewOp>(),
                    copy.getSrc().getType(), swizzle);
    if (!t)
      return;
    t->copy = copy;
    t->map = tensorMapName(t->param);
    tmaOps.insert({copy, std::move(*t)});
  });
}

LogicalResult KernelEmitter::planTma(LaunchOp launch) {
  if (!options.tma || options.arch != "sm_90a")
    return success();
  // tile-plan-tma chose the loop and recorded its plan.
  WalkResult walk = launch.walk([&](scf::ForOp forOp) -> WalkResult {
    auto recorded = forOp->getAttrOfType<DictionaryAttr>(
        TileDialect::getTmaPipelineAttrName());
    if (!recorded)
      return WalkResult::advance();
    auto field = [&](StringRef name) {
      return recorded.getAs<IntegerAttr>(name).getInt();
    };
    TmaPipeline plan;
    plan.loop = forOp;
    plan.stages = pipelinedLoops[forOp].stages;
    plan.consumerThreads = static_cast<int64_t>(launch.getThreads());
    plan.producerThreads = field("producer_threads");
    plan.producerRegs = field("producer_regs");
    plan.consumerRegs = field("consumer_regs");
    plan.waitDepth = field("wait_depth");
    for (CopyOp copy : pipelinedLoops[forOp].copies) {
      Operation *ring = copy.getDst().getDefiningOp();
      auto swizzle =
          ring->getAttrOfType<IntegerAttr>(TileDialect::getSwizzleAttrName());
      std::optional<TmaCopy> t =
          planTmaCopy(copy.getSrc().getDefiningOp<ViewOp>(),
                      copy.getDst().getType(), swizzle ? swizzle.getInt() : 0);
      if (!t)
        return copy.emitError("code generation: the loop's tile.tma_pipeline "
                              "has a copy that is not a TMA box");
      t->copy = copy;
      t->map = tensorMapName(t->param, plan.copies.size());
      plan.swizzleOf[ring] = t->swizzle;
      plan.stageBytes += t->bytes;
      plan.copies.push_back(std::move(*t));
    }
    if (!tmaLoops.empty() &&
        (plan.producerThreads != tmaLoops.front().producerThreads ||
         plan.producerRegs != tmaLoops.front().producerRegs ||
         plan.consumerRegs != tmaLoops.front().consumerRegs))
      return forOp.emitError("code generation: the TMA pipelines of a kernel "
                             "must agree on the producer warpgroup and the "
                             "register split; the loop at ")
             << sourcePlace(tmaLoops.front().loop) << " differs";
    tmaLoops.push_back(std::move(plan));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  for (TmaPipeline &p : tmaLoops)
    for (const TmaCopy &copy : p.copies)
      for (Operation *user : copy.copy.getDst().getUsers())
        if (isa<GemmOp>(user))
          wgmmaGemms[user] = &p;
  // The other shared tiles the pipelines' wgmmas read.
  if (!tmaLoops.empty())
    launch.walk([&](AllocOp alloc) {
      auto swizzle =
          alloc->getAttrOfType<IntegerAttr>(TileDialect::getSwizzleAttrName());
      if (swizzle && !llvm::any_of(tmaLoops, [&](const TmaPipeline &p) {
            return p.swizzleOf.count(alloc);
          }))
        operandSwizzleOf[alloc] = swizzle.getInt();
    });
  return success();
}

LogicalResult KernelEmitter::emitTmaIssue(const TmaPipeline &p,
                                          const TmaCopy &copy, StringRef iv,
                                          StringRef stage, StringRef bar) {
  if (failed(emitLoopSlice(p.loop, copy.view.getOffsets(), iv)))
    return failure();
  emitTmaBoxes(copy,
               buffers[copy.copy.getDst()].name + " + (" + stage.str() +
                   ") * " + std::to_string(stageElements(copy.copy.getDst())),
               bar);
  return success();
}

void KernelEmitter::emitTmaBoxes(const TmaCopy &copy, StringRef smem,
                                 StringRef bar) {
  OperandRange offsets = copy.view.getOffsets();
  int64_t rank = offsets.size();
  for (int64_t c = 0; c < copy.inner / copy.chunk; ++c) {
    std::string coords;
    for (int64_t d = rank - 1; d >= 0; --d) {
      coords += (d == rank - 1 ? "" : ", ") + ("int(" + name(offsets[d]) + ")");
      if (d == rank - 1 && c)
        coords += " + " + std::to_string(c * copy.chunk);
    }
    std::string chunk =
        (smem + " + " + Twine(c * copy.rows * copy.chunk)).str();
    if (bar.empty())
      line() << "tlc::tmaStore<" << rank << ">(" << copy.map << ", " << chunk
             << ", {" << coords << "});\n";
    else
      line() << "tlc::tmaLoad<" << rank << ">(" << copy.map << ", " << chunk
             << ", " << bar << ", {" << coords << "});\n";
  }
}

/// One consumer iteration of the TMA loop (after its data has arrived).
LogicalResult KernelEmitter::emitTmaConsumerIteration(TmaPipeline &p,
                                                      StringRef it) {
  SmallVector<Value> rings;
  for (const TmaCopy &copy : p.copies)
    rings.push_back(copy.copy.getDst());
  return emitWithRingSlots(*p.loop.getBody(), rings, it, p.stages);
}

LogicalResult KernelEmitter::emitTmaBody(mlir::Block &body) {
  bool ws = producerThreads() > 0;
  for (TmaPipeline &p : tmaLoops) {
    p.full = fresh("full");
    line() << "tlc::Mbarrier *const " << p.full
           << " = reinterpret_cast<tlc::Mbarrier *>(tlc_smem + "
           << p.barrierOffset << ");\n";
    if (ws) {
      p.empty = fresh("empty");
      line() << "tlc::Mbarrier *const " << p.empty << " = " << p.full << " + "
             << p.stages << ";\n";
    }
  }
  line() << "if (threadIdx.x == 0) {\n";
  ++indent;
  for (TmaPipeline &p : tmaLoops) {
    line() << "for (int s = 0; s < " << p.stages << "; ++s) {\n";
    line() << "  tlc::mbarrierInit(&" << p.full << "[s], 1);\n";
    if (ws)
      line() << "  tlc::mbarrierInit(&" << p.empty << "[s], "
             << p.consumerThreads / 32 << ");\n";
    line() << "}\n";
  }
  line() << "tlc::fenceBarrierInit();\n";
  --indent;
  line() << "}\n";
  barrier();
  // Each role counts the ring slots it has used, one counter per pipeline
  // across the whole kernel, so that slot and phase parity stay right
  // across outer loops.
  auto declareCounters = [&] {
    for (TmaPipeline &p : tmaLoops)
      line() << "tlc::i64 " << p.counter << " = 0;\n";
  };
  for (TmaPipeline &p : tmaLoops)
    p.counter = fresh("ring");
  if (!ws) {
    declareCounters();
    return emitBlock(body);
  }
  const TmaPipeline &first = tmaLoops.front();
  line() << "if (threadIdx.x >= " << first.consumerThreads << ") {\n";
  ++indent;
  if (first.producerRegs)
    line() << "tlc::setMaxRegsDec<" << first.producerRegs << ">();\n";
  line() << "if (threadIdx.x == " << first.consumerThreads << ") {\n";
  ++indent;
  declareCounters();
  if (failed(emitTmaProducer(body)))
    return failure();
  --indent;
  line() << "}\n";
  --indent;
  line() << "} else {\n";
  ++indent;
  if (first.consumerRegs)
    line() << "tlc::setMaxRegsInc<" << first.consumerRegs << ">();\n";
  roleThreads = first.consumerThreads;
  lastWasBarrier = false;
  declareCounters();
  if (failed(emitBlock(body)))
    return failure();
  roleThreads = 0;
  --indent;
  line() << "}\n";
  return success();
}

/// The producer's copy of `block`: the TMA loops, the loops around them and
/// the scalar code their coordinates need; nothing else.
LogicalResult KernelEmitter::emitTmaProducer(mlir::Block &block) {
  for (Operation &op : block) {
    auto outer = dyn_cast<scf::ForOp>(op);
    if (TmaPipeline *pipeline = tmaPipelineOf(&op)) {
      TmaPipeline &p = *pipeline;
      // The rings of a later pipeline may reuse the bytes of the previous
      // one's: wait until the consumers have released all its slots.
      if (&p != &tmaLoops.front()) {
        const TmaPipeline &prev = (&p)[-1];
        std::string s = fresh("s"), use = fresh("use");
        line() << "for (int " << s << " = 0; " << s << " < " << prev.stages
               << "; ++" << s << ") {\n";
        ++indent;
        line() << "const tlc::i64 " << use << " = " << prev.counter << " + "
               << s << ";\n";
        line() << "if (" << use << " >= " << prev.stages << ")\n";
        ++indent;
        waitRingSlot(prev.empty, use + " % " + std::to_string(prev.stages), use,
                     prev.stages, /*emptyBarrier=*/true);
        indent -= 2;
        line() << "}\n";
      }
      std::string iv = fresh("t"), slot = fresh("slot");
      line() << "for (tlc::i64 " << iv << " = " << name(p.loop.getLowerBound())
             << "; " << iv << " < " << name(p.loop.getUpperBound()) << "; "
             << iv << " += " << name(p.loop.getStep()) << ", ++" << p.counter
             << ") {\n";
      ++indent;
      line() << "const int " << slot << " = int(" << p.counter << " % "
             << p.stages << ");\n";
      waitRingSlot(p.empty, slot, p.counter, p.stages, /*emptyBarrier=*/true);
      if (failed(emitTmaIssueAll(p, iv, slot)))
        return failure();
      --indent;
      line() << "}\n";
    } else if (outer && llvm::any_of(tmaLoops, [&](const TmaPipeline &p) {
                 return outer->isProperAncestor(p.loop);
               })) {
      std::string iv = bind(outer.getInductionVar(), "t");
      line() << "for (tlc::i64 " << iv << " = " << name(outer.getLowerBound())
             << "; " << iv << " < " << name(outer.getUpperBound()) << "; " << iv
             << " += " << name(outer.getStep()) << ") {\n";
      ++indent;
      if (failed(emitTmaProducer(*outer.getBody())))
        return failure();
      --indent;
      line() << "}\n";
    } else if (isUniformScalarCode(&op)) {
      if (failed(emitOp(&op)))
        return failure();
    }
  }
  return success();
}

LogicalResult KernelEmitter::emitTmaIssueAll(const TmaPipeline &p, StringRef iv,
                                             StringRef slot) {
  line() << "tlc::mbarrierArriveExpectTx(&" << p.full << "[" << slot << "], "
         << p.stageBytes << ");\n";
  for (const TmaCopy &copy : p.copies)
    if (failed(emitTmaIssue(p, copy, iv, slot,
                            "&" + p.full + "[" + slot.str() + "]")))
      return failure();
  return success();
}

/// The TMA loop as the consumers (or, without warp specialisation, the
/// whole block) run it.
LogicalResult KernelEmitter::emitTmaLoop(TmaPipeline &p) {
  scf::ForOp loop = p.loop;
  int64_t stages = p.stages;
  std::string lb = name(loop.getLowerBound()), ub = name(loop.getUpperBound()),
              step = name(loop.getStep());
  std::string iv = bind(loop.getInductionVar(), "t");
  auto header = [&] {
    line() << "for (tlc::i64 " << iv << " = " << lb << "; " << iv << " < " << ub
           << "; " << iv << " += " << step << ", ++" << p.counter << ") {\n";
  };
  auto waitFull = [&] {
    waitRingSlot(p.full, p.counter + " % " + std::to_string(stages), p.counter,
                 stages, /*emptyBarrier=*/false);
  };
  if (!p.producerThreads) {
    // One role: thread 0 keeps stages - 1 copies in flight; the block
    // barrier ending each iteration frees its slot for the next refill.
    barrier();
    std::string ps = fresh("ps"), tp = fresh("tp"), slot = fresh("slot");
    line() << "if (threadIdx.x == 0) {\n";
    ++indent;
    line() << "for (int " << ps << " = 0; " << ps << " < " << stages - 1
           << "; ++" << ps << ") {\n";
    ++indent;
    line() << "const tlc::i64 " << tp << " = " << lb << " + " << ps << " * "
           << step << ";\n";
    line() << "const int " << slot << " = int((" << p.counter << " + " << ps
           << ") % " << stages << ");\n";
    line() << "if (" << tp << " < " << ub << ") {\n";
    ++indent;
    if (failed(emitTmaIssueAll(p, tp, slot)))
      return failure();
    --indent;
    line() << "}\n";
    --indent;
    line() << "}\n";
    --indent;
    line() << "}\n";
    header();
    ++indent;
    std::string ahead = fresh("tp"), aheadSlot = fresh("slot");
    line() << "const tlc::i64 " << ahead << " = " << iv << " + " << stages - 1
           << " * " << step << ";\n";
    line() << "if (threadIdx.x == 0 && " << ahead << " < " << ub << ") {\n";
    ++indent;
    line() << "const int " << aheadSlot << " = int((" << p.counter << " + "
           << stages - 1 << ") % " << stages << ");\n";
    if (failed(emitTmaIssueAll(p, ahead, aheadSlot)))
      return failure();
    --indent;
    line() << "}\n";
    waitFull();
    if (failed(emitTmaConsumerIteration(p, p.counter)))
      return failure();
    barrier();
    --indent;
    line() << "}\n";
    return success();
  }
  // Every use of a slot is released exactly once, so that the producer can
  // tell when a pipeline's rings are drained (before it fills a later
  // pipeline's rings, which may reuse their bytes): with wait depth d, each
  // iteration but this run's first releases the previous one's slot, and
  // the last slot is released after the loop; else each iteration its own.
  std::string first;
  if (p.waitDepth) {
    first = fresh("first");
    line() << "const tlc::i64 " << first << " = " << p.counter << ";\n";
  }
  header();
  ++indent;
  waitFull();
  if (failed(emitTmaConsumerIteration(p, p.counter)))
    return failure();
  auto releasePrevious = [&] {
    line() << "if (" << p.counter << " > " << first
           << " && threadIdx.x % 32 == 0) tlc::mbarrierArrive(&" << p.empty
           << "[(" << p.counter << " - 1) % " << stages << "]);\n";
  };
  if (p.waitDepth) {
    line() << "tlc::wgmmaWait<" << p.waitDepth << ">();\n";
    releasePrevious();
  } else {
    line() << "__syncwarp();\n";
    line() << "if (threadIdx.x % 32 == 0) tlc::mbarrierArrive(&" << p.empty
           << "[" << p.counter << " % " << stages << "]);\n";
  }
  --indent;
  line() << "}\n";
  if (p.waitDepth) {
    line() << "tlc::wgmmaWait<0>();\n";
    releasePrevious();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Explicit warp specialisation: roles and typed channels
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::planRoles(LaunchOp launch) {
  mlir::Block &body = launch.getBody().front();
  SmallVector<RoleOp> roles(body.getOps<RoleOp>());
  // Requested swizzles of shared buffers.
  // (A hint: the sm_80 path keeps shared buffers row-major.)
  WalkResult walk = launch.walk([&](AnnotateLayoutOp op) -> WalkResult {
    auto alloc = op.getBuffer().getDefiningOp<AllocOp>();
    int64_t bytes = op.getSwizzle();
    if (!bytes || options.arch != "sm_90a")
      return WalkResult::advance();
    BufferType type = alloc.getType();
    int64_t rowBytes =
        type.getRank() == 2
            ? type.getShape()[1] * elementBytes(type.getElementType())
            : 0;
    if (rowBytes % bytes)
      return op.emitError()
             << "code generation: a " << bytes
             << "-byte swizzle needs a 2-D buffer whose rows are a multiple "
                "of "
             << bytes << " bytes; this one's are " << rowBytes << " bytes";
    annotatedSwizzle[alloc] = bytes;
    swizzled = true;
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (roles.empty())
    return success();
  if (options.arch != "sm_90a")
    return roles.front().emitError(
        "code generation: roles and channels need the sm_90a back end "
        "(mbarriers, TMA, setmaxnreg); compile with --arch sm_90a");
  // The layout rules were checked by the tile.launch verifier.
  int64_t warp = 0;
  for (RoleOp role : roles) {
    RoleInfo info;
    info.role = role;
    info.warps = static_cast<int64_t>(role.getWarps());
    info.firstWarp = warp;
    info.regs = role.getRegs() ? static_cast<int64_t>(*role.getRegs()) : 0;
    warp += info.warps;
    roleInfos.push_back(info);
  }

  // Channels: who puts, who gets, how slots are filled and laid out.
  walk = launch.walk([&](ChannelOp op) -> WalkResult {
    Channel c;
    ChannelType type = op.getType();
    BufferType slot = type.getSlotType();
    c.stages = type.getStages();
    c.shape.assign(slot.getShape().begin(), slot.getShape().end());
    c.elem = cType(slot.getElementType());
    std::string base = op.getName() ? op.getName()->str() : "channel";
    c.slots = fresh(base + "_slots");
    c.full = fresh(base + "_full");
    c.empty = fresh(base + "_empty");
    c.putCounter = fresh(base + "_puts");
    c.getCounter = fresh(base + "_gets");
    bool readByGemm = false;
    for (Operation *user : op->getUsers()) {
      auto role = user->getParentOfType<RoleOp>();
      if (auto put = dyn_cast<PutOp>(user)) {
        c.putter = role;
        auto view = put.getSrc().getDefiningOp<ViewOp>();
        std::optional<TmaCopy> t;
        if (options.tma &&
            cast<BufferType>(put.getSrc().getType()).getScope() ==
                MemoryScope::Global)
          if (int64_t swizzle = wgmmaSwizzle(slot))
            t = planTmaCopy(view, slot, swizzle);
        if (t) {
          t->map = tensorMapName(t->param);
          c.swizzle = t->swizzle;
          tmaOps.insert({put, std::move(*t)});
        }
        c.tmaPut = t.has_value();
      } else if (auto get = dyn_cast<GetOp>(user)) {
        c.getter = role;
        for (Operation *slotUser : get.getSlot().getUsers())
          readByGemm |= isa<GemmOp>(slotUser);
      }
    }
    // tile-check-channels rejected one-sided channels; an unused one needs
    // no barriers.
    if (!c.putter || !c.getter)
      return WalkResult::advance();
    // All puts of a channel fill it the same way.
    for (Operation *user : op->getUsers())
      if (auto put = dyn_cast<PutOp>(user))
        if (tmaOps.count(put) != static_cast<size_t>(c.tmaPut))
          return put.emitError("code generation: all puts of a channel must "
                               "load from global memory with TMA, or none");
    if (!c.tmaPut && readByGemm)
      c.swizzle = wgmmaSwizzle(slot);
    auto threadsOf = [&](RoleOp role) {
      return static_cast<int64_t>(role.getWarps()) * 32;
    };
    c.fullArrivals = c.tmaPut ? 1 : threadsOf(c.putter);
    c.emptyArrivals = threadsOf(c.getter);
    c.stageElements =
        llvm::alignTo(
            numElements(c.shape) * elementBytes(slot.getElementType()), 1024) /
        elementBytes(slot.getElementType());
    swizzled = true;
    channels[op] = std::move(c);
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

LogicalResult KernelEmitter::emitRoles(mlir::Block &body) {
  // Channel barriers: initialised once, before the roles start.
  line() << "if (threadIdx.x == 0) {\n";
  ++indent;
  for (auto &[value, c] : channels) {
    line() << "for (int s = 0; s < " << c.stages << "; ++s) {\n";
    line() << "  tlc::mbarrierInit(&" << c.full << "[s], " << c.fullArrivals
           << ");\n";
    line() << "  tlc::mbarrierInit(&" << c.empty << "[s], " << c.emptyArrivals
           << ");\n";
    line() << "}\n";
  }
  line() << "tlc::fenceBarrierInit();\n";
  --indent;
  line() << "}\n";
  barrier();
  for (Operation &op : body) {
    if (isa<RoleOp>(op))
      continue;
    // The tile.launch verifier admits only shared buffers, channels and
    // uniform scalar code here.
    if (failed(emitOp(&op)))
      return failure();
  }
  // One branch per warpgroup (or run of whole warpgroups), so that
  // setmaxnreg sees each warpgroup take a single path.
  int64_t cap = launchRegisterCap(threads, blocksPerSM);
  bool firstGroup = true;
  for (size_t i = 0; i < roleInfos.size();) {
    size_t j = i + 1;
    int64_t groupEnd = roleInfos[i].firstWarp + roleInfos[i].warps;
    while (j < roleInfos.size() && groupEnd % 4) {
      groupEnd += roleInfos[j].warps;
      ++j;
    }
    line() << (firstGroup ? "if" : "} else if") << " (threadIdx.x < "
           << groupEnd * 32 << ") {\n";
    firstGroup = false;
    ++indent;
    int64_t regs = roleInfos[i].regs;
    if (regs > cap)
      line() << "tlc::setMaxRegsInc<" << regs << ">();\n";
    else if (regs && regs < cap)
      line() << "tlc::setMaxRegsDec<" << regs << ">();\n";
    for (size_t r = i; r < j; ++r) {
      const RoleInfo &info = roleInfos[r];
      if (j - i > 1)
        line() << (r == i ? "if" : "} else if") << " (threadIdx.x < "
               << (info.firstWarp + info.warps) * 32 << ") {\n";
      if (failed(emitRoleBody(info, r)))
        return failure();
    }
    if (j - i > 1)
      line() << "}\n";
    --indent;
    i = j;
  }
  line() << "}\n";
  return success();
}

LogicalResult KernelEmitter::emitRoleBody(const RoleInfo &info, int64_t index) {
  lineDirective(info.role.getLoc());
  line() << "{ // role '" << info.role.getName() << "'\n";
  ++indent;
  line() << "const tlc::Team team{int(threadIdx.x) - " << info.firstWarp * 32
         << ", " << info.warps * 32 << "};\n";
  for (auto &[value, c] : channels) {
    if (c.putter == info.role)
      line() << "tlc::i64 " << c.putCounter << " = 0;\n";
    if (c.getter == info.role)
      line() << "tlc::i64 " << c.getCounter << " = 0;\n";
  }
  teamThreads = roleThreads = info.warps * 32;
  roleBarrier = 1 + index;
  lastWasBarrier = false;
  LogicalResult result = emitBlock(info.role.getBody().front());
  drainTmaStores();
  teamThreads = threads;
  roleThreads = 0;
  --indent;
  line() << "}\n";
  return result;
}

/// A shared buffer standing for one ring slot of a channel.
static Buffer slotBuffer(StringRef pointer, StringRef elem,
                         ArrayRef<int64_t> shape, int64_t swizzle) {
  Buffer b{Buffer::Shared,
           pointer.str(),
           elem.str(),
           SmallVector<int64_t>(shape),
           "",
           rowMajorStrides(shape)};
  b.swizzle = swizzle;
  return b;
}

std::pair<std::string, std::string> KernelEmitter::openSlot(const Channel &c,
                                                            bool producer) {
  // A producer waits for the slot to be empty, a consumer for it to be full.
  const std::string &counter = producer ? c.putCounter : c.getCounter;
  std::string slot = fresh("slot"), ptr = fresh("slot_ptr");
  line() << "{\n";
  ++indent;
  line() << "const int " << slot << " = int(" << counter << " % " << c.stages
         << ");\n";
  waitRingSlot(producer ? c.empty : c.full, slot, counter, c.stages,
               /*emptyBarrier=*/producer);
  line() << c.elem << " *const " << ptr << " = " << c.slots << " + " << slot
         << " * " << c.stageElements << ";\n";
  return {slot, ptr};
}

LogicalResult KernelEmitter::emitPut(PutOp op) {
  Channel &c = channels[op.getChannel()];
  Buffer *src = buffer(op.getSrc());
  if (!src)
    return op.emitError("code generation: put from an unknown buffer");
  auto [slot, ptr] = openSlot(c, /*producer=*/true);
  auto mapIt = tmaOps.find(op);
  if (mapIt != tmaOps.end()) {
    const TmaCopy &map = mapIt->second;
    line() << "if (team.tid == 0) {\n";
    ++indent;
    line() << "tlc::mbarrierArriveExpectTx(&" << c.full << "[" << slot << "], "
           << map.bytes << ");\n";
    emitTmaBoxes(map, ptr, "&" + c.full + "[" + slot + "]");
    --indent;
    line() << "}\n";
  } else {
    // Through the threads: every thread writes its part, makes it visible
    // to the async proxy (TMA, wgmma) and arrives.
    Buffer dst = slotBuffer(ptr, c.elem, c.shape, c.swizzle);
    std::string shape = shapeType(c.shape);
    if (src->kind == Buffer::Fragment)
      line() << "tlc::storeFragment<" << shape << ", " << src->layout << ", "
             << c.elem << ">(" << src->name << ", "
             << accessorFor(dst, c.shape.size()) << ", team);\n";
    else
      line() << "tlc::copyBlock<" << shape << ", " << c.elem << ">("
             << accessorFor(*src, c.shape.size()) << ", "
             << accessorFor(dst, c.shape.size()) << ", team);\n";
    line() << "tlc::fenceProxyAsync();\n";
    line() << "tlc::mbarrierArrive(&" << c.full << "[" << slot << "]);\n";
  }
  line() << "++" << c.putCounter << ";\n";
  --indent;
  line() << "}\n";
  return success();
}

LogicalResult KernelEmitter::emitGet(GetOp op) {
  Channel &c = channels[op.getChannel()];
  auto [slot, ptr] = openSlot(c, /*producer=*/false);
  buffers[op.getSlot()] = slotBuffer(ptr, c.elem, c.shape, c.swizzle);
  names[op.getSlot()] = ptr;
  if (failed(emitBlock(op.getBody().front())))
    return failure();
  // Every thread is done with the slot (wgmmas on it were waited for, and
  // TMA stores from it).
  drainTmaStores();
  line() << "tlc::mbarrierArrive(&" << c.empty << "[" << slot << "]);\n";
  line() << "++" << c.getCounter << ";\n";
  --indent;
  line() << "}\n";
  lastWasBarrier = false;
  return success();
}

std::string KernelEmitter::wgmmaMisfitOfBuffers(GemmOp gemm) {
  auto describe = [&](Value v) {
    WgmmaOperand operand;
    Buffer *buf = buffer(v);
    if (!buf)
      return operand;
    if (buf->kind == Buffer::Shared) {
      operand.where = WgmmaOperand::SharedTile;
      operand.swizzle = buf->swizzle;
    } else if (buf->kind == Buffer::Fragment) {
      operand.where = WgmmaOperand::Fragment;
      operand.warpsM = buf->warpsM;
      operand.warpsN = buf->warpsN;
      operand.f32 = buf->elem == "float";
    }
    return operand;
  };
  return wgmmaMisfit(gemm, describe(gemm.getA()), describe(gemm.getB()),
                     describe(gemm.getC()), teamThreads);
}

LogicalResult KernelEmitter::emitFor(scf::ForOp op) {
  if (TmaPipeline *p = tmaPipelineOf(op))
    return emitTmaLoop(*p);
  auto pipelined = pipelinedLoops.find(op);
  if (pipelined != pipelinedLoops.end())
    return emitPipelinedFor(op, pipelined->second);
  std::string iv = bind(op.getInductionVar(), "t");
  if (op.getNumResults())
    return op.emitError("code generation: loops with results");
  line() << "for (tlc::i64 " << iv << " = " << name(op.getLowerBound()) << "; "
         << iv << " < " << name(op.getUpperBound()) << "; " << iv
         << " += " << name(op.getStep()) << ") {\n";
  ++indent;
  LogicalResult result = emitBlock(*op.getBody());
  --indent;
  line() << "}\n";
  return result;
}

LogicalResult KernelEmitter::emitIf(scf::IfOp op) {
  line() << "if (" << name(op.getCondition()) << ") {\n";
  ++indent;
  // After the branches, a TMA store may be pending if either left one.
  bool pendingBefore = tmaStorePending;
  if (failed(emitBlock(*op.thenBlock())))
    return failure();
  bool pendingAfterThen = tmaStorePending;
  tmaStorePending = pendingBefore;
  --indent;
  if (op.elseBlock()) {
    line() << "} else {\n";
    ++indent;
    if (failed(emitBlock(*op.elseBlock())))
      return failure();
    --indent;
  }
  tmaStorePending |= pendingAfterThen;
  line() << "}\n";
  return success();
}

FailureOr<KernelArtifact> KernelEmitter::emit() {
  LaunchOp launch;
  func.walk([&](LaunchOp op) { launch = op; });
  if (!launch)
    return func.emitError("code generation: kernel without tile.launch");

  findPipelinedCopies(launch);
  for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
    auto nameAttr = func.getArgAttrOfType<StringAttr>(
        i, TileDialect::getParamNameAttrName());
    names[arg] = nameAttr ? parameterIdentifier(nameAttr.getValue())
                          : "arg" + std::to_string(i);
  }
  if (failed(planRoles(launch)))
    return failure();
  if (roleInfos.empty() && failed(planTma(launch)))
    return failure();
  planTmaStores(launch);
  if (launch.getCluster() && options.arch == "sm_80" &&
      llvm::any_of(*launch.getCluster(), [](int64_t e) { return e > 1; }))
    return launch.emitError("code generation: thread-block clusters need "
                            "sm_90a; compile with --arch sm_90a");
  if (failed(emitSignature(launch)))
    return failure();
  os << "  extern __shared__ __align__("
     << (!tmaLoops.empty() || swizzled ? 1024 : 128)
     << ") unsigned char tlc_smem[];\n";
  teamThreads = threads;
  os << "  const tlc::Team team{int(threadIdx.x), " << threads << "};\n";

  // Grid sizes for the metadata.
  llvm::json::Array grid;
  for (Value size : launch.getGrid()) {
    FailureOr<llvm::json::Value> e = gridExpr(size);
    if (failed(e))
      return launch.emitError("code generation: a grid size must be an "
                              "integer expression of dimensions, scalar "
                              "parameters and constants");
    grid.push_back(std::move(*e));
  }
  while (grid.size() < 3)
    grid.push_back(llvm::json::Object{{"const", 1}});

  // Everything before the launch (dims, grid arithmetic) is recomputed in
  // the kernel, where the block body may use it.
  for (Operation &op : func.getBody().front()) {
    if (&op == launch.getOperation())
      break;
    if (failed(emitOp(&op)))
      return failure();
  }
  mlir::Block &body = launch.getBody().front();
  static const char *axes[] = {"x", "y", "z"};
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    static const char *blockNames[] = {"bx", "by", "bz"};
    names[arg] = blockNames[i];
    line() << "const tlc::i64 " << blockNames[i] << " = blockIdx." << axes[i]
           << ";\n";
  }
  if (failed(planSharedMemory(launch)) ||
      failed(!tmaLoops.empty()    ? emitTmaBody(body)
             : !roleInfos.empty() ? emitRoles(body)
                                  : emitBlock(body)))
    return failure();
  drainTmaStores();
  os << "}\n";

  // Opt-in limits of one block's shared memory (the CUDA programming guide's
  // table: 227 KB on sm_90, 163 KB on sm_80).
  // With several blocks a multiprocessor, each gets its share of the 228 KB
  // (164 KB on sm_80), less the 1 KB reserved per block.
  int64_t sharedBytes = sharedTop + llvm::alignTo(scratchBytes, 128);
  int64_t sharedLimit = options.arch == "sm_80" ? 166912 : 232448;
  if (blocksPerSM > 1)
    sharedLimit = std::min<int64_t>(
        sharedLimit,
        (options.arch == "sm_80" ? 167936 : 233472) / blocksPerSM - 1024);
  if (sharedBytes > sharedLimit)
    return launch.emitError()
           << "code generation: the kernel needs " << sharedBytes
           << " bytes of shared memory, more than the " << sharedLimit
           << " a block can have on " << options.arch
           << (blocksPerSM > 1
                   ? " with blocks_per_sm=" + std::to_string(blocksPerSM)
                   : std::string())
           << "; use smaller tiles or fewer pipeline stages";
  if (blocksPerSM * (threads + producerThreads()) > 2048)
    return launch.emitError()
           << "code generation: " << blocksPerSM << " blocks of "
           << threads + producerThreads()
           << " threads (the producer warpgroup included) exceed the 2048 "
              "threads a multiprocessor holds";

  KernelArtifact artifact;
  artifact.name = func.getName().str();
  artifact.cuda = std::move(code);
  llvm::json::Object &meta = artifact.metadata;
  meta["schema"] = "tlc.kernel/1";
  meta["name"] = artifact.name;
  meta["arch"] = options.arch;
  meta["threads"] = threads + producerThreads();
  meta["dynamic_shared_bytes"] = sharedBytes;
  if (!tensorMaps().empty()) {
    llvm::json::Array maps;
    for (const TmaCopy *copy : tensorMaps())
      maps.push_back(llvm::json::Object{
          {"name", copy->map},
          // The source's name (`do`), as in "params", not the C++ one.
          {"param", sourceParamName(func, copy->param)},
          {"box", llvm::json::Array(copy->box)},
          {"swizzle", copy->swizzle}});
    meta["tensor_maps"] = std::move(maps);
  }
  if (!roleInfos.empty()) {
    llvm::json::Array roles;
    for (const RoleInfo &r : roleInfos)
      roles.push_back(llvm::json::Object{{"name", r.role.getName().str()},
                                         {"first_thread", r.firstWarp * 32},
                                         {"threads", r.warps * 32},
                                         {"registers", r.regs}});
    meta["roles"] = std::move(roles);
  }
  if (!tmaLoops.empty()) {
    llvm::json::Array pipelines;
    for (const TmaPipeline &p : tmaLoops)
      pipelines.push_back(
          llvm::json::Object{{"kind", "tma"},
                             {"stages", p.stages},
                             {"warp_specialized", p.producerThreads > 0},
                             {"wgmma_wait_depth", p.waitDepth},
                             {"consumer_registers", p.consumerRegs},
                             {"producer_registers", p.producerRegs}});
    meta["pipelines"] = std::move(pipelines);
  }
  llvm::json::Array cluster{1, 1, 1};
  if (std::optional<ArrayRef<int64_t>> extents = launch.getCluster())
    for (auto [d, extent] : llvm::enumerate(*extents))
      cluster[d] = extent;
  meta["cluster"] = std::move(cluster);
  meta["params"] = std::move(params);
  meta["grid"] = std::move(grid);
  llvm::json::Object constants;
  if (auto dict = func->getAttrOfType<DictionaryAttr>(
          TileDialect::getConstantsAttrName())) {
    for (NamedAttribute entry : dict) {
      Attribute v = entry.getValue();
      if (auto i = dyn_cast<IntegerAttr>(v))
        constants[entry.getName().getValue()] = i.getInt();
      else if (auto f = dyn_cast<FloatAttr>(v))
        constants[entry.getName().getValue()] = f.getValueAsDouble();
      else if (auto b = dyn_cast<BoolAttr>(v))
        constants[entry.getName().getValue()] = b.getValue();
      else if (auto t = dyn_cast<TypeAttr>(v))
        constants[entry.getName().getValue()] = dtypeName(t.getValue());
    }
  }
  meta["constants"] = std::move(constants);
  return artifact;
}

} // namespace

FailureOr<std::vector<KernelArtifact>>
tlc::emitCuda(ModuleOp module, const CodegenOptions &options) {
  std::vector<KernelArtifact> artifacts;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func->hasAttr(TileDialect::getKernelAttrName()))
      continue;
    KernelEmitter emitter(func, options);
    FailureOr<KernelArtifact> artifact = emitter.emit();
    if (failed(artifact))
      return failure();
    artifact->cuda = "#include \"tlc/device/tlc.cuh\"\n\n" + artifact->cuda;
    if (artifact->metadata.get("tensor_maps")) {
      // The same kernel without TMA, launched by the runtime when an
      // argument's address or strides are not what TMA needs.
      CodegenOptions plain = options;
      plain.tma = false;
      KernelEmitter fallbackEmitter(func, plain, "__fallback");
      FailureOr<KernelArtifact> fallback = fallbackEmitter.emit();
      if (failed(fallback))
        return failure();
      artifact->cuda += "\n" + fallback->cuda;
      artifact->metadata["fallback"] = llvm::json::Object{
          {"name", artifact->name + "__fallback"},
          {"threads", *fallback->metadata.getInteger("threads")},
          {"dynamic_shared_bytes",
           *fallback->metadata.getInteger("dynamic_shared_bytes")}};
    }
    artifacts.push_back(std::move(*artifact));
  }
  return artifacts;
}
