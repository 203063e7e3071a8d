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
// Balanced counts do not rule out roles waiting for each other in a cycle,
// or a role filling every slot of a ring before it waits for the role that
// drains it. So the pass then runs the roles' channel traffic abstractly:
// puts wait for a free slot (`stages` of them), gets for a filled one,
// and a slot is free again when its get's body ends; loops with a constant
// trip count run that often, loops with run-time bounds once (the balance
// check has matched them across roles). If every unfinished role waits,
// the program would hang on the GPU and is rejected.
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

/// The trip count of `loop` when its bounds are constants.
std::optional<int64_t> constantTripCount(scf::ForOp loop) {
  auto lb = constantValue(loop.getLowerBound());
  auto ub = constantValue(loop.getUpperBound());
  auto step = constantValue(loop.getStep());
  if (!lb || !ub || !step)
    return std::nullopt;
  return *ub > *lb ? (*ub - *lb + *step - 1) / *step : 0;
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
    if (std::optional<int64_t> trips = constantTripCount(loop)) {
      count.factor *= *trips;
      continue;
    }
    count.dynamicLoops.push_back(expression(loop.getLowerBound()) + ":" +
                                 expression(loop.getUpperBound()) + ":" +
                                 expression(loop.getStep()));
  }
  return count;
}

/// One step of a role's channel traffic.
struct Event {
  enum Kind { Put, Get, Release } kind;
  Operation *op; // the put or get
  Operation *channel;
};

/// Appends the channel traffic of `block` in program order; false when it
/// exceeds `limit` events (the check is skipped then).
bool collectEvents(mlir::Block &block, std::vector<Event> &events,
                   size_t limit) {
  for (Operation &op : block) {
    if (events.size() > limit)
      return false;
    if (auto put = dyn_cast<PutOp>(op)) {
      events.push_back({Event::Put, put, put.getChannel().getDefiningOp()});
      continue;
    }
    if (auto get = dyn_cast<GetOp>(op)) {
      Operation *channel = get.getChannel().getDefiningOp();
      events.push_back({Event::Get, get, channel});
      if (!collectEvents(get.getBody().front(), events, limit))
        return false;
      events.push_back({Event::Release, get, channel});
      continue;
    }
    bool hasTraffic = op.walk([](Operation *nested) {
                          return isa<PutOp, GetOp>(nested)
                                     ? WalkResult::interrupt()
                                     : WalkResult::advance();
                        }).wasInterrupted();
    if (!hasTraffic)
      continue;
    int64_t trips = 1;
    if (auto loop = dyn_cast<scf::ForOp>(op))
      trips = constantTripCount(loop).value_or(1);
    for (int64_t trip = 0; trip < trips; ++trip)
      for (Region &region : op.getRegions())
        for (mlir::Block &nested : region)
          if (!collectEvents(nested, events, limit))
            return false;
  }
  return true;
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
    return "Reject roles whose channels cannot balance or would deadlock";
  }

  void runOnOperation() override {
    if (failed(checkBalance()))
      return signalPassFailure();
    getOperation().walk([&](LaunchOp launch) {
      if (failed(checkProgress(launch)))
        signalPassFailure();
    });
  }

  /// Runs the roles' channel traffic until every role is done or none can
  /// go on (a deadlock, reported).
  LogicalResult checkProgress(LaunchOp launch) {
    struct Role {
      RoleOp op;
      std::vector<Event> events;
      size_t next = 0;
    };
    std::vector<Role> roles;
    for (RoleOp role : launch.getBody().front().getOps<RoleOp>()) {
      roles.push_back({role, {}, 0});
      if (!collectEvents(role.getBody().front(), roles.back().events, 65536))
        return success(); // Too long to run abstractly; counts still hold.
    }
    // Per channel: slots holding data (put, not yet released) and slots
    // ready for a get (put, not yet got).
    DenseMap<Operation *, int64_t> filled, ready;
    auto canGo = [&](const Event &e) {
      if (e.kind == Event::Put)
        return filled[e.channel] <
               cast<ChannelOp>(e.channel).getType().getStages();
      if (e.kind == Event::Get)
        return ready[e.channel] > 0;
      return true;
    };
    for (bool progress = true; progress;) {
      progress = false;
      for (Role &role : roles)
        for (; role.next < role.events.size() && canGo(role.events[role.next]);
             ++role.next, progress = true) {
          const Event &e = role.events[role.next];
          if (e.kind == Event::Put) {
            ++filled[e.channel];
            ++ready[e.channel];
          } else if (e.kind == Event::Get) {
            --ready[e.channel];
          } else {
            --filled[e.channel];
          }
        }
    }
    std::vector<Role *> stuck;
    for (Role &role : roles)
      if (role.next < role.events.size())
        stuck.push_back(&role);
    if (stuck.empty())
      return success();
    auto describe = [&](const Event &e) {
      auto channel = cast<ChannelOp>(e.channel);
      std::string name =
          channel.getName() ? ("'" + channel.getName()->str() + "'") : "";
      if (e.kind == Event::Put)
        return "put(...) waits for a free slot of channel " + name +
               ", whose " + std::to_string(channel.getType().getStages()) +
               " slot(s) are all full";
      return "get(...) waits for channel " + name + ", which is empty";
    };
    const Event &first = stuck.front()->events[stuck.front()->next];
    InFlightDiagnostic diag =
        first.op->emitError()
        << "the roles deadlock: every unfinished role waits for another ("
        << describe(first) << ")";
    for (Role *role : stuck) {
      const Event &e = role->events[role->next];
      diag.attachNote(e.op->getLoc())
          << "role '" << role->op.getName() << "' stops here: " << describe(e);
    }
    return failure();
  }

  /// Each channel's puts and gets run equally often.
  LogicalResult checkBalance() {
    WalkResult result =
        getOperation().walk([&](ChannelOp channel) -> WalkResult {
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
              return WalkResult::interrupt();
            Key key(count->dynamicLoops.begin(), count->dynamicLoops.end());
            llvm::sort(key);
            balance[key] += isPut ? count->factor : -count->factor;
          }
          std::string name =
              channel.getName() ? ("'" + channel.getName()->str() + "' ") : "";
          if (!firstPut || !firstGet) {
            if (!firstPut && !firstGet)
              return WalkResult::advance();
            channel.emitError() << "channel " << name << "is "
                                << (firstPut ? "put to but never read with "
                                               "get(...)"
                                             : "read with get(...) but "
                                               "never put to")
                                << "; the roles would deadlock";
            return WalkResult::interrupt();
          }
          for (auto &[key, net] : balance) {
            if (net == 0)
              continue;
            InFlightDiagnostic diag =
                channel.emitError()
                << "channel " << name << "is unbalanced: "
                << (net > 0 ? "put(...) runs " : "get(...) runs ")
                << std::abs(net)
                << (key.empty() ? " more time(s) per block"
                                : " more time(s) per iteration of the run-time "
                                  "loops around it")
                << " than " << (net > 0 ? "get(...)" : "put(...)")
                << "; the roles would deadlock";
            diag.attachNote(firstPut->getLoc())
                << "put(...) in " << roleOf(firstPut);
            diag.attachNote(firstGet->getLoc())
                << "get(...) in " << roleOf(firstGet);
            return WalkResult::interrupt();
          }
          return WalkResult::advance();
        });
    return failure(result.wasInterrupted());
  }
};

} // namespace

std::unique_ptr<Pass> tlc::createCheckChannelsPass() {
  return std::make_unique<CheckChannelsPass>();
}
