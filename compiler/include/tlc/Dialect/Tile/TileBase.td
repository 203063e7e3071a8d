//===- TileBase.td - The tile dialect and its enums --------*- tablegen -*-===//
//
// Part of tlc. The `tile` dialect: tile-level GPU kernel IR.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_DIALECT_TILE_TILEBASE_TD
#define TLC_DIALECT_TILE_TILEBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Dialect
//===----------------------------------------------------------------------===//

def Tile_Dialect : Dialect {
  let name = "tile";
  let cppNamespace = "::tlc::tile";
  let summary = "Tile-level GPU kernel IR";
  let description = [{
    Tile-level GPU kernel IR: buffers in global, shared, fragment (per-thread
    registers holding a distributed tile) or local (per-thread scalar
    registers) memory, and destination-passing tile ops (copy, gemm,
    reductions, ...) that know exactly which regions they read and write.

    The dialect reuses upstream dialects for everything that is not
    tile-specific:

    * scalars use `arith` and `math`;
    * loops use `scf.for` and `scf.if`; a software-pipelined loop is an
      `scf.for` carrying the discardable attribute
      `tile.num_stages = S : i64` (S >= 1);
    * kernels are `func.func` ops carrying the unit attribute `tile.kernel`.
      Their arguments are global buffers or i32/i64/f32 scalars; a buffer
      argument may carry `tile.dims = ["M", "K"]`, the symbolic name of each
      dimension. The optional `tile.constants` dictionary records the
      compile-time constants the kernel was instantiated with. The body
      contains exactly one `tile.launch`.
  }];

  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"
  ];

  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;

  let extraClassDeclaration = [{
    /// Names of the discardable attributes owned by this dialect.
    static ::llvm::StringRef getKernelAttrName() { return "tile.kernel"; }
    static ::llvm::StringRef getConstantsAttrName() {
      return "tile.constants";
    }
    static ::llvm::StringRef getNumStagesAttrName() {
      return "tile.num_stages";
    }
    static ::llvm::StringRef getDimsAttrName() { return "tile.dims"; }
    /// The source name of a kernel parameter (for metadata and messages).
    static ::llvm::StringRef getParamNameAttrName() { return "tile.name"; }
    /// The thread<->element layout chosen for a fragment allocation:
    /// {kind = "strided"} or {kind = "mma", warps_m = WM, warps_n = WN}.
    static ::llvm::StringRef getLayoutAttrName() { return "tile.layout"; }
    /// Set by tile-plan-prefetch on a global->shared `tile.copy` of a
    /// Pipelined loop: the copy is prefetched into a ring of that many
    /// shared buffers (its destination's only writer in the loop).
    static ::llvm::StringRef getPrefetchAttrName() { return "tile.prefetch"; }
    /// Set by tile-plan-tma on a Pipelined loop whose prefetch rings TMA
    /// fills on sm_90a: {producer_threads = 0 | 128, producer_regs = R,
    /// consumer_regs = R (0: no setmaxnreg), wait_depth = D (wgmma groups
    /// left in flight across iterations)}.
    static ::llvm::StringRef getTmaPipelineAttrName() {
      return "tile.tma_pipeline";
    }
    /// Set by tile-plan-tma on a 2-D 16-bit shared allocation that TMA and
    /// wgmma use swizzled: the swizzle in bytes (32, 64 or 128).
    static ::llvm::StringRef getSwizzleAttrName() { return "tile.swizzle"; }

  private:
    void registerTypes();
    void registerAttributes();
  }];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tile_MemoryScope : I32Enum<"MemoryScope", "memory scope of a buffer", [
    I32EnumCase<"Global", 0, "global">,
    I32EnumCase<"Shared", 1, "shared">,
    I32EnumCase<"Fragment", 2, "fragment">,
    I32EnumCase<"Local", 3, "local">
  ]> {
  let cppNamespace = "::tlc::tile";
}

def Tile_ReduceKind : I32Enum<"ReduceKind", "reduction combiner", [
    I32EnumCase<"Sum", 0, "sum">,
    I32EnumCase<"Max", 1, "max">,
    I32EnumCase<"Min", 2, "min">
  ]> {
  let cppNamespace = "::tlc::tile";
}

// Written `#tile<reduce_kind sum>` in full; tile.reduce prints it as the bare
// keyword `sum`.
def Tile_ReduceKindAttr : EnumAttr<Tile_Dialect, Tile_ReduceKind,
                                   "reduce_kind">;

#endif // TLC_DIALECT_TILE_TILEBASE_TD
