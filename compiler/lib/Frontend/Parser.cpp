//===- Parser.cpp - Recursive-descent parser for .tl ----------------------===//
//
// Grammar (see docs/language.md for the full description):
//
//   module     ::= kernel*
//   kernel     ::= 'kernel' NAME ('[' const (',' const)* ']')?
//                  '(' (param (',' param)*)? ')' ':' block
//   const      ::= NAME '=' expr
//   param      ::= NAME ':' expr
//   block      ::= NEWLINE INDENT stmt+ DEDENT
//   stmt       ::= 'for' names 'in' call ':' block
//                | 'with' call ('as' (NAME | '(' names ')'))? ':' block
//                | 'if' expr ':' block ('elif' expr ':' block)*
//                  ('else' ':' block)?
//                | 'let' NAME '=' expr NEWLINE
//                | 'pass' NEWLINE
//                | expr (('=' | '+=' | '-=' | '*=' | '/=') expr)? NEWLINE
//   expr       ::= or-expr with Python precedence:
//                  or < and < not < comparison < + - < * / // % < unary -
//                  < call / subscript < atom
//
//===----------------------------------------------------------------------===//

#include "tlc/Frontend/Parser.h"
#include "tlc/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"

#include <cstdlib>

using namespace tlc;
using namespace tlc::ast;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace {

class Parser {
public:
  /// Expressions may nest this deep; beyond, the parser reports an error
  /// instead of exhausting its stack.
  static constexpr unsigned kMaxExprDepth = 200;
  /// An expression tree may be this many levels high. Operators chained
  /// without parentheses (`a + b + ...`, `x[0][0]...`) are parsed by loops,
  /// not recursion, but each adds a level that the AST printer and MLIRGen
  /// walk recursively.
  static constexpr unsigned kMaxExprHeight = 1000;

  Parser(llvm::StringRef buffer, Diagnostics &diags)
      : lexer(buffer, diags), diags(diags) {
    tok = lexer.next();
  }

  std::optional<Module> parseModule();
  ExprPtr parseStandaloneExpr();

private:
  void consume() { tok = lexer.next(); }
  bool consumeIf(Token::Kind kind) {
    if (!tok.is(kind))
      return false;
    consume();
    return true;
  }
  /// Reports "expected X" at the current token unless the lexer already
  /// reported an error there.
  bool error(const llvm::Twine &message) {
    if (!tok.is(Token::Error))
      diags.error(tok.getLoc(), message);
    return false;
  }
  bool expect(Token::Kind kind, llvm::StringRef context) {
    if (consumeIf(kind))
      return true;
    return error("expected " + describeTokenKind(kind) + " " + context +
                 ", found " + describe(tok));
  }
  static std::string describe(const Token &t) {
    switch (t.kind) {
    case Token::Identifier:
    case Token::Integer:
    case Token::Float:
    case Token::String:
      return ("'" + t.spelling + "'").str();
    default:
      return describeTokenKind(t.kind).str();
    }
  }

  std::unique_ptr<Kernel> parseKernel();
  bool parseBlock(Block &block, llvm::StringRef what);
  StmtPtr parseStmt();
  StmtPtr parseFor();
  StmtPtr parseWith();
  StmtPtr parseIf();
  bool parseNames(std::vector<Binding> &names, llvm::StringRef context);
  std::unique_ptr<CallExpr> parseCallOnly(llvm::StringRef context);

  ExprPtr parseExpr();
  ExprPtr parseOr();
  ExprPtr parseAnd();
  ExprPtr parseNot();
  ExprPtr parseComparison();
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  ExprPtr parseUnary();
  ExprPtr parsePostfix();
  ExprPtr parseAtom();
  ExprPtr parseSubscriptIndex();
  bool parseCallArgs(CallExpr &call);

  /// Sets `e`'s height from its children's; false (reported once) past
  /// kMaxExprHeight.
  bool measure(ast::Expr &e);

  struct DepthGuard {
    Parser &p;
    bool ok;
    DepthGuard(Parser &p) : p(p), ok(++p.depth <= kMaxExprDepth) {
      if (!ok && !p.reportedDepth) {
        p.reportedDepth = true;
        p.error("expression is nested too deeply (more than " +
                llvm::Twine(kMaxExprDepth) + " levels)");
      }
    }
    ~DepthGuard() { --p.depth; }
  };

  Lexer lexer;
  Diagnostics &diags;
  Token tok;
  unsigned depth = 0;
  bool reportedDepth = false;
  bool reportedHeight = false;
};

} // namespace

bool Parser::measure(ast::Expr &e) {
  unsigned below = 0;
  auto child = [&](const ExprPtr &c) {
    if (c)
      below = std::max(below, c->height);
  };
  if (auto *u = dyn_cast<UnaryExpr>(&e)) {
    child(u->operand);
  } else if (auto *b = dyn_cast<BinaryExpr>(&e)) {
    child(b->lhs);
    child(b->rhs);
  } else if (auto *c = dyn_cast<CallExpr>(&e)) {
    for (const ExprPtr &a : c->args)
      child(a);
    for (const KeywordArg &k : c->kwargs)
      child(k.value);
  } else if (auto *s = dyn_cast<SubscriptExpr>(&e)) {
    child(s->base);
    for (const ExprPtr &i : s->indices)
      child(i);
  } else if (auto *s = dyn_cast<SliceExpr>(&e)) {
    child(s->start);
    child(s->stop);
  } else if (auto *t = dyn_cast<TupleExpr>(&e)) {
    for (const ExprPtr &x : t->elements)
      child(x);
  }
  e.height = below + 1;
  if (e.height <= kMaxExprHeight)
    return true;
  if (!reportedHeight) {
    reportedHeight = true;
    diags.error(e.getLoc(),
                "expression is too long: more than " +
                    llvm::Twine(kMaxExprHeight) +
                    " levels of operators, calls and subscripts (each "
                    "chained operator is a level); split it with "
                    "intermediate variables");
  }
  return false;
}

std::optional<Module> Parser::parseModule() {
  Module module;
  while (true) {
    while (consumeIf(Token::Newline)) {
    }
    if (tok.is(Token::Eof))
      break;
    if (tok.is(Token::Indent)) {
      error("unexpected indentation at top level");
      return std::nullopt;
    }
    if (!tok.is(Token::KwKernel)) {
      error("expected 'kernel' at top level, found " + describe(tok));
      return std::nullopt;
    }
    auto kernel = parseKernel();
    if (!kernel)
      return std::nullopt;
    module.kernels.push_back(std::move(kernel));
  }
  return module;
}

ExprPtr Parser::parseStandaloneExpr() {
  ExprPtr expr = parseExpr();
  if (!expr)
    return nullptr;
  while (consumeIf(Token::Newline)) {
  }
  if (!tok.is(Token::Eof)) {
    error("unexpected " + describe(tok) + " after the value");
    return nullptr;
  }
  return expr;
}

std::unique_ptr<Kernel> Parser::parseKernel() {
  auto kernel = std::make_unique<Kernel>();
  kernel->loc = tok.getLoc();
  consume(); // 'kernel'
  if (!tok.is(Token::Identifier)) {
    error("expected the kernel's name after 'kernel', found " + describe(tok));
    return nullptr;
  }
  kernel->name = tok.spelling.str();
  consume();

  if (consumeIf(Token::LBracket)) {
    do {
      if (!tok.is(Token::Identifier)) {
        error("expected a compile-time parameter 'NAME=value', found " +
              describe(tok));
        return nullptr;
      }
      ConstParam param;
      param.loc = tok.getLoc();
      param.name = tok.spelling.str();
      consume();
      if (!expect(Token::Assign,
                  "after compile-time parameter '" + param.name +
                      "' (every one needs a default: NAME=value)"))
        return nullptr;
      param.defaultValue = parseExpr();
      if (!param.defaultValue)
        return nullptr;
      kernel->constParams.push_back(std::move(param));
    } while (consumeIf(Token::Comma));
    if (!expect(Token::RBracket, "to close the compile-time parameters"))
      return nullptr;
  }

  if (!expect(Token::LParen, "before the kernel's parameters"))
    return nullptr;
  if (!tok.is(Token::RParen)) {
    do {
      if (!tok.is(Token::Identifier)) {
        error("expected a parameter 'NAME: type', found " + describe(tok));
        return nullptr;
      }
      Param param;
      param.loc = tok.getLoc();
      param.name = tok.spelling.str();
      consume();
      if (!expect(Token::Colon, "after parameter '" + param.name +
                                    "' (parameters are written NAME: type)"))
        return nullptr;
      param.type = parseExpr();
      if (!param.type)
        return nullptr;
      kernel->params.push_back(std::move(param));
    } while (consumeIf(Token::Comma));
  }
  if (!expect(Token::RParen, "to close the kernel's parameters"))
    return nullptr;
  if (!expect(Token::Colon, "after the kernel's parameters"))
    return nullptr;
  if (!parseBlock(kernel->body, "kernel body"))
    return nullptr;
  return kernel;
}

bool Parser::parseBlock(Block &block, llvm::StringRef what) {
  if (!tok.is(Token::Newline))
    return error("expected a new line after ':' (the " + what +
                 " goes on the following lines, indented), found " +
                 describe(tok));
  consume();
  if (!tok.is(Token::Indent))
    return error("expected an indented " + what);
  consume();
  while (!tok.is(Token::Dedent)) {
    if (consumeIf(Token::Newline))
      continue;
    if (tok.is(Token::Eof) || tok.is(Token::Error))
      return error("unexpected " + describe(tok) + " inside the " + what);
    StmtPtr stmt = parseStmt();
    if (!stmt)
      return false;
    block.push_back(std::move(stmt));
  }
  consume(); // DEDENT
  return true;
}

StmtPtr Parser::parseStmt() {
  llvm::SMLoc loc = tok.getLoc();
  switch (tok.kind) {
  case Token::KwFor:
    return parseFor();
  case Token::KwWith:
    return parseWith();
  case Token::KwIf:
    return parseIf();
  case Token::KwPass:
    consume();
    if (!expect(Token::Newline, "after 'pass'"))
      return nullptr;
    return std::make_unique<PassStmt>(loc);
  case Token::KwLet: {
    consume();
    if (!tok.is(Token::Identifier)) {
      error("expected a name after 'let', found " + describe(tok));
      return nullptr;
    }
    auto target = std::make_unique<NameExpr>(tok.getLoc(), tok.spelling.str());
    consume();
    if (!expect(Token::Assign, "after 'let " + target->name + "'"))
      return nullptr;
    ExprPtr value = parseExpr();
    if (!value || !expect(Token::Newline, "after the value"))
      return nullptr;
    return std::make_unique<AssignStmt>(loc, AssignStmt::Op::Set, true,
                                        std::move(target), std::move(value));
  }
  case Token::KwElif:
  case Token::KwElse:
    error(describe(tok) + " without a matching 'if'");
    return nullptr;
  case Token::KwKernel:
    error("kernels cannot be nested; 'kernel' is only allowed at top level");
    return nullptr;
  case Token::Indent:
    error("unexpected indentation");
    return nullptr;
  default:
    break;
  }

  ExprPtr expr = parseExpr();
  if (!expr)
    return nullptr;
  std::optional<AssignStmt::Op> op;
  switch (tok.kind) {
  case Token::Assign:
    op = AssignStmt::Op::Set;
    break;
  case Token::PlusAssign:
    op = AssignStmt::Op::Add;
    break;
  case Token::MinusAssign:
    op = AssignStmt::Op::Sub;
    break;
  case Token::StarAssign:
    op = AssignStmt::Op::Mul;
    break;
  case Token::SlashAssign:
    op = AssignStmt::Op::Div;
    break;
  default:
    break;
  }
  if (!op) {
    if (!expect(Token::Newline, "at the end of the statement"))
      return nullptr;
    return std::make_unique<ExprStmt>(loc, std::move(expr));
  }
  llvm::SMLoc opLoc = tok.getLoc();
  consume();
  if (!isa<NameExpr, SubscriptExpr>(expr.get())) {
    diags.error(expr->getLoc(),
                "cannot assign to this expression; the left "
                "side must be a name or an element 'buf[i, j]'");
    return nullptr;
  }
  ExprPtr value = parseExpr();
  if (!value)
    return nullptr;
  if (!expect(Token::Newline, "at the end of the assignment"))
    return nullptr;
  (void)opLoc;
  return std::make_unique<AssignStmt>(loc, *op, false, std::move(expr),
                                      std::move(value));
}

bool Parser::parseNames(std::vector<Binding> &names, llvm::StringRef context) {
  do {
    if (!tok.is(Token::Identifier))
      return error("expected a name " + context + ", found " + describe(tok));
    names.push_back({tok.getLoc(), tok.spelling.str()});
    consume();
  } while (consumeIf(Token::Comma));
  return true;
}

std::unique_ptr<CallExpr> Parser::parseCallOnly(llvm::StringRef context) {
  llvm::SMLoc loc = tok.getLoc();
  ExprPtr expr = parsePostfix();
  if (!expr)
    return nullptr;
  if (!isa<CallExpr>(expr.get())) {
    diags.error(loc, "expected a call " + context);
    return nullptr;
  }
  return std::unique_ptr<CallExpr>(cast<CallExpr>(expr.release()));
}

StmtPtr Parser::parseFor() {
  auto stmt = std::make_unique<ForStmt>(tok.getLoc());
  consume(); // 'for'
  if (!parseNames(stmt->vars, "after 'for'"))
    return nullptr;
  if (!expect(Token::KwIn, "after the loop variables"))
    return nullptr;
  stmt->iter =
      parseCallOnly("after 'in': range(...), Parallel(...) or Pipelined(...)");
  if (!stmt->iter || !expect(Token::Colon, "after the loop header") ||
      !parseBlock(stmt->body, "loop body"))
    return nullptr;
  return stmt;
}

StmtPtr Parser::parseWith() {
  auto stmt = std::make_unique<WithStmt>(tok.getLoc());
  consume(); // 'with'
  stmt->context =
      parseCallOnly("after 'with': Kernel(...), role(...) or get(...)");
  if (!stmt->context)
    return nullptr;
  if (consumeIf(Token::KwAs)) {
    if (consumeIf(Token::LParen)) {
      if (!parseNames(stmt->vars, "after 'as ('") ||
          !expect(Token::RParen, "after the names"))
        return nullptr;
    } else if (!parseNames(stmt->vars, "after 'as'")) {
      return nullptr;
    }
  }
  if (!expect(Token::Colon, "after the 'with' header") ||
      !parseBlock(stmt->body, "'with' body"))
    return nullptr;
  return stmt;
}

StmtPtr Parser::parseIf() {
  llvm::SMLoc loc = tok.getLoc();
  consume(); // 'if' or 'elif'
  ExprPtr cond = parseExpr();
  if (!cond)
    return nullptr;
  auto stmt = std::make_unique<IfStmt>(loc, std::move(cond));
  if (!expect(Token::Colon, "after the condition") ||
      !parseBlock(stmt->thenBody, "'if' body"))
    return nullptr;
  while (consumeIf(Token::Newline)) {
  }
  if (tok.is(Token::KwElif)) {
    StmtPtr elif = parseIf();
    if (!elif)
      return nullptr;
    stmt->elseBody.push_back(std::move(elif));
  } else if (tok.is(Token::KwElse)) {
    consume();
    if (!expect(Token::Colon, "after 'else'") ||
        !parseBlock(stmt->elseBody, "'else' body"))
      return nullptr;
  }
  return stmt;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ExprPtr Parser::parseExpr() {
  DepthGuard guard(*this);
  if (!guard.ok)
    return nullptr;
  return parseOr();
}

ExprPtr Parser::parseOr() {
  ExprPtr lhs = parseAnd();
  while (lhs && tok.is(Token::KwOr)) {
    llvm::SMLoc loc = tok.getLoc();
    consume();
    ExprPtr rhs = parseAnd();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryOp::Or, std::move(lhs),
                                       std::move(rhs));
    if (!measure(*lhs))
      return nullptr;
  }
  return lhs;
}

ExprPtr Parser::parseAnd() {
  ExprPtr lhs = parseNot();
  while (lhs && tok.is(Token::KwAnd)) {
    llvm::SMLoc loc = tok.getLoc();
    consume();
    ExprPtr rhs = parseNot();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryOp::And, std::move(lhs),
                                       std::move(rhs));
    if (!measure(*lhs))
      return nullptr;
  }
  return lhs;
}

ExprPtr Parser::parseNot() {
  if (!tok.is(Token::KwNot))
    return parseComparison();
  DepthGuard guard(*this);
  if (!guard.ok)
    return nullptr;
  llvm::SMLoc loc = tok.getLoc();
  consume();
  ExprPtr operand = parseNot();
  if (!operand)
    return nullptr;
  auto negation =
      std::make_unique<UnaryExpr>(loc, UnaryOp::Not, std::move(operand));
  if (!measure(*negation))
    return nullptr;
  return negation;
}

static std::optional<BinaryOp> comparisonOp(Token::Kind kind) {
  switch (kind) {
  case Token::Less:
    return BinaryOp::Lt;
  case Token::LessEq:
    return BinaryOp::Le;
  case Token::Greater:
    return BinaryOp::Gt;
  case Token::GreaterEq:
    return BinaryOp::Ge;
  case Token::EqEq:
    return BinaryOp::Eq;
  case Token::NotEq:
    return BinaryOp::Ne;
  default:
    return std::nullopt;
  }
}

ExprPtr Parser::parseComparison() {
  ExprPtr lhs = parseAdditive();
  if (!lhs)
    return nullptr;
  std::optional<BinaryOp> op = comparisonOp(tok.kind);
  if (!op)
    return lhs;
  llvm::SMLoc loc = tok.getLoc();
  consume();
  ExprPtr rhs = parseAdditive();
  if (!rhs)
    return nullptr;
  if (comparisonOp(tok.kind)) {
    error("comparisons cannot be chained; write 'a < b and b < c'");
    return nullptr;
  }
  auto comparison =
      std::make_unique<BinaryExpr>(loc, *op, std::move(lhs), std::move(rhs));
  if (!measure(*comparison))
    return nullptr;
  return comparison;
}

ExprPtr Parser::parseAdditive() {
  ExprPtr lhs = parseMultiplicative();
  while (lhs && (tok.is(Token::Plus) || tok.is(Token::Minus))) {
    BinaryOp op = tok.is(Token::Plus) ? BinaryOp::Add : BinaryOp::Sub;
    llvm::SMLoc loc = tok.getLoc();
    consume();
    ExprPtr rhs = parseMultiplicative();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
    if (!measure(*lhs))
      return nullptr;
  }
  return lhs;
}

ExprPtr Parser::parseMultiplicative() {
  ExprPtr lhs = parseUnary();
  while (lhs) {
    BinaryOp op;
    if (tok.is(Token::Star))
      op = BinaryOp::Mul;
    else if (tok.is(Token::Slash))
      op = BinaryOp::Div;
    else if (tok.is(Token::SlashSlash))
      op = BinaryOp::FloorDiv;
    else if (tok.is(Token::Percent))
      op = BinaryOp::Mod;
    else
      break;
    llvm::SMLoc loc = tok.getLoc();
    consume();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
    if (!measure(*lhs))
      return nullptr;
  }
  return lhs;
}

ExprPtr Parser::parseUnary() {
  DepthGuard guard(*this);
  if (!guard.ok)
    return nullptr;
  if (tok.is(Token::Minus) || tok.is(Token::Plus)) {
    bool negate = tok.is(Token::Minus);
    llvm::SMLoc loc = tok.getLoc();
    consume();
    ExprPtr operand = parseUnary();
    if (!operand || !negate)
      return operand;
    auto negation =
        std::make_unique<UnaryExpr>(loc, UnaryOp::Neg, std::move(operand));
    if (!measure(*negation))
      return nullptr;
    return negation;
  }
  return parsePostfix();
}

ExprPtr Parser::parsePostfix() {
  ExprPtr expr = parseAtom();
  while (expr) {
    if (tok.is(Token::LParen)) {
      auto *name = dyn_cast<NameExpr>(expr.get());
      if (!name) {
        error("only named functions can be called");
        return nullptr;
      }
      auto call = std::make_unique<CallExpr>(name->getLoc(), name->name);
      consume();
      if (!parseCallArgs(*call) || !measure(*call))
        return nullptr;
      expr = std::move(call);
    } else if (tok.is(Token::LBracket)) {
      auto sub =
          std::make_unique<SubscriptExpr>(expr->getLoc(), std::move(expr));
      consume();
      do {
        ExprPtr index = parseSubscriptIndex();
        if (!index)
          return nullptr;
        sub->indices.push_back(std::move(index));
      } while (consumeIf(Token::Comma) && !tok.is(Token::RBracket));
      if (!expect(Token::RBracket, "to close the subscript") || !measure(*sub))
        return nullptr;
      expr = std::move(sub);
    } else {
      break;
    }
  }
  return expr;
}

ExprPtr Parser::parseSubscriptIndex() {
  llvm::SMLoc loc = tok.getLoc();
  ExprPtr start;
  if (!tok.is(Token::Colon)) {
    start = parseExpr();
    if (!start)
      return nullptr;
    if (!tok.is(Token::Colon))
      return start;
  }
  consume(); // ':'
  ExprPtr stop;
  if (!tok.is(Token::Comma) && !tok.is(Token::RBracket)) {
    stop = parseExpr();
    if (!stop)
      return nullptr;
  }
  if (tok.is(Token::Colon)) {
    error("slice steps are not supported; slices are 'start:stop'");
    return nullptr;
  }
  auto slice =
      std::make_unique<SliceExpr>(loc, std::move(start), std::move(stop));
  if (!measure(*slice))
    return nullptr;
  return slice;
}

bool Parser::parseCallArgs(CallExpr &call) {
  bool sawKeyword = false;
  while (!tok.is(Token::RParen)) {
    if (tok.is(Token::Identifier)) {
      // Peek for `name=`: parse the name as an expression and check for '='.
      Token nameTok = tok;
      ExprPtr value = parseExpr();
      if (!value)
        return false;
      if (tok.is(Token::Assign)) {
        if (!isa<NameExpr>(value.get()) ||
            value->getLoc() != nameTok.getLoc()) {
          return error("expected ',' or ')' in the argument list");
        }
        consume();
        KeywordArg kw;
        kw.loc = nameTok.getLoc();
        kw.name = nameTok.spelling.str();
        kw.value = parseExpr();
        if (!kw.value)
          return false;
        for (const KeywordArg &other : call.kwargs) {
          if (other.name == kw.name) {
            diags.error(kw.loc,
                        "keyword argument '" + kw.name + "' is given twice");
            return false;
          }
        }
        call.kwargs.push_back(std::move(kw));
        sawKeyword = true;
      } else {
        if (sawKeyword) {
          diags.error(value->getLoc(),
                      "positional argument follows a keyword argument");
          return false;
        }
        call.args.push_back(std::move(value));
      }
    } else {
      ExprPtr value = parseExpr();
      if (!value)
        return false;
      if (sawKeyword) {
        diags.error(value->getLoc(),
                    "positional argument follows a keyword argument");
        return false;
      }
      call.args.push_back(std::move(value));
    }
    if (!consumeIf(Token::Comma))
      break;
  }
  return expect(Token::RParen, "to close the call to '" + call.callee + "'");
}

ExprPtr Parser::parseAtom() {
  llvm::SMLoc loc = tok.getLoc();
  switch (tok.kind) {
  case Token::Integer: {
    uint64_t value = 0;
    tok.spelling.getAsInteger(10, value);
    consume();
    return std::make_unique<IntExpr>(loc, static_cast<int64_t>(value));
  }
  case Token::Float: {
    double value = std::strtod(tok.spelling.str().c_str(), nullptr);
    consume();
    return std::make_unique<FloatExpr>(loc, value);
  }
  case Token::KwTrue:
  case Token::KwFalse: {
    bool value = tok.is(Token::KwTrue);
    consume();
    return std::make_unique<BoolExpr>(loc, value);
  }
  case Token::String: {
    std::string value = tok.spelling.drop_front().drop_back().str();
    consume();
    return std::make_unique<StringExpr>(loc, std::move(value));
  }
  case Token::Identifier: {
    std::string name = tok.spelling.str();
    consume();
    return std::make_unique<NameExpr>(loc, std::move(name));
  }
  case Token::LParen: {
    consume();
    auto tuple = std::make_unique<TupleExpr>(loc);
    bool sawComma = false;
    while (!tok.is(Token::RParen)) {
      ExprPtr element = parseExpr();
      if (!element)
        return nullptr;
      tuple->elements.push_back(std::move(element));
      if (!consumeIf(Token::Comma))
        break;
      sawComma = true;
    }
    if (!expect(Token::RParen, "to close the parenthesis"))
      return nullptr;
    if (tuple->elements.size() == 1 && !sawComma)
      return std::move(tuple->elements.front());
    if (!measure(*tuple))
      return nullptr;
    return tuple;
  }
  default:
    error("expected an expression, found " + describe(tok));
    return nullptr;
  }
}

std::optional<Module> tlc::parseModule(llvm::StringRef buffer,
                                       Diagnostics &diags) {
  Parser parser(buffer, diags);
  std::optional<Module> module = parser.parseModule();
  if (diags.getNumErrors())
    return std::nullopt;
  return module;
}

ExprPtr tlc::parseExpression(llvm::StringRef buffer, Diagnostics &diags) {
  Parser parser(buffer, diags);
  ExprPtr expr = parser.parseStandaloneExpr();
  if (diags.getNumErrors())
    return nullptr;
  return expr;
}
