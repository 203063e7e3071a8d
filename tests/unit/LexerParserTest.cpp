//===- LexerParserTest.cpp - Lexer and parser unit tests ------------------===//

#include "TestUtil.h"

#include "tlc/Frontend/Lexer.h"
#include "tlc/Frontend/Parser.h"

#include <catch2/catch.hpp>

using namespace tlc;

namespace {

std::vector<Token::Kind> lexAll(test::Source &src) {
  Lexer lexer(src.text(), src.diags);
  std::vector<Token::Kind> kinds;
  while (true) {
    Token tok = lexer.next();
    kinds.push_back(tok.kind);
    if (tok.is(Token::Eof) || tok.is(Token::Error) || kinds.size() > 1000)
      break;
  }
  return kinds;
}

std::string printExpr(const std::string &text) {
  test::Source src(text);
  ast::ExprPtr expr = parseExpression(src.text(), src.diags);
  if (!expr)
    return "error: " + src.errors();
  std::string out;
  llvm::raw_string_ostream os(out);
  ast::print(*expr, os);
  return out;
}

} // namespace

TEST_CASE("indentation becomes INDENT and DEDENT tokens", "[lexer]") {
  test::Source src("a:\n  b\n\n  # comment\n  c\nd\n");
  using K = Token::Kind;
  std::vector<K> expected = {K::Identifier, K::Colon,      K::Newline,
                             K::Indent,     K::Identifier, K::Newline,
                             K::Identifier, K::Newline,    K::Dedent,
                             K::Identifier, K::Newline,    K::Eof};
  CHECK(lexAll(src) == expected);
  CHECK(src.errors().empty());
}

TEST_CASE("lines inside brackets are joined", "[lexer]") {
  test::Source src("f(a,\n      b)\n");
  using K = Token::Kind;
  std::vector<K> expected = {K::Identifier, K::LParen, K::Identifier, K::Comma,
                             K::Identifier, K::RParen, K::Newline,    K::Eof};
  CHECK(lexAll(src) == expected);
}

TEST_CASE("a file without a final newline still ends its blocks", "[lexer]") {
  test::Source src("a:\n  b");
  std::vector<Token::Kind> kinds = lexAll(src);
  REQUIRE(kinds.size() >= 3);
  CHECK(kinds[kinds.size() - 2] == Token::Dedent);
  CHECK(kinds.back() == Token::Eof);
}

TEST_CASE("lexer errors name the place", "[lexer]") {
  SECTION("tab in indentation") {
    test::Source src("a:\n\tb\n");
    CHECK(lexAll(src).back() == Token::Error);
    CHECK_THAT(src.errors(), Catch::Contains("test.tl:2:1: error: tab "
                                             "character in indentation"));
  }
  SECTION("binary byte") {
    test::Source src(std::string("a = \x01\n"));
    lexAll(src);
    CHECK_THAT(src.errors(), Catch::Contains("invalid byte 0x1"));
  }
  SECTION("unclosed bracket") {
    test::Source src("f(a, b\n");
    lexAll(src);
    CHECK_THAT(src.errors(),
               Catch::Contains("test.tl:1:2: error: '(' was never closed"));
  }
  SECTION("mismatched bracket") {
    test::Source src("f(a]\n");
    lexAll(src);
    CHECK_THAT(src.errors(), Catch::Contains("']' does not match '('"));
  }
  SECTION("bad dedent") {
    test::Source src("a:\n    b\n  c\n");
    lexAll(src);
    CHECK_THAT(src.errors(), Catch::Contains("unindent does not match"));
  }
  SECTION("huge integer") {
    test::Source src("99999999999999999999\n");
    lexAll(src);
    CHECK_THAT(src.errors(), Catch::Contains("too large for 64 bits"));
  }
}

TEST_CASE("expressions follow Python precedence", "[parser]") {
  CHECK(printExpr("a + b * c") == "(+ a (* b c))");
  CHECK(printExpr("-a * b") == "(* (- a) b)");
  CHECK(printExpr("a < b and not c or d") == "(or (and (< a b) (not c)) d)");
  CHECK(printExpr("x // 2 % 3") == "(% (// x 2) 3)");
  CHECK(printExpr("(a, b)") == "(tuple a b)");
  CHECK(printExpr("(a)") == "a");
  CHECK(printExpr("A[i, k * 32:k * 32 + 32, :]") ==
        "(index A i (slice (* k 32) (+ (* k 32) 32)) (slice _ _))");
  CHECK(printExpr("gemm(a, b, c, transpose_B=True)") ==
        "(call gemm a b c transpose_B=True)");
}

TEST_CASE("parser errors are precise", "[parser]") {
  CHECK_THAT(printExpr("a < b < c"),
             Catch::Contains("comparisons cannot be chained"));
  CHECK_THAT(printExpr("f(a=1, b)"),
             Catch::Contains("positional argument follows a keyword"));
  CHECK_THAT(printExpr("f(a=1, a=2)"),
             Catch::Contains("keyword argument 'a' is given twice"));
  CHECK_THAT(printExpr("(a + b)(c)"),
             Catch::Contains("only named functions can be called"));
  CHECK_THAT(printExpr("A[0:1:2]"),
             Catch::Contains("slice steps are not supported"));
}

TEST_CASE("deep nesting is an error, not a stack overflow", "[parser]") {
  std::string deep(100000, '(');
  CHECK_THAT(printExpr(deep + "1"), Catch::Contains("nested too deeply"));
  std::string negations(100000, '-');
  CHECK_THAT(printExpr(negations + "1"), Catch::Contains("nested too deeply"));
  // Chains are parsed by loops, but each operator is a level of the tree
  // that later stages walk recursively: bounded too, with its own message.
  std::string chain = "1";
  for (int i = 0; i < 1500; ++i)
    chain += " + 1";
  CHECK_THAT(printExpr(chain), Catch::Contains("expression is too long"));
  std::string subscripts = "x";
  for (int i = 0; i < 1500; ++i)
    subscripts += "[0]";
  CHECK_THAT(printExpr(subscripts), Catch::Contains("expression is too long"));
  std::string fine = "1";
  for (int i = 0; i < 900; ++i)
    fine += " * 1";
  CHECK_THAT(printExpr(fine), !Catch::Contains("error"));
}

TEST_CASE("a kernel parses into the AST", "[parser]") {
  test::Source src("kernel k[B=4](x: Tensor[(N,), f32]):\n"
                   "    with Kernel(1, threads=32) as bx:\n"
                   "        for i in range(B):\n"
                   "            pass\n");
  std::optional<ast::Module> module = parseModule(src.text(), src.diags);
  REQUIRE(module);
  REQUIRE(module->kernels.size() == 1);
  const ast::Kernel &kernel = *module->kernels.front();
  CHECK(kernel.name == "k");
  REQUIRE(kernel.constParams.size() == 1);
  CHECK(kernel.constParams[0].name == "B");
  REQUIRE(kernel.params.size() == 1);
  CHECK(kernel.params[0].name == "x");
  REQUIRE(kernel.body.size() == 1);
  CHECK(llvm::isa<ast::WithStmt>(kernel.body[0].get()));
}
