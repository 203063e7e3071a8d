//===- TileTypes.td - Types of the tile dialect ------------*- tablegen -*-===//
//
// Part of tlc. Buffer and channel types.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_DIALECT_TILE_TILETYPES_TD
#define TLC_DIALECT_TILE_TILETYPES_TD

include "tlc/Dialect/Tile/TileBase.td"
include "mlir/IR/AttrTypeBase.td"

class Tile_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Tile_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

//===----------------------------------------------------------------------===//
// BufferType
//===----------------------------------------------------------------------===//

def Tile_BufferType : Tile_Type<"Buffer", "buffer"> {
  let summary = "a buffer in global, shared, fragment or local memory";
  let description = [{
    A multi-dimensional buffer of scalars living in one memory scope:

    * `global`: device memory; the kernel's tensor parameters. Only global
      buffers may have dynamic (`?`) dimensions.
    * `shared`: on-chip shared memory of a thread block.
    * `fragment`: a tile distributed over the registers of the block's
      threads (e.g. a gemm accumulator).
    * `local`: per-thread registers.

    The element type is one of bf16, f16, f32, f64, i1, i8, i32, i64. The
    optional trailing layout is an arbitrary attribute interpreted by later
    passes (e.g. a shared-memory swizzle).

    Example:

    ```mlir
    !tile.buffer<?x?xbf16, global>
    !tile.buffer<128x32xbf16, shared>
    !tile.buffer<64x64xbf16, shared, {swizzle = 128 : i64}>
    !tile.buffer<f32, local>
    ```
  }];

  let parameters = (ins
    ArrayRefParameter<"int64_t", "shape">:$shape,
    "::mlir::Type":$elementType,
    EnumParameter<Tile_MemoryScope>:$scope,
    OptionalParameter<"::mlir::Attribute", "layout (may be null)">:$layout
  );

  let skipDefaultBuilders = 1;
  let builders = [
    TypeBuilder<(ins "::llvm::ArrayRef<int64_t>":$shape,
                     "::mlir::Type":$elementType,
                     "::tlc::tile::MemoryScope":$scope,
                     CArg<"::mlir::Attribute", "{}">:$layout), [{
      return $_get($_ctxt, shape, elementType, scope, layout);
    }]>
  ];

  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;

  let extraClassDeclaration = [{
    /// Number of dimensions (0 for a scalar buffer).
    int64_t getRank() const { return getShape().size(); }
    /// True when no dimension is dynamic.
    bool hasStaticShape() const {
      return !::llvm::is_contained(getShape(), ::mlir::ShapedType::kDynamic);
    }
    /// Total number of elements; only meaningful for a static shape.
    int64_t getNumElements() const;
  }];
}

//===----------------------------------------------------------------------===//
// ChannelType
//===----------------------------------------------------------------------===//

def Tile_ChannelType : Tile_Type<"Channel", "channel"> {
  let summary = "a ring of shared-memory slots with full/empty barriers";
  let description = [{
    A producer/consumer channel between warp-specialized roles: a ring of
    `stages` shared-memory slots, each a buffer of the given static shape and
    element type, guarded by a "full" and an "empty" barrier per slot.
    `tile.put` fills the next empty slot, `tile.get` consumes the next full
    one.

    Example:

    ```mlir
    !tile.channel<64x128xbf16, stages = 2>
    ```
  }];

  let parameters = (ins
    ArrayRefParameter<"int64_t", "slot shape">:$shape,
    "::mlir::Type":$elementType,
    "int64_t":$stages
  );

  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;

  let extraClassDeclaration = [{
    /// The type of one slot: a shared buffer of the channel's shape and
    /// element type (the type of the `tile.get` block argument).
    BufferType getSlotType() const;
  }];
}

#endif // TLC_DIALECT_TILE_TILETYPES_TD
