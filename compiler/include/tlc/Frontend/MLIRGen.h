//===- MLIRGen.h - Type checking and tile-dialect construction -*- C++ -*-===//
//
// MLIRGen walks the AST of a `.tl` file, checks it (names, types, shapes,
// scopes, argument lists, compile-time constants) and builds one `func.func`
// per kernel in the tile dialect. Shape rules that the ops themselves state
// are checked once, by the op verifiers, whose messages are written for
// users and are printed at the `.tl` location like every other diagnostic.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_FRONTEND_MLIRGEN_H
#define TLC_FRONTEND_MLIRGEN_H

#include "tlc/Frontend/AST.h"
#include "tlc/Frontend/Diagnostics.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace tlc {

struct FrontendOptions {
  /// Build only this kernel; empty builds every kernel of the file.
  std::string kernelName;
  /// `NAME=VALUE` overrides of compile-time parameters (`-D`).
  std::vector<std::string> defines;
};

/// Registers the dialects that the front end produces.
void registerFrontendDialects(mlir::DialectRegistry &registry);

/// Builds and verifies the tile-dialect module for `module`, whose source is
/// a buffer of `diags.getSourceMgr()`. Returns null after reporting errors.
mlir::OwningOpRef<mlir::ModuleOp>
buildTileModule(mlir::MLIRContext &context, const ast::Module &module,
                const FrontendOptions &options, Diagnostics &diags);

} // namespace tlc

#endif // TLC_FRONTEND_MLIRGEN_H
