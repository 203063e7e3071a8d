// tile-place-gemm-waits runs every gemm whose shared operand is swizzled
// (so it runs on wgmma) asynchronously and inserts one tile.gemm_wait right
// before the first op that needs it finished, read off the ops' memory
// effects: so gemms that do not depend on each other, and element code that
// does not touch their buffers, overlap on the tensor cores.
// RUN: tlc-opt %s -tile-place-gemm-waits | FileCheck %s

// Three independent gemms are in flight together; the Parallel loop that
// only reads shared tiles needs none of them; the first reader of %u waits
// with two still in flight, the reader of %qk with one (and finishes %acc,
// issued before it); a gemm that accumulates into an unfinished accumulator
// of the same shape needs no wait (the tensor cores order them), and the
// iteration finishes what it issued before its yield.
// CHECK-LABEL: func.func @overlap(
// CHECK: scf.for
// CHECK-NEXT: tile.gemm %[[K:.*]], %[[S:.*]], %[[U:.*]] {async, clear_accum, transpose_b}
// CHECK-NEXT: tile.gemm %[[Q:.*]], %[[S]], %[[ACC:.*]] {async, clear_accum, transpose_b}
// CHECK-NEXT: tile.gemm %[[Q]], %[[K]], %[[QK:.*]] {async, clear_accum, transpose_b}
// CHECK-NEXT: tile.parallel
// CHECK: tile.gemm_wait pending(2) %[[U]] :
// CHECK-NEXT: tile.parallel
// CHECK: tile.gemm_wait pending(0) %[[ACC]], %[[QK]] :
// CHECK-NEXT: tile.parallel
// CHECK: tile.gemm %[[P:.*]], %[[W:.*]], %[[ACC]] {async}
// CHECK-NEXT: tile.gemm %[[P]], %[[W]], %[[ACC]] {async}
// CHECK-NEXT: tile.gemm_wait pending(0) %[[ACC]] :
// CHECK-NEXT: }
func.func @overlap(%steps: i32) attributes {tile.kernel} {
  %n = arith.index_cast %steps : i32 to index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %q_s = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x128xbf16, shared>
    %k_s = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x128xbf16, shared>
    %s_s = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x128xbf16, shared>
    %w_s = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
    %m_s = tile.alloc : !tile.buffer<64x64xf32, shared>
    %u = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    %acc = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    %qk = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    %p = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xbf16, fragment>
    scf.for %i = %c0 to %n step %c1 {
      tile.gemm %k_s, %s_s, %u {clear_accum, transpose_b} : !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x64xf32, fragment>
      tile.gemm %q_s, %s_s, %acc {clear_accum, transpose_b} : !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x64xf32, fragment>
      tile.gemm %q_s, %k_s, %qk {clear_accum, transpose_b} : !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x64xf32, fragment>
      tile.parallel [64, 64] {
      ^bb0(%r: index, %c: index):
        %x = tile.load %q_s[%r, %c] : !tile.buffer<64x128xbf16, shared>
        %y = arith.extf %x : bf16 to f32
        tile.store %y, %m_s[%r, %c] : !tile.buffer<64x64xf32, shared>
      }
      tile.parallel [64, 64] {
      ^bb0(%r: index, %c: index):
        %x = tile.load %u[%r, %c] : !tile.buffer<64x64xf32, fragment>
        %y = arith.truncf %x : f32 to bf16
        tile.store %y, %w_s[%r, %c] : !tile.buffer<64x64xbf16, shared>
      }
      tile.parallel [64, 64] {
      ^bb0(%r: index, %c: index):
        %x = tile.load %qk[%r, %c] : !tile.buffer<64x64xf32, fragment>
        %y = arith.truncf %x : f32 to bf16
        tile.store %y, %p[%r, %c] : !tile.buffer<64x64xbf16, fragment>
      }
      tile.gemm %p, %w_s, %acc : !tile.buffer<64x64xbf16, fragment>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
      tile.gemm %p, %w_s, %acc : !tile.buffer<64x64xbf16, fragment>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    }
  }
  return
}

// Overwriting an operand of an unfinished gemm waits for it, through a slice
// too; a gemm with clear_accum into an unfinished accumulator waits (its
// clear is a register write); the launch body finishes its gemms at its end.
// CHECK-LABEL: func.func @hazards(
// CHECK: tile.gemm %[[A:.*]], %[[B:.*]], %[[C:.*]] {async}
// CHECK-NEXT: tile.view
// CHECK-NEXT: tile.gemm_wait pending(0) %[[C]] :
// CHECK-NEXT: tile.fill
// CHECK-NEXT: tile.gemm %[[A]], %[[B]], %[[C]] {async}
// CHECK-NEXT: tile.gemm_wait pending(0) %[[C]] :
// CHECK-NEXT: tile.gemm %[[A]], %[[B]], %[[C]] {async, clear_accum}
// CHECK-NEXT: tile.gemm_wait pending(0) %[[C]] :
// CHECK-NEXT: }
func.func @hazards() attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : bf16
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a_s = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
    %b_s = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
    %c = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    tile.gemm %a_s, %b_s, %c : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    %half = tile.view %b_s[%c0, %c0] sizes [32, 64] : !tile.buffer<64x64xbf16, shared> -> !tile.buffer<32x64xbf16, shared>
    tile.fill %half, %zero : !tile.buffer<32x64xbf16, shared>, bf16
    tile.gemm %a_s, %b_s, %c : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    tile.gemm %a_s, %b_s, %c {clear_accum} : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
  }
  return
}

// Gemms on unswizzled tiles (mma.sync, synchronous) are left alone, and so
// is a TMA pipeline that keeps its gemms in flight across iterations
// (wait_depth > 0): its own waits order them.
// CHECK-LABEL: func.func @untouched(
// CHECK-NOT: async
// CHECK-NOT: tile.gemm_wait
// CHECK: return
func.func @untouched(%steps: i32) attributes {tile.kernel} {
  %n = arith.index_cast %steps : i32 to index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %b_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %r_s = tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
    %c = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    tile.gemm %a_s, %b_s, %c : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    scf.for %i = %c0 to %n step %c1 {
      tile.gemm %r_s, %r_s, %c : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    } {tile.num_stages = 2 : i64, tile.tma_pipeline = {consumer_regs = 0 : i64, producer_regs = 0 : i64, producer_threads = 128 : i64, wait_depth = 1 : i64}}
  }
  return
}
