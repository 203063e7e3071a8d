//===- HopperRules.h - What TMA and wgmma can do ----------------*- C++ -*-===//
//
// Part of tlc. The one rule for each of Hopper's asynchronous units, shared
// by the pass that plans TMA pipelines (tile-plan-tma, which asks about
// operands as the pipeline would leave them) and the code generator (which
// asks about operands as lowered, and lays out the boxes): which tiles TMA
// moves and how (tmaBoxFor), which shared tiles are swizzled for wgmma
// (wgmmaSwizzle), and which gemms wgmma runs (wgmmaMisfit, the first
// condition missed).
//
//===----------------------------------------------------------------------===//

#ifndef TLC_TRANSFORMS_HOPPERRULES_H
#define TLC_TRANSFORMS_HOPPERRULES_H

#include "tlc/Dialect/Tile/TileDialect.h"

#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace tlc {

/// The swizzle (bytes) TMA and wgmma use for a 2-D 16-bit shared tile: 128
/// for rows of a multiple of 128 bytes, 64 or 32 for rows of that many bytes,
/// else 0 (wgmma cannot read the tile).
int64_t wgmmaSwizzle(tile::BufferType type);

/// How TMA moves a shared tile to or from a box of a kernel tensor.
struct TmaBox {
  unsigned param = 0;             // argument number of the global tensor
  llvm::SmallVector<int64_t> box; // per tensor dimension, outermost first
  int64_t rows = 0, inner = 0;    // the tile: rows (1 for 1-D) x inner
  int64_t swizzle = 0;            // bytes: 0 (row-major), 32, 64 or 128
  int64_t chunk = 0;              // elements per swizzled chunk of a row
  int64_t bytes = 0;              // of the whole tile
};

/// The TMA box moving `tile` (1-D or 2-D, swizzled by `swizzle` bytes) to or
/// from the global tile `view`, or nothing, with the reason in `whyNot`.
std::optional<TmaBox> tmaBoxFor(tile::ViewOp view, tile::BufferType tile,
                                int64_t swizzle, std::string *whyNot = nullptr);

/// What a gemm operand is, as far as wgmma cares.
struct WgmmaOperand {
  enum Where { Other, SharedTile, Fragment } where = Other;
  int64_t swizzle = 0;            // shared tiles: the swizzle in bytes, or 0
  int64_t warpsM = 0, warpsN = 0; // fragments in the mma layout, else 0
  bool f32 = false;               // fragments: f32 elements
};

/// The first condition that `gemm`, run by `threads` threads on operands
/// `a`, `b` and `c`, misses for wgmma, or an empty string when it fits.
std::string wgmmaMisfit(tile::GemmOp gemm, const WgmmaOperand &a,
                        const WgmmaOperand &b, const WgmmaOperand &c,
                        int64_t threads);

/// The warp split of a fragment that tile-infer-layouts gave the mma
/// layout (`tile.layout = {kind = "mma", warps_m, warps_n}`), or nothing.
struct MmaWarps {
  int64_t m, n;
};
std::optional<MmaWarps> mmaWarpsOf(tile::AllocOp fragment);

} // namespace tlc

#endif // TLC_TRANSFORMS_HOPPERRULES_H
