//===- Parser.h - Recursive-descent parser for .tl -------------*- C++ -*-===//

#ifndef TLC_FRONTEND_PARSER_H
#define TLC_FRONTEND_PARSER_H

#include "tlc/Frontend/AST.h"
#include "tlc/Frontend/Diagnostics.h"

#include <optional>

namespace tlc {

/// Parses a whole `.tl` buffer. Returns std::nullopt after reporting the first
/// syntax error through `diags`.
std::optional<ast::Module> parseModule(llvm::StringRef buffer,
                                       Diagnostics &diags);

/// Parses a single expression that fills `buffer` (used for `-D NAME=VALUE`).
ast::ExprPtr parseExpression(llvm::StringRef buffer, Diagnostics &diags);

} // namespace tlc

#endif // TLC_FRONTEND_PARSER_H
