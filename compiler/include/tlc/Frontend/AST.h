//===- AST.h - Abstract syntax tree of the .tl language --------*- C++ -*-===//
//
// The parser produces this tree; MLIRGen type-checks it and builds the tile
// dialect from it. Nodes own their children and carry the source location of
// their first token. Types are written as expressions
// (`Tensor[(M, K), bf16]`) and interpreted by MLIRGen.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_FRONTEND_AST_H
#define TLC_FRONTEND_AST_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tlc::ast {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr {
public:
  enum class Kind {
    Int,
    Float,
    Bool,
    String,
    Name,
    Unary,
    Binary,
    Call,
    Subscript,
    Slice,
    Tuple
  };

  Expr(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}
  virtual ~Expr() = default;

  Kind getKind() const { return kind; }
  llvm::SMLoc getLoc() const { return loc; }

  /// Levels from this node to its deepest leaf (a leaf is 1), set by the
  /// parser, which bounds it: later stages walk expressions recursively.
  unsigned height = 1;

private:
  Kind kind;
  llvm::SMLoc loc;
};

using ExprPtr = std::unique_ptr<Expr>;

class IntExpr : public Expr {
public:
  IntExpr(llvm::SMLoc loc, int64_t value)
      : Expr(Kind::Int, loc), value(value) {}
  int64_t value;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Int; }
};

class FloatExpr : public Expr {
public:
  FloatExpr(llvm::SMLoc loc, double value)
      : Expr(Kind::Float, loc), value(value) {}
  double value;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Float; }
};

class BoolExpr : public Expr {
public:
  BoolExpr(llvm::SMLoc loc, bool value) : Expr(Kind::Bool, loc), value(value) {}
  bool value;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Bool; }
};

class StringExpr : public Expr {
public:
  StringExpr(llvm::SMLoc loc, std::string value)
      : Expr(Kind::String, loc), value(std::move(value)) {}
  std::string value;
  static bool classof(const Expr *e) { return e->getKind() == Kind::String; }
};

class NameExpr : public Expr {
public:
  NameExpr(llvm::SMLoc loc, std::string name)
      : Expr(Kind::Name, loc), name(std::move(name)) {}
  std::string name;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Name; }
};

enum class UnaryOp { Neg, Not };
enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Mod,
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  And,
  Or
};

llvm::StringRef spell(UnaryOp op);
llvm::StringRef spell(BinaryOp op);

class UnaryExpr : public Expr {
public:
  UnaryExpr(llvm::SMLoc loc, UnaryOp op, ExprPtr operand)
      : Expr(Kind::Unary, loc), op(op), operand(std::move(operand)) {}
  UnaryOp op;
  ExprPtr operand;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Unary; }
};

class BinaryExpr : public Expr {
public:
  BinaryExpr(llvm::SMLoc loc, BinaryOp op, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::Binary, loc), op(op), lhs(std::move(lhs)),
        rhs(std::move(rhs)) {}
  BinaryOp op;
  ExprPtr lhs, rhs;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Binary; }
};

struct KeywordArg {
  llvm::SMLoc loc;
  std::string name;
  ExprPtr value;
};

class CallExpr : public Expr {
public:
  CallExpr(llvm::SMLoc loc, std::string callee)
      : Expr(Kind::Call, loc), callee(std::move(callee)) {}
  std::string callee;
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Call; }
};

/// `start:stop` inside a subscript; either bound may be absent.
class SliceExpr : public Expr {
public:
  SliceExpr(llvm::SMLoc loc, ExprPtr start, ExprPtr stop)
      : Expr(Kind::Slice, loc), start(std::move(start)), stop(std::move(stop)) {
  }
  ExprPtr start, stop;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Slice; }
};

class SubscriptExpr : public Expr {
public:
  SubscriptExpr(llvm::SMLoc loc, ExprPtr base)
      : Expr(Kind::Subscript, loc), base(std::move(base)) {}
  ExprPtr base;
  std::vector<ExprPtr> indices;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Subscript; }
};

class TupleExpr : public Expr {
public:
  TupleExpr(llvm::SMLoc loc) : Expr(Kind::Tuple, loc) {}
  std::vector<ExprPtr> elements;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Tuple; }
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

class Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

struct Binding {
  llvm::SMLoc loc;
  std::string name;
};

class Stmt {
public:
  enum class Kind { Expr, Assign, For, If, With, Pass };
  Stmt(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}
  virtual ~Stmt() = default;
  Kind getKind() const { return kind; }
  llvm::SMLoc getLoc() const { return loc; }

  /// Levels from this node to its deepest leaf (a leaf is 1), set by the
  /// parser, which bounds it: later stages walk expressions recursively.
  unsigned height = 1;

private:
  Kind kind;
  llvm::SMLoc loc;
};

class ExprStmt : public Stmt {
public:
  ExprStmt(llvm::SMLoc loc, ExprPtr expr)
      : Stmt(Kind::Expr, loc), expr(std::move(expr)) {}
  ExprPtr expr;
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Expr; }
};

/// `x = e`, `let x = e`, `buf[i, j] = e` and the augmented forms `x += e`.
class AssignStmt : public Stmt {
public:
  enum class Op { Set, Add, Sub, Mul, Div };
  AssignStmt(llvm::SMLoc loc, Op op, bool isLet, ExprPtr target, ExprPtr value)
      : Stmt(Kind::Assign, loc), op(op), isLet(isLet),
        target(std::move(target)), value(std::move(value)) {}
  Op op;
  bool isLet;
  ExprPtr target;
  ExprPtr value;
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Assign; }
};

/// `for i, j in Parallel(...)`, `for k in Pipelined(...)`, `for t in
/// range(...)`.
class ForStmt : public Stmt {
public:
  ForStmt(llvm::SMLoc loc) : Stmt(Kind::For, loc) {}
  std::vector<Binding> vars;
  std::unique_ptr<CallExpr> iter;
  Block body;
  static bool classof(const Stmt *s) { return s->getKind() == Kind::For; }
};

/// `if c: ... elif d: ... else: ...`; an `elif` is an IfStmt alone in the
/// else block.
class IfStmt : public Stmt {
public:
  IfStmt(llvm::SMLoc loc, ExprPtr cond)
      : Stmt(Kind::If, loc), cond(std::move(cond)) {}
  ExprPtr cond;
  Block thenBody;
  Block elseBody;
  static bool classof(const Stmt *s) { return s->getKind() == Kind::If; }
};

/// `with Kernel(...) as (bx, by):`, `with role(...):`, `with get(ch) as s:`.
class WithStmt : public Stmt {
public:
  WithStmt(llvm::SMLoc loc) : Stmt(Kind::With, loc) {}
  std::unique_ptr<CallExpr> context;
  std::vector<Binding> vars;
  Block body;
  static bool classof(const Stmt *s) { return s->getKind() == Kind::With; }
};

class PassStmt : public Stmt {
public:
  PassStmt(llvm::SMLoc loc) : Stmt(Kind::Pass, loc) {}
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Pass; }
};

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

/// A compile-time parameter `NAME=default` in `kernel k[...]`.
struct ConstParam {
  llvm::SMLoc loc;
  std::string name;
  ExprPtr defaultValue;
};

/// A run-time parameter `NAME: type`.
struct Param {
  llvm::SMLoc loc;
  std::string name;
  ExprPtr type;
};

struct Kernel {
  llvm::SMLoc loc;
  std::string name;
  std::vector<ConstParam> constParams;
  std::vector<Param> params;
  Block body;
};

struct Module {
  std::vector<std::unique_ptr<Kernel>> kernels;
};

/// Prints the tree as an indented S-expression (`tlc --emit ast`).
void print(const Module &module, llvm::raw_ostream &os);
void print(const Expr &expr, llvm::raw_ostream &os);

} // namespace tlc::ast

#endif // TLC_FRONTEND_AST_H
