// tile-infer-layouts gives gemm accumulators the mma.sync layout with a warp
// split that tiles them in 16x8 pieces, and every other fragment the strided
// layout; shared and local buffers are left alone.
// RUN: tlc-opt %s -tile-infer-layouts | FileCheck %s

// CHECK-LABEL: func.func @k
func.func @k(%A: !tile.buffer<?x?xbf16, global> {tile.dims = ["M", "K"]}) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    // CHECK: tile.alloc {name = "a"} : !tile.buffer<128x32xbf16, shared>
    // CHECK-NOT: tile.layout
    %a = tile.alloc {name = "a"} : !tile.buffer<128x32xbf16, shared>
    %b = tile.alloc {name = "b"} : !tile.buffer<32x128xbf16, shared>
    // CHECK: tile.alloc {name = "acc", tile.layout = {kind = "mma", warps_m = 2 : i64, warps_n = 2 : i64}}
    %acc = tile.alloc {name = "acc"} : !tile.buffer<128x128xf32, fragment>
    // CHECK: tile.alloc {name = "row", tile.layout = {kind = "strided"}}
    %row = tile.alloc {name = "row"} : !tile.buffer<128xf32, fragment>
    tile.gemm %a, %b, %acc : !tile.buffer<128x32xbf16, shared>, !tile.buffer<32x128xbf16, shared>, !tile.buffer<128x128xf32, fragment>
    tile.reduce sum %acc, %row {dim = 1 : i64} : !tile.buffer<128x128xf32, fragment>, !tile.buffer<128xf32, fragment>
  }
  return
}

// A tall accumulator is split along M only.
// CHECK-LABEL: func.func @tall
func.func @tall() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(256) {
  ^bb0(%bx: index):
    %a = tile.alloc : !tile.buffer<128x64xf16, shared>
    %b = tile.alloc : !tile.buffer<64x8xf16, shared>
    // CHECK: tile.layout = {kind = "mma", warps_m = 8 : i64, warps_n = 1 : i64}
    %acc = tile.alloc : !tile.buffer<128x8xf32, fragment>
    tile.gemm %a, %b, %acc : !tile.buffer<128x64xf16, shared>, !tile.buffer<64x8xf16, shared>, !tile.buffer<128x8xf32, fragment>
  }
  return
}

// With wgmma=true (the sm_90a pipeline), a 128-row accumulator over 8 warps
// takes the split of wgmma's m64 accumulators (one 16-row slice per warp)
// instead of the squarer 4x2 split.
// RUN: tlc-opt %s -tile-infer-layouts=wgmma=true | FileCheck %s --check-prefix=WGMMA
// WGMMA-LABEL: func.func @wgmma
// WGMMA: tile.alloc {name = "acc", tile.layout = {kind = "mma", warps_m = 8 : i64, warps_n = 1 : i64}}
// Without the option, the split minimising shared-memory traffic.
// CHECK-LABEL: func.func @wgmma
// CHECK: tile.alloc {name = "acc", tile.layout = {kind = "mma", warps_m = 2 : i64, warps_n = 4 : i64}}
func.func @wgmma() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(256) {
  ^bb0(%bx: index):
    %a = tile.alloc {name = "a"} : !tile.buffer<128x64xbf16, shared>
    %b = tile.alloc {name = "b"} : !tile.buffer<64x256xbf16, shared>
    %acc = tile.alloc {name = "acc"} : !tile.buffer<128x256xf32, fragment>
    tile.gemm %a, %b, %acc : !tile.buffer<128x64xbf16, shared>, !tile.buffer<64x256xbf16, shared>, !tile.buffer<128x256xf32, fragment>
  }
  return
}

// With wgmma=true, a fragment used as a gemm's A operand takes the split of
// an accumulator of its rows, so wgmma reads it from registers; without the
// option it keeps the strided layout.
// RUN: tlc-opt %s -tile-infer-layouts=wgmma=true | FileCheck %s --check-prefix=REGA
// REGA-LABEL: func.func @register_a
// REGA: tile.alloc {name = "p", tile.layout = {kind = "mma", warps_m = 4 : i64, warps_n = 1 : i64}}
// CHECK-LABEL: func.func @register_a
// CHECK: tile.alloc {name = "p", tile.layout = {kind = "strided"}}
func.func @register_a() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %v = tile.alloc {name = "v"} : !tile.buffer<64x64xbf16, shared>
    %p = tile.alloc {name = "p"} : !tile.buffer<64x64xbf16, fragment>
    %o = tile.alloc {name = "o"} : !tile.buffer<64x64xf32, fragment>
    tile.gemm %p, %v, %o : !tile.buffer<64x64xbf16, fragment>, !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
  }
  return
}

// A fragment no gemm constrains takes the layout of the accumulator it
// shares an element loop with (here a product kept for a reduction), and a
// temporary written from that one follows (the propagation runs to a fixed
// point): one layout per loop, so the emitter needs no staging. A fragment
// that meets no laid-out one stays strided. (GDN's backward writes such
// products; before, they were strided and the emitter refused the loop.)
// CHECK-LABEL: func.func @propagate
// CHECK: tile.alloc {name = "acc", tile.layout = {kind = "mma", warps_m = [[M:[0-9]+]] : i64, warps_n = [[N:[0-9]+]] : i64}}
// CHECK: tile.alloc {name = "prod", tile.layout = {kind = "mma", warps_m = [[M]] : i64, warps_n = [[N]] : i64}}
// CHECK: tile.alloc {name = "next", tile.layout = {kind = "mma", warps_m = [[M]] : i64, warps_n = [[N]] : i64}}
// CHECK: tile.alloc {name = "alone", tile.layout = {kind = "strided"}}
func.func @propagate() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc {name = "a"} : !tile.buffer<64x32xbf16, shared>
    %b = tile.alloc {name = "b"} : !tile.buffer<32x64xbf16, shared>
    %acc = tile.alloc {name = "acc"} : !tile.buffer<64x64xf32, fragment>
    %prod = tile.alloc {name = "prod"} : !tile.buffer<64x64xf32, fragment>
    %next = tile.alloc {name = "next"} : !tile.buffer<64x64xf32, fragment>
    %alone = tile.alloc {name = "alone"} : !tile.buffer<64x64xf32, fragment>
    tile.gemm %a, %b, %acc : !tile.buffer<64x32xbf16, shared>, !tile.buffer<32x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %x = tile.load %acc[%i, %j] : !tile.buffer<64x64xf32, fragment>
      %y = arith.mulf %x, %x : f32
      tile.store %y, %prod[%i, %j] : !tile.buffer<64x64xf32, fragment>
    }
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %x = tile.load %prod[%i, %j] : !tile.buffer<64x64xf32, fragment>
      tile.store %x, %next[%i, %j] : !tile.buffer<64x64xf32, fragment>
    }
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %x = tile.load %alone[%i, %j] : !tile.buffer<64x64xf32, fragment>
      tile.store %x, %alone[%i, %j] : !tile.buffer<64x64xf32, fragment>
    }
  }
  return
}
