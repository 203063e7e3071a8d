//===- WgmmaRule.cpp - When a gemm can run on wgmma ----------------------===//
//
// Part of tlc. See WgmmaRule.h.
//
//===----------------------------------------------------------------------===//

#include "tlc/Codegen/WgmmaRule.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace tlc;
using namespace tlc::tile;

std::string tlc::wgmmaMisfit(GemmOp gemm, const WgmmaOperand &a,
                             const WgmmaOperand &b, const WgmmaOperand &c,
                             int64_t threads) {
  Type elem = gemm.getA().getType().getElementType();
  ArrayRef<int64_t> cShape = gemm.getC().getType().getShape();
  ArrayRef<int64_t> aShape = gemm.getA().getType().getShape();
  int64_t m = cShape[0], n = cShape[1];
  int64_t k = gemm.getTransposeA() ? aShape[0] : aShape[1];
  std::string why;
  llvm::raw_string_ostream os(why);
  if (!(elem.isBF16() || elem.isF16()))
    os << "its inputs are " << formatType(elem) << ", not bf16 or f16";
  else if (b.where != WgmmaOperand::SharedTile || !b.swizzle)
    os << "B is "
       << (b.where == WgmmaOperand::Fragment ? "a fragment"
                                             : "not a swizzled shared tile")
       << "; wgmma reads B from swizzled shared memory";
  else if (c.where != WgmmaOperand::Fragment || !c.f32)
    os << "the accumulator is not an f32 fragment";
  else if (a.where == WgmmaOperand::SharedTile && !a.swizzle)
    os << "A is a shared tile without a swizzle";
  else if (a.where == WgmmaOperand::Fragment && gemm.getTransposeA())
    os << "A is a transposed fragment; wgmma reads registers untransposed";
  else if (a.where == WgmmaOperand::Fragment &&
           (a.warpsN != 1 || a.warpsM != c.warpsM))
    os << "A is a fragment whose layout is not the accumulator's rows";
  else if (a.where == WgmmaOperand::Other)
    os << "A is neither a swizzled shared tile nor a fragment";
  else if (c.warpsN != 1 || c.warpsM * 16 != m || m % 64 ||
           m / 64 * 128 != threads)
    os << "the accumulator (" << m << " rows) is not laid out as 64 rows "
       << "per warpgroup of the " << threads << " threads running it";
  else if (n % 16 || n > 256)
    os << "N = " << n << " is not a multiple of 16 up to 256";
  else if (k % 16)
    os << "K = " << k << " is not a multiple of 16";
  return why;
}

std::optional<MmaWarps> tlc::mmaWarpsOf(AllocOp fragment) {
  auto layout =
      fragment->getAttrOfType<DictionaryAttr>(TileDialect::getLayoutAttrName());
  if (!layout || layout.getAs<StringAttr>("kind").getValue() != "mma")
    return std::nullopt;
  return MmaWarps{layout.getAs<IntegerAttr>("warps_m").getInt(),
                  layout.getAs<IntegerAttr>("warps_n").getInt()};
}
