// tile-check-gpu-support rejects, at the op, what the language and the
// interpreter accept but the CUDA code generator cannot lower; what it can
// lower passes unchanged.
// RUN: tlc-opt %s -split-input-file -tile-check-gpu-support -verify-diagnostics | FileCheck %s

// An f32 accumulator, an f32 atomic and a fragment of 128 registers a
// thread (128x128 f32 over 128 threads): all lowerable.
// CHECK-LABEL: func.func @supported(
func.func @supported(%Y: !tile.buffer<128x128xf32, global>) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : !tile.buffer<128x64xbf16, shared>
    %b = tile.alloc : !tile.buffer<64x128xbf16, shared>
    // CHECK: tile.alloc : !tile.buffer<128x128xf32, fragment>
    %acc = tile.alloc : !tile.buffer<128x128xf32, fragment>
    tile.gemm %a, %b, %acc : !tile.buffer<128x64xbf16, shared>, !tile.buffer<64x128xbf16, shared>, !tile.buffer<128x128xf32, fragment>
    tile.atomic_add %acc, %Y : !tile.buffer<128x128xf32, fragment>, !tile.buffer<128x128xf32, global>
  }
  return
}

// -----

// 256x256 f32 over 128 threads is 512 registers a thread.
func.func @fragment_too_big() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    // expected-error@+1 {{code generation: fragment 'acc' (256x256 f32) gives each of 128 threads 512 elements, about 512 registers, more than the 255 a thread has}}
    %acc = tile.alloc {name = "acc"} : !tile.buffer<256x256xf32, fragment>
  }
  return
}

// -----

// The same fragment in a role of one warp: its 32 threads share it.
func.func @fragment_in_role() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    tile.role "small" attributes {warps = 1 : i64} {
      // expected-error@+1 {{gives each of 32 threads 512 elements}}
      %acc = tile.alloc {name = "acc"} : !tile.buffer<128x128xf32, fragment>
    }
    tile.role "rest" attributes {warps = 3 : i64} {
    }
  }
  return
}

// -----

func.func @gemm_f16_accumulator() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : !tile.buffer<64x64xf16, shared>
    %b = tile.alloc : !tile.buffer<64x64xf16, shared>
    %acc = tile.alloc : !tile.buffer<64x64xf16, fragment>
    // expected-error@+1 {{code generation: gemm with an f16 accumulator is not supported on the GPU yet}}
    tile.gemm %a, %b, %acc : !tile.buffer<64x64xf16, shared>, !tile.buffer<64x64xf16, shared>, !tile.buffer<64x64xf16, fragment>
  }
  return
}

// -----

func.func @gemm_i8() attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : !tile.buffer<64x64xi8, shared>
    %b = tile.alloc : !tile.buffer<64x64xi8, shared>
    %acc = tile.alloc : !tile.buffer<64x64xi32, fragment>
    // expected-error@+1 {{code generation: gemm on i8 inputs is not supported on the GPU yet}}
    tile.gemm %a, %b, %acc : !tile.buffer<64x64xi8, shared>, !tile.buffer<64x64xi8, shared>, !tile.buffer<64x64xi32, fragment>
  }
  return
}

// -----

func.func @atomic_bool(%Y: !tile.buffer<128xi1, global>) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : !tile.buffer<128xi1, shared>
    // expected-error@+1 {{code generation: atomic_add into bool is not supported on the GPU}}
    tile.atomic_add %s, %Y : !tile.buffer<128xi1, shared>, !tile.buffer<128xi1, global>
  }
  return
}

// -----

func.func @atomic_i64(%Y: !tile.buffer<128xi64, global>) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : !tile.buffer<128xi64, shared>
    // expected-error@+1 {{code generation: atomic_add into i64 is not supported on the GPU}}
    tile.atomic_add %s, %Y : !tile.buffer<128xi64, shared>, !tile.buffer<128xi64, global>
  }
  return
}
