//===- Lexer.cpp - Tokens of the .tl language -----------------------------===//

#include "tlc/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <cerrno>
#include <cstdlib>

using namespace tlc;

llvm::StringRef tlc::describeTokenKind(Token::Kind kind) {
  switch (kind) {
  case Token::Eof:
    return "end of file";
  case Token::Error:
    return "invalid token";
  case Token::Newline:
    return "end of line";
  case Token::Indent:
    return "an indented block";
  case Token::Dedent:
    return "the end of the block";
  case Token::Identifier:
    return "a name";
  case Token::Integer:
    return "an integer";
  case Token::Float:
    return "a number";
  case Token::String:
    return "a string";
  case Token::KwKernel:
    return "'kernel'";
  case Token::KwWith:
    return "'with'";
  case Token::KwAs:
    return "'as'";
  case Token::KwFor:
    return "'for'";
  case Token::KwIn:
    return "'in'";
  case Token::KwIf:
    return "'if'";
  case Token::KwElif:
    return "'elif'";
  case Token::KwElse:
    return "'else'";
  case Token::KwLet:
    return "'let'";
  case Token::KwPass:
    return "'pass'";
  case Token::KwAnd:
    return "'and'";
  case Token::KwOr:
    return "'or'";
  case Token::KwNot:
    return "'not'";
  case Token::KwTrue:
    return "'True'";
  case Token::KwFalse:
    return "'False'";
  case Token::LParen:
    return "'('";
  case Token::RParen:
    return "')'";
  case Token::LBracket:
    return "'['";
  case Token::RBracket:
    return "']'";
  case Token::Comma:
    return "','";
  case Token::Colon:
    return "':'";
  case Token::Assign:
    return "'='";
  case Token::Plus:
    return "'+'";
  case Token::Minus:
    return "'-'";
  case Token::Star:
    return "'*'";
  case Token::Slash:
    return "'/'";
  case Token::SlashSlash:
    return "'//'";
  case Token::Percent:
    return "'%'";
  case Token::EqEq:
    return "'=='";
  case Token::NotEq:
    return "'!='";
  case Token::Less:
    return "'<'";
  case Token::LessEq:
    return "'<='";
  case Token::Greater:
    return "'>'";
  case Token::GreaterEq:
    return "'>='";
  case Token::PlusAssign:
    return "'+='";
  case Token::MinusAssign:
    return "'-='";
  case Token::StarAssign:
    return "'*='";
  case Token::SlashAssign:
    return "'/='";
  }
  llvm_unreachable("unknown token kind");
}

Lexer::Lexer(llvm::StringRef buffer, Diagnostics &diags)
    : buffer(buffer), cur(buffer.begin()), end(buffer.end()), diags(diags) {}

Token Lexer::make(Token::Kind kind, const char *start) const {
  Token tok;
  tok.kind = kind;
  tok.spelling = llvm::StringRef(start, cur - start);
  return tok;
}

Token Lexer::fail(const char *at, const llvm::Twine &message) {
  diags.error(llvm::SMLoc::getFromPointer(at), message);
  failed = true;
  Token tok;
  tok.kind = Token::Error;
  tok.spelling = llvm::StringRef(at, 0);
  return tok;
}

/// Handles indentation at the start of a logical line. Skips blank and
/// comment-only lines. Queues INDENT/DEDENT tokens (and, at the end of the
/// file, the final NEWLINE and DEDENTs). Returns false after an error.
bool Lexer::startLine(llvm::SmallVectorImpl<Token> &out) {
  while (true) {
    const char *lineStart = cur;
    unsigned column = 0;
    while (cur != end && (*cur == ' ' || *cur == '\t')) {
      if (*cur == '\t') {
        fail(cur, "tab character in indentation; indent with spaces only");
        return false;
      }
      ++column;
      ++cur;
    }
    if (cur != end && *cur == '#') {
      while (cur != end && *cur != '\n')
        ++cur;
    }
    if (cur != end && *cur == '\r' && cur + 1 != end && cur[1] == '\n')
      ++cur;
    if (cur != end && *cur == '\n') {
      ++cur;
      continue; // Blank or comment-only line.
    }
    if (cur == end) {
      Token eofTok;
      eofTok.spelling = llvm::StringRef(end, 0);
      if (emittedContent && lastKind != Token::Newline) {
        eofTok.kind = Token::Newline;
        out.push_back(eofTok);
      }
      eofTok.kind = Token::Dedent;
      for (size_t i = 1; i < indentStack.size(); ++i)
        out.push_back(eofTok);
      indentStack.resize(1);
      eofTok.kind = Token::Eof;
      out.push_back(eofTok);
      return true;
    }
    Token layout;
    layout.spelling = llvm::StringRef(cur, 0);
    if (column > indentStack.back()) {
      if (indentStack.size() > kMaxIndentDepth) {
        fail(cur, "blocks are nested too deeply (more than " +
                      llvm::Twine(kMaxIndentDepth) + " levels)");
        return false;
      }
      indentStack.push_back(column);
      layout.kind = Token::Indent;
      out.push_back(layout);
    } else {
      while (column < indentStack.back()) {
        indentStack.pop_back();
        layout.kind = Token::Dedent;
        out.push_back(layout);
      }
      if (column != indentStack.back()) {
        fail(lineStart + column,
             "unindent does not match any outer indentation level");
        return false;
      }
    }
    return true;
  }
}

Token Lexer::next() {
  Token tok = lexToken();
  lastKind = tok.kind;
  return tok;
}

Token Lexer::lexToken() {
  if (failed)
    return make(Token::Eof, end);
  if (!pending.empty()) {
    Token front = pending.front();
    pending.erase(pending.begin());
    return front;
  }
  if (atLineStart && bracketDepth == 0) {
    atLineStart = false;
    if (!startLine(pending))
      return make(Token::Error, cur);
    if (!pending.empty())
      return lexToken();
  }

  // Skip whitespace, comments and (inside brackets) line breaks.
  while (cur != end) {
    char c = *cur;
    if (c == ' ' || c == '\t' || c == '\r') {
      ++cur;
    } else if (c == '#') {
      while (cur != end && *cur != '\n')
        ++cur;
    } else if (c == '\n' && bracketDepth > 0) {
      ++cur;
    } else {
      break;
    }
  }

  if (cur == end) {
    if (bracketDepth > 0)
      return fail(openBrackets.back(), "'" + llvm::Twine(*openBrackets.back()) +
                                           "' was never closed");
    atLineStart = true;
    return lexToken();
  }

  const char *start = cur;
  char c = *cur++;
  if (c == '\n') {
    atLineStart = true;
    return make(Token::Newline, start);
  }
  if (llvm::isDigit(c) || (c == '.' && cur != end && llvm::isDigit(*cur)))
    return lexNumber(start);
  if (llvm::isAlpha(c) || c == '_')
    return lexIdentifier(start);
  if (c == '"' || c == '\'')
    return lexString(start);

  emittedContent = true;
  auto follows = [&](char next) {
    if (cur != end && *cur == next) {
      ++cur;
      return true;
    }
    return false;
  };
  switch (c) {
  case '(':
  case '[':
    ++bracketDepth;
    openBrackets.push_back(start);
    return make(c == '(' ? Token::LParen : Token::LBracket, start);
  case ')':
  case ']':
    if (bracketDepth > 0) {
      char open = *openBrackets.back();
      if ((open == '(') != (c == ')'))
        return fail(start, llvm::Twine("'") + llvm::Twine(c) +
                               "' does not match '" + llvm::Twine(open) + "'");
      --bracketDepth;
      openBrackets.pop_back();
    }
    return make(c == ')' ? Token::RParen : Token::RBracket, start);
  case ',':
    return make(Token::Comma, start);
  case ':':
    return make(Token::Colon, start);
  case '+':
    return make(follows('=') ? Token::PlusAssign : Token::Plus, start);
  case '-':
    return make(follows('=') ? Token::MinusAssign : Token::Minus, start);
  case '*':
    return make(follows('=') ? Token::StarAssign : Token::Star, start);
  case '/':
    if (follows('/'))
      return make(Token::SlashSlash, start);
    return make(follows('=') ? Token::SlashAssign : Token::Slash, start);
  case '%':
    return make(Token::Percent, start);
  case '=':
    return make(follows('=') ? Token::EqEq : Token::Assign, start);
  case '!':
    if (follows('='))
      return make(Token::NotEq, start);
    break;
  case '<':
    return make(follows('=') ? Token::LessEq : Token::Less, start);
  case '>':
    return make(follows('=') ? Token::GreaterEq : Token::Greater, start);
  default:
    break;
  }
  if (llvm::isPrint(c))
    return fail(start,
                llvm::Twine("unexpected character '") + llvm::Twine(c) + "'");
  return fail(start, "invalid byte 0x" +
                         llvm::utohexstr(static_cast<unsigned char>(c)) +
                         " in source (is this a text file?)");
}

Token Lexer::lexNumber(const char *start) {
  emittedContent = true;
  bool isFloat = *start == '.';
  while (cur != end && llvm::isDigit(*cur))
    ++cur;
  if (cur != end && *cur == '.' && !isFloat) {
    isFloat = true;
    ++cur;
    while (cur != end && llvm::isDigit(*cur))
      ++cur;
  }
  if (cur != end && (*cur == 'e' || *cur == 'E')) {
    const char *exp = cur++;
    if (cur != end && (*cur == '+' || *cur == '-'))
      ++cur;
    if (cur == end || !llvm::isDigit(*cur))
      return fail(exp, "malformed exponent in number");
    while (cur != end && llvm::isDigit(*cur))
      ++cur;
    isFloat = true;
  }
  if (cur != end && (llvm::isAlpha(*cur) || *cur == '_'))
    return fail(cur, "unexpected character '" + llvm::Twine(*cur) +
                         "' after number");
  Token tok = make(isFloat ? Token::Float : Token::Integer, start);
  if (!isFloat) {
    uint64_t value;
    if (tok.spelling.getAsInteger(10, value) || value > INT64_MAX)
      return fail(start, "integer literal is too large for 64 bits");
  }
  return tok;
}

Token Lexer::lexIdentifier(const char *start) {
  emittedContent = true;
  while (cur != end && (llvm::isAlnum(*cur) || *cur == '_'))
    ++cur;
  Token tok = make(Token::Identifier, start);
  tok.kind = llvm::StringSwitch<Token::Kind>(tok.spelling)
                 .Case("kernel", Token::KwKernel)
                 .Case("with", Token::KwWith)
                 .Case("as", Token::KwAs)
                 .Case("for", Token::KwFor)
                 .Case("in", Token::KwIn)
                 .Case("if", Token::KwIf)
                 .Case("elif", Token::KwElif)
                 .Case("else", Token::KwElse)
                 .Case("let", Token::KwLet)
                 .Case("pass", Token::KwPass)
                 .Case("and", Token::KwAnd)
                 .Case("or", Token::KwOr)
                 .Case("not", Token::KwNot)
                 .Case("True", Token::KwTrue)
                 .Case("False", Token::KwFalse)
                 .Default(Token::Identifier);
  return tok;
}

Token Lexer::lexString(const char *start) {
  emittedContent = true;
  char quote = *start;
  while (cur != end && *cur != quote && *cur != '\n')
    ++cur;
  if (cur == end || *cur != quote)
    return fail(start, "unterminated string");
  ++cur;
  return make(Token::String, start);
}
