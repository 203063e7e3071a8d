// Checks every user-facing verifier and parser error of the tile dialect: one
// case per message, each in its own split.
// RUN: tlc-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

// expected-error@+1 {{buffer: unsupported element type i16; expected bf16, f16, f32, f64, i1, i8, i32 or i64}}
func.func private @bad_element(!tile.buffer<4xi16, shared>)

// -----

// expected-error@+1 {{buffer: a shared buffer must have a static shape, got ?x32; only global buffers have dynamic dimensions}}
func.func private @dynamic_shared(!tile.buffer<?x32xbf16, shared>)

// -----

// expected-error@+1 {{buffer: dimensions must be positive, got 0x32}}
func.func private @zero_dim(!tile.buffer<0x32xbf16, global>)

// -----

// expected-error@+1 {{unknown memory scope 'texture'; expected global, shared, fragment or local}}
func.func private @bad_scope(!tile.buffer<4xf32, texture>)

// -----

// expected-error@+1 {{channel: unsupported element type index; expected bf16, f16, f32, f64, i1, i8, i32 or i64}}
func.func private @channel_element(!tile.channel<4xindex, stages = 2>)

// -----

// expected-error@+1 {{channel: a slot must have at least one dimension}}
func.func private @channel_rank0(!tile.channel<f32, stages = 2>)

// -----

// expected-error@+1 {{channel: the slot shape must be static and positive, got 64x0}}
func.func private @channel_zero(!tile.channel<64x0xf32, stages = 2>)

// -----

// expected-error@+1 {{channel: stages must be at least 1, got 0}}
func.func private @channel_stages(!tile.channel<64xf32, stages = 0>)

//===----------------------------------------------------------------------===//
// Dialect attributes: tile.kernel, tile.constants, tile.num_stages, tile.dims
//===----------------------------------------------------------------------===//

// -----

func.func @kernel_not_func() {
  // expected-error@+1 {{kernel: 'tile.kernel' is only valid on func.func, not on 'arith.constant'}}
  %0 = arith.constant {tile.kernel} 0 : index
  return
}

// -----

// expected-error@+1 {{kernel: 'tile.kernel' must be a unit attribute}}
func.func @kernel_not_unit() attributes {tile.kernel = 1 : i64} {
  return
}

// -----

// The runtime launches a kernel by its name, so it must be a C++ identifier
// the generated code does not use.
// expected-error@+1 {{kernel name 'main' is a C++ or CUDA reserved word}}
func.func @main() attributes {tile.kernel} {
  return
}

// -----

// expected-error@+1 {{kernel: a kernel returns nothing, but 'returns' has 1 result(s)}}
func.func @returns(%n: i32) -> i32 attributes {tile.kernel} {
  return %n : i32
}

// -----

// expected-error@+1 {{kernel: parameter #1 is a shared buffer; buffer parameters of a kernel are in global memory}}
func.func @shared_param(%a: !tile.buffer<?xf32, global>, %b: !tile.buffer<4xf32, shared>) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(32) {
  ^bb0(%bx: index):
  }
  return
}

// -----

// expected-error@+1 {{kernel: parameter #0 has type f16; kernel parameters are global buffers or i32, i64 or f32 scalars}}
func.func @f16_param(%x: f16) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(32) {
  ^bb0(%bx: index):
  }
  return
}

// -----

// expected-error@+1 {{kernel: the body of 'two_launches' must contain exactly one tile.launch at top level, found 2}}
func.func @two_launches() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(32) {
  ^bb0(%bx: index):
  }
  tile.launch grid(%c1) threads(32) {
  ^bb0(%bx: index):
  }
  return
}

// -----

// expected-error@+1 {{'tile.constants' must be a dictionary}}
func.func @constants_not_dict() attributes {tile.constants = [1, 2]} {
  return
}

// -----

func.func @constants_not_func() {
  // expected-error@+1 {{'tile.constants' is only valid on func.func, not on 'arith.constant'}}
  %0 = arith.constant {tile.constants = {BM = 128 : i64}} 0 : index
  return
}

// -----

func.func @stages_not_for(%n: index) {
  // expected-error@+1 {{Pipelined: 'tile.num_stages' is only valid on scf.for, not on 'arith.addi'}}
  %0 = arith.addi %n, %n {tile.num_stages = 2 : i64} : index
  return
}

// -----

func.func @stages_not_int(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{Pipelined: num_stages must be an integer}}
  scf.for %i = %c0 to %n step %c1 {
  } {tile.num_stages = "three"}
  return
}

// -----

func.func @stages_zero(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{Pipelined: num_stages must be at least 1}}
  scf.for %i = %c0 to %n step %c1 {
  } {tile.num_stages = 0 : i64}
  return
}

// -----

// expected-error@+1 {{unknown tile dialect attribute 'tile.knrl'}}
func.func @typo() attributes {tile.knrl} {
  return
}

// -----

// expected-error@+1 {{unknown tile dialect argument attribute 'tile.dim'}}
func.func private @arg_typo(!tile.buffer<?xf32, global> {tile.dim = ["N"]})

// -----

// expected-error@+1 {{'tile.dims' is only valid on the parameters of a tile.kernel function}}
func.func private @dims_not_kernel(!tile.buffer<?xf32, global> {tile.dims = ["N"]})

// -----

// expected-error@+1 {{kernel: parameter #0 is not a buffer but carries 'tile.dims'}}
func.func @dims_on_scalar(%n: i32 {tile.dims = ["N"]}) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(32) {
  ^bb0(%bx: index):
  }
  return
}

// -----

// expected-error@+1 {{kernel: 'tile.dims' of parameter #0 must be an array of strings}}
func.func @dims_not_strings(%a: !tile.buffer<?xf32, global> {tile.dims = [1]}) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(32) {
  ^bb0(%bx: index):
  }
  return
}

// -----

// expected-error@+1 {{kernel: parameter #0 has rank 2 but 'tile.dims' names 1 dimension(s)}}
func.func @dims_count(%a: !tile.buffer<?x?xf32, global> {tile.dims = ["M"]}) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(32) {
  ^bb0(%bx: index):
  }
  return
}

//===----------------------------------------------------------------------===//
// tile.launch
//===----------------------------------------------------------------------===//

// -----

func.func @grid_rank(%n: index) {
  // expected-error@+1 {{Kernel: the grid has 4 dimensions; expected 1, 2 or 3}}
  tile.launch grid(%n, %n, %n, %n) threads(128) {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
  }
  return
}

// -----

func.func @threads(%n: index) {
  // expected-error@+1 {{Kernel: threads must be between 1 and 1024, got 2048}}
  tile.launch grid(%n) threads(2048) {
  ^bb0(%bx: index):
  }
  return
}

// -----

func.func @launch_args(%n: index) {
  // expected-error@+1 {{Kernel: the body must have one index argument per grid dimension (2), but it has 1}}
  tile.launch grid(%n, %n) threads(128) {
  ^bb0(%bx: index):
  }
  return
}

// -----

func.func @launch_arg_type(%n: index) {
  // expected-error@+1 {{Kernel: body argument #0 must be index, not i32}}
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: i32):
  }
  return
}

//===----------------------------------------------------------------------===//
// tile.parallel
//===----------------------------------------------------------------------===//

// -----

func.func @parallel_empty(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{Parallel: needs at least one extent}}
    tile.parallel [] {
    }
  }
  return
}

// -----

func.func @parallel_extent(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{Parallel: extents must be positive, got 64x0}}
    tile.parallel [64, 0] {
    ^bb0(%i: index, %j: index):
    }
  }
  return
}

// -----

func.func @parallel_args(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{Parallel: the body must have one index argument per extent (2), but it has 1}}
    tile.parallel [64, 64] {
    ^bb0(%i: index):
    }
  }
  return
}

// -----

func.func @parallel_arg_type(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{Parallel: body argument #1 must be index, not i64}}
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: i64):
    }
  }
  return
}

// -----

func.func @parallel_outside_launch() {
  // expected-error@+1 {{Parallel: must be inside a kernel (tile.launch)}}
  tile.parallel [64] {
  ^bb0(%i: index):
  }
  return
}

// -----

func.func @parallel_nested(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    tile.parallel [64] {
    ^bb0(%i: index):
      // expected-error@+1 {{Parallel loops cannot be nested}}
      tile.parallel [64] {
      ^bb0(%j: index):
      }
    }
  }
  return
}

//===----------------------------------------------------------------------===//
// tile.role
//===----------------------------------------------------------------------===//

// -----

func.func @role_nested(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    %true = arith.constant true
    scf.if %true {
      // expected-error@+1 {{role: must be directly inside the kernel body (tile.launch)}}
      tile.role "loader" attributes {warps = 1 : i64} {
      }
    }
  }
  return
}

// -----

func.func @role_warps(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{role: warps must be at least 1, got 0}}
    tile.role "loader" attributes {warps = 0 : i64} {
    }
  }
  return
}

// -----

func.func @role_regs(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{role: regs must be a multiple of 8 between 24 and 256 (setmaxnreg), got 100}}
    tile.role "loader" attributes {warps = 1 : i64, regs = 100 : i64} {
    }
  }
  return
}

// -----

func.func @role_args(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{role: the body takes no arguments}}
    tile.role "loader" attributes {warps = 1 : i64} {
    ^bb0(%x: index):
    }
  }
  return
}

// -----

// Role layout rules live in the tile.launch verifier, so the interpreter and
// the GPU path accept the same kernels.
func.func @role_warpgroup_alignment(%n: index) {
  tile.launch grid(%n) threads(256) {
  ^bb0(%bx: index):
    tile.role "loader" attributes {warps = 1 : i64} {
    }
    // expected-error@+1 {{role: 'math' is made of warpgroups but starts at warp 1; wgmma needs warpgroups to start at a multiple of 4 warps (declare warpgroup roles before warp roles)}}
    tile.role "math" attributes {warps = 4 : i64} {
    }
    tile.role "idle" attributes {warps = 3 : i64} {
    }
  }
  return
}

// -----

func.func @role_straddles(%n: index) {
  tile.launch grid(%n) threads(256) {
  ^bb0(%bx: index):
    tile.role "a" attributes {warps = 2 : i64} {
    }
    // expected-error@+1 {{role: 'b' (3 warps from warp 2) straddles a warpgroup boundary; setmaxnreg works on whole warpgroups}}
    tile.role "b" attributes {warps = 3 : i64} {
    }
    tile.role "c" attributes {warps = 3 : i64} {
    }
  }
  return
}

// -----

func.func @role_warps_add_up(%n: index) {
  // expected-error@+1 {{Kernel: the roles use 5 warps but the kernel has threads=256 (8 warps)}}
  tile.launch grid(%n) threads(256) {
  ^bb0(%bx: index):
    tile.role "math" attributes {warps = 4 : i64} {
    }
    tile.role "loader" attributes {warps = 1 : i64} {
    }
  }
  return
}

// -----

func.func @role_budgets_disagree(%n: index) {
  tile.launch grid(%n) threads(256) {
  ^bb0(%bx: index):
    tile.role "math" attributes {warps = 4 : i64, regs = 240 : i64} {
    }
    tile.role "loader" attributes {warps = 2 : i64, regs = 24 : i64} {
    }
    // expected-error@+1 {{role: roles 'loader' and 'idle' share warpgroup 1 but ask for different register budgets (24 and 40); setmaxnreg applies to whole warpgroups}}
    tile.role "idle" attributes {warps = 2 : i64, regs = 40 : i64} {
    }
  }
  return
}

// -----

func.func @role_budgets_total(%n: index) {
  // expected-error@+1 {{Kernel: the roles' register budgets need 68608 registers per block, more than the 65536 of a multiprocessor}}
  tile.launch grid(%n) threads(384) {
  ^bb0(%bx: index):
    tile.role "math" attributes {warps = 8 : i64, regs = 256 : i64} {
    }
    tile.role "loader" attributes {warps = 4 : i64, regs = 24 : i64} {
    }
  }
  return
}

// -----

func.func @role_fragment_outside(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{alloc: in a kernel with roles, fragments and local buffers belong to one role: allocate them inside the role that uses them}}
    %acc = tile.alloc : !tile.buffer<64x64xf32, fragment>
    tile.role "math" attributes {warps = 4 : i64} {
    }
  }
  return
}

// -----

func.func @role_op_outside(%n: index, %s: !tile.buffer<64xf32, shared>) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    // expected-error@+1 {{Kernel: in a kernel with roles, this operation must be inside a role (only shared buffers, channels and scalar code may sit between roles)}}
    %x = tile.load %s[%c0] : !tile.buffer<64xf32, shared>
    tile.role "math" attributes {warps = 4 : i64} {
    }
  }
  return
}

// -----

func.func @channel_two_putters(%n: index, %g: !tile.buffer<64xf32, global>) {
  tile.launch grid(%n) threads(192) {
  ^bb0(%bx: index):
    %ch = tile.channel {name = "ring"} : !tile.channel<64xf32, stages = 2>
    tile.role "math" attributes {warps = 4 : i64} {
      tile.get %ch : !tile.channel<64xf32, stages = 2> {
      ^bb0(%slot: !tile.buffer<64xf32, shared>):
      }
      tile.get %ch : !tile.channel<64xf32, stages = 2> {
      ^bb0(%slot: !tile.buffer<64xf32, shared>):
      }
    }
    tile.role "a" attributes {warps = 1 : i64} {
      tile.put %ch, %g : !tile.channel<64xf32, stages = 2>, !tile.buffer<64xf32, global>
    }
    tile.role "b" attributes {warps = 1 : i64} {
      // expected-error@+1 {{put: channel 'ring' is filled by role 'a'; this put is in role 'b' (one role puts to a channel)}}
      tile.put %ch, %g : !tile.channel<64xf32, stages = 2>, !tile.buffer<64xf32, global>
    }
  }
  return
}

// -----

func.func @channel_two_getters(%n: index, %g: !tile.buffer<64xf32, global>) {
  tile.launch grid(%n) threads(192) {
  ^bb0(%bx: index):
    %ch = tile.channel : !tile.channel<64xf32, stages = 2>
    tile.role "math" attributes {warps = 4 : i64} {
      tile.get %ch : !tile.channel<64xf32, stages = 2> {
      ^bb0(%slot: !tile.buffer<64xf32, shared>):
      }
    }
    tile.role "loader" attributes {warps = 1 : i64} {
      tile.put %ch, %g : !tile.channel<64xf32, stages = 2>, !tile.buffer<64xf32, global>
      tile.put %ch, %g : !tile.channel<64xf32, stages = 2>, !tile.buffer<64xf32, global>
    }
    tile.role "other" attributes {warps = 1 : i64} {
      // expected-error@+1 {{get: channel is drained by role 'math'; this get is in role 'other' (one role gets from a channel)}}
      tile.get %ch : !tile.channel<64xf32, stages = 2> {
      ^bb0(%slot: !tile.buffer<64xf32, shared>):
      }
    }
  }
  return
}

// -----

func.func @put_outside_role(%n: index, %g: !tile.buffer<64xf32, global>) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    %ch = tile.channel : !tile.channel<64xf32, stages = 2>
    // expected-error@+1 {{put: must be inside a role (tile.role); channels connect roles}}
    tile.put %ch, %g : !tile.channel<64xf32, stages = 2>, !tile.buffer<64xf32, global>
  }
  return
}

// -----

func.func @get_outside_role(%n: index) {
  tile.launch grid(%n) threads(128) {
  ^bb0(%bx: index):
    %ch = tile.channel : !tile.channel<64xf32, stages = 2>
    // expected-error@+1 {{get: must be inside a role (tile.role); channels connect roles}}
    tile.get %ch : !tile.channel<64xf32, stages = 2> {
    ^bb0(%slot: !tile.buffer<64xf32, shared>):
    }
  }
  return
}

// -----

func.func @prefetch_outside_pipelined(%a: !tile.buffer<64xf32, global>, %s: !tile.buffer<64xf32, shared>) {
  // expected-error@+1 {{'tile.prefetch' is only valid on a tile.copy in a Pipelined loop (scf.for with tile.num_stages)}}
  tile.copy %a, %s {tile.prefetch = 2 : i64} : !tile.buffer<64xf32, global>, !tile.buffer<64xf32, shared>
  return
}

// -----

func.func @prefetch_stages(%a: !tile.buffer<64xf32, global>, %s: !tile.buffer<64xf32, shared>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %k = %c0 to %n step %c1 {
    // expected-error@+1 {{'tile.prefetch' must be an integer ring size of at least 2}}
    tile.copy %a, %s {tile.prefetch = 1 : i64} : !tile.buffer<64xf32, global>, !tile.buffer<64xf32, shared>
  } {tile.num_stages = 2 : i64}
  return
}

// -----

func.func @prefetch_shared_to_shared(%a: !tile.buffer<64xf32, shared>, %s: !tile.buffer<64xf32, shared>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %k = %c0 to %n step %c1 {
    // expected-error@+1 {{'tile.prefetch': only global->shared copies are prefetched}}
    tile.copy %a, %s {tile.prefetch = 2 : i64} : !tile.buffer<64xf32, shared>, !tile.buffer<64xf32, shared>
  } {tile.num_stages = 2 : i64}
  return
}

// -----

func.func @tma_pipeline_not_pipelined(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'tile.tma_pipeline' is only valid on a Pipelined loop (scf.for with tile.num_stages)}}
  scf.for %k = %c0 to %n step %c1 {
  } {tile.tma_pipeline = {producer_threads = 0 : i64, producer_regs = 0 : i64, consumer_regs = 0 : i64, wait_depth = 0 : i64}}
  return
}

// -----

func.func @tma_pipeline_field(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'tile.tma_pipeline' needs a non-negative integer 'wait_depth'}}
  scf.for %k = %c0 to %n step %c1 {
  } {tile.num_stages = 2 : i64, tile.tma_pipeline = {producer_threads = 128 : i64, producer_regs = 40 : i64, consumer_regs = 232 : i64}}
  return
}

// -----

func.func @tma_pipeline_producer(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'tile.tma_pipeline': producer_threads is 0 or one warpgroup (128), not 64}}
  scf.for %k = %c0 to %n step %c1 {
  } {tile.num_stages = 2 : i64, tile.tma_pipeline = {producer_threads = 64 : i64, producer_regs = 0 : i64, consumer_regs = 0 : i64, wait_depth = 0 : i64}}
  return
}

// -----

func.func @swizzle_fragment() {
  // expected-error@+1 {{'tile.swizzle' is only valid on shared allocations}}
  %0 = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, fragment>
  return
}

// -----

func.func @swizzle_rows() {
  // expected-error@+1 {{'tile.swizzle' must be 32, 64 or 128 bytes on a 2-D 16-bit tile whose rows are a multiple of it}}
  %0 = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x32xbf16, shared>
  return
}

//===----------------------------------------------------------------------===//
// tile.alloc, tile.dim, tile.view, tile.annotate_layout
//===----------------------------------------------------------------------===//

// -----

func.func @alloc_global() {
  // expected-error@+1 {{alloc: buffers in global memory are kernel parameters; alloc_* makes shared, fragment or local buffers}}
  %0 = tile.alloc : !tile.buffer<128x32xbf16, global>
  return
}

// -----

func.func @dim_range(%a: !tile.buffer<?x?xbf16, global>) {
  // expected-error@+1 {{shape: dimension 2 is out of range for a rank-2 buffer}}
  %0 = tile.dim %a, 2 : !tile.buffer<?x?xbf16, global>
  return
}

// -----

func.func @view_offsets(%a: !tile.buffer<?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: the rank-2 buffer ?x? is indexed with 1 offset(s)}}
  %0 = tile.view %a[%i] sizes [128, 32]
      : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x32xbf16, global>
  return
}

// -----

func.func @view_sizes(%a: !tile.buffer<?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: the rank-2 buffer ?x? needs 2 size(s), got 1}}
  %0 = tile.view %a[%i, %i] sizes [128]
      : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128xbf16, global>
  return
}

// -----

func.func @view_size_zero(%a: !tile.buffer<?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: sizes must be positive, got 128x0}}
  %0 = tile.view %a[%i, %i] sizes [128, 0]
      : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x1xbf16, global>
  return
}

// -----

func.func @view_drop_range(%a: !tile.buffer<?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: dropped dimension 2 is out of range for a rank-2 buffer}}
  %0 = tile.view %a[%i, %i] sizes [1, 32] {dropped_dims = array<i64: 2>}
      : !tile.buffer<?x?xbf16, global> -> !tile.buffer<32xbf16, global>
  return
}

// -----

func.func @view_drop_order(%a: !tile.buffer<?x?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: dropped dimensions must be sorted and unique}}
  %0 = tile.view %a[%i, %i, %i] sizes [1, 1, 32] {dropped_dims = array<i64: 1, 0>}
      : !tile.buffer<?x?x?xbf16, global> -> !tile.buffer<32xbf16, global>
  return
}

// -----

func.func @view_drop_size(%a: !tile.buffer<?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: dimension 0 has size 4; only dimensions of size 1 can be dropped}}
  %0 = tile.view %a[%i, %i] sizes [4, 32] {dropped_dims = array<i64: 0>}
      : !tile.buffer<?x?xbf16, global> -> !tile.buffer<32xbf16, global>
  return
}

// -----

func.func @view_result_shape(%a: !tile.buffer<?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: the result is 128x1 but a 1x128 box with dropped dimensions gives 128}}
  %0 = tile.view %a[%i, %i] sizes [1, 128] {dropped_dims = array<i64: 0>}
      : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x1xbf16, global>
  return
}

// -----

func.func @view_element(%a: !tile.buffer<?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: the result holds f32 but the source holds bf16}}
  %0 = tile.view %a[%i, %i] sizes [128, 32]
      : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x32xf32, global>
  return
}

// -----

func.func @view_scope(%a: !tile.buffer<?x?xbf16, global>, %i: index) {
  // expected-error@+1 {{view: the result is in shared memory but the source is in global memory}}
  %0 = tile.view %a[%i, %i] sizes [128, 32]
      : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x32xbf16, shared>
  return
}

// -----

func.func @view_too_big(%a: !tile.buffer<?x64xbf16, global>, %i: index) {
  // expected-error@+1 {{view: the box 128x128 is larger than the buffer ?x64 along dimension 1}}
  %0 = tile.view %a[%i, %i] sizes [128, 128]
      : !tile.buffer<?x64xbf16, global> -> !tile.buffer<128x128xbf16, global>
  return
}

// -----

func.func @view_out_of_bounds(%s: !tile.buffer<128x64xbf16, shared>) {
  %c0 = arith.constant 0 : index
  %c96 = arith.constant 96 : index
  // expected-error@+1 {{view: the box [96, 160) along dimension 0 is out of bounds of the shared buffer 128x64}}
  %0 = tile.view %s[%c96, %c0] sizes [64, 64]
      : !tile.buffer<128x64xbf16, shared> -> !tile.buffer<64x64xbf16, shared>
  return
}

// -----

func.func @layout_scope(%f: !tile.buffer<64x64xbf16, fragment>) {
  // expected-error@+1 {{annotate_layout: only shared buffers have a layout, but this buffer is in fragment memory}}
  tile.annotate_layout %f {swizzle = 128 : i64} : !tile.buffer<64x64xbf16, fragment>
  return
}

// -----

func.func @layout_swizzle(%s: !tile.buffer<64x64xbf16, shared>) {
  // expected-error@+1 {{annotate_layout: swizzle must be 0, 32, 64 or 128 (bytes), got 16}}
  tile.annotate_layout %s {swizzle = 16 : i64} : !tile.buffer<64x64xbf16, shared>
  return
}

//===----------------------------------------------------------------------===//
// tile.copy, tile.fill, tile.atomic_add
//===----------------------------------------------------------------------===//

// -----

func.func @copy_shape(%g: !tile.buffer<64x32xbf16, global>, %s: !tile.buffer<128x32xbf16, shared>) {
  // expected-error@+1 {{copy: source is 64x32 but destination is 128x32}}
  tile.copy %g, %s : !tile.buffer<64x32xbf16, global>, !tile.buffer<128x32xbf16, shared>
  return
}

// -----

func.func @copy_global(%a: !tile.buffer<?x32xbf16, global>, %b: !tile.buffer<128x32xbf16, global>) {
  // expected-error@+1 {{copy: both sides are in global memory; stage through shared or fragment memory}}
  tile.copy %a, %b : !tile.buffer<?x32xbf16, global>, !tile.buffer<128x32xbf16, global>
  return
}

// -----

func.func @fill_global(%g: !tile.buffer<64xf32, global>, %v: f32) {
  // expected-error@+1 {{fill: cannot fill a global buffer; fill a shared, fragment or local buffer and copy it out}}
  tile.fill %g, %v : !tile.buffer<64xf32, global>, f32
  return
}

// -----

func.func @fill_value(%f: !tile.buffer<64xf32, fragment>, %v: complex<f32>) {
  // expected-error@+1 {{fill: the value must be an integer or float scalar, got complex<f32>}}
  tile.fill %f, %v : !tile.buffer<64xf32, fragment>, complex<f32>
  return
}

// -----

func.func @atomic_shape(%f: !tile.buffer<64xf32, fragment>, %g: !tile.buffer<32xf32, global>) {
  // expected-error@+1 {{atomic_add: source is 64 but destination is 32}}
  tile.atomic_add %f, %g : !tile.buffer<64xf32, fragment>, !tile.buffer<32xf32, global>
  return
}

// -----

func.func @atomic_dst(%a: !tile.buffer<64xf32, fragment>, %b: !tile.buffer<64xf32, fragment>) {
  // expected-error@+1 {{atomic_add: the destination must be in global or shared memory, not fragment}}
  tile.atomic_add %a, %b : !tile.buffer<64xf32, fragment>, !tile.buffer<64xf32, fragment>
  return
}

// -----

func.func @atomic_src(%a: !tile.buffer<64xf32, global>, %b: !tile.buffer<64xf32, shared>) {
  // expected-error@+1 {{atomic_add: the source must not be in global memory; load it into a fragment first}}
  tile.atomic_add %a, %b : !tile.buffer<64xf32, global>, !tile.buffer<64xf32, shared>
  return
}

//===----------------------------------------------------------------------===//
// tile.gemm
//===----------------------------------------------------------------------===//

// -----

func.func @gemm_rank(%a: !tile.buffer<128xbf16, shared>, %b: !tile.buffer<32x128xbf16, shared>,
                     %c: !tile.buffer<128x128xf32, fragment>) {
  // expected-error@+1 {{gemm: A must be 2-D, but it is 128}}
  tile.gemm %a, %b, %c : !tile.buffer<128xbf16, shared>, !tile.buffer<32x128xbf16, shared>,
                         !tile.buffer<128x128xf32, fragment>
  return
}

// -----

func.func @gemm_a_scope(%a: !tile.buffer<128x32xbf16, local>, %b: !tile.buffer<32x128xbf16, shared>,
                        %c: !tile.buffer<128x128xf32, fragment>) {
  // expected-error@+1 {{gemm: A must be in shared or fragment memory, not local}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xbf16, local>, !tile.buffer<32x128xbf16, shared>,
                         !tile.buffer<128x128xf32, fragment>
  return
}

// -----

func.func @gemm_b_scope(%a: !tile.buffer<128x32xbf16, shared>, %b: !tile.buffer<32x128xbf16, fragment>,
                        %c: !tile.buffer<128x128xf32, fragment>) {
  // expected-error@+1 {{gemm: B must be in shared memory, not fragment}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xbf16, shared>, !tile.buffer<32x128xbf16, fragment>,
                         !tile.buffer<128x128xf32, fragment>
  return
}

// -----

func.func @gemm_c_scope(%a: !tile.buffer<128x32xbf16, shared>, %b: !tile.buffer<32x128xbf16, shared>,
                        %c: !tile.buffer<128x128xf32, shared>) {
  // expected-error@+1 {{gemm: C (the accumulator) must be in fragment memory, not shared}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xbf16, shared>, !tile.buffer<32x128xbf16, shared>,
                         !tile.buffer<128x128xf32, shared>
  return
}

// -----

func.func @gemm_mixed(%a: !tile.buffer<128x32xbf16, shared>, %b: !tile.buffer<32x128xf16, shared>,
                      %c: !tile.buffer<128x128xf32, fragment>) {
  // expected-error@+1 {{gemm: A and B must have the same element type, but A holds bf16 and B holds f16}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xbf16, shared>, !tile.buffer<32x128xf16, shared>,
                         !tile.buffer<128x128xf32, fragment>
  return
}

// -----

func.func @gemm_f64(%a: !tile.buffer<128x32xf64, shared>, %b: !tile.buffer<32x128xf64, shared>,
                    %c: !tile.buffer<128x128xf64, fragment>) {
  // expected-error@+1 {{gemm: unsupported input element type f64; expected bf16, f16, f32 or i8}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xf64, shared>, !tile.buffer<32x128xf64, shared>,
                         !tile.buffer<128x128xf64, fragment>
  return
}

// -----

func.func @gemm_acc(%a: !tile.buffer<128x32xbf16, shared>, %b: !tile.buffer<32x128xbf16, shared>,
                    %c: !tile.buffer<128x128xbf16, fragment>) {
  // expected-error@+1 {{gemm: C holds bf16 but bf16 inputs accumulate in f32}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xbf16, shared>, !tile.buffer<32x128xbf16, shared>,
                         !tile.buffer<128x128xbf16, fragment>
  return
}

// -----

func.func @gemm_acc_i8(%a: !tile.buffer<128x32xi8, shared>, %b: !tile.buffer<32x128xi8, shared>,
                       %c: !tile.buffer<128x128xf32, fragment>) {
  // expected-error@+1 {{gemm: C holds f32 but i8 inputs accumulate in i32}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xi8, shared>, !tile.buffer<32x128xi8, shared>,
                         !tile.buffer<128x128xf32, fragment>
  return
}

// -----

func.func @gemm_k(%a: !tile.buffer<128x32xbf16, shared>, %b: !tile.buffer<64x128xbf16, shared>,
                  %c: !tile.buffer<128x128xf32, fragment>) {
  // expected-error@+1 {{gemm: the K dimensions differ: A is 128x32 (MxK) but B is 64x128 (KxN)}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xbf16, shared>, !tile.buffer<64x128xbf16, shared>,
                         !tile.buffer<128x128xf32, fragment>
  return
}

// -----

func.func @gemm_k_transposed(%a: !tile.buffer<32x128xbf16, shared>, %b: !tile.buffer<128x64xbf16, shared>,
                             %c: !tile.buffer<128x128xf32, fragment>) {
  // expected-error@+1 {{gemm: the K dimensions differ: A is 32x128 (KxM, transpose_a) but B is 128x64 (NxK, transpose_b)}}
  tile.gemm %a, %b, %c {transpose_a, transpose_b}
      : !tile.buffer<32x128xbf16, shared>, !tile.buffer<128x64xbf16, shared>,
        !tile.buffer<128x128xf32, fragment>
  return
}

// -----

func.func @gemm_m(%a: !tile.buffer<128x32xf16, fragment>, %b: !tile.buffer<32x128xf16, shared>,
                  %c: !tile.buffer<64x128xf16, fragment>) {
  // expected-error@+1 {{gemm: the M dimensions differ: A is 128x32 (MxK) but C is 64x128 (MxN)}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xf16, fragment>, !tile.buffer<32x128xf16, shared>,
                         !tile.buffer<64x128xf16, fragment>
  return
}

// -----

func.func @gemm_n(%a: !tile.buffer<128x32xi8, shared>, %b: !tile.buffer<32x128xi8, shared>,
                  %c: !tile.buffer<128x64xi32, fragment>) {
  // expected-error@+1 {{gemm: the N dimensions differ: B is 32x128 (KxN) but C is 128x64 (MxN)}}
  tile.gemm %a, %b, %c : !tile.buffer<128x32xi8, shared>, !tile.buffer<32x128xi8, shared>,
                         !tile.buffer<128x64xi32, fragment>
  return
}

//===----------------------------------------------------------------------===//
// tile.gemm_wait
//===----------------------------------------------------------------------===//

// -----

func.func @gemm_wait_scope(%s: !tile.buffer<64x64xf32, shared>) {
  // expected-error@+1 {{gemm_wait: it names gemm accumulators, which are in fragment memory, not shared}}
  tile.gemm_wait pending(0) %s : !tile.buffer<64x64xf32, shared>
  return
}

// -----

func.func @gemm_wait_negative(%c: !tile.buffer<64x64xf32, fragment>) {
  // expected-error@+1 {{attribute 'pending' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  tile.gemm_wait pending(-1) %c : !tile.buffer<64x64xf32, fragment>
  return
}

// -----

//===----------------------------------------------------------------------===//
// tile.reduce, tile.cumsum
//===----------------------------------------------------------------------===//

// -----

func.func @reduce_rank0(%s: !tile.buffer<f32, local>, %d: !tile.buffer<f32, local>) {
  // expected-error@+1 {{reduce: cannot reduce a rank-0 buffer}}
  tile.reduce sum %s, %d {dim = 0 : i64} : !tile.buffer<f32, local>, !tile.buffer<f32, local>
  return
}

// -----

func.func @reduce_dim(%s: !tile.buffer<64x128xf32, fragment>, %d: !tile.buffer<64xf32, fragment>) {
  // expected-error@+1 {{reduce: dim 2 is out of range for the 64x128 source (rank 2)}}
  tile.reduce sum %s, %d {dim = 2 : i64} : !tile.buffer<64x128xf32, fragment>, !tile.buffer<64xf32, fragment>
  return
}

// -----

func.func @reduce_src_scope(%s: !tile.buffer<64x128xf32, local>, %d: !tile.buffer<64xf32, fragment>) {
  // expected-error@+1 {{reduce: the source must be in fragment or shared memory, not local}}
  tile.reduce max %s, %d {dim = 1 : i64} : !tile.buffer<64x128xf32, local>, !tile.buffer<64xf32, fragment>
  return
}

// -----

func.func @reduce_dst_scope(%s: !tile.buffer<64x128xf32, fragment>, %d: !tile.buffer<64xf32, global>) {
  // expected-error@+1 {{reduce: the destination must not be in global memory; reduce into a fragment and copy it out}}
  tile.reduce max %s, %d {dim = 1 : i64} : !tile.buffer<64x128xf32, fragment>, !tile.buffer<64xf32, global>
  return
}

// -----

func.func @reduce_shape(%s: !tile.buffer<64x128xf32, fragment>, %d: !tile.buffer<128xf32, fragment>) {
  // expected-error@+1 {{reduce: reducing the 64x128 source along dim 1 gives 64, but the destination is 128}}
  tile.reduce min %s, %d {dim = 1 : i64} : !tile.buffer<64x128xf32, fragment>, !tile.buffer<128xf32, fragment>
  return
}

// -----

func.func @reduce_kind(%s: !tile.buffer<64x128xf32, fragment>, %d: !tile.buffer<64xf32, fragment>) {
  // expected-error@+1 {{unknown reduction kind 'prod'; expected sum, max or min}}
  tile.reduce prod %s, %d {dim = 1 : i64} : !tile.buffer<64x128xf32, fragment>, !tile.buffer<64xf32, fragment>
  return
}

// -----

func.func @cumsum_dim(%s: !tile.buffer<64x128xf32, fragment>) {
  // expected-error@+1 {{cumsum: dim -1 is out of range for the 64x128 buffer (rank 2)}}
  tile.cumsum %s {dim = -1 : i64} : !tile.buffer<64x128xf32, fragment>
  return
}

// -----

func.func @cumsum_scope(%s: !tile.buffer<64x128xf32, local>) {
  // expected-error@+1 {{cumsum: the buffer must be in fragment or shared memory, not local}}
  tile.cumsum %s {dim = 1 : i64} : !tile.buffer<64x128xf32, local>
  return
}

//===----------------------------------------------------------------------===//
// tile.load, tile.store
//===----------------------------------------------------------------------===//

// -----

func.func @load_indices(%f: !tile.buffer<64x128xf32, fragment>, %i: index) {
  // expected-error@+1 {{load: a rank-2 buffer is indexed with 1 index(es)}}
  %0 = tile.load %f[%i] : !tile.buffer<64x128xf32, fragment>
  return
}

// -----

func.func @load_type(%f: !tile.buffer<64xf32, fragment>, %i: index) {
  // expected-error@+1 {{'tile.load' op failed to verify that result type is the buffer's element type}}
  %0 = "tile.load"(%f, %i) : (!tile.buffer<64xf32, fragment>, index) -> f16
  return
}

// -----

func.func @store_indices(%f: !tile.buffer<64xf32, fragment>, %v: f32, %i: index) {
  // expected-error@+1 {{store: a rank-1 buffer is indexed with 2 index(es)}}
  tile.store %v, %f[%i, %i] : !tile.buffer<64xf32, fragment>
  return
}

// -----

func.func @store_type(%f: !tile.buffer<64xf32, fragment>, %v: f16, %i: index) {
  // expected-error@+1 {{'tile.store' op failed to verify that value type is the buffer's element type}}
  "tile.store"(%v, %f, %i) : (f16, !tile.buffer<64xf32, fragment>, index) -> ()
  return
}

//===----------------------------------------------------------------------===//
// tile.channel, tile.put, tile.get
//===----------------------------------------------------------------------===//

// -----

func.func @channel_outside() {
  // expected-error@+1 {{channel: must be created inside a kernel (tile.launch)}}
  %0 = tile.channel : !tile.channel<64x128xbf16, stages = 2>
  return
}

// -----

func.func @put_local(%c: !tile.channel<64xf32, stages = 2>, %l: !tile.buffer<64xf32, local>) {
  // expected-error@+1 {{put: the source must be in global, shared or fragment memory, not local}}
  tile.put %c, %l : !tile.channel<64xf32, stages = 2>, !tile.buffer<64xf32, local>
  return
}

// -----

func.func @put_shape(%c: !tile.channel<64x128xbf16, stages = 2>, %g: !tile.buffer<64x64xbf16, global>) {
  // expected-error@+1 {{put: the source is 64x64 but the channel's slots are 64x128}}
  tile.put %c, %g : !tile.channel<64x128xbf16, stages = 2>, !tile.buffer<64x64xbf16, global>
  return
}

// -----

func.func @put_element(%c: !tile.channel<64x128xbf16, stages = 2>, %g: !tile.buffer<64x128xf32, global>) {
  // expected-error@+1 {{put: the global source holds f32 but the channel holds bf16 (a TMA load cannot convert)}}
  tile.put %c, %g : !tile.channel<64x128xbf16, stages = 2>, !tile.buffer<64x128xf32, global>
  return
}

// -----

func.func @get_args(%c: !tile.channel<64x128xbf16, stages = 2>) {
  // expected-error@+1 {{get: the body must take exactly one argument, the slot ('!tile.buffer<64x128xbf16, shared>'), but it takes 0}}
  tile.get %c : !tile.channel<64x128xbf16, stages = 2> {
  }
  return
}

// -----

func.func @get_slot_type(%c: !tile.channel<64x128xbf16, stages = 2>) {
  // expected-error@+1 {{get: the body's argument must be the slot, '!tile.buffer<64x128xbf16, shared>', not '!tile.buffer<64x128xbf16, fragment>'}}
  tile.get %c : !tile.channel<64x128xbf16, stages = 2> {
  ^bb0(%slot: !tile.buffer<64x128xbf16, fragment>):
  }
  return
}

// -----

func.func @cluster_rank_mismatch() attributes {tile.kernel} {
  %c4 = arith.constant 4 : index
  // expected-error@+1 {{Kernel: the cluster has 1 dimensions but the grid has 2}}
  tile.launch grid(%c4, %c4) threads(32) cluster [2] {
  ^bb0(%bx: index, %by: index):
  }
  return
}

// -----

func.func @cluster_too_big() attributes {tile.kernel} {
  %c4 = arith.constant 4 : index
  // expected-error@+1 {{Kernel: a cluster of 32 blocks; at most 16 (8 portably)}}
  tile.launch grid(%c4, %c4) threads(32) cluster [4, 8] {
  ^bb0(%bx: index, %by: index):
  }
  return
}

// -----

func.func @cluster_zero() attributes {tile.kernel} {
  %c4 = arith.constant 4 : index
  // expected-error@+1 {{Kernel: cluster extents must be positive, got 2x0}}
  tile.launch grid(%c4, %c4) threads(32) cluster [2, 0] {
  ^bb0(%bx: index, %by: index):
  }
  return
}

// -----

func.func @cluster_rank_outside() {
  // expected-error@+1 {{cluster_rank: must be inside a kernel (tile.launch)}}
  %rank = tile.cluster_rank
  return
}

// -----

func.func @blocks_per_sm_zero() attributes {tile.kernel} {
  %c4 = arith.constant 4 : index
  // expected-error@+1 {{Kernel: blocks_per_sm must be between 1 and 32, got 0}}
  tile.launch grid(%c4) threads(128) blocks_per_sm(0) {
  ^bb0(%bx: index):
  }
  return
}

// -----

func.func @blocks_per_sm_too_many_threads() attributes {tile.kernel} {
  %c4 = arith.constant 4 : index
  // expected-error@+1 {{Kernel: 4 blocks of 1024 threads exceed the 2048 threads a multiprocessor holds}}
  tile.launch grid(%c4) threads(1024) blocks_per_sm(4) {
  ^bb0(%bx: index):
  }
  return
}
