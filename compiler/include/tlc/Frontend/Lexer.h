//===- Lexer.h - Tokens of the .tl language --------------------*- C++ -*-===//
//
// A hand-written lexer with Python-style layout: the lexer turns changes of
// indentation into INDENT/DEDENT tokens and ends logical lines with NEWLINE,
// except inside brackets where lines join.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_FRONTEND_LEXER_H
#define TLC_FRONTEND_LEXER_H

#include "tlc/Frontend/Diagnostics.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace tlc {

struct Token {
  enum Kind {
    Eof,
    Error,
    Newline,
    Indent,
    Dedent,
    Identifier,
    Integer,
    Float,
    String,
    // Keywords.
    KwKernel,
    KwWith,
    KwAs,
    KwFor,
    KwIn,
    KwIf,
    KwElif,
    KwElse,
    KwLet,
    KwPass,
    KwAnd,
    KwOr,
    KwNot,
    KwTrue,
    KwFalse,
    // Punctuation.
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Assign,
    Plus,
    Minus,
    Star,
    Slash,
    SlashSlash,
    Percent,
    EqEq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    PlusAssign,
    MinusAssign,
    StarAssign,
    SlashAssign,
  };

  Kind kind = Eof;
  llvm::StringRef spelling;
  llvm::SMLoc getLoc() const {
    return llvm::SMLoc::getFromPointer(spelling.data());
  }
  bool is(Kind k) const { return kind == k; }
};

/// Returns a human-readable description of a token kind ("':'", "end of
/// line"), used in "expected X" diagnostics.
llvm::StringRef describeTokenKind(Token::Kind kind);

class Lexer {
public:
  /// Nesting of indented blocks is limited so that hostile input cannot
  /// exhaust the parser's stack.
  static constexpr unsigned kMaxIndentDepth = 64;

  Lexer(llvm::StringRef buffer, Diagnostics &diags);

  /// Returns the next token; after an error it returns Token::Error once and
  /// then Token::Eof forever.
  Token next();

private:
  Token lexToken();
  Token make(Token::Kind kind, const char *start) const;
  Token fail(const char *at, const llvm::Twine &message);
  bool startLine(llvm::SmallVectorImpl<Token> &pending);
  Token lexNumber(const char *start);
  Token lexIdentifier(const char *start);
  Token lexString(const char *start);

  llvm::StringRef buffer;
  const char *cur;
  const char *end;
  Diagnostics &diags;
  llvm::SmallVector<unsigned, 16> indentStack{0};
  llvm::SmallVector<Token, 8> pending;
  llvm::SmallVector<const char *, 8> openBrackets;
  unsigned bracketDepth = 0;
  bool atLineStart = true;
  bool emittedContent = false;
  bool failed = false;
  Token::Kind lastKind = Token::Newline;
};

} // namespace tlc

#endif // TLC_FRONTEND_LEXER_H
