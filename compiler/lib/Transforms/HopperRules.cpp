//===- HopperRules.cpp - What TMA and wgmma can do -----------------------===//
//
// Part of tlc. See HopperRules.h.
//
//===----------------------------------------------------------------------===//

#include "tlc/Transforms/HopperRules.h"

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

int64_t tlc::wgmmaSwizzle(BufferType type) {
  Type elem = type.getElementType();
  if (type.getRank() != 2 || !(elem.isBF16() || elem.isF16()))
    return 0;
  int64_t rowBytes = type.getShape()[1] * 2;
  if (rowBytes == 32 || rowBytes == 64 || rowBytes % 128 == 0)
    return std::min<int64_t>(rowBytes, 128);
  return 0;
}

std::optional<TmaBox> tlc::tmaBoxFor(ViewOp view, BufferType tile,
                                     int64_t swizzle, std::string *whyNot) {
  auto fail = [&](StringRef why) -> std::optional<TmaBox> {
    if (whyNot)
      *whyNot = why.str();
    return std::nullopt;
  };
  if (!view || !isa<BlockArgument>(view.getSource()))
    return fail("its global side is not a tile of a kernel tensor");
  if (view.getType().getElementType() != tile.getElementType())
    return fail("it converts element types");
  auto tensor = cast<BufferType>(view.getSource().getType());
  Type elem = tile.getElementType();
  int64_t rank = tensor.getRank();
  if (!(elem.isBF16() || elem.isF16() || elem.isF32()))
    return fail("TMA here moves bf16, f16 or f32");
  if (rank > 5)
    return fail("the tensor has more than 5 dimensions");
  if (tile.getRank() != 2 && tile.getRank() != 1)
    return fail("the shared tile is neither 1-D nor 2-D");
  ArrayRef<int64_t> dropped = view.getDroppedDims();
  SmallVector<int64_t> kept;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(dropped, d))
      kept.push_back(d);
  // The tile's rows run along one tensor dimension and its contiguous
  // dimension is the tensor's innermost one (stride 1, checked at launch).
  // A 1-D tile is one row.
  if (kept.size() != static_cast<size_t>(tile.getRank()) ||
      kept.back() != rank - 1)
    return fail("the tile's rows do not run along the tensor's innermost "
                "dimension");
  TmaBox t;
  t.param = cast<BlockArgument>(view.getSource()).getArgNumber();
  t.rows = tile.getRank() == 2 ? tile.getShape()[0] : 1;
  t.inner = tile.getShape().back();
  int64_t width = elem.getIntOrFloatBitWidth() / 8;
  t.swizzle = swizzle;
  // Swizzled rows go in chunks of one swizzle span; a row-major box is
  // one chunk, at most 256 elements of a multiple of 16 bytes.
  t.chunk = swizzle ? swizzle / width : t.inner;
  if (t.rows > 256 || t.chunk > 256 || t.chunk * width % 16 ||
      t.inner % t.chunk)
    return fail("a TMA box has at most 256 rows of at most 256 elements, a "
                "multiple of 16 bytes");
  t.bytes = t.rows * t.inner * width;
  for (int64_t d = 0; d < rank; ++d)
    t.box.push_back(d == rank - 1 ? t.chunk : d == kept[0] ? t.rows : 1);
  return t;
}
