//===- MLIRGen.cpp - Type checking and tile-dialect construction ----------===//
//
// One KernelGen per kernel: it evaluates compile-time parameters, builds the
// `func.func` signature from the parameter types, and walks the body. Values
// during the walk are TValues: compile-time constants (folded here, so shapes
// and loop bounds may be written as expressions of constants), scalars,
// buffers and channels. Names assigned more than once live in rank-0 local
// buffers ("cells"); every other name is a plain SSA value.
//
//===----------------------------------------------------------------------===//

#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Frontend/Parser.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SaveAndRestore.h"

#include <cmath>
#include <map>

using namespace tlc;
using namespace tlc::ast;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;
using mlir::Type;
using mlir::Value;

namespace arith = mlir::arith;
namespace math = mlir::math;
namespace scf = mlir::scf;
namespace func = mlir::func;
namespace tile = tlc::tile;

namespace {

//===----------------------------------------------------------------------===//
// Typed values
//===----------------------------------------------------------------------===//

struct TValue {
  enum class Kind {
    Int,
    Float,
    Bool,
    DType,
    String,
    Scalar,
    Buffer,
    Channel,
    Tuple
  };
  Kind kind = Kind::Int;
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  Type type;
  std::string string;
  Value value;
  std::vector<TValue> elements;

  static TValue ofInt(int64_t v) {
    TValue t;
    t.kind = Kind::Int;
    t.intValue = v;
    return t;
  }
  static TValue ofFloat(double v) {
    TValue t;
    t.kind = Kind::Float;
    t.floatValue = v;
    return t;
  }
  static TValue ofBool(bool v) {
    TValue t;
    t.kind = Kind::Bool;
    t.boolValue = v;
    return t;
  }
  static TValue ofDType(Type type) {
    TValue t;
    t.kind = Kind::DType;
    t.type = type;
    return t;
  }
  static TValue ofString(std::string s) {
    TValue t;
    t.kind = Kind::String;
    t.string = std::move(s);
    return t;
  }
  static TValue ofValue(Value v) {
    TValue t;
    t.value = v;
    t.type = v.getType();
    if (isa<tile::BufferType>(t.type))
      t.kind = Kind::Buffer;
    else if (isa<tile::ChannelType>(t.type))
      t.kind = Kind::Channel;
    else
      t.kind = Kind::Scalar;
    return t;
  }

  bool isConstant() const {
    return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool;
  }
  bool isNumeric() const { return isConstant() || kind == Kind::Scalar; }
  tile::BufferType getBufferType() const {
    return cast<tile::BufferType>(type);
  }
};

bool isBoolish(const TValue &v);

std::string typeToString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

std::string shapeToString(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += 'x';
    s += mlir::ShapedType::isDynamic(shape[i]) ? "?" : std::to_string(shape[i]);
  }
  return s;
}

/// "a bf16 scalar", "an f32 scalar", "an index scalar".
std::string withArticle(const std::string &noun) {
  bool vowelSound =
      !noun.empty() && llvm::StringRef("aefhilmnorsx").contains(noun[0]);
  return (vowelSound ? "an " : "a ") + noun;
}

std::string describe(const TValue &v) {
  switch (v.kind) {
  case TValue::Kind::Int:
    return "the integer constant " + std::to_string(v.intValue);
  case TValue::Kind::Float:
    return "a float constant";
  case TValue::Kind::Bool:
    return "a boolean constant";
  case TValue::Kind::DType:
    return "the dtype " + typeToString(v.type);
  case TValue::Kind::String:
    return "a string";
  case TValue::Kind::Scalar:
    return withArticle(typeToString(v.type) + " scalar");
  case TValue::Kind::Buffer: {
    auto bt = v.getBufferType();
    return "a " + tile::stringifyMemoryScope(bt.getScope()).str() + " buffer " +
           shapeToString(bt.getShape()) + (bt.getShape().empty() ? "" : "x") +
           typeToString(bt.getElementType());
  }
  case TValue::Kind::Channel:
    return "a channel";
  case TValue::Kind::Tuple:
    return "a tuple";
  }
  llvm_unreachable("unknown value kind");
}

bool isIntLike(Type t) {
  return t.isIndex() || (t.isInteger() && t.getIntOrFloatBitWidth() > 1);
}
bool isBool(Type t) { return t.isInteger(1); }

/// Python semantics for integer floor division and modulo.
int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

bool isBoolish(const TValue &v) {
  return v.kind == TValue::Kind::Bool ||
         (v.kind == TValue::Kind::Scalar && v.type.isInteger(1));
}

/// An affine form `c0 + Σ ci·termi` over opaque terms, used to prove that a
/// slice `a:b` has a constant extent even when a and b are dynamic.
struct Linear {
  std::map<std::string, int64_t> terms;
  int64_t constant = 0;

  Linear &add(const Linear &other, int64_t sign) {
    constant += sign * other.constant;
    for (const auto &[term, coeff] : other.terms)
      terms[term] += sign * coeff;
    return *this;
  }
  std::optional<int64_t> asConstant() const {
    for (const auto &entry : terms)
      if (entry.second != 0)
        return std::nullopt;
    return constant;
  }
};

//===----------------------------------------------------------------------===//
// Builtins
//===----------------------------------------------------------------------===//

struct ParamSpec {
  const char *name;
  bool required;
};

/// Matches a call's positional and keyword arguments against a parameter
/// list, reporting the first mismatch.
bool bindArgs(const CallExpr &call, llvm::ArrayRef<ParamSpec> params,
              llvm::SmallVectorImpl<const Expr *> &out, Diagnostics &diags) {
  out.assign(params.size(), nullptr);
  if (call.args.size() > params.size()) {
    diags.error(call.args[params.size()]->getLoc(),
                call.callee + "() takes at most " + Twine(params.size()) +
                    " arguments but " + Twine(call.args.size()) +
                    " were given");
    return false;
  }
  for (size_t i = 0; i < call.args.size(); ++i)
    out[i] = call.args[i].get();
  for (const KeywordArg &kw : call.kwargs) {
    auto it = llvm::find_if(
        params, [&](const ParamSpec &p) { return kw.name == p.name; });
    if (it == params.end()) {
      std::string names;
      for (const ParamSpec &p : params)
        names += (names.empty() ? "" : ", ") + std::string(p.name);
      diags.error(kw.loc, call.callee + "() has no parameter '" + kw.name +
                              "'; its parameters are: " + names);
      return false;
    }
    size_t index = it - params.begin();
    if (out[index]) {
      diags.error(kw.loc, call.callee + "() got argument '" + kw.name +
                              "' twice (by position and by keyword)");
      return false;
    }
    out[index] = kw.value.get();
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].required && !out[i]) {
      diags.error(call.getLoc(), call.callee + "() is missing its argument '" +
                                     params[i].name + "'");
      return false;
    }
  }
  return true;
}

std::optional<Type> dtypeFromName(mlir::MLIRContext &ctx, StringRef name) {
  mlir::Builder b(&ctx);
  return llvm::StringSwitch<std::optional<Type>>(name)
      .Case("bf16", b.getBF16Type())
      .Case("f16", b.getF16Type())
      .Case("f32", b.getF32Type())
      .Case("f64", b.getF64Type())
      .Case("i8", b.getIntegerType(8))
      .Case("i32", b.getI32Type())
      .Case("i64", b.getI64Type())
      .Case("bool", b.getI1Type())
      .Default(std::nullopt);
}

//===----------------------------------------------------------------------===//
// KernelGen
//===----------------------------------------------------------------------===//

struct Symbol {
  enum class Kind { Value, Cell };
  Kind kind = Kind::Value;
  TValue value;                // Kind::Value
  Value cell;                  // Kind::Cell: rank-0 local buffer
  SMLoc loc;                   // where the name was bound
  const char *what = "a name"; // "a loop variable", "a 'let' binding", ...
  bool isLet = false;
};

class KernelGen {
public:
  KernelGen(mlir::ModuleOp module, const Kernel &kernel,
            llvm::ArrayRef<std::pair<std::string, const Expr *>> defines,
            llvm::StringSet<> &usedDefines, Diagnostics &diags)
      : ctx(*module.getContext()), builder(&ctx), module(module),
        kernel(kernel), defines(defines), usedDefines(usedDefines),
        diags(diags) {}

  bool generate();

private:
  // Locations and errors.
  mlir::Location loc(SMLoc l);
  bool error(SMLoc l, const Twine &message) {
    diags.error(l, message);
    return false;
  }

  // Scopes.
  struct ScopeGuard {
    KernelGen &gen;
    explicit ScopeGuard(KernelGen &gen) : gen(gen) {
      gen.scopes.emplace_back();
    }
    ~ScopeGuard() { gen.scopes.pop_back(); }
  };
  const Symbol *lookup(StringRef name) const;
  bool declare(const Binding &binding, Symbol symbol);

  // Signature.
  bool genConstants();
  std::optional<Type> genParamType(const Param &param,
                                   llvm::SmallVectorImpl<std::string> &dims,
                                   llvm::SmallVectorImpl<int64_t> &shape);

  // Statements.
  bool genBlock(const ast::Block &block);
  bool genStmt(const Stmt &stmt);
  bool genAssign(const AssignStmt &stmt);
  bool genFor(const ForStmt &stmt);
  bool genIf(const IfStmt &stmt);
  bool genWith(const WithStmt &stmt);
  bool genLaunch(const WithStmt &stmt);
  bool genCallStmt(const CallExpr &call);

  // Expressions.
  std::optional<TValue> gen(const Expr &expr);
  std::optional<TValue> genName(const NameExpr &expr);
  std::optional<TValue> genUnary(const UnaryExpr &expr);
  std::optional<TValue> genBinary(const BinaryExpr &expr);
  std::optional<TValue> genBinaryValues(SMLoc l, BinaryOp op, TValue lhs,
                                        TValue rhs);
  std::optional<TValue> genCall(const CallExpr &call);
  std::optional<TValue> genMath(const CallExpr &call);
  std::optional<TValue> genAlloc(const CallExpr &call, tile::MemoryScope scope);
  /// The shape and dtype of alloc_*/channel, declared at the top of a body.
  std::optional<std::pair<std::vector<int64_t>, Type>>
  tileDeclaration(const CallExpr &call, llvm::ArrayRef<const Expr *> args,
                  StringRef noun);
  std::optional<TValue> genElementLoad(const SubscriptExpr &expr);

  // Conversions.
  /// Evaluates `expr`, which must fold to a constant of `kind`.
  std::optional<TValue> constOf(const Expr &expr, TValue::Kind kind,
                                StringRef what, StringRef expected);
  std::optional<int64_t> constInt(const Expr &expr, StringRef what);
  std::optional<bool> constBool(const Expr *expr, bool defaultValue,
                                StringRef what);
  std::optional<Type> constDType(const Expr &expr, StringRef what);
  std::optional<Value> index(const Expr &expr, StringRef what);
  Value materialize(SMLoc l, const TValue &v, Type type);
  Value convert(SMLoc l, Value v, Type type);
  Type defaultType(const TValue &v);
  Type commonType(const TValue &lhs, const TValue &rhs);
  std::optional<Value> convertForStore(SMLoc l, const TValue &v, Type type,
                                       StringRef what);

  // Buffers and regions.
  std::optional<Value> buffer(const Expr &expr, const Twine &what);
  /// Resolves `expr` to a buffer or a view of one. A subscript with only
  /// point indices (`A[i, k]`) takes its extent from `partnerShape`, aligned
  /// to the trailing dimensions; without a partner it returns a null Value
  /// and reports nothing, so the caller can resolve the other operand first.
  std::optional<Value> region(const Expr &expr, const Twine &what,
                              std::optional<llvm::ArrayRef<int64_t>> partner);
  std::optional<Linear> linearize(const Expr &expr);
  bool regionPair(const Expr &first, const Expr &second, StringRef callee,
                  Value &firstValue, Value &secondValue);
  std::optional<std::vector<int64_t>> constShape(const Expr &expr,
                                                 StringRef what);

  mlir::MLIRContext &ctx;
  mlir::OpBuilder builder;
  mlir::ModuleOp module;
  const Kernel &kernel;
  llvm::ArrayRef<std::pair<std::string, const Expr *>> defines;
  llvm::StringSet<> &usedDefines;
  Diagnostics &diags;

  std::vector<llvm::StringMap<Symbol>> scopes;
  llvm::StringSet<> mutableNames;
  std::vector<mlir::NamedAttribute> constantAttrs;
  /// Inside loops, conditions and Parallel bodies buffers cannot be
  /// allocated; this counts that nesting.
  unsigned controlDepth = 0;
  bool insideLaunch = false;
  /// A Parallel body runs once per element: no tile operations there.
  bool insideParallel = false;
  /// The name being assigned, used to name allocations.
  StringRef pendingName;
};

mlir::Location KernelGen::loc(SMLoc l) {
  llvm::SourceMgr &sm = diags.getSourceMgr();
  unsigned bufferId = sm.FindBufferContainingLoc(l);
  if (!bufferId)
    return mlir::UnknownLoc::get(&ctx);
  auto [line, col] = sm.getLineAndColumn(l, bufferId);
  return mlir::FileLineColLoc::get(
      &ctx, sm.getMemoryBuffer(bufferId)->getBufferIdentifier(), line, col);
}

const Symbol *KernelGen::lookup(StringRef name) const {
  for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
    auto found = it->find(name);
    if (found != it->end())
      return &found->second;
  }
  return nullptr;
}

bool KernelGen::declare(const Binding &binding, Symbol symbol) {
  if (dtypeFromName(ctx, binding.name) || binding.name == "inf")
    return error(binding.loc, "'" + binding.name +
                                  "' is a built-in name and cannot be "
                                  "redefined");
  if (const Symbol *previous = lookup(binding.name)) {
    error(binding.loc,
          "'" + binding.name + "' is already defined as " + previous->what);
    diags.note(previous->loc, "'" + binding.name + "' was defined here");
    return false;
  }
  symbol.loc = binding.loc;
  scopes.back()[binding.name] = std::move(symbol);
  return true;
}

/// Collects the names that are assigned more than once (or updated with an
/// augmented assignment): those need storage instead of an SSA value.
void collectMutableNames(const ast::Block &block,
                         llvm::StringMap<int> &counts) {
  for (const StmtPtr &stmt : block) {
    if (auto *assign = dyn_cast<AssignStmt>(stmt.get())) {
      if (auto *name = dyn_cast<NameExpr>(assign->target.get()))
        counts[name->name] += assign->op == AssignStmt::Op::Set ? 1 : 2;
    } else if (auto *loop = dyn_cast<ForStmt>(stmt.get())) {
      collectMutableNames(loop->body, counts);
    } else if (auto *cond = dyn_cast<IfStmt>(stmt.get())) {
      collectMutableNames(cond->thenBody, counts);
      collectMutableNames(cond->elseBody, counts);
    } else if (auto *with = dyn_cast<WithStmt>(stmt.get())) {
      collectMutableNames(with->body, counts);
    }
  }
}

//===----------------------------------------------------------------------===//
// Constants and conversions
//===----------------------------------------------------------------------===//

std::optional<TValue> KernelGen::constOf(const Expr &expr, TValue::Kind kind,
                                         StringRef what, StringRef expected) {
  std::optional<TValue> v = gen(expr);
  if (!v)
    return std::nullopt;
  if (v->kind != kind) {
    error(expr.getLoc(),
          what + " must be " + expected + ", but this is " + describe(*v));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> KernelGen::constInt(const Expr &expr, StringRef what) {
  std::optional<TValue> v = constOf(expr, TValue::Kind::Int, what,
                                    "an integer known at compile time");
  return v ? std::optional<int64_t>(v->intValue) : std::nullopt;
}

std::optional<bool> KernelGen::constBool(const Expr *expr, bool defaultValue,
                                         StringRef what) {
  if (!expr)
    return defaultValue;
  std::optional<TValue> v = constOf(*expr, TValue::Kind::Bool, what,
                                    "True or False (known at compile time)");
  return v ? std::optional<bool>(v->boolValue) : std::nullopt;
}

std::optional<Type> KernelGen::constDType(const Expr &expr, StringRef what) {
  std::optional<TValue> v =
      constOf(expr, TValue::Kind::DType, what,
              "a dtype (bf16, f16, f32, f64, i8, i32, i64, bool)");
  return v ? std::optional<Type>(v->type) : std::nullopt;
}

Type KernelGen::defaultType(const TValue &v) {
  switch (v.kind) {
  case TValue::Kind::Int:
    return builder.getIndexType();
  case TValue::Kind::Float:
    return builder.getF32Type();
  case TValue::Kind::Bool:
    return builder.getI1Type();
  default:
    return v.type;
  }
}

/// Produces `v` as an SSA value of `type`. Total over numeric values and
/// int/float/bool types; whether a conversion is allowed is the caller's
/// decision.
Value KernelGen::materialize(SMLoc l, const TValue &v, Type type) {
  if (v.kind == TValue::Kind::Scalar)
    return convert(l, v.value, type);
  assert(v.isConstant() && "materialize of a non-numeric value");
  double asDouble = v.kind == TValue::Kind::Int     ? double(v.intValue)
                    : v.kind == TValue::Kind::Float ? v.floatValue
                                                    : double(v.boolValue);
  mlir::TypedAttr attr;
  if (isa<mlir::FloatType>(type))
    attr = builder.getFloatAttr(type, asDouble);
  else if (isBool(type))
    attr = builder.getIntegerAttr(type, asDouble != 0 ? 1 : 0);
  else if (v.kind == TValue::Kind::Int)
    attr = builder.getIntegerAttr(type, v.intValue);
  else
    attr = builder.getIntegerAttr(type, static_cast<int64_t>(asDouble));
  return arith::ConstantOp::create(builder, loc(l), attr);
}

Value KernelGen::convert(SMLoc l, Value v, Type type) {
  Type from = v.getType();
  if (from == type)
    return v;
  mlir::Location location = loc(l);
  if (isBool(type)) {
    // Numeric to bool: compare with zero.
    Value zero = materialize(l, TValue::ofInt(0), from);
    if (isa<mlir::FloatType>(from))
      return arith::CmpFOp::create(builder, location, arith::CmpFPredicate::UNE,
                                   v, zero);
    return arith::CmpIOp::create(builder, location, arith::CmpIPredicate::ne, v,
                                 zero);
  }
  if (isBool(from) && (isIntLike(type) || isa<mlir::FloatType>(type))) {
    Value asInt =
        arith::ExtUIOp::create(builder, location, builder.getI32Type(), v);
    return convert(l, asInt, type);
  }
  if (isIntLike(from) && isIntLike(type)) {
    if (from.isIndex() || type.isIndex())
      return arith::IndexCastOp::create(builder, location, type, v);
    if (from.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth())
      return arith::ExtSIOp::create(builder, location, type, v);
    return arith::TruncIOp::create(builder, location, type, v);
  }
  if (isIntLike(from) && isa<mlir::FloatType>(type)) {
    if (from.isIndex())
      v = arith::IndexCastOp::create(builder, location, builder.getI64Type(),
                                     v);
    return arith::SIToFPOp::create(builder, location, type, v);
  }
  if (isa<mlir::FloatType>(from) && isIntLike(type)) {
    Type target = type.isIndex() ? builder.getI64Type() : type;
    Value result = arith::FPToSIOp::create(builder, location, target, v);
    return convert(l, result, type);
  }
  if (from.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(builder, location, type, v);
  if (from.getIntOrFloatBitWidth() > type.getIntOrFloatBitWidth())
    return arith::TruncFOp::create(builder, location, type, v);
  // bf16 <-> f16: through f32.
  Value wide =
      arith::ExtFOp::create(builder, location, builder.getF32Type(), v);
  return arith::TruncFOp::create(builder, location, type, wide);
}

/// Stores (element writes, variable updates, fill) convert numbers freely
/// between numeric types, except that a float never silently becomes an
/// integer and bools only meet bools.
std::optional<Value> KernelGen::convertForStore(SMLoc l, const TValue &v,
                                                Type type, StringRef what) {
  if (!v.isNumeric()) {
    error(l, what + " needs a number, but this is " + describe(v));
    return std::nullopt;
  }
  bool fromBool = v.kind == TValue::Kind::Bool ||
                  (v.kind == TValue::Kind::Scalar && isBool(v.type));
  bool fromFloat =
      v.kind == TValue::Kind::Float ||
      (v.kind == TValue::Kind::Scalar && isa<mlir::FloatType>(v.type));
  if (fromBool != isBool(type)) {
    error(l, what + ": cannot store " + describe(v) + " into " +
                 typeToString(type) + "; use where(...) or a comparison");
    return std::nullopt;
  }
  if (fromFloat && isIntLike(type)) {
    // Integer variables are index-typed; i32 is the dtype to cast to.
    std::string target = type.isIndex() ? "i32" : typeToString(type);
    error(l, what + ": storing " + describe(v) +
                 " into an integer needs an "
                 "explicit cast(..., " +
                 target + ")");
    return std::nullopt;
  }
  return materialize(l, v, type);
}

std::optional<Value> KernelGen::index(const Expr &expr, StringRef what) {
  std::optional<TValue> v = gen(expr);
  if (!v)
    return std::nullopt;
  bool isInt = v->kind == TValue::Kind::Int ||
               (v->kind == TValue::Kind::Scalar && isIntLike(v->type));
  if (!isInt) {
    error(expr.getLoc(),
          what + " must be an integer, but this is " + describe(*v));
    return std::nullopt;
  }
  return materialize(expr.getLoc(), *v, builder.getIndexType());
}

//===----------------------------------------------------------------------===//
// Kernel signature
//===----------------------------------------------------------------------===//

bool KernelGen::genConstants() {
  for (const ConstParam &param : kernel.constParams) {
    const Expr *valueExpr = param.defaultValue.get();
    for (const auto &[name, expr] : defines) {
      if (name == param.name) {
        valueExpr = expr;
        usedDefines.insert(name);
      }
    }
    std::optional<TValue> value = gen(*valueExpr);
    if (!value)
      return false;
    mlir::Attribute attr;
    switch (value->kind) {
    case TValue::Kind::Int:
      attr = builder.getI64IntegerAttr(value->intValue);
      break;
    case TValue::Kind::Float:
      attr = builder.getF64FloatAttr(value->floatValue);
      break;
    case TValue::Kind::Bool:
      attr = builder.getBoolAttr(value->boolValue);
      break;
    case TValue::Kind::DType:
      attr = mlir::TypeAttr::get(value->type);
      break;
    default:
      return error(valueExpr->getLoc(),
                   "compile-time parameter '" + param.name +
                       "' must be an integer, float, bool or dtype known at "
                       "compile time, but this is " +
                       describe(*value));
    }
    constantAttrs.push_back(builder.getNamedAttr(param.name, attr));
    Symbol symbol;
    symbol.value = *value;
    symbol.what = "a compile-time parameter";
    if (!declare({param.loc, param.name}, symbol))
      return false;
  }
  return true;
}

std::optional<Type>
KernelGen::genParamType(const Param &param,
                        llvm::SmallVectorImpl<std::string> &dims,
                        llvm::SmallVectorImpl<int64_t> &shape) {
  const Expr &typeExpr = *param.type;
  if (auto *name = dyn_cast<NameExpr>(&typeExpr)) {
    if (name->name == "i32" || name->name == "i64" || name->name == "f32")
      return *dtypeFromName(ctx, name->name);
  }
  auto *sub = dyn_cast<SubscriptExpr>(&typeExpr);
  auto *base = sub ? dyn_cast<NameExpr>(sub->base.get()) : nullptr;
  if (!base || base->name != "Tensor") {
    error(typeExpr.getLoc(),
          "expected the type of parameter '" + param.name +
              "': Tensor[(dims...), dtype], i32, i64 or f32");
    return std::nullopt;
  }
  if (sub->indices.size() != 2) {
    error(sub->getLoc(), "Tensor takes a shape and a dtype: "
                         "Tensor[(M, K), bf16]");
    return std::nullopt;
  }
  const Expr &shapeExpr = *sub->indices[0];
  std::vector<const Expr *> dimExprs;
  if (auto *tuple = dyn_cast<TupleExpr>(&shapeExpr)) {
    for (const ExprPtr &e : tuple->elements)
      dimExprs.push_back(e.get());
  } else {
    dimExprs.push_back(&shapeExpr);
  }
  if (dimExprs.empty()) {
    error(shapeExpr.getLoc(), "a Tensor needs at least one dimension");
    return std::nullopt;
  }
  for (const Expr *dim : dimExprs) {
    if (auto *lit = dyn_cast<IntExpr>(dim)) {
      if (lit->value <= 0) {
        error(dim->getLoc(), "tensor dimensions must be positive");
        return std::nullopt;
      }
      shape.push_back(lit->value);
      dims.push_back(std::to_string(lit->value));
      continue;
    }
    auto *dimName = dyn_cast<NameExpr>(dim);
    if (!dimName) {
      error(dim->getLoc(), "a tensor dimension is a name (symbolic size, "
                           "bound at launch) or an integer");
      return std::nullopt;
    }
    const Symbol *symbol = lookup(dimName->name);
    if (symbol && symbol->value.kind == TValue::Kind::Int) {
      shape.push_back(symbol->value.intValue);
      dims.push_back(std::to_string(symbol->value.intValue));
      continue;
    }
    if (symbol && !(symbol->value.kind == TValue::Kind::Scalar &&
                    StringRef(symbol->what) == "a symbolic dimension")) {
      error(dim->getLoc(),
            "'" + dimName->name + "' is " + symbol->what + ", not a dimension");
      return std::nullopt;
    }
    shape.push_back(mlir::ShapedType::kDynamic);
    dims.push_back(dimName->name);
  }
  std::optional<Type> dtype = constDType(*sub->indices[1], "a Tensor's dtype");
  if (!dtype)
    return std::nullopt;
  return tile::BufferType::get(&ctx, shape, *dtype, tile::MemoryScope::Global);
}

bool KernelGen::generate() {
  ScopeGuard kernelScope(*this);
  if (!genConstants())
    return false;

  llvm::StringMap<int> counts;
  collectMutableNames(kernel.body, counts);
  for (const auto &entry : counts)
    if (entry.second > 1)
      mutableNames.insert(entry.first());

  // Parameters. Symbolic dimensions are bound to `tile.dim` of the first
  // parameter that names them.
  llvm::SmallVector<Type> argTypes;
  llvm::SmallVector<llvm::SmallVector<std::string>> argDims;
  struct PendingDim {
    std::string name;
    SMLoc loc;
    unsigned arg;
    unsigned dim;
  };
  std::vector<PendingDim> pendingDims;
  llvm::StringSet<> seenDims;
  for (const Param &param : kernel.params) {
    llvm::SmallVector<std::string> dims;
    llvm::SmallVector<int64_t> shape;
    std::optional<Type> type = genParamType(param, dims, shape);
    if (!type)
      return false;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (!mlir::ShapedType::isDynamic(shape[d]) || seenDims.contains(dims[d]))
        continue;
      for (const Param &other : kernel.params) {
        if (other.name == dims[d])
          return error(param.type->getLoc(),
                       "dimension '" + dims[d] +
                           "' has the same name as a parameter");
      }
      seenDims.insert(dims[d]);
      pendingDims.push_back({dims[d], param.type->getLoc(),
                             static_cast<unsigned>(argTypes.size()),
                             static_cast<unsigned>(d)});
      // Reserve the name now so that later parameters see it as a dimension.
      Symbol dimSymbol;
      dimSymbol.value.kind = TValue::Kind::Scalar;
      dimSymbol.what = "a symbolic dimension";
      if (!declare({param.type->getLoc(), dims[d]}, dimSymbol))
        return false;
    }
    argTypes.push_back(*type);
    argDims.push_back(std::move(dims));
  }

  builder.setInsertionPointToEnd(module.getBody());
  auto funcType = builder.getFunctionType(argTypes, {});
  auto funcOp =
      func::FuncOp::create(builder, loc(kernel.loc), kernel.name, funcType);
  funcOp->setAttr("tile.kernel", builder.getUnitAttr());
  funcOp->setAttr("tile.constants", builder.getDictionaryAttr(constantAttrs));
  for (size_t i = 0; i < argTypes.size(); ++i) {
    funcOp.setArgAttr(i, tile::TileDialect::getParamNameAttrName(),
                      builder.getStringAttr(kernel.params[i].name));
    if (!isa<tile::BufferType>(argTypes[i]))
      continue;
    llvm::SmallVector<mlir::Attribute> names;
    for (const std::string &d : argDims[i])
      names.push_back(builder.getStringAttr(d));
    funcOp.setArgAttr(i, "tile.dims", builder.getArrayAttr(names));
  }
  mlir::Block *entry = funcOp.addEntryBlock();
  builder.setInsertionPointToStart(entry);

  for (const PendingDim &dim : pendingDims) {
    Value v = tile::DimOp::create(builder, loc(dim.loc),
                                  entry->getArgument(dim.arg), dim.dim);
    Symbol &symbol = scopes.back()[dim.name];
    symbol.value = TValue::ofValue(v);
  }
  for (size_t i = 0; i < kernel.params.size(); ++i) {
    const Param &param = kernel.params[i];
    Symbol symbol;
    symbol.value = TValue::ofValue(entry->getArgument(i));
    symbol.what = "a kernel parameter";
    if (!declare({param.loc, param.name}, symbol))
      return false;
  }

  // The body is one `with Kernel(...)` block.
  const WithStmt *launch = nullptr;
  for (const StmtPtr &stmt : kernel.body) {
    if (isa<PassStmt>(stmt.get()))
      continue;
    auto *with = dyn_cast<WithStmt>(stmt.get());
    if (!with || with->context->callee != "Kernel")
      return error(stmt->getLoc(),
                   "a kernel body is one 'with Kernel(...) as (bx, ...):' "
                   "block; move this statement inside it");
    if (launch)
      return error(stmt->getLoc(),
                   "a kernel has exactly one 'with Kernel(...)' block");
    launch = with;
  }
  if (!launch)
    return error(kernel.loc, "kernel '" + kernel.name +
                                 "' has no 'with Kernel(...) as (bx, ...):' "
                                 "block");
  if (!genLaunch(*launch))
    return false;
  builder.setInsertionPointToEnd(entry);
  func::ReturnOp::create(builder, loc(kernel.loc));
  return true;
}

bool KernelGen::genLaunch(const WithStmt &stmt) {
  const CallExpr &call = *stmt.context;
  if (call.args.empty() || call.args.size() > 3)
    return error(call.getLoc(), "Kernel() takes 1 to 3 grid sizes, then "
                                "threads=N; got " +
                                    Twine(call.args.size()) + " grid sizes");
  int64_t threads = 128;
  std::optional<int64_t> blocksPerSM;
  std::optional<std::vector<int64_t>> cluster;
  for (const KeywordArg &kw : call.kwargs) {
    if (kw.name == "cluster") {
      cluster = constShape(*kw.value, "a cluster extent");
      if (!cluster)
        return false;
      if (cluster->size() != call.args.size())
        return error(kw.value->getLoc(),
                     "the cluster needs one extent per grid dimension (" +
                         Twine(call.args.size()) + "), got " +
                         Twine(cluster->size()));
      int64_t blocks = 1;
      for (int64_t extent : *cluster)
        blocks *= extent;
      if (blocks > 16)
        return error(kw.value->getLoc(),
                     "a cluster has at most 16 blocks (8 portably), got " +
                         Twine(blocks));
      continue;
    }
    if (kw.name == "blocks_per_sm") {
      std::optional<int64_t> value = constInt(*kw.value, "blocks_per_sm");
      if (!value)
        return false;
      if (*value < 1 || *value > 32)
        return error(kw.value->getLoc(),
                     "blocks_per_sm must be between 1 and 32, got " +
                         Twine(*value));
      blocksPerSM = *value;
      continue;
    }
    if (kw.name != "threads")
      return error(kw.loc, "Kernel() has no parameter '" + kw.name +
                               "'; it takes grid sizes, threads=N, "
                               "cluster=(X, ...) and blocks_per_sm=N");
    std::optional<int64_t> value = constInt(*kw.value, "threads");
    if (!value)
      return false;
    if (*value < 1 || *value > 1024 || *value % 32 != 0)
      return error(kw.value->getLoc(),
                   "threads must be a multiple of 32 between 32 and 1024, "
                   "got " +
                       Twine(*value));
    threads = *value;
  }
  llvm::SmallVector<Value> grid;
  for (const ExprPtr &arg : call.args) {
    std::optional<TValue> size = gen(*arg);
    if (!size)
      return false;
    if (size->kind == TValue::Kind::Int && size->intValue <= 0)
      return error(arg->getLoc(), "a grid size must be positive, got " +
                                      Twine(size->intValue));
    if (size->kind != TValue::Kind::Int &&
        !(size->kind == TValue::Kind::Scalar && isIntLike(size->type)))
      return error(arg->getLoc(), "a grid size must be an integer, but this "
                                  "is " +
                                      describe(*size));
    grid.push_back(materialize(arg->getLoc(), *size, builder.getIndexType()));
  }
  if (!stmt.vars.empty() && stmt.vars.size() != grid.size())
    return error(stmt.vars.front().loc, "Kernel() has " + Twine(grid.size()) +
                                            " grid dimensions but " +
                                            Twine(stmt.vars.size()) +
                                            " names follow 'as'");

  if (blocksPerSM && *blocksPerSM * threads > 2048)
    return error(call.getLoc(),
                 Twine(*blocksPerSM) + " blocks of " + Twine(threads) +
                     " threads exceed the 2048 threads a multiprocessor "
                     "holds (blocks_per_sm x threads <= 2048)");
  auto launch = tile::LaunchOp::create(
      builder, loc(stmt.getLoc()), grid, threads,
      cluster ? builder.getDenseI64ArrayAttr(*cluster) : nullptr,
      blocksPerSM ? builder.getI64IntegerAttr(*blocksPerSM) : nullptr);
  mlir::Block &body = launch.getBody().emplaceBlock();
  for (size_t i = 0; i < grid.size(); ++i)
    body.addArgument(builder.getIndexType(), loc(call.args[i]->getLoc()));
  mlir::OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&body);
  ScopeGuard scope(*this);
  for (size_t i = 0; i < stmt.vars.size(); ++i) {
    Symbol symbol;
    symbol.value = TValue::ofValue(body.getArgument(i));
    symbol.what = "a block index";
    if (!declare(stmt.vars[i], symbol))
      return false;
  }
  insideLaunch = true;
  return genBlock(stmt.body);
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

bool KernelGen::genBlock(const ast::Block &block) {
  for (const StmtPtr &stmt : block)
    if (!genStmt(*stmt))
      return false;
  return true;
}

bool KernelGen::genStmt(const Stmt &stmt) {
  switch (stmt.getKind()) {
  case Stmt::Kind::Pass:
    return true;
  case Stmt::Kind::Assign:
    return genAssign(cast<AssignStmt>(stmt));
  case Stmt::Kind::For:
    return genFor(cast<ForStmt>(stmt));
  case Stmt::Kind::If:
    return genIf(cast<IfStmt>(stmt));
  case Stmt::Kind::With:
    return genWith(cast<WithStmt>(stmt));
  case Stmt::Kind::Expr: {
    const Expr &expr = *cast<ExprStmt>(stmt).expr;
    if (auto *call = dyn_cast<CallExpr>(&expr))
      return genCallStmt(*call);
    return error(expr.getLoc(), "this expression's value is unused");
  }
  }
  llvm_unreachable("unknown statement kind");
}

static BinaryOp binaryOpOf(AssignStmt::Op op) {
  switch (op) {
  case AssignStmt::Op::Add:
    return BinaryOp::Add;
  case AssignStmt::Op::Sub:
    return BinaryOp::Sub;
  case AssignStmt::Op::Mul:
    return BinaryOp::Mul;
  case AssignStmt::Op::Div:
    return BinaryOp::Div;
  case AssignStmt::Op::Set:
    break;
  }
  llvm_unreachable("not an augmented assignment");
}

bool KernelGen::genAssign(const AssignStmt &stmt) {
  // Element store: buf[i, j] = v, buf[i, j] += v.
  if (auto *sub = dyn_cast<SubscriptExpr>(stmt.target.get())) {
    std::optional<Value> buf = buffer(*sub->base, "the assigned buffer");
    if (!buf)
      return false;
    auto type = cast<tile::BufferType>(buf->getType());
    if (sub->indices.size() != static_cast<size_t>(type.getRank()))
      return error(sub->getLoc(),
                   "this buffer has rank " + Twine(type.getRank()) + " but " +
                       Twine(sub->indices.size()) + " indices are given");
    llvm::SmallVector<Value> indices;
    for (const ExprPtr &indexExpr : sub->indices) {
      if (isa<SliceExpr>(indexExpr.get()))
        return error(indexExpr->getLoc(),
                     "assigning to a slice is not supported; use copy(...) "
                     "or fill(...) for tiles, or a Parallel loop");
      std::optional<Value> i = index(*indexExpr, "an index");
      if (!i)
        return false;
      indices.push_back(*i);
    }
    std::optional<TValue> value = gen(*stmt.value);
    if (!value)
      return false;
    if (stmt.op != AssignStmt::Op::Set) {
      Value old =
          tile::LoadOp::create(builder, loc(sub->getLoc()), *buf, indices);
      value = genBinaryValues(stmt.getLoc(), binaryOpOf(stmt.op),
                              TValue::ofValue(old), *value);
      if (!value)
        return false;
    }
    std::optional<Value> stored =
        convertForStore(stmt.value->getLoc(), *value, type.getElementType(),
                        "an element store");
    if (!stored)
      return false;
    tile::StoreOp::create(builder, loc(stmt.getLoc()), *stored, *buf, indices);
    return true;
  }

  const auto &target = cast<NameExpr>(*stmt.target);
  const Symbol *existing = lookup(target.name);
  if (existing && (stmt.isLet || existing->kind != Symbol::Kind::Cell)) {
    if (existing->isLet)
      error(target.getLoc(),
            "cannot assign to '" + target.name + "': it is bound with 'let'");
    else
      error(target.getLoc(),
            "cannot assign to '" + target.name + "': it is " + existing->what);
    diags.note(existing->loc, "'" + target.name + "' was defined here");
    return false;
  }
  if (!existing && stmt.op != AssignStmt::Op::Set)
    return error(target.getLoc(), "'" + target.name + "' is not defined");

  pendingName = target.name;
  llvm::scope_exit resetName([&] { pendingName = {}; });
  std::optional<TValue> value = gen(*stmt.value);
  if (!value)
    return false;

  if (existing) {
    // Store into an existing variable.
    auto cellType = cast<tile::BufferType>(existing->cell.getType());
    if (stmt.op != AssignStmt::Op::Set) {
      Value old = tile::LoadOp::create(builder, loc(target.getLoc()),
                                       existing->cell, mlir::ValueRange{});
      value = genBinaryValues(stmt.getLoc(), binaryOpOf(stmt.op),
                              TValue::ofValue(old), *value);
      if (!value)
        return false;
    }
    std::optional<Value> stored =
        convertForStore(stmt.value->getLoc(), *value, cellType.getElementType(),
                        "assignment to '" + target.name + "'");
    if (!stored)
      return false;
    tile::StoreOp::create(builder, loc(stmt.getLoc()), *stored, existing->cell,
                          mlir::ValueRange{});
    return true;
  }

  Symbol symbol;
  symbol.isLet = stmt.isLet;
  symbol.what = stmt.isLet                             ? "a 'let' binding"
                : value->kind == TValue::Kind::Buffer  ? "a buffer"
                : value->kind == TValue::Kind::Channel ? "a channel"
                : value->isNumeric()                   ? "a variable"
                                                       : "a name";
  // Only numbers can be reassigned; a buffer bound under a name that is
  // assigned elsewhere too (say, in another role) is still a plain binding,
  // and a real reassignment is reported when it happens.
  if (!stmt.isLet && value->isNumeric() && mutableNames.contains(target.name)) {
    if (!insideLaunch)
      return error(target.getLoc(), "variables live inside the kernel body");
    Type type = defaultType(*value);
    auto cellType =
        tile::BufferType::get(&ctx, {}, type, tile::MemoryScope::Local);
    symbol.kind = Symbol::Kind::Cell;
    symbol.cell = tile::AllocOp::create(builder, loc(target.getLoc()), cellType,
                                        builder.getStringAttr(target.name));
    Value init = materialize(stmt.value->getLoc(), *value, type);
    tile::StoreOp::create(builder, loc(stmt.getLoc()), init, symbol.cell,
                          mlir::ValueRange{});
  } else {
    symbol.value = *value;
  }
  return declare({target.getLoc(), target.name}, symbol);
}

bool KernelGen::genFor(const ForStmt &stmt) {
  const CallExpr &iter = *stmt.iter;
  ++controlDepth;
  llvm::scope_exit restoreDepth([&] { --controlDepth; });
  mlir::OpBuilder::InsertionGuard guard(builder);
  ScopeGuard scope(*this);

  auto bindVars = [&](mlir::ValueRange values, const char *what) {
    for (size_t i = 0; i < stmt.vars.size(); ++i) {
      Symbol symbol;
      symbol.value = TValue::ofValue(values[i]);
      symbol.what = what;
      if (!declare(stmt.vars[i], symbol))
        return false;
    }
    return true;
  };

  if (iter.callee == "Parallel") {
    if (!iter.kwargs.empty())
      return error(iter.kwargs.front().loc,
                   "Parallel() takes only extents, no keyword arguments");
    if (iter.args.empty())
      return error(iter.getLoc(), "Parallel() needs at least one extent");
    if (iter.args.size() != stmt.vars.size())
      return error(stmt.vars.front().loc,
                   "Parallel() has " + Twine(iter.args.size()) +
                       " extents but the loop binds " +
                       Twine(stmt.vars.size()) + " variables");
    llvm::SmallVector<int64_t> extents;
    for (const ExprPtr &arg : iter.args) {
      std::optional<int64_t> extent = constInt(*arg, "a Parallel extent");
      if (!extent)
        return false;
      if (*extent <= 0)
        return error(arg->getLoc(), "a Parallel extent must be positive, got " +
                                        Twine(*extent));
      extents.push_back(*extent);
    }
    auto op = tile::ParallelOp::create(builder, loc(stmt.getLoc()), extents);
    mlir::Block &body = op.getBody().emplaceBlock();
    for (size_t i = 0; i < extents.size(); ++i)
      body.addArgument(builder.getIndexType(), loc(stmt.vars[i].loc));
    builder.setInsertionPointToStart(&body);
    llvm::SaveAndRestore<bool> inParallel(insideParallel, true);
    return bindVars(body.getArguments(), "a loop variable") &&
           genBlock(stmt.body);
  }

  bool pipelined = iter.callee == "Pipelined";
  if (pipelined && insideParallel)
    return error(iter.getLoc(), "a Pipelined loop cannot run inside a "
                                "Parallel loop");
  if (!pipelined && iter.callee != "range")
    return error(iter.getLoc(), "a for loop iterates over range(...), "
                                "Parallel(...) or Pipelined(...), not '" +
                                    iter.callee + "'");
  if (stmt.vars.size() != 1)
    return error(stmt.vars[1].loc,
                 iter.callee + "() binds exactly one loop variable");
  llvm::SmallVector<const Expr *> args;
  std::optional<int64_t> numStages;
  if (pipelined) {
    if (!bindArgs(iter,
                  {{"start", true}, {"stop", false}, {"num_stages", false}},
                  args, diags))
      return false;
    numStages = 2;
    if (args[2]) {
      numStages = constInt(*args[2], "num_stages");
      if (!numStages)
        return false;
      if (*numStages < 1)
        return error(args[2]->getLoc(), "num_stages must be at least 1");
    }
    args.resize(2);
  } else {
    if (!iter.kwargs.empty())
      return error(iter.kwargs.front().loc,
                   "range() takes no keyword arguments");
    if (!bindArgs(iter, {{"start", true}, {"stop", false}, {"step", false}},
                  args, diags))
      return false;
  }
  // range(stop) means range(0, stop).
  const Expr *startExpr = args[1] ? args[0] : nullptr;
  const Expr *stopExpr = args[1] ? args[1] : args[0];
  Value start =
      materialize(iter.getLoc(), TValue::ofInt(0), builder.getIndexType());
  if (startExpr) {
    std::optional<Value> v = index(*startExpr, "the loop start");
    if (!v)
      return false;
    start = *v;
  }
  std::optional<Value> stop = index(*stopExpr, "the loop bound");
  if (!stop)
    return false;
  int64_t stepValue = 1;
  if (args.size() > 2 && args[2]) {
    std::optional<int64_t> s = constInt(*args[2], "the range step");
    if (!s)
      return false;
    if (*s <= 0)
      return error(args[2]->getLoc(),
                   "the range step must be positive, got " + Twine(*s));
    stepValue = *s;
  }
  Value step = materialize(iter.getLoc(), TValue::ofInt(stepValue),
                           builder.getIndexType());
  auto forOp =
      scf::ForOp::create(builder, loc(stmt.getLoc()), start, *stop, step);
  if (numStages)
    forOp->setAttr("tile.num_stages", builder.getI64IntegerAttr(*numStages));
  builder.setInsertionPoint(forOp.getBody()->getTerminator());
  return bindVars(forOp.getInductionVar(), "a loop variable") &&
         genBlock(stmt.body);
}

bool KernelGen::genIf(const IfStmt &stmt) {
  std::optional<TValue> cond = gen(*stmt.cond);
  if (!cond)
    return false;
  // A condition known at compile time selects its branch here, like
  // `if constexpr`; the branch opens no scope, so it can define names for
  // the code after it.
  if (cond->kind == TValue::Kind::Bool)
    return genBlock(cond->boolValue ? stmt.thenBody : stmt.elseBody);
  if (cond->kind != TValue::Kind::Scalar || !isBool(cond->type))
    return error(stmt.cond->getLoc(),
                 "a condition must be a comparison or a bool, but this is " +
                     describe(*cond));
  ++controlDepth;
  llvm::scope_exit restoreDepth([&] { --controlDepth; });
  mlir::OpBuilder::InsertionGuard guard(builder);
  auto ifOp = scf::IfOp::create(builder, loc(stmt.getLoc()), cond->value,
                                !stmt.elseBody.empty());
  {
    ScopeGuard scope(*this);
    builder.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    if (!genBlock(stmt.thenBody))
      return false;
  }
  if (!stmt.elseBody.empty()) {
    ScopeGuard scope(*this);
    builder.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    if (!genBlock(stmt.elseBody))
      return false;
  }
  return true;
}

bool KernelGen::genWith(const WithStmt &stmt) {
  const CallExpr &call = *stmt.context;
  mlir::OpBuilder::InsertionGuard guard(builder);
  ScopeGuard scope(*this);
  if (call.callee == "Kernel")
    return error(stmt.getLoc(), "'with Kernel(...)' opens the kernel body and "
                                "cannot be nested");
  if (call.callee == "role") {
    if (controlDepth > 0)
      return error(stmt.getLoc(), "roles are declared at the top of the "
                                  "kernel body, not inside loops or branches");
    if (!stmt.vars.empty())
      return error(stmt.vars.front().loc, "role(...) binds no names");
    llvm::SmallVector<const Expr *> args;
    if (!bindArgs(call,
                  {{"name", true},
                   {"warps", false},
                   {"warpgroups", false},
                   {"regs", false}},
                  args, diags))
      return false;
    std::optional<TValue> name = gen(*args[0]);
    if (!name)
      return false;
    if (name->kind != TValue::Kind::String)
      return error(args[0]->getLoc(), "a role's name is a string, like "
                                      "role(\"loader\", warps=1)");
    if (!args[1] == !args[2])
      return error(call.getLoc(), "role() takes exactly one of warps=N or "
                                  "warpgroups=N");
    int64_t warps;
    if (args[1]) {
      std::optional<int64_t> w = constInt(*args[1], "warps");
      if (!w)
        return false;
      warps = *w;
    } else {
      std::optional<int64_t> w = constInt(*args[2], "warpgroups");
      if (!w)
        return false;
      warps = *w * 4;
    }
    if (warps < 1)
      return error((args[1] ? args[1] : args[2])->getLoc(),
                   "a role needs at least one warp");
    mlir::IntegerAttr regs;
    if (args[3]) {
      std::optional<int64_t> r = constInt(*args[3], "regs");
      if (!r)
        return false;
      regs = builder.getI64IntegerAttr(*r);
    }
    auto role = tile::RoleOp::create(builder, loc(stmt.getLoc()), name->string,
                                     warps, regs);
    builder.setInsertionPointToStart(&role.getBody().emplaceBlock());
    return genBlock(stmt.body);
  }
  if (call.callee == "get") {
    llvm::SmallVector<const Expr *> args;
    if (!bindArgs(call, {{"channel", true}}, args, diags))
      return false;
    std::optional<TValue> channel = gen(*args[0]);
    if (!channel)
      return false;
    if (channel->kind != TValue::Kind::Channel)
      return error(args[0]->getLoc(),
                   "get() takes a channel, but this is " + describe(*channel));
    if (stmt.vars.size() != 1)
      return error(stmt.getLoc(), "write 'with get(channel) as slot:' to name "
                                  "the received shared buffer");
    auto channelType = cast<tile::ChannelType>(channel->type);
    auto get = tile::GetOp::create(builder, loc(stmt.getLoc()), channel->value);
    mlir::Block &body = get.getBody().emplaceBlock();
    auto slotType = tile::BufferType::get(&ctx, channelType.getShape(),
                                          channelType.getElementType(),
                                          tile::MemoryScope::Shared);
    Value slot = body.addArgument(slotType, loc(stmt.vars[0].loc));
    builder.setInsertionPointToStart(&body);
    ++controlDepth;
    llvm::scope_exit restoreDepth([&] { --controlDepth; });
    Symbol symbol;
    symbol.value = TValue::ofValue(slot);
    symbol.what = "a channel slot";
    return declare(stmt.vars[0], symbol) && genBlock(stmt.body);
  }
  return error(call.getLoc(), "'with' takes Kernel(...), role(...) or "
                              "get(...), not '" +
                                  call.callee + "'");
}

//===----------------------------------------------------------------------===//
// Buffers and regions
//===----------------------------------------------------------------------===//

std::optional<Value> KernelGen::buffer(const Expr &expr, const Twine &what) {
  std::optional<TValue> v = gen(expr);
  if (!v)
    return std::nullopt;
  if (v->kind != TValue::Kind::Buffer) {
    error(expr.getLoc(),
          what + " must be a buffer, but this is " + describe(*v));
    return std::nullopt;
  }
  return v->value;
}

std::optional<Linear> KernelGen::linearize(const Expr &expr) {
  auto opaque = [&]() {
    std::string key;
    llvm::raw_string_ostream os(key);
    print(expr, os);
    Linear l;
    l.terms[key] = 1;
    return l;
  };
  if (auto *lit = dyn_cast<IntExpr>(&expr)) {
    Linear l;
    l.constant = lit->value;
    return l;
  }
  if (auto *name = dyn_cast<NameExpr>(&expr)) {
    const Symbol *symbol = lookup(name->name);
    if (symbol && symbol->kind == Symbol::Kind::Value &&
        symbol->value.kind == TValue::Kind::Int) {
      Linear l;
      l.constant = symbol->value.intValue;
      return l;
    }
    return opaque();
  }
  if (auto *unary = dyn_cast<UnaryExpr>(&expr)) {
    if (unary->op != UnaryOp::Neg)
      return opaque();
    std::optional<Linear> operand = linearize(*unary->operand);
    if (!operand)
      return std::nullopt;
    return Linear().add(*operand, -1);
  }
  if (auto *binary = dyn_cast<BinaryExpr>(&expr)) {
    bool divides =
        binary->op == BinaryOp::FloorDiv || binary->op == BinaryOp::Mod;
    if (binary->op != BinaryOp::Add && binary->op != BinaryOp::Sub &&
        binary->op != BinaryOp::Mul && !divides)
      return opaque();
    std::optional<Linear> lhs = linearize(*binary->lhs);
    std::optional<Linear> rhs = linearize(*binary->rhs);
    if (!lhs || !rhs)
      return std::nullopt;
    if (divides) {
      std::optional<int64_t> a = lhs->asConstant(), b = rhs->asConstant();
      if (!a || !b || *b == 0)
        return opaque();
      int64_t q = floorDiv(*a, *b);
      Linear l;
      l.constant = binary->op == BinaryOp::FloorDiv ? q : *a - q * *b;
      return l;
    }
    if (binary->op == BinaryOp::Add)
      return lhs->add(*rhs, 1);
    if (binary->op == BinaryOp::Sub)
      return lhs->add(*rhs, -1);
    std::optional<int64_t> lc = lhs->asConstant();
    std::optional<int64_t> rc = rhs->asConstant();
    if (!lc && !rc)
      return opaque();
    Linear scaled = lc ? *rhs : *lhs;
    int64_t factor = lc ? *lc : *rc;
    scaled.constant *= factor;
    for (auto &entry : scaled.terms)
      entry.second *= factor;
    return scaled;
  }
  return opaque();
}

std::optional<Value>
KernelGen::region(const Expr &expr, const Twine &what,
                  std::optional<llvm::ArrayRef<int64_t>> partner) {
  auto *sub = dyn_cast<SubscriptExpr>(&expr);
  if (!sub)
    return buffer(expr, what);
  std::optional<Value> base = buffer(*sub->base, what);
  if (!base)
    return std::nullopt;
  auto type = cast<tile::BufferType>(base->getType());
  int64_t rank = type.getRank();
  if (static_cast<int64_t>(sub->indices.size()) != rank) {
    error(sub->getLoc(), what + " has rank " + Twine(rank) + " but " +
                             Twine(sub->indices.size()) + " indices are given");
    return std::nullopt;
  }
  bool anySlice = llvm::any_of(
      sub->indices, [](const ExprPtr &e) { return isa<SliceExpr>(e.get()); });
  llvm::SmallVector<int64_t> sizes;
  llvm::SmallVector<int64_t> dropped;
  llvm::SmallVector<Value> offsets;
  if (!anySlice) {
    if (!partner)
      return Value();
    // A point subscript spans the other operand's shape only when the ranks
    // agree; with more tensor dims than tile dims the mapping would be a
    // guess (TileLang aligns to the trailing dims, which silently reads the
    // wrong dims of a [B, T, H, K] tensor), so slices must say it.
    int64_t partnerRank = partner->size();
    if (partnerRank != rank) {
      error(sub->getLoc(), what + " has rank " + Twine(rank) +
                               " but the other side is a "
                               "rank-" +
                               Twine(partnerRank) +
                               " tile; say which "
                               "dimensions the tile spans with slices, like "
                               "X[b, t0:t0+64, h, 0:128]");
      return std::nullopt;
    }
    sizes.append(partner->begin(), partner->end());
    for (const ExprPtr &indexExpr : sub->indices) {
      std::optional<Value> offset = index(*indexExpr, "a tile start");
      if (!offset)
        return std::nullopt;
      offsets.push_back(*offset);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d) {
      const Expr &indexExpr = *sub->indices[d];
      auto *slice = dyn_cast<SliceExpr>(&indexExpr);
      if (!slice) {
        std::optional<Value> offset = index(indexExpr, "an index");
        if (!offset)
          return std::nullopt;
        offsets.push_back(*offset);
        sizes.push_back(1);
        dropped.push_back(d);
        continue;
      }
      Value offset;
      Linear startForm;
      if (slice->start) {
        std::optional<Value> v = index(*slice->start, "a slice start");
        std::optional<Linear> l = linearize(*slice->start);
        if (!v || !l)
          return std::nullopt;
        offset = *v;
        startForm = *l;
      } else {
        offset = materialize(slice->getLoc(), TValue::ofInt(0),
                             builder.getIndexType());
      }
      std::optional<int64_t> extent;
      if (slice->stop) {
        std::optional<Linear> stopForm = linearize(*slice->stop);
        if (!stopForm)
          return std::nullopt;
        extent = stopForm->add(startForm, -1).asConstant();
      } else if (!mlir::ShapedType::isDynamic(type.getShape()[d])) {
        extent = Linear{{}, type.getShape()[d]}.add(startForm, -1).asConstant();
      } else {
        error(slice->getLoc(), "the slice of dynamic dimension " + Twine(d) +
                                   " needs an explicit end (tiles have "
                                   "sizes known at compile time)");
        return std::nullopt;
      }
      if (!extent) {
        error(slice->getLoc(),
              "the extent of this slice is not a compile-time constant; "
              "write it as 'start:start+SIZE'");
        return std::nullopt;
      }
      if (*extent <= 0) {
        error(slice->getLoc(),
              "this slice is empty (extent " + Twine(*extent) + ")");
        return std::nullopt;
      }
      offsets.push_back(offset);
      sizes.push_back(*extent);
    }
  }
  llvm::SmallVector<int64_t> resultShape;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(dropped, d))
      resultShape.push_back(sizes[d]);
  auto resultType = tile::BufferType::get(
      &ctx, resultShape, type.getElementType(), type.getScope());
  return tile::ViewOp::create(builder, loc(sub->getLoc()), resultType, *base,
                              offsets, builder.getDenseI64ArrayAttr(sizes),
                              builder.getDenseI64ArrayAttr(dropped))
      .getResult();
}

bool KernelGen::regionPair(const Expr &first, const Expr &second,
                           StringRef callee, Value &firstValue,
                           Value &secondValue) {
  std::optional<Value> a =
      region(first, (callee + "'s first operand").str(), std::nullopt);
  if (!a)
    return false;
  std::optional<Value> b =
      region(second, (callee + "'s second operand").str(),
             *a ? std::optional(cast<tile::BufferType>(a->getType()).getShape())
                : std::nullopt);
  if (!b)
    return false;
  if (!*a && !*b)
    return error(first.getLoc(),
                 callee + ": cannot tell the tile shape: both sides are "
                          "element positions; give one side as a buffer or "
                          "a slice");
  if (!*a) {
    a = region(first, (callee + "'s first operand").str(),
               cast<tile::BufferType>(b->getType()).getShape());
    if (!a)
      return false;
  }
  firstValue = *a;
  secondValue = *b;
  return true;
}

std::optional<std::vector<int64_t>> KernelGen::constShape(const Expr &expr,
                                                          StringRef what) {
  std::vector<const Expr *> dims;
  if (auto *tuple = dyn_cast<TupleExpr>(&expr)) {
    for (const ExprPtr &e : tuple->elements)
      dims.push_back(e.get());
  } else {
    dims.push_back(&expr);
  }
  std::vector<int64_t> shape;
  for (const Expr *dim : dims) {
    std::optional<int64_t> extent = constInt(*dim, what);
    if (!extent)
      return std::nullopt;
    if (*extent <= 0) {
      error(dim->getLoc(), what + " must be positive, got " + Twine(*extent));
      return std::nullopt;
    }
    shape.push_back(*extent);
  }
  return shape;
}

//===----------------------------------------------------------------------===//
// Tile-op statements
//===----------------------------------------------------------------------===//

bool KernelGen::genCallStmt(const CallExpr &call) {
  mlir::Location location = loc(call.getLoc());
  llvm::SmallVector<const Expr *> args;
  StringRef callee = call.callee;
  if (!insideLaunch)
    return error(call.getLoc(), "tile operations run inside the kernel body");
  if (insideParallel)
    return error(call.getLoc(),
                 callee + "(...) is a tile operation and cannot run inside a "
                          "Parallel loop, whose body runs once per element");

  if (callee == "copy") {
    if (!bindArgs(call, {{"src", true}, {"dst", true}}, args, diags))
      return false;
    Value src, dst;
    if (!regionPair(*args[0], *args[1], "copy", src, dst))
      return false;
    tile::CopyOp::create(builder, location, src, dst);
    return true;
  }
  if (callee == "atomic_add") {
    if (!bindArgs(call, {{"dst", true}, {"src", true}}, args, diags))
      return false;
    Value dst, src;
    if (!regionPair(*args[0], *args[1], "atomic_add", dst, src))
      return false;
    tile::AtomicAddOp::create(builder, location, src, dst);
    return true;
  }
  if (callee == "gemm") {
    if (!bindArgs(call,
                  {{"A", true},
                   {"B", true},
                   {"C", true},
                   {"transpose_A", false},
                   {"transpose_B", false},
                   {"clear_accum", false}},
                  args, diags))
      return false;
    std::optional<Value> a = region(*args[0], "gemm's A", std::nullopt);
    std::optional<Value> b =
        a ? region(*args[1], "gemm's B", std::nullopt) : std::nullopt;
    std::optional<Value> c =
        b ? region(*args[2], "gemm's C", std::nullopt) : std::nullopt;
    if (!c)
      return false;
    for (size_t i = 0; i < 3; ++i) {
      Value v = i == 0 ? *a : i == 1 ? *b : *c;
      if (!v)
        return error(args[i]->getLoc(),
                     "gemm operands are whole buffers or slices of them "
                     "(A_s[0:64, :]), not element positions");
    }
    std::optional<bool> ta = constBool(args[3], false, "transpose_A");
    std::optional<bool> tb =
        ta ? constBool(args[4], false, "transpose_B") : std::nullopt;
    std::optional<bool> clear =
        tb ? constBool(args[5], false, "clear_accum") : std::nullopt;
    if (!clear)
      return false;
    tile::GemmOp::create(builder, location, *a, *b, *c, *ta, *tb, *clear,
                         /*async=*/false);
    return true;
  }
  if (callee == "fill" || callee == "clear") {
    bool isFill = callee == "fill";
    if (!bindArgs(call,
                  isFill ? llvm::ArrayRef<ParamSpec>{{"buffer", true},
                                                     {"value", true}}
                         : llvm::ArrayRef<ParamSpec>{{"buffer", true}},
                  args, diags))
      return false;
    std::optional<Value> buf =
        region(*args[0], callee + "'s buffer", std::nullopt);
    if (!buf)
      return false;
    if (!*buf)
      return error(args[0]->getLoc(), callee + " takes a buffer or a slice of "
                                               "one, not an element position");
    Type elementType = cast<tile::BufferType>(buf->getType()).getElementType();
    TValue value = TValue::ofInt(0);
    SMLoc valueLoc = call.getLoc();
    if (isFill) {
      std::optional<TValue> v = gen(*args[1]);
      if (!v)
        return false;
      value = *v;
      valueLoc = args[1]->getLoc();
    }
    std::optional<Value> scalarValue =
        convertForStore(valueLoc, value, elementType, "fill's value");
    if (!scalarValue)
      return false;
    tile::FillOp::create(builder, location, *buf, *scalarValue);
    return true;
  }
  if (callee == "reduce_sum" || callee == "reduce_max" ||
      callee == "reduce_min") {
    if (!bindArgs(
            call,
            {{"src", true}, {"dst", true}, {"dim", true}, {"clear", false}},
            args, diags))
      return false;
    std::optional<Value> src = buffer(*args[0], callee + "'s source");
    std::optional<Value> dst =
        src ? buffer(*args[1], callee + "'s destination") : std::nullopt;
    std::optional<int64_t> dim = dst ? constInt(*args[2], "dim") : std::nullopt;
    std::optional<bool> clear =
        dim ? constBool(args[3], true, "clear") : std::nullopt;
    if (!clear)
      return false;
    int64_t rank = cast<tile::BufferType>(src->getType()).getRank();
    if (*dim < 0)
      *dim += rank;
    auto kind = callee == "reduce_sum"   ? tile::ReduceKind::Sum
                : callee == "reduce_max" ? tile::ReduceKind::Max
                                         : tile::ReduceKind::Min;
    tile::ReduceOp::create(builder, location, *src, *dst, kind, *dim, *clear);
    return true;
  }
  if (callee == "cumsum") {
    if (!bindArgs(call, {{"buffer", true}, {"dim", false}, {"reverse", false}},
                  args, diags))
      return false;
    std::optional<Value> buf = buffer(*args[0], "cumsum's buffer");
    if (!buf)
      return false;
    int64_t dim = 0;
    if (args[1]) {
      std::optional<int64_t> d = constInt(*args[1], "dim");
      if (!d)
        return false;
      dim = *d;
    }
    if (dim < 0)
      dim += cast<tile::BufferType>(buf->getType()).getRank();
    std::optional<bool> reverse = constBool(args[2], false, "reverse");
    if (!reverse)
      return false;
    tile::CumsumOp::create(builder, location, *buf, dim, *reverse);
    return true;
  }
  if (callee == "put") {
    if (!bindArgs(call, {{"channel", true}, {"src", true}}, args, diags))
      return false;
    std::optional<TValue> channel = gen(*args[0]);
    if (!channel)
      return false;
    if (channel->kind != TValue::Kind::Channel)
      return error(args[0]->getLoc(),
                   "put() takes a channel first, but this is " +
                       describe(*channel));
    std::optional<Value> src =
        region(*args[1], "put's source",
               cast<tile::ChannelType>(channel->type).getShape());
    if (!src)
      return false;
    tile::PutOp::create(builder, location, channel->value, *src);
    return true;
  }
  if (callee == "annotate_layout") {
    if (!bindArgs(call, {{"buffer", true}, {"swizzle", true}}, args, diags))
      return false;
    std::optional<Value> buf = buffer(*args[0], "annotate_layout's buffer");
    std::optional<int64_t> swizzle =
        buf ? constInt(*args[1], "swizzle") : std::nullopt;
    if (!swizzle)
      return false;
    tile::AnnotateLayoutOp::create(builder, location, *buf, *swizzle);
    return true;
  }

  // Everything else is an expression whose value would be dropped.
  std::optional<TValue> value = genCall(call);
  if (!value)
    return false;
  return error(call.getLoc(),
               "the result of " + call.callee + "(...) is unused");
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

std::optional<TValue> KernelGen::gen(const Expr &expr) {
  switch (expr.getKind()) {
  case Expr::Kind::Int:
    return TValue::ofInt(cast<IntExpr>(expr).value);
  case Expr::Kind::Float:
    return TValue::ofFloat(cast<FloatExpr>(expr).value);
  case Expr::Kind::Bool:
    return TValue::ofBool(cast<BoolExpr>(expr).value);
  case Expr::Kind::String:
    return TValue::ofString(cast<StringExpr>(expr).value);
  case Expr::Kind::Name:
    return genName(cast<NameExpr>(expr));
  case Expr::Kind::Unary:
    return genUnary(cast<UnaryExpr>(expr));
  case Expr::Kind::Binary:
    return genBinary(cast<BinaryExpr>(expr));
  case Expr::Kind::Call:
    return genCall(cast<CallExpr>(expr));
  case Expr::Kind::Subscript:
    return genElementLoad(cast<SubscriptExpr>(expr));
  case Expr::Kind::Slice:
    error(expr.getLoc(), "a slice 'a:b' is only allowed inside a subscript");
    return std::nullopt;
  case Expr::Kind::Tuple: {
    TValue tuple;
    tuple.kind = TValue::Kind::Tuple;
    for (const ExprPtr &element : cast<TupleExpr>(expr).elements) {
      std::optional<TValue> v = gen(*element);
      if (!v)
        return std::nullopt;
      tuple.elements.push_back(*v);
    }
    return tuple;
  }
  }
  llvm_unreachable("unknown expression kind");
}

std::optional<TValue> KernelGen::genName(const NameExpr &expr) {
  if (const Symbol *symbol = lookup(expr.name)) {
    if (symbol->kind == Symbol::Kind::Cell)
      return TValue::ofValue(tile::LoadOp::create(
          builder, loc(expr.getLoc()), symbol->cell, mlir::ValueRange{}));
    if (!symbol->value.value && symbol->value.kind == TValue::Kind::Scalar) {
      error(expr.getLoc(), "dimension '" + expr.name +
                               "' is used before its parameter is declared");
      return std::nullopt;
    }
    return symbol->value;
  }
  if (std::optional<Type> dtype = dtypeFromName(ctx, expr.name))
    return TValue::ofDType(*dtype);
  if (expr.name == "inf")
    return TValue::ofFloat(HUGE_VAL);
  error(expr.getLoc(), "'" + expr.name + "' is not defined");
  return std::nullopt;
}

std::optional<TValue> KernelGen::genUnary(const UnaryExpr &expr) {
  std::optional<TValue> operand = gen(*expr.operand);
  if (!operand)
    return std::nullopt;
  mlir::Location location = loc(expr.getLoc());
  if (expr.op == UnaryOp::Not) {
    if (operand->kind == TValue::Kind::Bool)
      return TValue::ofBool(!operand->boolValue);
    if (operand->kind == TValue::Kind::Scalar && isBool(operand->type)) {
      Value one =
          materialize(expr.getLoc(), TValue::ofBool(true), operand->type);
      return TValue::ofValue(
          arith::XOrIOp::create(builder, location, operand->value, one));
    }
    error(expr.getLoc(),
          "'not' needs a bool, but this is " + describe(*operand));
    return std::nullopt;
  }
  switch (operand->kind) {
  case TValue::Kind::Int:
    if (operand->intValue == INT64_MIN) {
      error(expr.getLoc(), "integer overflow in a compile-time expression");
      return std::nullopt;
    }
    return TValue::ofInt(-operand->intValue);
  case TValue::Kind::Float:
    return TValue::ofFloat(-operand->floatValue);
  case TValue::Kind::Scalar:
    if (isa<mlir::FloatType>(operand->type))
      return TValue::ofValue(
          arith::NegFOp::create(builder, location, operand->value));
    if (isIntLike(operand->type)) {
      Value zero = materialize(expr.getLoc(), TValue::ofInt(0), operand->type);
      return TValue::ofValue(
          arith::SubIOp::create(builder, location, zero, operand->value));
    }
    break;
  default:
    break;
  }
  error(expr.getLoc(), "'-' needs a number, but this is " + describe(*operand));
  return std::nullopt;
}

std::optional<TValue> KernelGen::genBinary(const BinaryExpr &expr) {
  std::optional<TValue> lhs = gen(*expr.lhs);
  if (!lhs)
    return std::nullopt;
  std::optional<TValue> rhs = gen(*expr.rhs);
  if (!rhs)
    return std::nullopt;
  return genBinaryValues(expr.getLoc(), expr.op, *lhs, *rhs);
}

/// Folds a comparison of two constants; nullopt for other operators.
template <class T> std::optional<bool> compareConstants(BinaryOp op, T a, T b) {
  switch (op) {
  case BinaryOp::Lt:
    return a < b;
  case BinaryOp::Le:
    return a <= b;
  case BinaryOp::Gt:
    return a > b;
  case BinaryOp::Ge:
    return a >= b;
  case BinaryOp::Eq:
    return a == b;
  case BinaryOp::Ne:
    return a != b;
  default:
    return std::nullopt;
  }
}

/// The type two numbers are computed in. A constant takes the other side's
/// type; integers meeting floats become floats (f32 for constants); index
/// absorbs i32/i64; bf16 meeting f16 is f32; two constants are index, f32 or
/// bool.
Type KernelGen::commonType(const TValue &lhs, const TValue &rhs) {
  if (lhs.isConstant() && rhs.isConstant()) {
    if (lhs.kind == TValue::Kind::Bool && rhs.kind == TValue::Kind::Bool)
      return builder.getI1Type();
    if (lhs.kind == TValue::Kind::Float || rhs.kind == TValue::Kind::Float)
      return builder.getF32Type();
    return builder.getIndexType();
  }
  if (lhs.isConstant() || rhs.isConstant()) {
    const TValue &constant = lhs.isConstant() ? lhs : rhs;
    const TValue &other = lhs.isConstant() ? rhs : lhs;
    if (constant.kind == TValue::Kind::Float &&
        !isa<mlir::FloatType>(other.type))
      return builder.getF32Type();
    return other.type;
  }
  Type a = lhs.type, b = rhs.type;
  if (a == b)
    return a;
  bool af = isa<mlir::FloatType>(a), bf = isa<mlir::FloatType>(b);
  if (af != bf)
    return af ? a : b;
  if (af) {
    unsigned wa = a.getIntOrFloatBitWidth(), wb = b.getIntOrFloatBitWidth();
    if (wa == wb)
      return builder.getF32Type();
    return wa > wb ? a : b;
  }
  if (a.isIndex() || b.isIndex())
    return builder.getIndexType();
  return a.getIntOrFloatBitWidth() >= b.getIntOrFloatBitWidth() ? a : b;
}

std::optional<TValue> KernelGen::genBinaryValues(SMLoc l, BinaryOp op,
                                                 TValue lhs, TValue rhs) {
  auto fail = [&](const Twine &message) -> std::optional<TValue> {
    error(l, message);
    return std::nullopt;
  };
  bool logical = op == BinaryOp::And || op == BinaryOp::Or;
  if (logical) {
    if (!isBoolish(lhs) || !isBoolish(rhs))
      return fail("'" + spell(op) + "' needs bools, but got " + describe(lhs) +
                  " and " + describe(rhs));
    if (lhs.kind == TValue::Kind::Bool && rhs.kind == TValue::Kind::Bool)
      return TValue::ofBool(op == BinaryOp::And
                                ? lhs.boolValue && rhs.boolValue
                                : lhs.boolValue || rhs.boolValue);
    Value a = materialize(l, lhs, builder.getI1Type());
    Value b = materialize(l, rhs, builder.getI1Type());
    if (op == BinaryOp::And)
      return TValue::ofValue(arith::AndIOp::create(builder, loc(l), a, b));
    return TValue::ofValue(arith::OrIOp::create(builder, loc(l), a, b));
  }
  // Dtypes compare for equality at compile time, so that a kernel can pick
  // code per element type: `if DT != f32: annotate_layout(...)`.
  if (lhs.kind == TValue::Kind::DType && rhs.kind == TValue::Kind::DType &&
      (op == BinaryOp::Eq || op == BinaryOp::Ne))
    return TValue::ofBool((lhs.type == rhs.type) == (op == BinaryOp::Eq));
  if (!lhs.isNumeric() || !rhs.isNumeric() || lhs.kind == TValue::Kind::Bool ||
      rhs.kind == TValue::Kind::Bool)
    return fail("'" + spell(op) + "' needs numbers, but got " + describe(lhs) +
                " and " + describe(rhs));

  // Both constants: fold.
  if (lhs.isConstant() && rhs.isConstant()) {
    bool ints = lhs.kind == TValue::Kind::Int && rhs.kind == TValue::Kind::Int;
    std::optional<bool> compared =
        ints ? compareConstants(op, lhs.intValue, rhs.intValue)
             : compareConstants(
                   op,
                   lhs.kind == TValue::Kind::Int ? double(lhs.intValue)
                                                 : lhs.floatValue,
                   rhs.kind == TValue::Kind::Int ? double(rhs.intValue)
                                                 : rhs.floatValue);
    if (compared)
      return TValue::ofBool(*compared);
    if (ints) {
      int64_t a = lhs.intValue, b = rhs.intValue;
      switch (op) {
      case BinaryOp::Add:
      case BinaryOp::Sub:
      case BinaryOp::Mul: {
        int64_t r;
        bool overflow = op == BinaryOp::Add ? __builtin_add_overflow(a, b, &r)
                        : op == BinaryOp::Sub
                            ? __builtin_sub_overflow(a, b, &r)
                            : __builtin_mul_overflow(a, b, &r);
        if (overflow)
          return fail("integer overflow in a compile-time expression");
        return TValue::ofInt(r);
      }
      case BinaryOp::Div:
        if (b == 0)
          return fail("division by zero");
        return TValue::ofFloat(static_cast<double>(a) / b);
      case BinaryOp::FloorDiv:
        if (b == 0)
          return fail("division by zero");
        if (a == INT64_MIN && b == -1)
          return fail("integer overflow in a compile-time expression");
        return TValue::ofInt(floorDiv(a, b));
      case BinaryOp::Mod:
        if (b == 0)
          return fail("modulo by zero");
        if (a == INT64_MIN && b == -1)
          return TValue::ofInt(0);
        return TValue::ofInt(a - floorDiv(a, b) * b);
      default:
        break;
      }
    }
    double a = lhs.kind == TValue::Kind::Int ? lhs.intValue : lhs.floatValue;
    double b = rhs.kind == TValue::Kind::Int ? rhs.intValue : rhs.floatValue;
    switch (op) {
    case BinaryOp::Add:
      return TValue::ofFloat(a + b);
    case BinaryOp::Sub:
      return TValue::ofFloat(a - b);
    case BinaryOp::Mul:
      return TValue::ofFloat(a * b);
    case BinaryOp::Div:
      if (b == 0)
        return fail("division by zero");
      return TValue::ofFloat(a / b);
    case BinaryOp::FloorDiv:
      if (b == 0)
        return fail("division by zero");
      return TValue::ofFloat(std::floor(a / b));
    case BinaryOp::Mod:
      return fail("'%' needs integers");
    default:
      break;
    }
    llvm_unreachable("unhandled constant operator");
  }

  Type type = commonType(lhs, rhs);
  if (isBool(type))
    return fail("'" + spell(op) + "' needs numbers, but got " + describe(lhs) +
                " and " + describe(rhs));
  if (op == BinaryOp::Div && isIntLike(type))
    type = builder.getF32Type(); // True division, as in Python.
  if (op == BinaryOp::Mod && !isIntLike(type))
    return fail("'%' needs integers, but got " + describe(lhs) + " and " +
                describe(rhs));

  Value a = materialize(l, lhs, type);
  Value b = materialize(l, rhs, type);
  mlir::Location location = loc(l);
  bool isFloat = isa<mlir::FloatType>(type);
  auto cmp = [&](arith::CmpIPredicate ip, arith::CmpFPredicate fp) {
    if (isFloat)
      return TValue::ofValue(
          arith::CmpFOp::create(builder, location, fp, a, b));
    return TValue::ofValue(arith::CmpIOp::create(builder, location, ip, a, b));
  };
  switch (op) {
  case BinaryOp::Add:
    return TValue::ofValue(
        isFloat ? arith::AddFOp::create(builder, location, a, b).getResult()
                : arith::AddIOp::create(builder, location, a, b).getResult());
  case BinaryOp::Sub:
    return TValue::ofValue(
        isFloat ? arith::SubFOp::create(builder, location, a, b).getResult()
                : arith::SubIOp::create(builder, location, a, b).getResult());
  case BinaryOp::Mul:
    return TValue::ofValue(
        isFloat ? arith::MulFOp::create(builder, location, a, b).getResult()
                : arith::MulIOp::create(builder, location, a, b).getResult());
  case BinaryOp::Div:
    return TValue::ofValue(arith::DivFOp::create(builder, location, a, b));
  case BinaryOp::FloorDiv:
    if (isFloat)
      return TValue::ofValue(math::FloorOp::create(
          builder, location, arith::DivFOp::create(builder, location, a, b)));
    return TValue::ofValue(
        arith::FloorDivSIOp::create(builder, location, a, b));
  case BinaryOp::Mod: {
    // Python's modulo: a - floor(a / b) * b.
    Value q = arith::FloorDivSIOp::create(builder, location, a, b);
    Value qb = arith::MulIOp::create(builder, location, q, b);
    return TValue::ofValue(arith::SubIOp::create(builder, location, a, qb));
  }
  case BinaryOp::Lt:
    return cmp(arith::CmpIPredicate::slt, arith::CmpFPredicate::OLT);
  case BinaryOp::Le:
    return cmp(arith::CmpIPredicate::sle, arith::CmpFPredicate::OLE);
  case BinaryOp::Gt:
    return cmp(arith::CmpIPredicate::sgt, arith::CmpFPredicate::OGT);
  case BinaryOp::Ge:
    return cmp(arith::CmpIPredicate::sge, arith::CmpFPredicate::OGE);
  case BinaryOp::Eq:
    return cmp(arith::CmpIPredicate::eq, arith::CmpFPredicate::OEQ);
  case BinaryOp::Ne:
    return cmp(arith::CmpIPredicate::ne, arith::CmpFPredicate::UNE);
  default:
    break;
  }
  llvm_unreachable("unhandled operator");
}

std::optional<TValue> KernelGen::genElementLoad(const SubscriptExpr &expr) {
  std::optional<Value> buf = buffer(*expr.base, "the indexed value");
  if (!buf)
    return std::nullopt;
  auto type = cast<tile::BufferType>(buf->getType());
  if (static_cast<int64_t>(expr.indices.size()) != type.getRank()) {
    error(expr.getLoc(), "this buffer has rank " + Twine(type.getRank()) +
                             " but " + Twine(expr.indices.size()) +
                             " indices are given");
    return std::nullopt;
  }
  llvm::SmallVector<Value> indices;
  for (const ExprPtr &indexExpr : expr.indices) {
    if (isa<SliceExpr>(indexExpr.get())) {
      error(indexExpr->getLoc(),
            "a slice names a tile region; it is only allowed as an operand "
            "of copy, gemm, fill, clear, atomic_add or put");
      return std::nullopt;
    }
    std::optional<Value> i = index(*indexExpr, "an index");
    if (!i)
      return std::nullopt;
    indices.push_back(*i);
  }
  return TValue::ofValue(
      tile::LoadOp::create(builder, loc(expr.getLoc()), *buf, indices));
}

std::optional<std::pair<std::vector<int64_t>, Type>>
KernelGen::tileDeclaration(const CallExpr &call,
                           llvm::ArrayRef<const Expr *> args, StringRef noun) {
  if (!insideLaunch || controlDepth > 0) {
    error(call.getLoc(), "declare " + noun +
                             "s at the top of the kernel body "
                             "(or of a role), not inside loops or conditions");
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>> shape =
      constShape(*args[0], ("a " + noun + " dimension").str());
  if (!shape)
    return std::nullopt;
  std::optional<Type> dtype = constDType(*args[1], "the dtype");
  if (!dtype)
    return std::nullopt;
  int64_t elements = 1;
  for (int64_t extent : *shape) {
    if (__builtin_mul_overflow(elements, extent, &elements) ||
        elements > (int64_t(1) << 31)) {
      error(args[0]->getLoc(),
            "this " + noun + " is too large (more than 2^31 elements)");
      return std::nullopt;
    }
  }
  return std::make_pair(std::move(*shape), *dtype);
}

std::optional<TValue> KernelGen::genAlloc(const CallExpr &call,
                                          tile::MemoryScope scope) {
  llvm::SmallVector<const Expr *> args;
  if (!bindArgs(call, {{"shape", true}, {"dtype", true}}, args, diags))
    return std::nullopt;
  auto declaration = tileDeclaration(call, args, "buffer");
  if (!declaration)
    return std::nullopt;
  auto type = tile::BufferType::get(&ctx, declaration->first,
                                    declaration->second, scope);
  mlir::StringAttr name;
  if (!pendingName.empty())
    name = builder.getStringAttr(pendingName);
  return TValue::ofValue(
      tile::AllocOp::create(builder, loc(call.getLoc()), type, name));
}

std::optional<TValue> KernelGen::genCall(const CallExpr &call) {
  StringRef callee = call.callee;
  if (callee == "alloc_shared")
    return genAlloc(call, tile::MemoryScope::Shared);
  if (callee == "alloc_fragment")
    return genAlloc(call, tile::MemoryScope::Fragment);
  if (callee == "alloc_local")
    return genAlloc(call, tile::MemoryScope::Local);
  if (callee == "channel") {
    llvm::SmallVector<const Expr *> args;
    if (!bindArgs(call, {{"shape", true}, {"dtype", true}, {"stages", false}},
                  args, diags))
      return std::nullopt;
    auto declaration = tileDeclaration(call, args, "channel");
    if (!declaration)
      return std::nullopt;
    int64_t stages = 2;
    if (args[2]) {
      std::optional<int64_t> s = constInt(*args[2], "stages");
      if (!s)
        return std::nullopt;
      if (*s < 1) {
        error(args[2]->getLoc(), "a channel needs at least one stage");
        return std::nullopt;
      }
      stages = *s;
    }
    auto type = tile::ChannelType::get(&ctx, declaration->first,
                                       declaration->second, stages);
    mlir::StringAttr name;
    if (!pendingName.empty())
      name = builder.getStringAttr(pendingName);
    return TValue::ofValue(
        tile::ChannelOp::create(builder, loc(call.getLoc()), type, name));
  }
  static const llvm::StringSet<> statementBuiltins = {
      "copy",       "gemm",       "fill",           "clear",
      "reduce_sum", "reduce_max", "reduce_min",     "cumsum",
      "atomic_add", "put",        "annotate_layout"};
  if (statementBuiltins.contains(callee)) {
    error(call.getLoc(), callee + "(...) is a statement and produces no value");
    return std::nullopt;
  }
  static const llvm::StringSet<> contextBuiltins = {
      "Kernel", "role", "get", "Parallel", "Pipelined", "range"};
  if (contextBuiltins.contains(callee)) {
    bool isLoop =
        callee == "Parallel" || callee == "Pipelined" || callee == "range";
    error(call.getLoc(), callee + "(...) is only allowed after " +
                             (isLoop ? "'for ... in'" : "'with'"));
    return std::nullopt;
  }
  return genMath(call);
}

std::optional<TValue> KernelGen::genMath(const CallExpr &call) {
  StringRef callee = call.callee;
  mlir::Location location = loc(call.getLoc());
  llvm::SmallVector<const Expr *> args;

  if (callee == "cast") {
    if (!bindArgs(call, {{"value", true}, {"dtype", true}}, args, diags))
      return std::nullopt;
    std::optional<TValue> v = gen(*args[0]);
    std::optional<Type> dtype =
        v ? constDType(*args[1], "cast's dtype") : std::nullopt;
    if (!dtype)
      return std::nullopt;
    if (!v->isNumeric()) {
      error(args[0]->getLoc(),
            "cast needs a number, but this is " + describe(*v));
      return std::nullopt;
    }
    return TValue::ofValue(materialize(args[0]->getLoc(), *v, *dtype));
  }
  if (callee == "cluster_rank") {
    if (!bindArgs(call, {}, args, diags))
      return std::nullopt;
    if (!insideLaunch) {
      error(call.getLoc(), "cluster_rank() is the rank of a block: use it "
                           "inside the kernel body");
      return std::nullopt;
    }
    return TValue::ofValue(tile::ClusterRankOp::create(builder, location));
  }
  if (callee == "cdiv") {
    if (!bindArgs(call, {{"a", true}, {"b", true}}, args, diags))
      return std::nullopt;
    std::optional<TValue> a = gen(*args[0]);
    std::optional<TValue> b = a ? gen(*args[1]) : std::nullopt;
    if (!b)
      return std::nullopt;
    if (a->kind == TValue::Kind::Int && b->kind == TValue::Kind::Int) {
      if (b->intValue == 0) {
        error(args[1]->getLoc(), "division by zero");
        return std::nullopt;
      }
      return TValue::ofInt(-floorDiv(-a->intValue, b->intValue));
    }
    std::optional<Value> av = index(*args[0], "cdiv's first argument");
    std::optional<Value> bv =
        av ? index(*args[1], "cdiv's second argument") : std::nullopt;
    if (!bv)
      return std::nullopt;
    return TValue::ofValue(
        arith::CeilDivSIOp::create(builder, location, *av, *bv));
  }
  if (callee == "where") {
    if (!bindArgs(call, {{"cond", true}, {"a", true}, {"b", true}}, args,
                  diags))
      return std::nullopt;
    std::optional<TValue> cond = gen(*args[0]);
    if (!cond)
      return std::nullopt;
    if (cond->kind == TValue::Kind::Bool)
      return gen(*args[cond->boolValue ? 1 : 2]);
    if (cond->kind != TValue::Kind::Scalar || !isBool(cond->type)) {
      error(args[0]->getLoc(), "where's condition must be a bool, but this "
                               "is " +
                                   describe(*cond));
      return std::nullopt;
    }
    std::optional<TValue> a = gen(*args[1]);
    std::optional<TValue> b = a ? gen(*args[2]) : std::nullopt;
    if (!b)
      return std::nullopt;
    if (!a->isNumeric() || !b->isNumeric()) {
      error(call.getLoc(), "where's branches must be numbers, but got " +
                               describe(*a) + " and " + describe(*b));
      return std::nullopt;
    }
    if (isBoolish(*a) != isBoolish(*b)) {
      error(call.getLoc(), callee + " cannot mix a bool with a number: got " +
                               describe(*a) + " and " + describe(*b));
      return std::nullopt;
    }
    Type type = commonType(*a, *b);
    Value av = materialize(args[1]->getLoc(), *a, type);
    Value bv = materialize(args[2]->getLoc(), *b, type);
    return TValue::ofValue(
        arith::SelectOp::create(builder, location, cond->value, av, bv));
  }
  if (callee == "max" || callee == "min") {
    if (!bindArgs(call, {{"a", true}, {"b", true}}, args, diags))
      return std::nullopt;
    std::optional<TValue> a = gen(*args[0]);
    std::optional<TValue> b = a ? gen(*args[1]) : std::nullopt;
    if (!b)
      return std::nullopt;
    bool isMax = callee == "max";
    if (a->isConstant() && b->isConstant() && a->kind != TValue::Kind::Bool &&
        b->kind != TValue::Kind::Bool) {
      if (a->kind == TValue::Kind::Int && b->kind == TValue::Kind::Int)
        return TValue::ofInt(isMax ? std::max(a->intValue, b->intValue)
                                   : std::min(a->intValue, b->intValue));
      double x = a->kind == TValue::Kind::Int ? a->intValue : a->floatValue;
      double y = b->kind == TValue::Kind::Int ? b->intValue : b->floatValue;
      return TValue::ofFloat(isMax ? std::max(x, y) : std::min(x, y));
    }
    if (!a->isNumeric() || !b->isNumeric()) {
      error(call.getLoc(), callee + " needs numbers, but got " + describe(*a) +
                               " and " + describe(*b));
      return std::nullopt;
    }
    if (isBoolish(*a) != isBoolish(*b)) {
      error(call.getLoc(), callee + " cannot mix a bool with a number: got " +
                               describe(*a) + " and " + describe(*b));
      return std::nullopt;
    }
    Type type = commonType(*a, *b);
    Value av = materialize(args[0]->getLoc(), *a, type);
    Value bv = materialize(args[1]->getLoc(), *b, type);
    if (isa<mlir::FloatType>(type))
      return TValue::ofValue(
          isMax
              ? arith::MaximumFOp::create(builder, location, av, bv).getResult()
              : arith::MinimumFOp::create(builder, location, av, bv)
                    .getResult());
    return TValue::ofValue(
        isMax ? arith::MaxSIOp::create(builder, location, av, bv).getResult()
              : arith::MinSIOp::create(builder, location, av, bv).getResult());
  }

  using ConstFn = double (*)(double);
  struct Unary {
    const char *name;
    ConstFn fold;
  };
  static const Unary unaryFns[] = {
      {"exp", [](double x) { return std::exp(x); }},
      {"exp2", [](double x) { return std::exp2(x); }},
      {"log", [](double x) { return std::log(x); }},
      {"log2", [](double x) { return std::log2(x); }},
      {"sqrt", [](double x) { return std::sqrt(x); }},
      {"rsqrt", [](double x) { return 1.0 / std::sqrt(x); }},
      {"abs", [](double x) { return std::fabs(x); }},
      {"sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
  };
  const Unary *fn =
      llvm::find_if(unaryFns, [&](const Unary &u) { return callee == u.name; });
  if (fn == std::end(unaryFns)) {
    error(call.getLoc(), "unknown function '" + callee + "'");
    return std::nullopt;
  }
  if (!bindArgs(call, {{"x", true}}, args, diags))
    return std::nullopt;
  std::optional<TValue> x = gen(*args[0]);
  if (!x)
    return std::nullopt;
  if (!x->isNumeric() || x->kind == TValue::Kind::Bool ||
      (x->kind == TValue::Kind::Scalar && isBool(x->type))) {
    error(args[0]->getLoc(),
          callee + " needs a number, but this is " + describe(*x));
    return std::nullopt;
  }
  if (x->kind == TValue::Kind::Int && callee == "abs")
    return TValue::ofInt(x->intValue < 0 ? -x->intValue : x->intValue);
  if (x->isConstant())
    return TValue::ofFloat(fn->fold(x->kind == TValue::Kind::Int
                                        ? static_cast<double>(x->intValue)
                                        : x->floatValue));
  if (callee == "abs" && isIntLike(x->type))
    return TValue::ofValue(math::AbsIOp::create(builder, location, x->value));
  Type type = isa<mlir::FloatType>(x->type) ? x->type : builder.getF32Type();
  Value v = materialize(args[0]->getLoc(), *x, type);
  Value result;
  if (callee == "exp")
    result = math::ExpOp::create(builder, location, v);
  else if (callee == "exp2")
    result = math::Exp2Op::create(builder, location, v);
  else if (callee == "log")
    result = math::LogOp::create(builder, location, v);
  else if (callee == "log2")
    result = math::Log2Op::create(builder, location, v);
  else if (callee == "sqrt")
    result = math::SqrtOp::create(builder, location, v);
  else if (callee == "rsqrt")
    result = math::RsqrtOp::create(builder, location, v);
  else if (callee == "abs")
    result = math::AbsFOp::create(builder, location, v);
  else {
    // sigmoid(x) = 1 / (1 + exp(-x))
    Value one = materialize(call.getLoc(), TValue::ofFloat(1.0), type);
    Value e = math::ExpOp::create(builder, location,
                                  arith::NegFOp::create(builder, location, v));
    result =
        arith::DivFOp::create(builder, location, one,
                              arith::AddFOp::create(builder, location, one, e));
  }
  return TValue::ofValue(result);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void tlc::registerFrontendDialects(mlir::DialectRegistry &registry) {
  registry.insert<tile::TileDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, scf::SCFDialect>();
}

mlir::OwningOpRef<mlir::ModuleOp>
tlc::buildTileModule(mlir::MLIRContext &context, const Module &module,
                     const FrontendOptions &options, Diagnostics &diags) {
  mlir::DialectRegistry registry;
  registerFrontendDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  // User errors are shown as source lines, never as IR dumps.
  context.printOpOnDiagnostic(false);

  llvm::SourceMgr &sourceMgr = diags.getSourceMgr();
  SMLoc fileStart = SMLoc::getFromPointer(
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBufferStart());

  // -D NAME=VALUE: each value is parsed from a buffer of its own so that its
  // errors point into the command line.
  std::vector<ExprPtr> defineExprs;
  std::vector<std::pair<std::string, const Expr *>> defines;
  for (const std::string &define : options.defines) {
    auto buffer = llvm::MemoryBuffer::getMemBufferCopy(define, "-D " + define);
    StringRef text = buffer->getBuffer();
    unsigned id = sourceMgr.AddNewSourceBuffer(std::move(buffer), SMLoc());
    SMLoc start =
        SMLoc::getFromPointer(sourceMgr.getMemoryBuffer(id)->getBufferStart());
    size_t eq = text.find('=');
    StringRef name = text.substr(0, eq).trim();
    bool validName =
        !name.empty() && (isalpha(name[0]) || name[0] == '_') &&
        llvm::all_of(name, [](char c) { return isalnum(c) || c == '_'; });
    if (eq == StringRef::npos || !validName) {
      diags.error(start, "-D expects NAME=VALUE");
      return nullptr;
    }
    ExprPtr expr = parseExpression(
        sourceMgr.getMemoryBuffer(id)->getBuffer().substr(eq + 1), diags);
    if (!expr)
      return nullptr;
    defines.emplace_back(name.str(), expr.get());
    defineExprs.push_back(std::move(expr));
  }

  mlir::OpBuilder builder(&context);
  auto fileLoc = mlir::FileLineColLoc::get(
      &context,
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())
          ->getBufferIdentifier(),
      1, 1);
  mlir::OwningOpRef<mlir::ModuleOp> result = mlir::ModuleOp::create(fileLoc);

  if (module.kernels.empty()) {
    diags.error(fileStart, "this file defines no kernel (a kernel starts "
                           "with 'kernel NAME(...):')");
    return nullptr;
  }
  llvm::StringSet<> usedDefines;
  llvm::StringMap<SMLoc> seen;
  bool found = false;
  for (const auto &kernel : module.kernels) {
    auto [it, inserted] = seen.try_emplace(kernel->name, kernel->loc);
    if (!inserted) {
      diags.error(kernel->loc,
                  "kernel '" + kernel->name + "' is defined twice");
      diags.note(it->second, "the first definition is here");
      return nullptr;
    }
    if (!options.kernelName.empty() && kernel->name != options.kernelName)
      continue;
    found = true;
    KernelGen gen(*result, *kernel, defines, usedDefines, diags);
    if (!gen.generate())
      return nullptr;
  }
  if (!found) {
    std::string names;
    for (const auto &kernel : module.kernels)
      names += (names.empty() ? "" : ", ") + kernel->name;
    diags.error(fileStart, "no kernel named '" + options.kernelName +
                               "' in this file; it defines: " + names);
    return nullptr;
  }
  for (const auto &[name, expr] : defines) {
    if (!usedDefines.contains(name)) {
      diags.error(expr->getLoc(),
                  "-D " + name +
                      ": no compiled kernel has a compile-time parameter "
                      "of that name");
      return nullptr;
    }
  }

  // Op verifiers hold the shape and scope rules; their messages are written
  // for users and are printed at the .tl location.
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context,
                                           diags.getStream());
  if (mlir::failed(mlir::verify(*result)))
    return nullptr;
  return result;
}
