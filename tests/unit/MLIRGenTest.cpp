//===- MLIRGenTest.cpp - Building the tile dialect from source ------------===//

#include "TestUtil.h"

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Frontend/Parser.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

using namespace tlc;

namespace {

struct Compiled {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string errors;
};

std::unique_ptr<Compiled> compile(const std::string &text,
                                  std::vector<std::string> defines = {}) {
  auto result = std::make_unique<Compiled>();
  test::Source src(text);
  std::optional<ast::Module> module = parseModule(src.text(), src.diags);
  if (module) {
    FrontendOptions options;
    options.defines = std::move(defines);
    result->module =
        buildTileModule(result->context, *module, options, src.diags);
  }
  result->errors = src.errors();
  return result;
}

const char *kAxpy = R"(
kernel axpy[BN=128](X: Tensor[(N,), f32], Y: Tensor[(N,), f32], a: f32):
    with Kernel(cdiv(N, BN), threads=128) as bx:
        x = alloc_fragment((BN,), f32)
        y = alloc_fragment((BN,), f32)
        copy(X[bx * BN], x)
        copy(Y[bx * BN], y)
        for i in Parallel(BN):
            y[i] = a * x[i] + y[i]
        copy(y, Y[bx * BN])
)";

} // namespace

TEST_CASE("a kernel becomes a func.func with a tile.launch", "[mlirgen]") {
  auto c = compile(kAxpy);
  INFO(c->errors);
  REQUIRE(c->module);
  auto func = c->module->lookupSymbol<mlir::func::FuncOp>("axpy");
  REQUIRE(func);
  CHECK(func->hasAttr("tile.kernel"));
  CHECK(func.getNumArguments() == 3);
  auto xType = llvm::dyn_cast<tile::BufferType>(func.getArgumentTypes()[0]);
  REQUIRE(xType);
  CHECK(xType.getScope() == tile::MemoryScope::Global);
  CHECK(xType.getShape()[0] == mlir::ShapedType::kDynamic);
  int launches = 0, copies = 0, parallels = 0;
  func.walk([&](mlir::Operation *op) {
    launches += llvm::isa<tile::LaunchOp>(op);
    copies += llvm::isa<tile::CopyOp>(op);
    parallels += llvm::isa<tile::ParallelOp>(op);
  });
  CHECK(launches == 1);
  CHECK(copies == 3);
  CHECK(parallels == 1);
}

TEST_CASE("a define (-D) overrides a compile-time parameter", "[mlirgen]") {
  auto c = compile(kAxpy, {"BN=256"});
  INFO(c->errors);
  REQUIRE(c->module);
  auto func = c->module->lookupSymbol<mlir::func::FuncOp>("axpy");
  auto constants = func->getAttrOfType<mlir::DictionaryAttr>("tile.constants");
  REQUIRE(constants);
  CHECK(llvm::cast<mlir::IntegerAttr>(constants.get("BN")).getInt() == 256);
  bool sawTile256 = false;
  func.walk([&](tile::AllocOp alloc) {
    sawTile256 |= alloc.getType().getShape()[0] == 256;
  });
  CHECK(sawTile256);
}

TEST_CASE("a -D for an unknown parameter is an error", "[mlirgen]") {
  auto c = compile(kAxpy, {"BM=64"});
  CHECK_FALSE(c->module);
  CHECK_THAT(c->errors, Catch::Contains("-D BM: no compiled kernel has a "
                                        "compile-time parameter"));
}

TEST_CASE("names assigned twice become local cells", "[mlirgen]") {
  auto c = compile(R"(
kernel k(X: Tensor[(N,), f32]):
    with Kernel(1, threads=32) as bx:
        s = 0.0
        for i in range(N):
            s += X[i]
        X[0] = s
)");
  INFO(c->errors);
  REQUIRE(c->module);
  int cells = 0;
  c->module->walk([&](tile::AllocOp alloc) {
    cells += alloc.getType().getRank() == 0 &&
             alloc.getType().getScope() == tile::MemoryScope::Local;
  });
  CHECK(cells == 1);
}

TEST_CASE("verifier errors point at the source line", "[mlirgen]") {
  auto c = compile(R"(
kernel k(A: Tensor[(M, K), bf16]):
    with Kernel(1, threads=128) as bx:
        a = alloc_shared((64, 32), bf16)
        b = alloc_shared((64, 64), bf16)
        acc = alloc_fragment((64, 64), f32)
        gemm(a, b, acc)
)");
  CHECK_FALSE(c->module);
  CHECK_THAT(c->errors, Catch::Contains("test.tl:7:9: error: gemm:"));
  CHECK_THAT(c->errors, Catch::Contains("gemm(a, b, acc)"));
}
