//===- ASTPrinter.cpp - S-expression dump of the AST ----------------------===//

#include "tlc/Frontend/AST.h"

#include "llvm/Support/Format.h"

using namespace tlc::ast;

llvm::StringRef tlc::ast::spell(UnaryOp op) {
  return op == UnaryOp::Neg ? "-" : "not";
}

llvm::StringRef tlc::ast::spell(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::FloorDiv:
    return "//";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Or:
    return "or";
  }
  llvm_unreachable("unknown binary operator");
}

void tlc::ast::print(const Expr &expr, llvm::raw_ostream &os) {
  if (auto *e = llvm::dyn_cast<IntExpr>(&expr)) {
    os << e->value;
  } else if (auto *e = llvm::dyn_cast<FloatExpr>(&expr)) {
    os << llvm::format("%.17g", e->value);
  } else if (auto *e = llvm::dyn_cast<BoolExpr>(&expr)) {
    os << (e->value ? "True" : "False");
  } else if (auto *e = llvm::dyn_cast<StringExpr>(&expr)) {
    os << '"' << e->value << '"';
  } else if (auto *e = llvm::dyn_cast<NameExpr>(&expr)) {
    os << e->name;
  } else if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr)) {
    os << '(' << spell(e->op) << ' ';
    print(*e->operand, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<BinaryExpr>(&expr)) {
    os << '(' << spell(e->op) << ' ';
    print(*e->lhs, os);
    os << ' ';
    print(*e->rhs, os);
    os << ')';
  } else if (auto *e = llvm::dyn_cast<CallExpr>(&expr)) {
    os << "(call " << e->callee;
    for (const ExprPtr &arg : e->args) {
      os << ' ';
      print(*arg, os);
    }
    for (const KeywordArg &kw : e->kwargs) {
      os << ' ' << kw.name << '=';
      print(*kw.value, os);
    }
    os << ')';
  } else if (auto *e = llvm::dyn_cast<SubscriptExpr>(&expr)) {
    os << "(index ";
    print(*e->base, os);
    for (const ExprPtr &index : e->indices) {
      os << ' ';
      print(*index, os);
    }
    os << ')';
  } else if (auto *e = llvm::dyn_cast<SliceExpr>(&expr)) {
    os << "(slice ";
    if (e->start)
      print(*e->start, os);
    else
      os << '_';
    os << ' ';
    if (e->stop)
      print(*e->stop, os);
    else
      os << '_';
    os << ')';
  } else if (auto *e = llvm::dyn_cast<TupleExpr>(&expr)) {
    os << "(tuple";
    for (const ExprPtr &element : e->elements) {
      os << ' ';
      print(*element, os);
    }
    os << ')';
  }
}

namespace {
void printBlock(const Block &block, llvm::raw_ostream &os, unsigned indent);

void printBindings(const std::vector<Binding> &vars, llvm::raw_ostream &os) {
  os << '(';
  llvm::interleave(
      vars, os, [&](const Binding &b) { os << b.name; }, " ");
  os << ')';
}

void printStmt(const Stmt &stmt, llvm::raw_ostream &os, unsigned indent) {
  os.indent(indent);
  if (auto *s = llvm::dyn_cast<ExprStmt>(&stmt)) {
    print(*s->expr, os);
    os << '\n';
  } else if (auto *s = llvm::dyn_cast<AssignStmt>(&stmt)) {
    static const char *ops[] = {"=", "+=", "-=", "*=", "/="};
    os << '(' << (s->isLet ? "let" : ops[static_cast<int>(s->op)]) << ' ';
    print(*s->target, os);
    os << ' ';
    print(*s->value, os);
    os << ")\n";
  } else if (auto *s = llvm::dyn_cast<ForStmt>(&stmt)) {
    os << "(for ";
    printBindings(s->vars, os);
    os << ' ';
    print(*s->iter, os);
    os << '\n';
    printBlock(s->body, os, indent + 2);
    os.indent(indent) << ")\n";
  } else if (auto *s = llvm::dyn_cast<IfStmt>(&stmt)) {
    os << "(if ";
    print(*s->cond, os);
    os << '\n';
    printBlock(s->thenBody, os, indent + 2);
    if (!s->elseBody.empty()) {
      os.indent(indent) << " else\n";
      printBlock(s->elseBody, os, indent + 2);
    }
    os.indent(indent) << ")\n";
  } else if (auto *s = llvm::dyn_cast<WithStmt>(&stmt)) {
    os << "(with ";
    print(*s->context, os);
    if (!s->vars.empty()) {
      os << " as ";
      printBindings(s->vars, os);
    }
    os << '\n';
    printBlock(s->body, os, indent + 2);
    os.indent(indent) << ")\n";
  } else if (llvm::isa<PassStmt>(&stmt)) {
    os << "(pass)\n";
  }
}

void printBlock(const Block &block, llvm::raw_ostream &os, unsigned indent) {
  for (const StmtPtr &stmt : block)
    printStmt(*stmt, os, indent);
}
} // namespace

void tlc::ast::print(const Module &module, llvm::raw_ostream &os) {
  for (const auto &kernel : module.kernels) {
    os << "(kernel " << kernel->name << '\n';
    for (const ConstParam &c : kernel->constParams) {
      os << "  (const " << c.name << ' ';
      print(*c.defaultValue, os);
      os << ")\n";
    }
    for (const Param &p : kernel->params) {
      os << "  (param " << p.name << ' ';
      print(*p.type, os);
      os << ")\n";
    }
    printBlock(kernel->body, os, 2);
    os << ")\n";
  }
}
