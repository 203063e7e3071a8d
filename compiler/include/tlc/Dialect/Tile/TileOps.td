//===- TileOps.td - Operations of the tile dialect ---------*- tablegen -*-===//
//
// Part of tlc. Kernel structure, buffers and destination-passing tile ops.
//
// The op names, operand orders and attribute names are a contract with the
// front end (compiler/lib/Frontend), which builds these ops from C++ with the
// ODS-generated builders.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_DIALECT_TILE_TILEOPS_TD
#define TLC_DIALECT_TILE_TILEOPS_TD

include "tlc/Dialect/Tile/TileBase.td"
include "tlc/Dialect/Tile/TileTypes.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Tile_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tile_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Kernel structure
//===----------------------------------------------------------------------===//

def Tile_LaunchOp : Tile_Op<"launch", [
    SingleBlock, NoTerminator,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "launch a grid of thread blocks";
  let description = [{
    The body of a kernel: runs the region once per thread block of a 1-, 2-
    or 3-dimensional grid whose extents are the `grid` operands, with
    `threads` threads per block (1 to 1024). The entry block has one `index`
    argument per grid dimension: the block's coordinates. Buffers allocated
    inside the region live for one block.

    The optional `cluster` groups the blocks into thread-block clusters
    (sm_90): one extent per grid dimension, each at least 1, at most 16
    blocks a cluster; each grid extent must then be a multiple of its
    cluster extent (checked at launch). `tile.cluster_rank` numbers the
    blocks of a cluster.

    The optional `blocks_per_sm` (1 to 32, default 1) asks that this many
    blocks share one multiprocessor: the register budget of a thread is then
    65536 / (blocks_per_sm x threads, producer warpgroup included), and a
    block's shared memory must fit 1/blocks_per_sm of the multiprocessor's
    (less the 1 KB the hardware reserves per block). Two blocks of one
    warpgroup each put two warps on every warp scheduler, which hides the
    latency a single dependent chain leaves exposed.

    Example:

    ```mlir
    tile.launch grid(%gx, %gy) threads(128) {
    ^bb0(%bx: index, %by: index):
      %a = tile.alloc : !tile.buffer<128x32xbf16, shared>
      ...
    }
    tile.launch grid(%gx) threads(128) cluster [2] {
    ^bb0(%bx: index):
      %rank = tile.cluster_rank
      ...
    }
    tile.launch grid(%gx) threads(128) blocks_per_sm(2) {
    ^bb0(%bx: index):
      ...
    }
    ```

    With `tile.role`s in the body, the roles tile the block's warps in
    order (warpgroup roles start at a multiple of 4 warps, smaller roles do
    not straddle a warpgroup), roles sharing a warpgroup ask for the same
    `regs`, the budgets fit the 65536 registers of a multiprocessor, and the
    only other ops in the body are shared allocations, channels,
    `tile.annotate_layout` and uniform scalar code (arith, math, tile.dim).
    Every back end holds kernels to these rules (the region verifier).

    Builders: the ODS defaults, `LaunchOp::create(builder, loc, ValueRange
    grid, uint64_t threads, DenseI64ArrayAttr cluster, IntegerAttr
    blocks_per_sm)` (or `IntegerAttr threads`; a null `cluster` or
    `blocks_per_sm` for none). They leave the region
    empty: the caller adds the entry block (`getBody().emplaceBlock()`) and one
    `index` argument per grid value.
  }];

  let arguments = (ins Variadic<Index>:$grid, I64Attr:$threads,
                       OptionalAttr<DenseI64ArrayAttr>:$cluster,
                       OptionalAttr<I64Attr>:$blocks_per_sm);
  let regions = (region SizedRegion<1>:$body);

  let assemblyFormat = [{
    `grid` `(` $grid `)` `threads` `(` $threads `)` (`cluster` $cluster^)?
    (`blocks_per_sm` `(` $blocks_per_sm^ `)`)? attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// How many blocks share a multiprocessor (1 unless asked otherwise).
    int64_t getBlocksPerSM() {
      return getBlocksPerSmAttr() ? getBlocksPerSmAttr().getInt() : 1;
    }
  }];
}

def Tile_ParallelOp : Tile_Op<"parallel", [
    SingleBlock, NoTerminator, RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "an element-wise parallel loop nest over the block's threads";
  let description = [{
    Runs the body once for every point of the iteration space
    `[0, extents[0]) x [0, extents[1]) x ...`, the points being distributed
    over the threads of the block. The entry block has one `index` argument
    per extent. Iterations are independent. A `tile.parallel` must be inside
    a `tile.launch` and cannot contain another `tile.parallel`.

    Example:

    ```mlir
    tile.parallel [64, 128] {
    ^bb0(%i: index, %j: index):
      %x = tile.load %S[%i, %j] : !tile.buffer<64x128xf32, fragment>
      %y = math.exp %x : f32
      tile.store %y, %S[%i, %j] : !tile.buffer<64x128xf32, fragment>
    }
    ```

    Builder: `ParallelOp::create(builder, loc, ArrayRef<int64_t> extents)`
    leaves the region empty; the caller adds the entry block and one `index`
    argument per extent.
  }];

  let arguments = (ins DenseI64ArrayAttr:$extents);
  let regions = (region SizedRegion<1>:$body);

  let assemblyFormat = "$extents attr-dict-with-keyword $body";
  let hasVerifier = 1;
}

def Tile_RoleOp : Tile_Op<"role", [SingleBlock, NoTerminator]> {
  let summary = "a warp-specialization role";
  let description = [{
    Explicit warp specialization: the region runs on its own `warps` warps
    (a warpgroup is 4 warps) of the thread block, concurrently with the other
    roles of the same `tile.launch`. `regs`, when present, is the per-thread
    register budget of the role (applied with `setmaxnreg`): a multiple of 8
    between 24 and 256. The region has no arguments. A role must be directly
    inside a `tile.launch`.

    Example:

    ```mlir
    tile.role "loader" attributes {regs = 24 : i64, warps = 1 : i64} {
      tile.put %ch, %A_tile : !tile.channel<64x128xbf16, stages = 2>,
                              !tile.buffer<64x128xbf16, global>
    }
    ```

    Builder: `RoleOp::create(builder, loc, StringRef name, uint64_t warps,
    IntegerAttr regs)` (a null `regs` when absent) leaves the region empty;
    the caller adds the entry block (`getBody().emplaceBlock()`).
  }];

  let arguments = (ins StrAttr:$name, I64Attr:$warps,
                       OptionalAttr<I64Attr>:$regs);
  let regions = (region SizedRegion<1>:$body);

  let assemblyFormat = "$name attr-dict-with-keyword $body";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

def Tile_AllocOp : Tile_Op<"alloc", [
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>
  ]> {
  let summary = "allocate a shared, fragment or local buffer";
  let description = [{
    Allocates a buffer of static shape in shared, fragment or local memory
    for the lifetime of the enclosing thread block (`alloc_shared`,
    `alloc_fragment`, `alloc_local` in the source language). Global buffers
    are never allocated: they are the kernel's parameters. `name` is the
    source-level variable name, used for diagnostics and generated code.

    Example:

    ```mlir
    %0 = tile.alloc {name = "A_s"} : !tile.buffer<128x32xbf16, shared>
    ```
  }];

  let arguments = (ins OptionalAttr<StrAttr>:$name);
  let results = (outs Res<Tile_BufferType, "", [MemAlloc]>:$result);

  let assemblyFormat = "attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tile_ClusterRankOp : Tile_Op<"cluster_rank", [Pure]> {
  let summary = "the rank of the running block in its thread-block cluster";
  let description = [{
    The block's position in its cluster (`cluster` of the enclosing
    `tile.launch`), x fastest: `bx % cx + cx * (by % cy + cy * (bz % cz))`,
    from 0 to the cluster's size - 1. Without a cluster every block is rank 0.

    Example:

    ```mlir
    %rank = tile.cluster_rank
    ```
  }];

  let results = (outs Index:$result);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;

  let builders = [
    OpBuilder<(ins), [{
      build($_builder, $_state, $_builder.getIndexType());
    }]>
  ];
}

def Tile_DimOp : Tile_Op<"dim", [Pure]> {
  let summary = "the size of one dimension of a buffer";
  let description = [{
    Returns the extent of dimension `index` of `buffer` as an `index`. This
    is how a kernel reads the dynamic sizes of its global tensors.

    Example:

    ```mlir
    %m = tile.dim %A, 0 : !tile.buffer<?x?xbf16, global>
    ```
  }];

  let arguments = (ins Tile_BufferType:$buffer, I64Attr:$index);
  let results = (outs Index:$result);

  let assemblyFormat = [{
    $buffer `,` $index attr-dict `:` qualified(type($buffer))
  }];
  let hasVerifier = 1;

  let builders = [
    // The result is always `index`.
    OpBuilder<(ins "::mlir::Value":$buffer, "int64_t":$index), [{
      build($_builder, $_state, $_builder.getIndexType(), buffer, index);
    }]>
  ];
}

def Tile_ViewOp : Tile_Op<"view", [Pure]> {
  let summary = "a rectangular box of a buffer";
  let description = [{
    A view of the box of `source` that starts at `offsets` (one `index` per
    source dimension) and has the static extents `sizes`. The dimensions
    listed in `dropped_dims` (each of size 1, sorted, unique) are removed
    from the result shape, so `A[i, 0:64]` becomes a rank-1 view. The result
    has the source's element type and scope; its layout is free.

    For a global source the box may extend past the end of the tensor (the
    ragged edge of a tiled loop): reads beyond the end give 0 and writes
    beyond it are dropped. For a shared, fragment or local source the box
    must be in bounds.

    Example:

    ```mlir
    %t = tile.view %A[%m0, %k0] sizes [128, 32]
        : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x32xbf16, global>
    %row = tile.view %S[%i, %c0] sizes [1, 64] {dropped_dims = array<i64: 0>}
        : !tile.buffer<64x64xf32, shared> -> !tile.buffer<64xf32, shared>
    ```
  }];

  let arguments = (ins
    Tile_BufferType:$source,
    Variadic<Index>:$offsets,
    DenseI64ArrayAttr:$sizes,
    DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$dropped_dims
  );
  let results = (outs Tile_BufferType:$result);

  let assemblyFormat = [{
    $source `[` $offsets `]` `sizes` $sizes attr-dict `:`
    qualified(type($source)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tile_AnnotateLayoutOp : Tile_Op<"annotate_layout"> {
  let summary = "request a shared-memory swizzle for a buffer";
  let description = [{
    Asks the compiler to lay out the shared buffer `buffer` with the given
    swizzle width in bytes: 0 (no swizzle), 32, 64 or 128. Later passes fold
    the request into the buffer type's layout.

    Example:

    ```mlir
    tile.annotate_layout %a {swizzle = 128 : i64}
        : !tile.buffer<128x64xbf16, shared>
    ```
  }];

  let arguments = (ins Tile_BufferType:$buffer, I64Attr:$swizzle);

  let assemblyFormat = "$buffer attr-dict `:` qualified(type($buffer))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tile operations (destination passing)
//===----------------------------------------------------------------------===//

def Tile_CopyOp : Tile_Op<"copy"> {
  let summary = "copy a tile from one buffer to another";
  let description = [{
    Copies `src` into `dst` element by element, converting the element type
    when the two differ. The shapes must agree. At most one side may be in
    global memory (global-to-global copies must be staged through shared or
    fragment memory). Depending on the scopes the copy lowers to TMA,
    `cp.async`, vectorized loads/stores or `stmatrix`/`ldmatrix`.

    Example:

    ```mlir
    tile.copy %A_tile, %A_s
        : !tile.buffer<128x32xbf16, global>, !tile.buffer<128x32xbf16, shared>
    ```
  }];

  let arguments = (ins Arg<Tile_BufferType, "", [MemRead]>:$src,
                       Arg<Tile_BufferType, "", [MemWrite]>:$dst);

  let assemblyFormat = [{
    $src `,` $dst attr-dict `:` qualified(type($src)) `,` qualified(type($dst))
  }];
  let hasVerifier = 1;
}

def Tile_FillOp : Tile_Op<"fill"> {
  let summary = "set every element of a buffer to a scalar";
  let description = [{
    Writes `value` (an integer, index or float scalar, converted to the
    element type) to every element of `dst`, which must not be in global
    memory.

    Example:

    ```mlir
    %zero = arith.constant 0.0 : f32
    tile.fill %C, %zero : !tile.buffer<128x128xf32, fragment>, f32
    ```
  }];

  let arguments = (ins Arg<Tile_BufferType, "", [MemWrite]>:$dst,
                       AnyType:$value);

  let assemblyFormat = [{
    $dst `,` $value attr-dict `:` qualified(type($dst)) `,`
    qualified(type($value))
  }];
  let hasVerifier = 1;
}

def Tile_GemmOp : Tile_Op<"gemm"> {
  let summary = "tile matrix multiply-accumulate";
  let description = [{
    `C (+)= op(A) * op(B)`, where `op` transposes its operand when the
    corresponding flag is set: A is logically MxK (stored KxM with
    `transpose_a`), B is logically KxN (stored NxK with `transpose_b`) and C
    is MxN. C accumulates unless `clear_accum` is set, in which case it is
    overwritten.

    A is in shared or fragment memory, B in shared memory and C in fragment
    memory. A and B have the same element type, one of bf16, f16, f32 (tf32
    tensor cores) and i8. C is f32; it may also be f16 when A is f16, and it
    is i32 when A is i8.

    With `async` (set by `tile-place-gemm-waits` on gemms that run on
    wgmma), the gemm only issues the product: C is not final, and A, B and C
    must not be written, until a later `tile.gemm_wait` names C.

    Example:

    ```mlir
    tile.gemm %A_s, %B_s, %C {transpose_b}
        : !tile.buffer<128x32xbf16, shared>, !tile.buffer<128x32xbf16, shared>,
          !tile.buffer<128x128xf32, fragment>
    ```
  }];

  let arguments = (ins Arg<Tile_BufferType, "", [MemRead]>:$a,
                       Arg<Tile_BufferType, "", [MemRead]>:$b,
                       Arg<Tile_BufferType, "", [MemRead, MemWrite]>:$c,
                       UnitAttr:$transpose_a, UnitAttr:$transpose_b,
                       UnitAttr:$clear_accum, UnitAttr:$async);

  let assemblyFormat = [{
    $a `,` $b `,` $c attr-dict `:` qualified(type($a)) `,` qualified(type($b))
    `,` qualified(type($c))
  }];
  let hasVerifier = 1;
}

def Tile_GemmWaitOp : Tile_Op<"gemm_wait"> {
  let summary = "wait for asynchronous gemms";
  let description = [{
    Waits until at most `pending` of the `async` gemms issued before it are
    unfinished; the gemms that are then finished are those whose
    accumulators it names, which are final from here on (and their operands
    free to be overwritten). Gemms complete in issue order, so `pending`
    counts the async gemms issued after the last one named. It mirrors
    `nvgpu.warpgroup.mma` waits (`wgmma.wait_group`); the CPU interpreter,
    whose gemms are synchronous, treats it as a no-op.
    `tile-place-gemm-waits` inserts it right before the first op that needs
    one of those gemms finished.

    Example:

    ```mlir
    tile.gemm %q_s, %k_s, %qk {async, clear_accum, transpose_b}
        : !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x128xbf16, shared>,
          !tile.buffer<64x64xf32, fragment>
    tile.gemm %q_s, %s_s, %acc {async, clear_accum, transpose_b}
        : !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x128xbf16, shared>,
          !tile.buffer<64x64xf32, fragment>
    // %qk is final, %acc may still be in flight.
    tile.gemm_wait pending(1) %qk : !tile.buffer<64x64xf32, fragment>
    ```
  }];

  let arguments = (ins
      Arg<Variadic<Tile_BufferType>, "", [MemRead, MemWrite]>:$accumulators,
      ConfinedAttr<I64Attr, [IntNonNegative]>:$pending);

  let assemblyFormat = [{
    `pending` `(` $pending `)` ($accumulators^ `:`
    qualified(type($accumulators)))? attr-dict
  }];
  let hasVerifier = 1;
}

def Tile_ReduceOp : Tile_Op<"reduce"> {
  let summary = "reduce a tile along one dimension";
  let description = [{
    `dst = reduce_kind(src along dim)`: `dst` has the shape of `src` with
    dimension `dim` removed (a rank-1 `src` reduces into a rank-0 buffer or a
    buffer of shape `[1]`). With `clear = false` the result is further
    combined with the old contents of `dst`. `src` is in fragment or shared
    memory, `dst` not in global memory. The kind prints as a bare keyword:
    `sum`, `max` or `min`.

    Example:

    ```mlir
    tile.reduce max %S, %m {clear = false, dim = 1 : i64}
        : !tile.buffer<64x128xf32, fragment>, !tile.buffer<64xf32, fragment>
    ```
  }];

  let arguments = (ins Arg<Tile_BufferType, "", [MemRead]>:$src,
                       Arg<Tile_BufferType, "", [MemRead, MemWrite]>:$dst,
                       Tile_ReduceKindAttr:$kind, I64Attr:$dim,
                       DefaultValuedAttr<BoolAttr, "true">:$clear);

  let assemblyFormat = [{
    custom<ReduceKind>($kind) $src `,` $dst attr-dict `:`
    qualified(type($src)) `,` qualified(type($dst))
  }];
  let hasVerifier = 1;
}

def Tile_CumsumOp : Tile_Op<"cumsum"> {
  let summary = "in-place inclusive prefix sum along one dimension";
  let description = [{
    Replaces every element of `buffer` by the inclusive prefix sum along
    dimension `dim` (the suffix sum when `reverse` is true). The buffer is in
    fragment or shared memory.

    Example:

    ```mlir
    tile.cumsum %S {dim = 1 : i64, reverse = true}
        : !tile.buffer<64x128xf32, fragment>
    ```
  }];

  let arguments = (ins Arg<Tile_BufferType, "", [MemRead, MemWrite]>:$buffer,
                       I64Attr:$dim,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);

  let assemblyFormat = "$buffer attr-dict `:` qualified(type($buffer))";
  let hasVerifier = 1;
}

def Tile_AtomicAddOp : Tile_Op<"atomic_add"> {
  let summary = "element-wise atomic accumulation into a buffer";
  let description = [{
    `dst += src` element-wise, each addition being atomic. `dst` is in global
    or shared memory; `src` is not in global memory. The shapes agree.

    Example:

    ```mlir
    tile.atomic_add %C, %C_tile
        : !tile.buffer<128x128xf32, fragment>, !tile.buffer<128x128xf32, global>
    ```
  }];

  let arguments = (ins Arg<Tile_BufferType, "", [MemRead]>:$src,
                       Arg<Tile_BufferType, "", [MemRead, MemWrite]>:$dst);

  let assemblyFormat = [{
    $src `,` $dst attr-dict `:` qualified(type($src)) `,` qualified(type($dst))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Scalar access
//===----------------------------------------------------------------------===//

def Tile_LoadOp : Tile_Op<"load", [
    TypesMatchWith<"result type is the buffer's element type", "buffer",
                   "result",
                   "::llvm::cast<::tlc::tile::BufferType>($_self)"
                   ".getElementType()">
  ]> {
  let summary = "read one element of a buffer";
  let description = [{
    Reads the element of `buffer` at `indices` (one `index` per dimension;
    none for a rank-0 buffer). Typically used inside `tile.parallel`.

    Example:

    ```mlir
    %x = tile.load %S[%i, %j] : !tile.buffer<64x128xf32, fragment>
    %s = tile.load %acc[] : !tile.buffer<f32, local>
    ```
  }];

  let arguments = (ins Arg<Tile_BufferType, "", [MemRead]>:$buffer,
                       Variadic<Index>:$indices);
  let results = (outs AnyType:$result);

  let assemblyFormat = [{
    $buffer `[` $indices `]` attr-dict `:` qualified(type($buffer))
  }];
  let hasVerifier = 1;

  let builders = [
    // The result type is the buffer's element type.
    OpBuilder<(ins "::mlir::Value":$buffer, "::mlir::ValueRange":$indices), [{
      build($_builder, $_state,
            ::llvm::cast<BufferType>(buffer.getType()).getElementType(),
            buffer, indices);
    }]>
  ];
}

def Tile_StoreOp : Tile_Op<"store", [
    TypesMatchWith<"value type is the buffer's element type", "buffer",
                   "value",
                   "::llvm::cast<::tlc::tile::BufferType>($_self)"
                   ".getElementType()">
  ]> {
  let summary = "write one element of a buffer";
  let description = [{
    Writes `value`, whose type is the buffer's element type, to the element
    of `buffer` at `indices` (one `index` per dimension).

    Example:

    ```mlir
    tile.store %y, %S[%i, %j] : !tile.buffer<64x128xf32, fragment>
    ```
  }];

  let arguments = (ins AnyType:$value,
                       Arg<Tile_BufferType, "", [MemWrite]>:$buffer,
                       Variadic<Index>:$indices);

  let assemblyFormat = [{
    $value `,` $buffer `[` $indices `]` attr-dict `:` qualified(type($buffer))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Channels (producer/consumer pipelines between roles)
//===----------------------------------------------------------------------===//

def Tile_ChannelOp : Tile_Op<"channel", [
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>
  ]> {
  let summary = "create a producer/consumer channel";
  let description = [{
    Allocates a channel: `stages` shared-memory slots of the channel type's
    shape plus their full/empty barriers, for the lifetime of the thread
    block. Must be inside a `tile.launch`. `name` is the source-level name.

    Example:

    ```mlir
    %c = tile.channel {name = "ring"} : !tile.channel<64x128xbf16, stages = 2>
    ```
  }];

  let arguments = (ins OptionalAttr<StrAttr>:$name);
  let results = (outs Res<Tile_ChannelType, "", [MemAlloc]>:$result);

  let assemblyFormat = "attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tile_PutOp : Tile_Op<"put"> {
  let summary = "produce one slot of a channel";
  let description = [{
    Waits until the next slot of `channel` is empty, fills it from `src` and
    signals it full. A global `src` is loaded with TMA (and must have the
    channel's element type); a fragment or shared `src` is handed off through
    the threads (converting the element type if needed). `src` has the
    channel's shape.

    Example:

    ```mlir
    tile.put %c, %A_tile : !tile.channel<64x128xbf16, stages = 2>,
                           !tile.buffer<64x128xbf16, global>
    ```
  }];

  let arguments = (ins Arg<Tile_ChannelType, "", [MemRead, MemWrite]>:$channel,
                       Arg<Tile_BufferType, "", [MemRead]>:$src);

  let assemblyFormat = [{
    $channel `,` $src attr-dict `:` qualified(type($channel)) `,`
    qualified(type($src))
  }];
  let hasVerifier = 1;
}

def Tile_GetOp : Tile_Op<"get", [
    SingleBlock, NoTerminator,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "consume one slot of a channel";
  let description = [{
    Waits until the next slot of `channel` is full, runs the body with the
    slot as its single block argument (a shared buffer of the channel's shape
    and element type) and frees the slot (signals it empty) at the end of the
    body.

    Example:

    ```mlir
    tile.get %c : !tile.channel<64x128xbf16, stages = 2> {
    ^bb0(%slot: !tile.buffer<64x128xbf16, shared>):
      tile.gemm %slot, %B_s, %C
          : !tile.buffer<64x128xbf16, shared>,
            !tile.buffer<128x128xbf16, shared>,
            !tile.buffer<64x128xf32, fragment>
    }
    ```

    Builder: `GetOp::create(builder, loc, Value channel)` leaves the region
    empty; the caller adds the entry block with one argument of type
    `ChannelType::getSlotType()`.
  }];

  let arguments = (ins Tile_ChannelType:$channel);
  let regions = (region SizedRegion<1>:$body);

  let assemblyFormat = [{
    $channel `:` qualified(type($channel)) attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The slot buffer: the entry block's argument.
    ::mlir::BlockArgument getSlot() { return getBody().getArgument(0); }
  }];
}

#endif // TLC_DIALECT_TILE_TILEOPS_TD
