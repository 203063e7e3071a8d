//===- WgmmaRule.h - When a gemm can run on wgmma --------------*- C++ -*-===//
//
// Part of tlc. The one rule for Hopper's wgmma, shared by the TMA pipeline
// planner (which asks about operands as the pipeline would leave them) and
// the gemm lowering (which asks about operands as lowered): both describe
// the operands as WgmmaOperands and get back the first condition missed.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_CODEGEN_WGMMARULE_H
#define TLC_CODEGEN_WGMMARULE_H

#include "tlc/Dialect/Tile/TileDialect.h"

#include <optional>
#include <string>

namespace tlc {

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

#endif // TLC_CODEGEN_WGMMARULE_H
