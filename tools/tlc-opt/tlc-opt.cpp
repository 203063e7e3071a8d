//===- tlc-opt.cpp - mlir-opt for tlc -------------------------------------===//
//
// Part of tlc. Parses, verifies, transforms and prints IR of the tile dialect
// together with the upstream dialects it is used with (func, arith, math,
// scf).
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerCSEPass();
  mlir::registerCanonicalizerPass();
  mlir::registerSymbolDCEPass();
  tlc::registerPasses();

  mlir::DialectRegistry registry;
  registry.insert<tlc::tile::TileDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tlc optimizer driver\n", registry));
}
