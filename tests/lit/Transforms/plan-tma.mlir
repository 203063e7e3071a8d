// tile-plan-tma chooses the Pipelined loop whose prefetch rings TMA fills
// and wgmma reads on sm_90a, and records the choice in the IR: the loop gets
// tile.tma_pipeline (producer warpgroup, register split, wgmma groups left in
// flight) and every shared tile wgmma reads gets tile.swizzle. Loops that do
// not qualify keep cp.async and say why (remarks).
// RUN: tlc-opt %s -tile-plan-tma | FileCheck %s
// RUN: tlc-opt %s -tile-plan-tma=warp-specialize=false | FileCheck %s --check-prefix=NOWS
// RUN: tlc-opt %s -tile-plan-tma=remarks=true -verify-diagnostics -o /dev/null

// A copy + gemm loop: both rings swizzled, a producer warpgroup, 40/232
// registers, one wgmma group in flight.
// CHECK-LABEL: func.func @gemm(
// CHECK: %[[A:.*]] = tile.alloc {tile.swizzle = 128 : i64}
// CHECK: %[[B:.*]] = tile.alloc {tile.swizzle = 128 : i64}
// CHECK: } {tile.num_stages = 3 : i64, tile.tma_pipeline = {consumer_regs = 232 : i64, producer_regs = 40 : i64, producer_threads = 128 : i64, wait_depth = 1 : i64}}
// Without warp specialisation: no producer, each iteration waits.
// NOWS-LABEL: func.func @gemm(
// NOWS: tile.tma_pipeline = {consumer_regs = 0 : i64, producer_regs = 0 : i64, producer_threads = 0 : i64, wait_depth = 0 : i64}
func.func @gemm(%A: !tile.buffer<?x64xbf16, global>, %B: !tile.buffer<64x?xbf16, global>) attributes {tile.kernel} {
  %k = tile.dim %A, 0 : !tile.buffer<?x64xbf16, global>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  tile.launch grid(%c1) threads(256) {
  ^bb0(%bx: index):
    %a_s = tile.alloc : !tile.buffer<128x64xbf16, shared>
    %b_s = tile.alloc : !tile.buffer<64x128xbf16, shared>
    %acc = tile.alloc {tile.layout = {kind = "mma", warps_m = 8 : i64, warps_n = 1 : i64}} : !tile.buffer<128x128xf32, fragment>
    scf.for %i = %c0 to %k step %c1 {
      %off = arith.muli %i, %c64 : index
      %a_t = tile.view %A[%c0, %off] sizes [128, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<128x64xbf16, global>
      %b_t = tile.view %B[%off, %c0] sizes [64, 128] : !tile.buffer<64x?xbf16, global> -> !tile.buffer<64x128xbf16, global>
      tile.copy %a_t, %a_s {tile.prefetch = 3 : i64} : !tile.buffer<128x64xbf16, global>, !tile.buffer<128x64xbf16, shared>
      tile.copy %b_t, %b_s {tile.prefetch = 3 : i64} : !tile.buffer<64x128xbf16, global>, !tile.buffer<64x128xbf16, shared>
      tile.gemm %a_s, %b_s, %acc : !tile.buffer<128x64xbf16, shared>, !tile.buffer<64x128xbf16, shared>, !tile.buffer<128x128xf32, fragment>
    } {tile.num_stages = 3 : i64}
  }
  return
}

// A state copied from registers each iteration is wgmma's B: it is swizzled
// although it is no ring. A 1-D gate ring is a row-major box: no swizzle.
// The element-wise code makes every iteration wait for its gemm.
// CHECK-LABEL: func.func @state(
// CHECK: tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
// CHECK: tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
// CHECK: tile.alloc : !tile.buffer<64xf32, shared>
// CHECK: tile.tma_pipeline = {consumer_regs = 0 : i64, producer_regs = 0 : i64, producer_threads = 128 : i64, wait_depth = 0 : i64}
func.func @state(%X: !tile.buffer<?x64xbf16, global>, %G: !tile.buffer<?xf32, global>) attributes {tile.kernel} {
  %t = tile.dim %X, 0 : !tile.buffer<?x64xbf16, global>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %s_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %g_s = tile.alloc : !tile.buffer<64xf32, shared>
    %acc = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    // expected-remark@+1 {{Pipelined loop waits for its wgmma gemms every iteration: the body also runs the copy at 67:7}}
    scf.for %i = %c0 to %t step %c1 {
      %off = arith.muli %i, %c64 : index
      %x_t = tile.view %X[%off, %c0] sizes [64, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      %g_t = tile.view %G[%off] sizes [64] : !tile.buffer<?xf32, global> -> !tile.buffer<64xf32, global>
      tile.copy %x_t, %x_s {tile.prefetch = 2 : i64} : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      tile.copy %g_t, %g_s {tile.prefetch = 2 : i64} : !tile.buffer<64xf32, global>, !tile.buffer<64xf32, shared>
      tile.copy %acc, %s_s : !tile.buffer<64x64xf32, fragment>, !tile.buffer<64x64xbf16, shared>
      tile.gemm %x_s, %s_s, %acc : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
      tile.parallel [64, 64] {
      ^bb0(%r: index, %c: index):
        %g = tile.load %g_s[%r] : !tile.buffer<64xf32, shared>
        tile.store %g, %acc[%r, %c] : !tile.buffer<64x64xf32, fragment>
      }
    } {tile.num_stages = 2 : i64}
  }
  return
}

// Loops that keep cp.async, each with the condition that failed: a slice of
// a ring; an accumulator without a wgmma layout.
// CHECK-LABEL: func.func @declined(
// CHECK-NOT: tile.swizzle
// CHECK-NOT: tile.tma_pipeline
// CHECK: return
func.func @declined(%X: !tile.buffer<?x64xbf16, global>, %Y: !tile.buffer<?x64xbf16, global>) attributes {tile.kernel} {
  %t = tile.dim %X, 0 : !tile.buffer<?x64xbf16, global>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %w_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %acc = tile.alloc {tile.layout = {kind = "mma", warps_m = 2 : i64, warps_n = 2 : i64}} : !tile.buffer<64x64xf32, fragment>
    // expected-remark@+1 {{Pipelined loop not lowered to TMA + wgmma (it keeps cp.async and no producer warpgroup): the ring filled at 99:7 is also used by the slice at 100:15; a TMA ring is read by gemms, element reads and writes and whole-tile copies}}
    scf.for %i = %c0 to %t step %c1 {
      %off = arith.muli %i, %c64 : index
      %x_t = tile.view %X[%off, %c0] sizes [64, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.copy %x_t, %x_s {tile.prefetch = 2 : i64} : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      %half = tile.view %x_s[%c0, %c0] sizes [32, 64] : !tile.buffer<64x64xbf16, shared> -> !tile.buffer<32x64xbf16, shared>
      %y_t = tile.view %Y[%off, %c0] sizes [32, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<32x64xbf16, global>
      tile.copy %half, %y_t : !tile.buffer<32x64xbf16, shared>, !tile.buffer<32x64xbf16, global>
    } {tile.num_stages = 2 : i64}
    // expected-remark@+1 {{Pipelined loop not lowered to TMA + wgmma (it keeps cp.async and no producer warpgroup): the gemm at 109:7 cannot run on wgmma: the accumulator (64 rows) is not laid out as 64 rows per warpgroup of the 128 threads running it}}
    scf.for %i = %c0 to %t step %c1 {
      %off = arith.muli %i, %c64 : index
      %w_t = tile.view %Y[%off, %c0] sizes [64, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.copy %w_t, %w_s {tile.prefetch = 2 : i64} : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      tile.gemm %w_s, %w_s, %acc : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    } {tile.num_stages = 2 : i64}
  }
  return
}

// Two eligible loops in one kernel each get a TMA pipeline (they share the
// producer warpgroup and its register split).
// CHECK-LABEL: func.func @two(
// CHECK: tile.tma_pipeline = {consumer_regs = 0 : i64, producer_regs = 0 : i64, producer_threads = 128 : i64, wait_depth = 1 : i64}
// CHECK: tile.tma_pipeline = {consumer_regs = 0 : i64, producer_regs = 0 : i64, producer_threads = 128 : i64, wait_depth = 1 : i64}
func.func @two(%X: !tile.buffer<?x64xbf16, global>) attributes {tile.kernel} {
  %t = tile.dim %X, 0 : !tile.buffer<?x64xbf16, global>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %y_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %acc = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    scf.for %i = %c0 to %t step %c1 {
      %off = arith.muli %i, %c64 : index
      %x_t = tile.view %X[%off, %c0] sizes [64, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.copy %x_t, %x_s {tile.prefetch = 2 : i64} : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      tile.gemm %x_s, %x_s, %acc {transpose_b} : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    } {tile.num_stages = 2 : i64}
    scf.for %i = %c0 to %t step %c1 {
      %off = arith.muli %i, %c64 : index
      %y_t = tile.view %X[%off, %c0] sizes [64, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.copy %y_t, %y_s {tile.prefetch = 2 : i64} : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      tile.gemm %y_s, %y_s, %acc : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    } {tile.num_stages = 2 : i64}
  }
  return
}

// A gemm that reads no ring (a fragment times a tile the threads wrote, as
// GDN's masked A times V - D K S) joins the pipeline's wgmma: its shared
// operand is swizzled too. The trip count is read from a tensor the kernel
// never writes, which the producer warpgroup can read as well.
// CHECK-LABEL: func.func @companion(
// CHECK: tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
// CHECK: tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
// CHECK: tile.tma_pipeline = {consumer_regs = 0 : i64, producer_regs = 0 : i64, producer_threads = 128 : i64, wait_depth = 0 : i64}
func.func @companion(%X: !tile.buffer<?x64xbf16, global>, %len: !tile.buffer<?xi32, global>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : bf16
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %w_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %p = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xbf16, fragment>
    %acc = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    %n = tile.load %len[%bx] : !tile.buffer<?xi32, global>
    %t = arith.index_cast %n : i32 to index
    // expected-remark@+1 {{Pipelined loop waits for its wgmma gemms every iteration: the body also runs the Parallel loop at 172:7}}
    scf.for %i = %c0 to %t step %c1 {
      %off = arith.muli %i, %c64 : index
      %x_t = tile.view %X[%off, %c0] sizes [64, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.copy %x_t, %x_s {tile.prefetch = 2 : i64} : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      tile.parallel [64, 64] {
      ^bb0(%r: index, %c: index):
        tile.store %zero, %w_s[%r, %c] : !tile.buffer<64x64xbf16, shared>
      }
      tile.gemm %x_s, %x_s, %acc {transpose_b} : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
      tile.gemm %p, %w_s, %acc : !tile.buffer<64x64xbf16, fragment>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    } {tile.num_stages = 2 : i64}
  }
  return
}

// The same gemm keeps mma.sync when its shared operand has a user that
// cannot read the swizzled view (here a reduction); the loop's ring gemm
// still runs on wgmma.
// CHECK-LABEL: func.func @companion_declined(
// CHECK: tile.alloc {tile.swizzle = 128 : i64} : !tile.buffer<64x64xbf16, shared>
// CHECK-NEXT: tile.alloc : !tile.buffer<64x64xbf16, shared>
// CHECK: tile.tma_pipeline
func.func @companion_declined(%X: !tile.buffer<?x64xbf16, global>) attributes {tile.kernel} {
  %t = tile.dim %X, 0 : !tile.buffer<?x64xbf16, global>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %w_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %p = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xbf16, fragment>
    %acc = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    %sum = tile.alloc : !tile.buffer<64xbf16, shared>
    // expected-remark@+1 {{Pipelined loop waits for its wgmma gemms every iteration: the body also runs the reduction at 208:7}}
    scf.for %i = %c0 to %t step %c1 {
      %off = arith.muli %i, %c64 : index
      %x_t = tile.view %X[%off, %c0] sizes [64, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.copy %x_t, %x_s {tile.prefetch = 2 : i64} : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      tile.gemm %x_s, %x_s, %acc {transpose_b} : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
      tile.reduce sum %w_s, %sum {dim = 1 : i64} : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64xbf16, shared>
      tile.gemm %p, %w_s, %acc : !tile.buffer<64x64xbf16, fragment>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    } {tile.num_stages = 2 : i64}
  }
  return
}

// A trip count read from a tensor the kernel also writes is not uniform
// scalar code: the producer could read it before or after the write.
// CHECK-LABEL: func.func @written_bound(
// CHECK-NOT: tile.tma_pipeline
// CHECK: return
func.func @written_bound(%X: !tile.buffer<?x64xbf16, global>, %len: !tile.buffer<?xi32, global>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0 : i32
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %acc = tile.alloc {tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}} : !tile.buffer<64x64xf32, fragment>
    %n = tile.load %len[%bx] : !tile.buffer<?xi32, global>
    %t = arith.index_cast %n : i32 to index
    // expected-remark@+1 {{Pipelined loop not lowered to TMA + wgmma (it keeps cp.async and no producer warpgroup): its bounds are not scalar code the producer can recompute}}
    scf.for %i = %c0 to %t step %c1 {
      %off = arith.muli %i, %c64 : index
      %x_t = tile.view %X[%off, %c0] sizes [64, 64] : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.copy %x_t, %x_s {tile.prefetch = 2 : i64} : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      tile.gemm %x_s, %x_s, %acc {transpose_b} : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    } {tile.num_stages = 2 : i64}
    tile.store %zero, %len[%bx] : !tile.buffer<?xi32, global>
  }
  return
}
