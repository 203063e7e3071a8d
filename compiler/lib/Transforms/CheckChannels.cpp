//===- CheckChannels.cpp - Compile-time deadlock check of channels --------===//
//
// A channel connects roles that run concurrently: every slot a role puts
// must be taken by a get, or one side waits forever. This pass proves, per
// channel, that the puts and gets are executed equally often: each put/get
// is counted as the product of its enclosing loops' trip counts (constant
// trip counts multiply out; loops with run-time bounds must appear on both
// sides with the same bounds), and the sums must agree. Puts or gets under
// a run-time condition cannot be counted and are rejected.
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/SmallString.h"

#include <map>

using namespace mlir;
using namespace tlc;
using namespace tlc::tile;

namespace {

/// "Executed `factor` times for each iteration of the run-time loops
/// `dynamicLoops` (each identified by the expressions of its bounds)."
struct Count {
  int64_t factor = 1;
  SmallVector<std::string> dynamicLoops;
};

/// A value as an expression over block arguments, constants and side-effect
/// free ops, so that `range(cdiv(T, 64))` written in two roles compares
/// equal although each role computes it anew.
std::string expression(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return "arg" + std::to_string(arg.getArgNumber()) + "@" +
           std::to_string(reinterpret_cast<uintptr_t>(arg.getOwner()));
  Operation *op = v.getDefiningOp();
  if (!isMemoryEffectFree(op))
    return "value@" +
           std::to_string(reinterpret_cast<uintptr_t>(v.getAsOpaquePointer()));
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName() << op->getAttrDictionary() << "(";
  for (Value operand : op->getOperands())
    os << expression(operand) << ",";
  os << ")#" << cast<OpResult>(v).getResultNumber();
  return text;
}

std::optional<int64_t> constantValue(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantOp>())
    if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      return i.getInt();
  return std::nullopt;
}

/// Counts how often `op` runs per block, or reports why it cannot.
FailureOr<Count> countExecutions(Operation *op, StringRef what) {
  Count count;
  for (Operation *parent = op->getParentOp(); parent && !isa<LaunchOp>(parent);
       parent = parent->getParentOp()) {
    if (isa<scf::IfOp>(parent))
      return op->emitError() << what
                             << " under a run-time condition: the compiler "
                                "cannot prove that the channel's puts and "
                                "gets balance";
    auto loop = dyn_cast<scf::ForOp>(parent);
    if (!loop)
      continue;
    auto lb = constantValue(loop.getLowerBound());
    auto ub = constantValue(loop.getUpperBound());
    auto step = constantValue(loop.getStep());
    if (lb && ub && step) {
      count.factor *= *ub > *lb ? (*ub - *lb + *step - 1) / *step : 0;
      continue;
    }
    count.dynamicLoops.push_back(expression(loop.getLowerBound()) + ":" +
                                 expression(loop.getUpperBound()) + ":" +
                                 expression(loop.getStep()));
  }
  return count;
}

std::string roleOf(Operation *op) {
  if (auto role = op->getParentOfType<RoleOp>())
    return ("role '" + role.getName() + "'").str();
  return "the kernel body";
}

struct CheckChannelsPass
    : PassWrapper<CheckChannelsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckChannelsPass)

  StringRef getArgument() const override { return "tile-check-channels"; }
  StringRef getDescription() const override {
    return "Reject channels whose puts and gets cannot balance (deadlock)";
  }

  void runOnOperation() override {
    getOperation().walk([&](ChannelOp channel) {
      // Key: the run-time loops (as bound values, in a canonical order);
      // value: the constant factor summed over the puts (+) and gets (-).
      using Key = std::vector<std::string>;
      std::map<Key, int64_t> balance;
      Operation *firstPut = nullptr, *firstGet = nullptr;
      for (Operation *user : channel->getUsers()) {
        bool isPut = isa<PutOp>(user);
        if (!isPut && !isa<GetOp>(user))
          continue;
        Operation *&first = isPut ? firstPut : firstGet;
        if (!first)
          first = user;
        FailureOr<Count> count =
            countExecutions(user, isPut ? "put(...)" : "get(...)");
        if (failed(count))
          return signalPassFailure();
        Key key(count->dynamicLoops.begin(), count->dynamicLoops.end());
        llvm::sort(key);
        balance[key] += isPut ? count->factor : -count->factor;
      }
      std::string name =
          channel.getName() ? ("'" + channel.getName()->str() + "' ") : "";
      if (!firstPut || !firstGet) {
        if (!firstPut && !firstGet)
          return;
        channel.emitError() << "channel " << name << "is "
                            << (firstPut ? "put to but never read with "
                                           "get(...)"
                                         : "read with get(...) but "
                                           "never put to")
                            << "; the roles would deadlock";
        return signalPassFailure();
      }
      for (auto &[key, net] : balance) {
        if (net == 0)
          continue;
        InFlightDiagnostic diag =
            channel.emitError()
            << "channel " << name << "is unbalanced: "
            << (net > 0 ? "put(...) runs " : "get(...) runs ") << std::abs(net)
            << (key.empty() ? " more time(s) per block"
                            : " more time(s) per iteration of the run-time "
                              "loops around it")
            << " than " << (net > 0 ? "get(...)" : "put(...)")
            << "; the roles would deadlock";
        diag.attachNote(firstPut->getLoc())
            << "put(...) in " << roleOf(firstPut);
        diag.attachNote(firstGet->getLoc())
            << "get(...) in " << roleOf(firstGet);
        return signalPassFailure();
      }
    });
  }
};

} // namespace

std::unique_ptr<Pass> tlc::createCheckChannelsPass() {
  return std::make_unique<CheckChannelsPass>();
}
