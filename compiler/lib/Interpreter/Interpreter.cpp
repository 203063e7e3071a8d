//===- Interpreter.cpp - CPU reference interpreter of the tile dialect ----===//
//
// Part of tlc. A tree-walking interpreter. A kernel is first decoded into a
// tree of Instr nodes whose operands are indices into value tables (scalars,
// buffer views, channels), one entry per SSA value, assigned once; constants
// are evaluated while decoding. Unsupported ops are reported then, before
// anything runs. Execution walks the tree: scalar ops cost a switch and a
// table access, tile ops (copy, gemm, reduce, ...) run as tight loops over
// flat arrays (Memory.cpp). The roles of a kernel run as cooperative
// threads, one at a time, switching when a role gets from an empty channel
// (RoleScheduler), so channels may connect roles in any order, cycles
// included; when every role waits, the launch reports a deadlock.
//
//===----------------------------------------------------------------------===//

#include "tlc/Interpreter/Interpreter.h"

#include "Memory.h"

#include "tlc/Dialect/Tile/TileDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

using namespace tlc::interp;
using namespace tlc::interp::detail;
using mlir::failure;
using mlir::LogicalResult;
using mlir::Operation;
using mlir::success;
using mlir::Value;

namespace arith = mlir::arith;
namespace math = mlir::math;
namespace scf = mlir::scf;
namespace tile = tlc::tile;

namespace {

//===----------------------------------------------------------------------===//
// The decoded program
//===----------------------------------------------------------------------===//

enum class Opc : uint8_t {
  // Scalar ops: operands a, b, c; result res.
  AddI,
  SubI,
  MulI,
  DivSI,
  DivUI,
  RemSI,
  RemUI,
  FloorDivSI,
  CeilDivSI,
  MaxSI,
  MinSI,
  MaxUI,
  MinUI,
  AndI,
  OrI,
  XOrI,
  ShLI,
  ShRSI,
  ShRUI,
  AbsI,
  AddF,
  SubF,
  MulF,
  DivF,
  RemF,
  MaximumF,
  MinimumF,
  MaxNumF,
  MinNumF,
  NegF,
  UnaryF,
  CmpI,
  CmpF,
  Select,
  IntCast,
  ExtSI,
  ExtUI,
  SIToFP,
  UIToFP,
  FPToSI,
  FPToUI,
  FloatCast,
  // Buffers and tile ops.
  ClusterRank,
  Dim,
  View,
  Alloc,
  Load,
  Store,
  Copy,
  Fill,
  Gemm,
  Reduce,
  Cumsum,
  AtomicAdd,
  Channel,
  Put,
  Get,
  // Structure.
  Launch,
  Parallel,
  Roles, // all roles of a block, one body each
  For,
  If,
};

enum Flag : uint8_t {
  kTransposeA = 1,
  kTransposeB = 2,
  kClear = 4,
  kReverse = 8,
};

/// One SSA scalar: integers (index, i64, i32, i8, i1) sign-extended in `i`
/// (i1 is 0 or 1), floats rounded to their type in `f`.
union Cell {
  int64_t i;
  double f;
};

struct Body;

struct Instr {
  Opc opc;
  uint8_t flags = 0;
  uint8_t pred = 0;
  DType ty = DType::F32;    // result type (the operands' for comparisons)
  DType srcTy = DType::F32; // type of operand a
  int res = -1, a = -1, b = -1, c = -1;
  int64_t imm = 0; // dim, storage index, ...
  double (*fn)(double) = nullptr;
  llvm::SmallVector<int, 4> list;     // indices, offsets, grid, inits
  llvm::SmallVector<int, 2> results;  // results of scf.for / scf.if
  llvm::SmallVector<int64_t, 4> ints; // sizes, extents, slot shape
  llvm::SmallVector<int64_t, 2> dropped;
  std::vector<Body> bodies;
  Operation *op = nullptr;
};

/// A block: its arguments, ops and the values its terminator yields.
struct Body {
  llvm::SmallVector<int, 4> args;
  std::vector<Instr> instrs;
  llvm::SmallVector<int, 2> yields;
};

struct ChannelState {
  std::deque<std::unique_ptr<Storage>> queue;
};

/// Runs the roles of one block as threads of which one runs at a time: the
/// running role hands over when it gets from an empty channel or finishes,
/// to the next role in written order (round robin) that can go on. Puts
/// never wait (a channel's queue is unbounded here). When no role can go on
/// while some wait, the roles deadlock and every waiting get fails.
class RoleScheduler {
public:
  explicit RoleScheduler(size_t roles) : roles(roles) {}

  /// Runs `body(i)` for every role i; whether all of them succeeded.
  bool run(llvm::function_ref<bool(size_t)> body) {
    std::vector<std::thread> threads;
    std::vector<char> ok(roles.size(), 0);
    for (size_t i = 0; i < roles.size(); ++i)
      threads.emplace_back([&, i] {
        {
          std::unique_lock<std::mutex> lock(mutex);
          changed.wait(lock, [&] { return running == i || stopped; });
          if (stopped) {
            roles[i].state = State::Done;
            return;
          }
        }
        bool result = body(i);
        std::unique_lock<std::mutex> lock(mutex);
        ok[i] = result;
        roles[i].state = State::Done;
        stopped |= !result;
        handOver(i);
      });
    for (std::thread &thread : threads)
      thread.join();
    return llvm::all_of(ok, [](char c) { return c; });
  }

  /// Called by the running role before it gets from `channel`: returns once
  /// the channel has a slot, or false when the roles deadlocked or another
  /// role failed.
  bool waitFor(const ChannelState &channel) {
    std::unique_lock<std::mutex> lock(mutex);
    size_t self = running;
    roles[self] = {State::Waiting, &channel};
    handOver(self);
    changed.wait(lock, [&] { return running == self || stopped; });
    return !stopped;
  }

  bool deadlocked() {
    std::lock_guard<std::mutex> lock(mutex);
    return deadlock;
  }

private:
  enum class State { Ready, Waiting, Done };
  struct Role {
    State state = State::Ready;
    const ChannelState *channel = nullptr;
  };

  /// Passes the turn on from role `from` (the mutex is held).
  void handOver(size_t from) {
    bool waiting = false;
    for (size_t k = 1; k <= roles.size() && !stopped; ++k) {
      size_t i = (from + k) % roles.size();
      Role &role = roles[i];
      waiting |= role.state == State::Waiting;
      if (role.state == State::Ready ||
          (role.state == State::Waiting && !role.channel->queue.empty())) {
        role = {State::Ready, nullptr};
        running = i;
        changed.notify_all();
        return;
      }
    }
    deadlock |= waiting && !stopped;
    stopped |= waiting;
    changed.notify_all();
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Role> roles;
  size_t running = 0;
  bool stopped = false, deadlock = false;
};

double rsqrt(double x) { return 1.0 / std::sqrt(x); }

/// The function of a unary float math op, or null.
double (*unaryFunction(Operation *op))(double) {
  using Fn = double (*)(double);
  return llvm::TypeSwitch<Operation *, Fn>(op)
      .Case([](math::ExpOp) { return static_cast<Fn>(std::exp); })
      .Case([](math::Exp2Op) { return static_cast<Fn>(std::exp2); })
      .Case([](math::LogOp) { return static_cast<Fn>(std::log); })
      .Case([](math::Log2Op) { return static_cast<Fn>(std::log2); })
      .Case([](math::SqrtOp) { return static_cast<Fn>(std::sqrt); })
      .Case([](math::RsqrtOp) { return static_cast<Fn>(rsqrt); })
      .Case([](math::AbsFOp) { return static_cast<Fn>(std::fabs); })
      .Case([](math::FloorOp) { return static_cast<Fn>(std::floor); })
      .Case([](math::CeilOp) { return static_cast<Fn>(std::ceil); })
      .Case([](math::TruncOp) { return static_cast<Fn>(std::trunc); })
      .Case([](math::TanhOp) { return static_cast<Fn>(std::tanh); })
      .Case([](math::SinOp) { return static_cast<Fn>(std::sin); })
      .Case([](math::CosOp) { return static_cast<Fn>(std::cos); })
      .Case([](math::ErfOp) { return static_cast<Fn>(std::erf); })
      .Case([](math::Log1pOp) { return static_cast<Fn>(std::log1p); })
      .Case([](math::ExpM1Op) { return static_cast<Fn>(std::expm1); })
      .Default([](Operation *) { return static_cast<Fn>(nullptr); });
}

/// The opcode of a scalar op whose operands and one result are all scalars.
std::optional<Opc> scalarOpcode(Operation *op) {
  using R = std::optional<Opc>;
  return llvm::TypeSwitch<Operation *, R>(op)
      .Case([](arith::AddIOp) { return Opc::AddI; })
      .Case([](arith::SubIOp) { return Opc::SubI; })
      .Case([](arith::MulIOp) { return Opc::MulI; })
      .Case([](arith::DivSIOp) { return Opc::DivSI; })
      .Case([](arith::DivUIOp) { return Opc::DivUI; })
      .Case([](arith::RemSIOp) { return Opc::RemSI; })
      .Case([](arith::RemUIOp) { return Opc::RemUI; })
      .Case([](arith::FloorDivSIOp) { return Opc::FloorDivSI; })
      .Case([](arith::CeilDivSIOp) { return Opc::CeilDivSI; })
      .Case([](arith::MaxSIOp) { return Opc::MaxSI; })
      .Case([](arith::MinSIOp) { return Opc::MinSI; })
      .Case([](arith::MaxUIOp) { return Opc::MaxUI; })
      .Case([](arith::MinUIOp) { return Opc::MinUI; })
      .Case([](arith::AndIOp) { return Opc::AndI; })
      .Case([](arith::OrIOp) { return Opc::OrI; })
      .Case([](arith::XOrIOp) { return Opc::XOrI; })
      .Case([](arith::ShLIOp) { return Opc::ShLI; })
      .Case([](arith::ShRSIOp) { return Opc::ShRSI; })
      .Case([](arith::ShRUIOp) { return Opc::ShRUI; })
      .Case([](math::AbsIOp) { return Opc::AbsI; })
      .Case([](arith::AddFOp) { return Opc::AddF; })
      .Case([](arith::SubFOp) { return Opc::SubF; })
      .Case([](arith::MulFOp) { return Opc::MulF; })
      .Case([](arith::DivFOp) { return Opc::DivF; })
      .Case([](arith::RemFOp) { return Opc::RemF; })
      .Case([](arith::MaximumFOp) { return Opc::MaximumF; })
      .Case([](arith::MinimumFOp) { return Opc::MinimumF; })
      .Case([](arith::MaxNumFOp) { return Opc::MaxNumF; })
      .Case([](arith::MinNumFOp) { return Opc::MinNumF; })
      .Case([](arith::NegFOp) { return Opc::NegF; })
      .Case([](arith::CmpIOp) { return Opc::CmpI; })
      .Case([](arith::CmpFOp) { return Opc::CmpF; })
      .Case([](arith::SelectOp) { return Opc::Select; })
      .Case<arith::IndexCastOp, arith::TruncIOp>(
          [](Operation *) { return Opc::IntCast; })
      .Case([](arith::ExtSIOp) { return Opc::ExtSI; })
      .Case<arith::ExtUIOp, arith::IndexCastUIOp>(
          [](Operation *) { return Opc::ExtUI; })
      .Case([](arith::SIToFPOp) { return Opc::SIToFP; })
      .Case([](arith::UIToFPOp) { return Opc::UIToFP; })
      .Case([](arith::FPToSIOp) { return Opc::FPToSI; })
      .Case([](arith::FPToUIOp) { return Opc::FPToUI; })
      .Case<arith::ExtFOp, arith::TruncFOp>(
          [](Operation *) { return Opc::FloatCast; })
      .Default([](Operation *op) -> R {
        if (unaryFunction(op))
          return Opc::UnaryF;
        return std::nullopt;
      });
}

/// The bits of an integer of `dtype`, for unsigned operations.
uint64_t unsignedBits(DType dtype, int64_t value) {
  switch (dtype) {
  case DType::I32:
    return uint32_t(uint64_t(value));
  case DType::I8:
    return uint8_t(uint64_t(value));
  case DType::Bool:
    return uint64_t(value) & 1;
  default:
    return uint64_t(value);
  }
}

int bitWidth(DType dtype) {
  switch (dtype) {
  case DType::I32:
    return 32;
  case DType::I8:
    return 8;
  case DType::Bool:
    return 1;
  default:
    return 64;
  }
}

/// arith.cmpi on two integers of `dtype`.
bool compareInts(arith::CmpIPredicate predicate, DType dtype, int64_t a,
                 int64_t b) {
  uint64_t ua = unsignedBits(dtype, a), ub = unsignedBits(dtype, b);
  using P = arith::CmpIPredicate;
  switch (predicate) {
  case P::eq:
    return a == b;
  case P::ne:
    return a != b;
  case P::slt:
    return a < b;
  case P::sle:
    return a <= b;
  case P::sgt:
    return a > b;
  case P::sge:
    return a >= b;
  case P::ult:
    return ua < ub;
  case P::ule:
    return ua <= ub;
  case P::ugt:
    return ua > ub;
  case P::uge:
    return ua >= ub;
  }
  return false;
}

/// arith.cmpf: the ordered predicates are false and the unordered ones true
/// when an operand is NaN.
bool compareFloats(arith::CmpFPredicate predicate, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  using P = arith::CmpFPredicate;
  switch (predicate) {
  case P::AlwaysFalse:
    return false;
  case P::OEQ:
    return a == b;
  case P::OGT:
    return a > b;
  case P::OGE:
    return a >= b;
  case P::OLT:
    return a < b;
  case P::OLE:
    return a <= b;
  case P::ONE:
    return !unordered && a != b;
  case P::ORD:
    return !unordered;
  case P::UEQ:
    return unordered || a == b;
  case P::UGT:
    return unordered || a > b;
  case P::UGE:
    return unordered || a >= b;
  case P::ULT:
    return unordered || a < b;
  case P::ULE:
    return unordered || a <= b;
  case P::UNE:
    return a != b;
  case P::UNO:
    return unordered;
  case P::AlwaysTrue:
    return true;
  }
  return false;
}

//===----------------------------------------------------------------------===//
// The machine
//===----------------------------------------------------------------------===//

class Machine {
public:
  explicit Machine(mlir::func::FuncOp func) : func(func) {}

  /// Numbers the values of the kernel and decodes its body.
  LogicalResult decode();
  /// Checks `args` against the kernel's parameters and binds them.
  LogicalResult bind(llvm::MutableArrayRef<KernelArg> args);
  LogicalResult run() { return exec(top); }

private:
  // Decoding.
  int id(Value v);
  LogicalResult scalarType(Value v, Operation *op, DType &dtype);
  LogicalResult decodeBlock(mlir::Block &block, Body &body);
  LogicalResult decodeOp(Operation &op, Body &body);
  LogicalResult decodeScalar(Operation &op, Opc opc, Body &body);
  LogicalResult decodeRegion(mlir::Region &region, Instr &instr);
  LogicalResult decodeConstant(arith::ConstantOp op);
  Instr &emit(Body &body, Opc opc, Operation *op) {
    body.instrs.emplace_back();
    body.instrs.back().opc = opc;
    body.instrs.back().op = op;
    return body.instrs.back();
  }

  // Execution.
  LogicalResult exec(const Body &body);
  LogicalResult execScalar(const Instr &in);
  LogicalResult execLoadStore(const Instr &in);
  LogicalResult execCopy(const Instr &in, bool accumulate);
  LogicalResult execGemm(const Instr &in);
  LogicalResult execReduce(const Instr &in);
  LogicalResult execCumsum(const Instr &in);
  LogicalResult execPut(const Instr &in);
  LogicalResult execGet(const Instr &in);
  LogicalResult execRoles(const Instr &in);
  LogicalResult execLaunch(const Instr &in);
  LogicalResult execParallel(const Instr &in);
  LogicalResult execFor(const Instr &in);
  LogicalResult execIf(const Instr &in);
  void yield(const Body &body, llvm::ArrayRef<int> targets);
  double asDouble(DType dtype, Cell cell) const {
    return isFloat(dtype) ? cell.f : double(cell.i);
  }

  mlir::func::FuncOp func;
  llvm::DenseMap<Value, int> ids;
  std::vector<Cell> cells;
  std::vector<View> views;
  std::vector<std::unique_ptr<ChannelState>> channels;
  std::vector<std::unique_ptr<Storage>> allocs; // one per tile.alloc
  std::vector<std::unique_ptr<Storage>> globals;
  std::vector<std::unique_ptr<Storage>> freeSlots; // recycled channel slots
  std::vector<double> scratch[4];
  Body top;
  class RoleScheduler *scheduler = nullptr; // while roles run
  int64_t block[3] = {0, 0, 0};             // the running block's coordinates
  int64_t cluster[3] = {1, 1, 1};           // the launch's cluster shape
};

} // namespace

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

int Machine::id(Value v) {
  auto it = ids.find(v);
  if (it != ids.end())
    return it->second;
  int n;
  if (llvm::isa<tile::BufferType>(v.getType())) {
    n = int(views.size());
    views.emplace_back();
  } else if (llvm::isa<tile::ChannelType>(v.getType())) {
    n = int(channels.size());
    channels.push_back(std::make_unique<ChannelState>());
  } else {
    n = int(cells.size());
    cells.push_back(Cell{0});
  }
  ids[v] = n;
  return n;
}

LogicalResult Machine::scalarType(Value v, Operation *op, DType &dtype) {
  std::optional<DType> t = dtypeOf(v.getType());
  if (!t)
    return mlir::emitError(op->getLoc())
           << "interpreter: unsupported type " << v.getType() << " in '"
           << op->getName() << "'";
  dtype = *t;
  return success();
}

LogicalResult Machine::decode() {
  for (mlir::BlockArgument arg : func.getArguments())
    id(arg);
  return decodeBlock(func.getBody().front(), top);
}

LogicalResult Machine::decodeBlock(mlir::Block &block, Body &body) {
  for (mlir::BlockArgument arg : block.getArguments())
    body.args.push_back(id(arg));
  for (Operation &op : block)
    if (failed(decodeOp(op, body)))
      return failure();
  return success();
}

LogicalResult Machine::decodeRegion(mlir::Region &region, Instr &instr) {
  instr.bodies.emplace_back();
  if (region.empty())
    return success();
  return decodeBlock(region.front(), instr.bodies.back());
}

LogicalResult Machine::decodeConstant(arith::ConstantOp op) {
  int r = id(op.getResult());
  DType dtype;
  if (failed(scalarType(op.getResult(), op, dtype)))
    return failure();
  if (auto i = llvm::dyn_cast<mlir::IntegerAttr>(op.getValue())) {
    cells[r].i = dtype == DType::Bool ? int64_t(i.getValue().getZExtValue() & 1)
                                      : i.getValue().getSExtValue();
    return success();
  }
  if (auto f = llvm::dyn_cast<mlir::FloatAttr>(op.getValue())) {
    cells[r].f = f.getValueAsDouble();
    return success();
  }
  return mlir::emitError(op.getLoc())
         << "interpreter: unsupported constant " << op.getValue();
}

LogicalResult Machine::decodeScalar(Operation &op, Opc opc, Body &body) {
  Instr &in = emit(body, opc, &op);
  if (op.getNumResults() != 1 || op.getNumOperands() == 0 ||
      op.getNumOperands() > 3)
    return mlir::emitError(op.getLoc())
           << "interpreter: unsupported form of '" << op.getName() << "'";
  if (failed(scalarType(op.getResult(0), &op, in.ty)) ||
      failed(scalarType(op.getOperand(0), &op, in.srcTy)))
    return failure();
  in.res = id(op.getResult(0));
  int *operands[] = {&in.a, &in.b, &in.c};
  for (auto [i, v] : llvm::enumerate(op.getOperands()))
    *operands[i] = id(v);
  if (auto cmp = llvm::dyn_cast<arith::CmpIOp>(op)) {
    in.ty = in.srcTy;
    in.pred = uint8_t(cmp.getPredicate());
  } else if (auto cmp = llvm::dyn_cast<arith::CmpFOp>(op)) {
    in.ty = in.srcTy;
    in.pred = uint8_t(cmp.getPredicate());
  } else if (opc == Opc::UnaryF) {
    in.fn = unaryFunction(&op);
  } else if (opc == Opc::Select) {
    // The operand types that matter are the chosen values'.
    in.srcTy = in.ty;
  }
  return success();
}

LogicalResult Machine::decodeOp(Operation &op, Body &body) {
  if (auto constant = llvm::dyn_cast<arith::ConstantOp>(op))
    return decodeConstant(constant);
  if (std::optional<Opc> opc = scalarOpcode(&op))
    return decodeScalar(op, *opc, body);
  if (auto yield = llvm::dyn_cast<scf::YieldOp>(op)) {
    for (Value v : yield.getOperands())
      body.yields.push_back(id(v));
    return success();
  }
  // Gemms run synchronously here: a gemm wait has nothing to wait for.
  if (llvm::isa<mlir::func::ReturnOp, tile::AnnotateLayoutOp, tile::GemmWaitOp>(
          op))
    return success();

  auto elementType = [&](Value buffer, DType &dtype) -> LogicalResult {
    mlir::Type t =
        llvm::cast<tile::BufferType>(buffer.getType()).getElementType();
    std::optional<DType> d = dtypeOf(t);
    if (!d)
      return mlir::emitError(op.getLoc())
             << "interpreter: unsupported element type " << t;
    dtype = *d;
    return success();
  };

  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](tile::ClusterRankOp rank) {
        Instr &in = emit(body, Opc::ClusterRank, &op);
        in.res = id(rank.getResult());
        return success();
      })
      .Case([&](tile::DimOp dim) {
        Instr &in = emit(body, Opc::Dim, &op);
        in.a = id(dim.getBuffer());
        in.res = id(dim.getResult());
        in.imm = dim.getIndex();
        return success();
      })
      .Case([&](tile::ViewOp view) {
        Instr &in = emit(body, Opc::View, &op);
        in.a = id(view.getSource());
        for (Value v : view.getOffsets())
          in.list.push_back(id(v));
        in.ints.assign(view.getSizes().begin(), view.getSizes().end());
        in.dropped.assign(view.getDroppedDims().begin(),
                          view.getDroppedDims().end());
        in.res = id(view.getResult());
        return success();
      })
      .Case([&](tile::AllocOp alloc) -> LogicalResult {
        tile::BufferType type = alloc.getType();
        Instr &in = emit(body, Opc::Alloc, &op);
        if (type.getRank() > kMaxRank)
          return mlir::emitError(op.getLoc())
                 << "interpreter: buffers of rank above " << kMaxRank
                 << " are not supported";
        if (failed(elementType(alloc.getResult(), in.ty)))
          return failure();
        // Every element is a double and a written flag (9 bytes); a block's
        // tile on a GPU is at most a few hundred KB, so anything near this
        // bound is a mistake that would otherwise exhaust host memory.
        constexpr int64_t kMaxElements = int64_t(1) << 26;
        int64_t elements = 1;
        for (int64_t d : type.getShape())
          elements = d > 0 && elements > kMaxElements / d ? kMaxElements + 1
                                                          : elements * d;
        if (elements > kMaxElements)
          return mlir::emitError(op.getLoc())
                 << "interpreter: buffer '" << alloc.getName().value_or("")
                 << "' (" << tile::formatShape(type.getShape())
                 << ") has more than the " << kMaxElements
                 << " elements a tile may have in the interpreter";
        in.res = id(alloc.getResult());
        in.imm = int64_t(allocs.size());
        auto storage = std::make_unique<Storage>();
        storage->dtype = in.ty;
        storage->scope = type.getScope();
        storage->name = alloc.getName().value_or("").str();
        storage->shape.assign(type.getShape().begin(), type.getShape().end());
        allocs.push_back(std::move(storage));
        return success();
      })
      .Case([&](tile::LoadOp load) {
        Instr &in = emit(body, Opc::Load, &op);
        in.a = id(load.getBuffer());
        for (Value v : load.getIndices())
          in.list.push_back(id(v));
        in.res = id(load.getResult());
        return elementType(load.getBuffer(), in.ty);
      })
      .Case([&](tile::StoreOp store) {
        Instr &in = emit(body, Opc::Store, &op);
        in.a = id(store.getValue());
        in.b = id(store.getBuffer());
        for (Value v : store.getIndices())
          in.list.push_back(id(v));
        return scalarType(store.getValue(), &op, in.srcTy);
      })
      .Case([&](tile::CopyOp copy) {
        Instr &in = emit(body, Opc::Copy, &op);
        in.a = id(copy.getSrc());
        in.b = id(copy.getDst());
        return success();
      })
      .Case([&](tile::AtomicAddOp add) {
        Instr &in = emit(body, Opc::AtomicAdd, &op);
        in.a = id(add.getSrc());
        in.b = id(add.getDst());
        return success();
      })
      .Case([&](tile::FillOp fill) {
        Instr &in = emit(body, Opc::Fill, &op);
        in.a = id(fill.getDst());
        in.b = id(fill.getValue());
        return scalarType(fill.getValue(), &op, in.srcTy);
      })
      .Case([&](tile::GemmOp gemm) {
        Instr &in = emit(body, Opc::Gemm, &op);
        in.a = id(gemm.getA());
        in.b = id(gemm.getB());
        in.c = id(gemm.getC());
        in.flags = (gemm.getTransposeA() ? kTransposeA : 0) |
                   (gemm.getTransposeB() ? kTransposeB : 0) |
                   (gemm.getClearAccum() ? kClear : 0);
        return success();
      })
      .Case([&](tile::ReduceOp reduce) {
        Instr &in = emit(body, Opc::Reduce, &op);
        in.a = id(reduce.getSrc());
        in.b = id(reduce.getDst());
        int64_t rank = reduce.getSrc().getType().getRank();
        in.imm = reduce.getDim() < 0 ? reduce.getDim() + rank : reduce.getDim();
        in.pred = uint8_t(reduce.getKind());
        in.flags = reduce.getClear() ? kClear : 0;
        return success();
      })
      .Case([&](tile::CumsumOp cumsum) {
        Instr &in = emit(body, Opc::Cumsum, &op);
        in.a = id(cumsum.getBuffer());
        int64_t rank = cumsum.getBuffer().getType().getRank();
        in.imm = cumsum.getDim() < 0 ? cumsum.getDim() + rank : cumsum.getDim();
        in.flags = cumsum.getReverse() ? kReverse : 0;
        return success();
      })
      .Case([&](tile::ChannelOp channel) -> LogicalResult {
        Instr &in = emit(body, Opc::Channel, &op);
        in.res = id(channel.getResult());
        tile::ChannelType type = channel.getType();
        in.ints.assign(type.getShape().begin(), type.getShape().end());
        std::optional<DType> d = dtypeOf(type.getElementType());
        if (!d)
          return mlir::emitError(op.getLoc())
                 << "interpreter: unsupported element type "
                 << type.getElementType();
        in.ty = *d;
        return success();
      })
      .Case([&](tile::PutOp put) {
        Instr &in = emit(body, Opc::Put, &op);
        in.a = id(put.getChannel());
        in.b = id(put.getSrc());
        // The slot's shape and dtype come from the channel's type.
        tile::ChannelType type = put.getChannel().getType();
        in.ints.assign(type.getShape().begin(), type.getShape().end());
        in.ty = dtypeOf(type.getElementType()).value_or(DType::F32);
        return success();
      })
      .Case([&](tile::GetOp get) {
        Instr &in = emit(body, Opc::Get, &op);
        in.a = id(get.getChannel());
        return decodeRegion(get.getBody(), in);
      })
      .Case([&](tile::LaunchOp launch) {
        Instr &in = emit(body, Opc::Launch, &op);
        for (Value v : launch.getGrid())
          in.list.push_back(id(v));
        return decodeRegion(launch.getBody(), in);
      })
      .Case([&](tile::ParallelOp parallel) {
        Instr &in = emit(body, Opc::Parallel, &op);
        in.ints.assign(parallel.getExtents().begin(),
                       parallel.getExtents().end());
        return decodeRegion(parallel.getBody(), in);
      })
      .Case([&](tile::RoleOp role) {
        // One instruction runs all roles of the block, at the first one.
        auto first = llvm::find_if(
            body.instrs, [](const Instr &in) { return in.opc == Opc::Roles; });
        Instr &in =
            first != body.instrs.end() ? *first : emit(body, Opc::Roles, &op);
        return decodeRegion(role.getBody(), in);
      })
      .Case([&](scf::ForOp loop) -> LogicalResult {
        Instr &in = emit(body, Opc::For, &op);
        in.a = id(loop.getLowerBound());
        in.b = id(loop.getUpperBound());
        in.c = id(loop.getStep());
        for (Value v : loop.getInitArgs())
          in.list.push_back(id(v));
        for (Value v : loop.getResults()) {
          if (!dtypeOf(v.getType()))
            return mlir::emitError(op.getLoc())
                   << "interpreter: loop-carried values must be scalars";
          in.results.push_back(id(v));
        }
        return decodeRegion(loop.getRegion(), in);
      })
      .Case([&](scf::IfOp branch) -> LogicalResult {
        Instr &in = emit(body, Opc::If, &op);
        in.a = id(branch.getCondition());
        for (Value v : branch.getResults()) {
          if (!dtypeOf(v.getType()))
            return mlir::emitError(op.getLoc())
                   << "interpreter: the results of an if must be scalars";
          in.results.push_back(id(v));
        }
        if (failed(decodeRegion(branch.getThenRegion(), in)))
          return failure();
        return decodeRegion(branch.getElseRegion(), in);
      })
      .Default([&](Operation *other) {
        return mlir::emitError(other->getLoc())
               << "interpreter: unsupported operation '" << other->getName()
               << "'";
      });
}

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

LogicalResult Machine::bind(llvm::MutableArrayRef<KernelArg> args) {
  auto fail = [&]() {
    return mlir::emitError(func.getLoc())
           << "kernel '" << func.getName() << "': ";
  };
  unsigned numParams = func.getNumArguments();
  auto paramName = [&](unsigned i) -> std::string {
    if (auto name = func.getArgAttrOfType<mlir::StringAttr>(
            i, tile::TileDialect::getParamNameAttrName()))
      return name.str();
    return "#" + std::to_string(i);
  };
  if (args.size() != numParams) {
    std::string names;
    for (unsigned i = 0; i < numParams; ++i)
      names += (i ? ", " : "") + paramName(i);
    fail() << "expected " << numParams << " arguments (" << names << "), got "
           << args.size();
    return failure();
  }

  struct Binding {
    int64_t size;
    unsigned param;
    unsigned dim;
  };
  llvm::StringMap<Binding> symbols;
  auto shapeList = [](const HostTensor &t) {
    std::string s = "[";
    for (size_t d = 0; d < t.shape.size(); ++d)
      s += (d ? ", " : "") + std::to_string(t.shape[d]);
    return s + "]";
  };
  auto shapeOf = [&](const HostTensor &t) {
    return " (shape " + shapeList(t) + ")";
  };
  for (unsigned i = 0; i < numParams; ++i) {
    Value param = func.getArgument(i);
    std::string name = paramName(i);
    auto argFail = [&]() {
      return fail() << "argument '" << name << "' (param " << i << "): ";
    };
    auto type = llvm::dyn_cast<tile::BufferType>(param.getType());
    if (!type) {
      std::optional<DType> want = dtypeOf(param.getType());
      if (!want) {
        argFail() << "the interpreter does not support parameters of type "
                  << param.getType();
        return failure();
      }
      const Scalar *scalar = std::get_if<Scalar>(&args[i]);
      if (!scalar || scalar->dtype != *want) {
        HostTensor *const *tensor = std::get_if<HostTensor *>(&args[i]);
        argFail() << "expected a scalar " << dtypeName(*want) << ", got "
                  << (scalar ? "a scalar " : "a tensor of ")
                  << (scalar    ? dtypeName(scalar->dtype)
                      : *tensor ? dtypeName((*tensor)->dtype)
                                : "null");
        return failure();
      }
      Cell &cell = cells[id(param)];
      if (isFloat(*want))
        cell.f = roundFloat(*want, scalar->value);
      else
        cell.i = wrapInt(*want, floatToInt(DType::I64, scalar->value));
      continue;
    }

    HostTensor *const *tensorPtr = std::get_if<HostTensor *>(&args[i]);
    if (!tensorPtr) {
      argFail() << "expected a tensor, got a scalar "
                << dtypeName(std::get<Scalar>(args[i]).dtype);
      return failure();
    }
    if (!*tensorPtr) {
      argFail() << "the tensor pointer is null";
      return failure();
    }
    HostTensor &tensor = **tensorPtr;
    std::optional<DType> want = dtypeOf(type.getElementType());
    if (!want || type.getRank() > kMaxRank) {
      argFail() << "the interpreter does not support parameters of type "
                << type;
      return failure();
    }
    if (tensor.dtype != *want) {
      argFail() << "expected dtype " << dtypeName(*want) << ", got "
                << dtypeName(tensor.dtype);
      return failure();
    }
    if (int64_t(tensor.shape.size()) != type.getRank()) {
      argFail() << "expected rank " << type.getRank() << ", got "
                << tensor.shape.size() << shapeOf(tensor);
      return failure();
    }
    auto dimNames = func.getArgAttrOfType<mlir::ArrayAttr>(
        i, tile::TileDialect::getDimsAttrName());
    for (unsigned d = 0; d < tensor.shape.size(); ++d) {
      int64_t size = tensor.shape[d];
      if (size < 0) {
        argFail() << "dimension " << d << " has negative size " << size;
        return failure();
      }
      int64_t fixed = type.getShape()[d];
      if (!mlir::ShapedType::isDynamic(fixed)) {
        if (size != fixed) {
          argFail() << "dimension " << d << " must be " << fixed << ", got "
                    << size << shapeOf(tensor);
          return failure();
        }
        continue;
      }
      std::string symbol = dimNames && d < dimNames.size()
                               ? llvm::cast<mlir::StringAttr>(dimNames[d]).str()
                               : name + "." + std::to_string(d);
      auto [it, inserted] = symbols.try_emplace(symbol, Binding{size, i, d});
      if (!inserted && it->second.size != size) {
        argFail() << "dimension " << d << " is '" << symbol << "' = " << size
                  << ", but '" << symbol << "' = " << it->second.size
                  << " from argument '" << paramName(it->second.param)
                  << "' dimension " << it->second.dim;
        return failure();
      }
    }
    if (int64_t(tensor.data.size()) != tensor.numElements()) {
      argFail() << "holds " << tensor.data.size() << " values, but its shape "
                << shapeList(tensor) << " has " << tensor.numElements()
                << " elements";
      return failure();
    }
  }

  // Everything checks out: round the tensors to their dtypes (as an upload
  // to the GPU would) and bind them.
  for (unsigned i = 0; i < numParams; ++i) {
    HostTensor *const *tensorPtr = std::get_if<HostTensor *>(&args[i]);
    if (!tensorPtr ||
        !llvm::isa<tile::BufferType>(func.getArgument(i).getType()))
      continue;
    HostTensor &tensor = **tensorPtr;
    for (double &x : tensor.data)
      x = roundTo(tensor.dtype, x);
    auto storage = std::make_unique<Storage>();
    storage->dtype = tensor.dtype;
    storage->scope = tile::MemoryScope::Global;
    storage->name = paramName(i);
    storage->shape.assign(tensor.shape.begin(), tensor.shape.end());
    storage->data = tensor.data.data();
    views[id(func.getArgument(i))] = View::whole(*storage);
    globals.push_back(std::move(storage));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Execution
//===----------------------------------------------------------------------===//

LogicalResult Machine::exec(const Body &body) {
  for (const Instr &in : body.instrs) {
    LogicalResult result = success();
    switch (in.opc) {
    case Opc::ClusterRank:
      cells[in.res].i = block[0] % cluster[0] +
                        cluster[0] * (block[1] % cluster[1] +
                                      cluster[1] * (block[2] % cluster[2]));
      break;
    case Opc::Dim:
      cells[in.res].i = views[in.a].shape[in.imm];
      break;
    case Opc::View: {
      int64_t offsets[kMaxRank];
      for (size_t d = 0; d < in.list.size(); ++d)
        offsets[d] = cells[in.list[d]].i;
      result = makeView(views[in.a], llvm::ArrayRef(offsets, in.list.size()),
                        in.ints, in.dropped, in.op, views[in.res]);
      break;
    }
    case Opc::Alloc: {
      Storage &s = *allocs[in.imm];
      s.reset();
      views[in.res] = View::whole(s);
      break;
    }
    case Opc::Load:
    case Opc::Store:
      result = execLoadStore(in);
      break;
    case Opc::Copy:
      result = execCopy(in, /*accumulate=*/false);
      break;
    case Opc::AtomicAdd:
      result = execCopy(in, /*accumulate=*/true);
      break;
    case Opc::Fill:
      fillView(views[in.a], asDouble(in.srcTy, cells[in.b]));
      break;
    case Opc::Gemm:
      result = execGemm(in);
      break;
    case Opc::Reduce:
      result = execReduce(in);
      break;
    case Opc::Cumsum:
      result = execCumsum(in);
      break;
    case Opc::Channel:
      for (std::unique_ptr<Storage> &slot : channels[in.res]->queue)
        freeSlots.push_back(std::move(slot));
      channels[in.res]->queue.clear();
      break;
    case Opc::Put:
      result = execPut(in);
      break;
    case Opc::Get:
      result = execGet(in);
      break;
    case Opc::Launch:
      result = execLaunch(in);
      break;
    case Opc::Parallel:
      result = execParallel(in);
      break;
    case Opc::Roles:
      result = execRoles(in);
      break;
    case Opc::For:
      result = execFor(in);
      break;
    case Opc::If:
      result = execIf(in);
      break;
    default:
      result = execScalar(in);
      break;
    }
    if (failed(result))
      return failure();
  }
  return success();
}

LogicalResult Machine::execScalar(const Instr &in) {
  Cell *c = cells.data();
  DType ty = in.ty;
  int64_t ia = c[in.a].i;
  int64_t ib = in.b >= 0 ? c[in.b].i : 0;
  double fa = c[in.a].f;
  double fb = in.b >= 0 ? c[in.b].f : 0;
  Cell &r = c[in.res];
  auto uadd = [](int64_t x, int64_t y) {
    return int64_t(uint64_t(x) + uint64_t(y));
  };
  auto divByZero = [&]() {
    opError(in.op) << "integer division by zero";
    return failure();
  };
  // INT64_MIN / -1 overflows int64; like the hardware, it wraps.
  bool overflow = ia == INT64_MIN && ib == -1;
  switch (in.opc) {
  case Opc::AddI:
    r.i = wrapInt(ty, uadd(ia, ib));
    break;
  case Opc::SubI:
    r.i = wrapInt(ty, uadd(ia, -uint64_t(ib)));
    break;
  case Opc::MulI:
    r.i = wrapInt(ty, int64_t(uint64_t(ia) * uint64_t(ib)));
    break;
  case Opc::DivSI:
    if (ib == 0)
      return divByZero();
    r.i = wrapInt(ty, overflow ? ia : ia / ib);
    break;
  case Opc::RemSI:
    if (ib == 0)
      return divByZero();
    r.i = overflow ? 0 : ia % ib;
    break;
  case Opc::FloorDivSI:
  case Opc::CeilDivSI: {
    if (ib == 0)
      return divByZero();
    if (overflow) {
      r.i = wrapInt(ty, ia);
      break;
    }
    int64_t q = ia / ib;
    bool inexact = ia % ib != 0, positive = (ia < 0) == (ib < 0);
    if (inexact && in.opc == Opc::FloorDivSI && !positive)
      --q;
    if (inexact && in.opc == Opc::CeilDivSI && positive)
      ++q;
    r.i = wrapInt(ty, q);
    break;
  }
  case Opc::DivUI:
  case Opc::RemUI: {
    uint64_t ua = unsignedBits(ty, ia), ub = unsignedBits(ty, ib);
    if (ub == 0)
      return divByZero();
    r.i = wrapInt(ty, int64_t(in.opc == Opc::DivUI ? ua / ub : ua % ub));
    break;
  }
  case Opc::MaxSI:
    r.i = std::max(ia, ib);
    break;
  case Opc::MinSI:
    r.i = std::min(ia, ib);
    break;
  case Opc::MaxUI:
    r.i = unsignedBits(ty, ia) >= unsignedBits(ty, ib) ? ia : ib;
    break;
  case Opc::MinUI:
    r.i = unsignedBits(ty, ia) <= unsignedBits(ty, ib) ? ia : ib;
    break;
  case Opc::AndI:
    r.i = ia & ib;
    break;
  case Opc::OrI:
    r.i = ia | ib;
    break;
  case Opc::XOrI:
    r.i = wrapInt(ty, ia ^ ib);
    break;
  case Opc::ShLI:
  case Opc::ShRSI:
  case Opc::ShRUI: {
    uint64_t shift = unsignedBits(ty, ib);
    if (shift >= uint64_t(bitWidth(ty))) { // poison in MLIR; 0 here
      r.i = 0;
      break;
    }
    if (in.opc == Opc::ShLI)
      r.i = wrapInt(ty, int64_t(uint64_t(ia) << shift));
    else if (in.opc == Opc::ShRSI)
      r.i = ia >> shift;
    else
      r.i = wrapInt(ty, int64_t(unsignedBits(ty, ia) >> shift));
    break;
  }
  case Opc::AbsI:
    r.i = wrapInt(ty, ia < 0 ? int64_t(-uint64_t(ia)) : ia);
    break;
  case Opc::AddF:
    r.f = roundFloat(ty, fa + fb);
    break;
  case Opc::SubF:
    r.f = roundFloat(ty, fa - fb);
    break;
  case Opc::MulF:
    r.f = roundFloat(ty, fa * fb);
    break;
  case Opc::DivF:
    r.f = roundFloat(ty, fa / fb);
    break;
  case Opc::RemF:
    r.f = roundFloat(ty, std::fmod(fa, fb));
    break;
  case Opc::MaximumF:
    r.f = std::isnan(fa) || std::isnan(fb) ? NAN : std::max(fa, fb);
    break;
  case Opc::MinimumF:
    r.f = std::isnan(fa) || std::isnan(fb) ? NAN : std::min(fa, fb);
    break;
  case Opc::MaxNumF:
    r.f = std::fmax(fa, fb);
    break;
  case Opc::MinNumF:
    r.f = std::fmin(fa, fb);
    break;
  case Opc::NegF:
    r.f = -fa;
    break;
  case Opc::UnaryF:
    r.f = roundFloat(ty, in.fn(fa));
    break;
  case Opc::CmpI:
    r.i = compareInts(arith::CmpIPredicate(in.pred), ty, ia, ib);
    break;
  case Opc::CmpF:
    r.i = compareFloats(arith::CmpFPredicate(in.pred), fa, fb);
    break;
  case Opc::Select:
    r = ia ? c[in.b] : c[in.c];
    break;
  case Opc::IntCast:
    r.i = wrapInt(ty, ia);
    break;
  case Opc::ExtSI:
    r.i = wrapInt(ty, in.srcTy == DType::Bool ? -ia : ia);
    break;
  case Opc::ExtUI:
    r.i = wrapInt(ty, int64_t(unsignedBits(in.srcTy, ia)));
    break;
  case Opc::SIToFP:
    r.f = roundFloat(ty, double(in.srcTy == DType::Bool ? -ia : ia));
    break;
  case Opc::UIToFP:
    r.f = roundFloat(ty, double(unsignedBits(in.srcTy, ia)));
    break;
  case Opc::FPToSI:
    r.i = floatToInt(ty, fa);
    break;
  case Opc::FPToUI:
    r.i = wrapInt(ty, floatToInt(DType::I64, std::max(fa, 0.0)));
    break;
  case Opc::FloatCast:
    r.f = roundFloat(ty, fa);
    break;
  default:
    opError(in.op) << "interpreter: not a scalar op";
    return failure();
  }
  return success();
}

LogicalResult Machine::execLoadStore(const Instr &in) {
  bool isLoad = in.opc == Opc::Load;
  const View &view = views[isLoad ? in.a : in.b];
  int64_t indices[kMaxRank];
  for (size_t d = 0; d < in.list.size(); ++d)
    indices[d] = cells[in.list[d]].i;
  int64_t flat;
  if (failed(elementOffset(view, llvm::ArrayRef(indices, in.list.size()), in.op,
                           flat)))
    return failure();
  if (!isLoad) {
    writeElement(*view.storage, flat, asDouble(in.srcTy, cells[in.a]));
    return success();
  }
  double value;
  if (failed(readElement(*view.storage, flat, in.op, value)))
    return failure();
  if (isFloat(in.ty))
    cells[in.res].f = value;
  else
    cells[in.res].i = int64_t(value);
  return success();
}

/// When a whole global tensor (whose dimensions agree with any size) meets a
/// static tile, it stands for the box of the tile's shape at its origin.
static void matchShapes(View &src, View &dst) {
  if (src.getShape() == dst.getShape())
    return;
  if (src.storage->isGlobal())
    src = fitTo(src, dst.getShape());
  else if (dst.storage->isGlobal())
    dst = fitTo(dst, src.getShape());
}

LogicalResult Machine::execCopy(const Instr &in, bool accumulate) {
  View src = views[in.a], dst = views[in.b];
  matchShapes(src, dst);
  if (src.getShape() != dst.getShape()) {
    opError(in.op) << "the source and destination shapes differ";
    return failure();
  }
  std::vector<double> &values = scratch[0];
  if (failed(readDense(src, values, in.op)))
    return failure();
  if (accumulate) {
    std::vector<double> &old = scratch[1];
    if (failed(readDense(dst, old, in.op)))
      return failure();
    for (size_t i = 0; i < values.size(); ++i)
      values[i] += old[i];
  }
  writeDense(dst, values.data());
  return success();
}

/// `out` (cols x rows) = the transpose of `in` (rows x cols).
static void transpose(const std::vector<double> &in, int64_t rows, int64_t cols,
                      std::vector<double> &out) {
  out.resize(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[c * rows + r] = in[r * cols + c];
}

LogicalResult Machine::execGemm(const Instr &in) {
  const View &a = views[in.a], &b = views[in.b], &c = views[in.c];
  bool transposeA = in.flags & kTransposeA, transposeB = in.flags & kTransposeB;
  int64_t m = c.shape[0], n = c.shape[1];
  int64_t k = transposeA ? a.shape[0] : a.shape[1];
  std::vector<double> &aValues = scratch[0], &bValues = scratch[1];
  std::vector<double> &acc = scratch[2], &tmp = scratch[3];
  if (failed(readDense(a, aValues, in.op)) ||
      failed(readDense(b, bValues, in.op)))
    return failure();
  if (in.flags & kClear)
    acc.assign(m * n, 0.0);
  else if (failed(readDense(c, acc, in.op)))
    return failure();
  if (transposeA) {
    transpose(aValues, k, m, tmp);
    aValues.swap(tmp);
  }
  if (transposeB) {
    transpose(bValues, n, k, tmp);
    bValues.swap(tmp);
  }
  // C (m x n) += A (m x k) * B (k x n), accumulated in double.
  const double *pa = aValues.data(), *pb = bValues.data();
  double *pc = acc.data();
  for (int64_t i = 0; i < m; ++i) {
    double *row = pc + i * n;
    for (int64_t l = 0; l < k; ++l) {
      double x = pa[i * k + l];
      const double *brow = pb + l * n;
      for (int64_t j = 0; j < n; ++j)
        row[j] += x * brow[j];
    }
  }
  writeDense(c, pc);
  return success();
}

/// Splits `shape` around `dim` into (outer, extent, inner) element counts.
static void splitAround(llvm::ArrayRef<int64_t> shape, int64_t dim,
                        int64_t &outer, int64_t &extent, int64_t &inner) {
  outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= shape[d];
  extent = shape[dim];
  for (size_t d = dim + 1; d < shape.size(); ++d)
    inner *= shape[d];
}

LogicalResult Machine::execReduce(const Instr &in) {
  const View &src = views[in.a], &dst = views[in.b];
  int64_t outer, extent, inner;
  splitAround(src.getShape(), in.imm, outer, extent, inner);
  if (dst.numElements() != outer * inner) {
    opError(in.op) << "the destination does not have the reduced shape";
    return failure();
  }
  std::vector<double> &values = scratch[0], &result = scratch[1];
  if (failed(readDense(src, values, in.op)))
    return failure();
  auto kind = tile::ReduceKind(in.pred);
  double identity = kind == tile::ReduceKind::Sum   ? 0.0
                    : kind == tile::ReduceKind::Max ? -INFINITY
                                                    : INFINITY;
  result.assign(outer * inner, identity);
  auto combine = [kind](double x, double y) {
    if (kind == tile::ReduceKind::Sum)
      return x + y;
    return kind == tile::ReduceKind::Max ? std::fmax(x, y) : std::fmin(x, y);
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t e = 0; e < extent; ++e) {
      const double *row = values.data() + (o * extent + e) * inner;
      double *out = result.data() + o * inner;
      for (int64_t i = 0; i < inner; ++i)
        out[i] = combine(out[i], row[i]);
    }
  if (!(in.flags & kClear)) {
    std::vector<double> &old = scratch[2];
    if (failed(readDense(dst, old, in.op)))
      return failure();
    for (size_t i = 0; i < result.size(); ++i)
      result[i] = combine(old[i], result[i]);
  }
  writeDense(dst, result.data());
  return success();
}

LogicalResult Machine::execCumsum(const Instr &in) {
  const View &buffer = views[in.a];
  int64_t outer, extent, inner;
  splitAround(buffer.getShape(), in.imm, outer, extent, inner);
  std::vector<double> &values = scratch[0];
  if (failed(readDense(buffer, values, in.op)))
    return failure();
  bool reverse = in.flags & kReverse;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double *base = values.data() + o * extent * inner + i;
      double sum = 0;
      for (int64_t e = 0; e < extent; ++e) {
        double &x = base[(reverse ? extent - 1 - e : e) * inner];
        sum += x;
        x = sum;
      }
    }
  writeDense(buffer, values.data());
  return success();
}

LogicalResult Machine::execPut(const Instr &in) {
  View src = views[in.b];
  if (src.getShape() != llvm::ArrayRef(in.ints) && src.storage->isGlobal())
    src = fitTo(src, in.ints);
  std::vector<double> &values = scratch[0];
  if (failed(readDense(src, values, in.op)))
    return failure();
  std::unique_ptr<Storage> slot;
  if (freeSlots.empty()) {
    slot = std::make_unique<Storage>();
  } else {
    slot = std::move(freeSlots.back());
    freeSlots.pop_back();
  }
  auto channel =
      llvm::cast<tile::ChannelOp>(in.op->getOperand(0).getDefiningOp());
  slot->allocate(in.ty, tile::MemoryScope::Shared, in.ints,
                 (channel.getName().value_or("channel") + " slot").str());
  writeDense(View::whole(*slot), values.data());
  channels[in.a]->queue.push_back(std::move(slot));
  return success();
}

LogicalResult Machine::execGet(const Instr &in) {
  ChannelState &channel = *channels[in.a];
  if (channel.queue.empty() && !(scheduler && scheduler->waitFor(channel))) {
    if (!scheduler || scheduler->deadlocked())
      mlir::emitError(in.op->getLoc())
          << "get on an empty channel that no role will fill: every role "
             "waits (the roles' puts and gets deadlock)";
    return failure();
  }
  std::unique_ptr<Storage> slot = std::move(channel.queue.front());
  channel.queue.pop_front();
  const Body &body = in.bodies[0];
  views[body.args[0]] = View::whole(*slot);
  LogicalResult result = exec(body);
  freeSlots.push_back(std::move(slot));
  return result;
}

LogicalResult Machine::execRoles(const Instr &in) {
  RoleScheduler roles(in.bodies.size());
  scheduler = &roles;
  bool ok = roles.run([&](size_t i) { return succeeded(exec(in.bodies[i])); });
  scheduler = nullptr;
  return success(ok);
}

LogicalResult Machine::execLaunch(const Instr &in) {
  int64_t grid[3] = {1, 1, 1};
  for (size_t d = 0; d < in.list.size(); ++d) {
    grid[d] = cells[in.list[d]].i;
    if (grid[d] < 0) {
      opError(in.op) << "grid dimension "
                     << "xyz"[d] << " is negative (" << grid[d] << ")";
      return failure();
    }
  }
  std::fill(cluster, cluster + 3, 1);
  if (std::optional<llvm::ArrayRef<int64_t>> extents =
          llvm::cast<tile::LaunchOp>(in.op).getCluster())
    for (size_t d = 0; d < extents->size(); ++d) {
      cluster[d] = (*extents)[d];
      // As the GPU runtime checks before a launch.
      if (grid[d] % cluster[d]) {
        opError(in.op) << "grid dimension "
                       << "xyz"[d] << " (" << grid[d]
                       << ") is not a multiple of the cluster size "
                       << cluster[d];
        return failure();
      }
    }
  const Body &body = in.bodies[0];
  for (int64_t z = 0; z < grid[2]; ++z)
    for (int64_t y = 0; y < grid[1]; ++y)
      for (int64_t x = 0; x < grid[0]; ++x) {
        int64_t index[3] = {x, y, z};
        std::copy(index, index + 3, block);
        for (size_t d = 0; d < body.args.size(); ++d)
          cells[body.args[d]].i = index[d];
        if (failed(exec(body)))
          return failure();
      }
  return success();
}

LogicalResult Machine::execParallel(const Instr &in) {
  const Body &body = in.bodies[0];
  size_t rank = in.ints.size();
  int64_t index[kMaxRank] = {};
  for (;;) {
    for (size_t d = 0; d < rank; ++d)
      cells[body.args[d]].i = index[d];
    if (failed(exec(body)))
      return failure();
    int d = int(rank) - 1;
    for (; d >= 0; --d) {
      if (++index[d] < in.ints[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      return success();
  }
}

void Machine::yield(const Body &body, llvm::ArrayRef<int> targets) {
  // Through a copy: a yielded value may be one of the targets.
  llvm::SmallVector<Cell, 4> values;
  for (int v : body.yields)
    values.push_back(cells[v]);
  for (auto [target, value] : llvm::zip(targets, values))
    cells[target] = value;
}

LogicalResult Machine::execFor(const Instr &in) {
  const Body &body = in.bodies[0];
  int64_t lower = cells[in.a].i, upper = cells[in.b].i, step = cells[in.c].i;
  if (step <= 0) {
    opError(in.op) << "the loop step must be positive, got " << step;
    return failure();
  }
  llvm::ArrayRef<int> iterArgs = llvm::ArrayRef(body.args).drop_front();
  for (auto [arg, init] : llvm::zip(iterArgs, in.list))
    cells[arg] = cells[init];
  for (int64_t iv = lower; iv < upper; iv += step) {
    cells[body.args[0]].i = iv;
    if (failed(exec(body)))
      return failure();
    yield(body, iterArgs);
  }
  for (auto [result, arg] : llvm::zip(in.results, iterArgs))
    cells[result] = cells[arg];
  return success();
}

LogicalResult Machine::execIf(const Instr &in) {
  const Body &body = in.bodies[cells[in.a].i ? 0 : 1];
  if (failed(exec(body)))
    return failure();
  yield(body, in.results);
  return success();
}

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

LogicalResult tlc::interp::runKernel(mlir::ModuleOp module,
                                     llvm::StringRef name,
                                     llvm::MutableArrayRef<KernelArg> args) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(name);
  if (!func || !func->hasAttr(tile::TileDialect::getKernelAttrName())) {
    std::string names;
    module.walk([&](mlir::func::FuncOp f) {
      if (f->hasAttr(tile::TileDialect::getKernelAttrName()))
        names += (names.empty() ? "" : ", ") + f.getName().str();
    });
    mlir::emitError(module.getLoc())
        << "no kernel named '" << name << "' in this module; it defines: "
        << (names.empty() ? "no kernel" : names);
    return failure();
  }
  Machine machine(func);
  if (failed(machine.decode()) || failed(machine.bind(args)))
    return failure();
  return machine.run();
}
