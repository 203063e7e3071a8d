// Accumulators that no warp split can tile in 16x8 mma pieces are rejected
// at the gemm.
// RUN: tlc-opt %s -tile-infer-layouts -verify-diagnostics

func.func @odd() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : !tile.buffer<24x16xbf16, shared>
    %b = tile.alloc : !tile.buffer<16x8xbf16, shared>
    %acc = tile.alloc : !tile.buffer<24x8xf32, fragment>
    // expected-error@+1 {{gemm: the 24x8 accumulator cannot be split over 4 warps in 16x8 mma tiles}}
    tile.gemm %a, %b, %acc : !tile.buffer<24x16xbf16, shared>, !tile.buffer<16x8xbf16, shared>, !tile.buffer<24x8xf32, fragment>
  }
  return
}
