// Checks that every tile op, type and dialect attribute prints and parses back
// unchanged, through both the custom and the generic op forms.
// RUN: tlc-opt %s | tlc-opt | FileCheck %s
// RUN: tlc-opt %s --mlir-print-op-generic | tlc-opt | FileCheck %s

// A pipelined GEMM: C[M, N] = A[M, K] * B[N, K]^T, 128x128x32 tiles.
// CHECK-LABEL: func.func @gemm(
// CHECK-SAME: %[[A:[^:]+]]: !tile.buffer<?x?xbf16, global> {tile.dims = ["M", "K"]}
// CHECK-SAME: %[[B:[^:]+]]: !tile.buffer<?x?xbf16, global> {tile.dims = ["N", "K"]}
// CHECK-SAME: %[[C:[^:]+]]: !tile.buffer<?x?xf32, global> {tile.dims = ["M", "N"]}
// CHECK-SAME: %[[KT:[^:]+]]: i32)
// CHECK-SAME: attributes {tile.constants = {BK = 32 : i64, BM = 128 : i64, BN = 128 : i64}, tile.kernel}
func.func @gemm(%A: !tile.buffer<?x?xbf16, global> {tile.dims = ["M", "K"]},
                %B: !tile.buffer<?x?xbf16, global> {tile.dims = ["N", "K"]},
                %C: !tile.buffer<?x?xf32, global> {tile.dims = ["M", "N"]},
                %k_tiles: i32)
    attributes {tile.kernel, tile.constants = {BM = 128 : i64, BN = 128 : i64, BK = 32 : i64}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  // CHECK: %[[M:.*]] = tile.dim %[[A]], 0 : !tile.buffer<?x?xbf16, global>
  // CHECK: %[[N:.*]] = tile.dim %[[B]], 0 : !tile.buffer<?x?xbf16, global>
  %m = tile.dim %A, 0 : !tile.buffer<?x?xbf16, global>
  %n = tile.dim %B, 0 : !tile.buffer<?x?xbf16, global>
  %gx = arith.ceildivui %n, %c128 : index
  %gy = arith.ceildivui %m, %c128 : index
  %kt = arith.index_cast %k_tiles : i32 to index
  // CHECK: tile.launch grid(%{{.*}}, %{{.*}}) threads(128) {
  // CHECK-NEXT: ^bb0(%[[BX:.*]]: index, %[[BY:.*]]: index):
  tile.launch grid(%gx, %gy) threads(128) {
  ^bb0(%bx: index, %by: index):
    // CHECK: %[[AS:.*]] = tile.alloc {name = "A_s"} : !tile.buffer<128x32xbf16, shared>
    // CHECK: %[[BS:.*]] = tile.alloc {name = "B_s"} : !tile.buffer<128x32xbf16, shared, {swizzle = 64 : i64}>
    // CHECK: %[[ACC:.*]] = tile.alloc {name = "C_f"} : !tile.buffer<128x128xf32, fragment>
    %A_s = tile.alloc {name = "A_s"} : !tile.buffer<128x32xbf16, shared>
    %B_s = tile.alloc {name = "B_s"} : !tile.buffer<128x32xbf16, shared, {swizzle = 64 : i64}>
    %C_f = tile.alloc {name = "C_f"} : !tile.buffer<128x128xf32, fragment>
    // CHECK: tile.annotate_layout %[[AS]] {swizzle = 128 : i64} : !tile.buffer<128x32xbf16, shared>
    tile.annotate_layout %A_s {swizzle = 128 : i64} : !tile.buffer<128x32xbf16, shared>
    %zero = arith.constant 0.0 : f32
    // CHECK: tile.fill %[[ACC]], %{{.*}} : !tile.buffer<128x128xf32, fragment>, f32
    tile.fill %C_f, %zero : !tile.buffer<128x128xf32, fragment>, f32
    %m0 = arith.muli %by, %c128 : index
    %n0 = arith.muli %bx, %c128 : index
    // CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
    scf.for %k = %c0 to %kt step %c1 {
      %k0 = arith.muli %k, %c32 : index
      // CHECK: %[[AT:.*]] = tile.view %[[A]][%{{.*}}, %{{.*}}] sizes [128, 32] : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x32xbf16, global>
      %A_t = tile.view %A[%m0, %k0] sizes [128, 32]
          : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x32xbf16, global>
      %B_t = tile.view %B[%n0, %k0] sizes [128, 32]
          : !tile.buffer<?x?xbf16, global> -> !tile.buffer<128x32xbf16, global>
      // CHECK: tile.copy %[[AT]], %[[AS]] : !tile.buffer<128x32xbf16, global>, !tile.buffer<128x32xbf16, shared>
      tile.copy %A_t, %A_s : !tile.buffer<128x32xbf16, global>, !tile.buffer<128x32xbf16, shared>
      tile.copy %B_t, %B_s : !tile.buffer<128x32xbf16, global>, !tile.buffer<128x32xbf16, shared, {swizzle = 64 : i64}>
      // CHECK: tile.gemm %[[AS]], %[[BS]], %[[ACC]] {transpose_b} : !tile.buffer<128x32xbf16, shared>, !tile.buffer<128x32xbf16, shared, {swizzle = 64 : i64}>, !tile.buffer<128x128xf32, fragment>
      tile.gemm %A_s, %B_s, %C_f {transpose_b}
          : !tile.buffer<128x32xbf16, shared>, !tile.buffer<128x32xbf16, shared, {swizzle = 64 : i64}>,
            !tile.buffer<128x128xf32, fragment>
      // An asynchronous gemm and the wait that finishes it.
      // CHECK: tile.gemm %[[AS]], %[[BS]], %[[ACC]] {async, transpose_b}
      // CHECK-NEXT: tile.gemm_wait pending(0) %[[ACC]] : !tile.buffer<128x128xf32, fragment>
      // CHECK-NEXT: tile.gemm_wait pending(1)
      // CHECK-NOT: :
      tile.gemm %A_s, %B_s, %C_f {async, transpose_b}
          : !tile.buffer<128x32xbf16, shared>, !tile.buffer<128x32xbf16, shared, {swizzle = 64 : i64}>,
            !tile.buffer<128x128xf32, fragment>
      tile.gemm_wait pending(0) %C_f : !tile.buffer<128x128xf32, fragment>
      tile.gemm_wait pending(1)
    // CHECK: } {tile.num_stages = 3 : i64}
    } {tile.num_stages = 3 : i64}
    // CHECK: %[[CT:.*]] = tile.view %[[C]]
    %C_t = tile.view %C[%m0, %n0] sizes [128, 128]
        : !tile.buffer<?x?xf32, global> -> !tile.buffer<128x128xf32, global>
    // CHECK: tile.copy %[[ACC]], %[[CT]] : !tile.buffer<128x128xf32, fragment>, !tile.buffer<128x128xf32, global>
    tile.copy %C_f, %C_t : !tile.buffer<128x128xf32, fragment>, !tile.buffer<128x128xf32, global>
  }
  return
}

// A softmax-like row kernel: element-wise math in tile.parallel, reductions,
// prefix sums and atomics.
// CHECK-LABEL: func.func @rows(
// CHECK-SAME: %[[X:[^:]+]]: !tile.buffer<?x128xf32, global> {tile.dims = ["R", "128"]}
// CHECK-SAME: %[[S:[^:]+]]: !tile.buffer<?xf32, global> {tile.dims = ["R"]}
// CHECK-SAME: %{{[^:]+}}: f32, %{{[^:]+}}: i64)
// CHECK-SAME: attributes {tile.kernel}
func.func @rows(%X: !tile.buffer<?x128xf32, global> {tile.dims = ["R", "128"]},
                %Sum: !tile.buffer<?xf32, global> {tile.dims = ["R"]},
                %scale: f32, %seed: i64) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %r = tile.dim %X, 0 : !tile.buffer<?x128xf32, global>
  %g = arith.ceildivui %r, %c64 : index
  // CHECK: tile.launch grid(%{{.*}}) threads(256) {
  // CHECK-NEXT: ^bb0(%[[BX:.*]]: index):
  tile.launch grid(%g) threads(256) {
  ^bb0(%bx: index):
    %r0 = arith.muli %bx, %c64 : index
    %X_f = tile.alloc {name = "X_f"} : !tile.buffer<64x128xf32, fragment>
    %X_s = tile.alloc {name = "X_s"} : !tile.buffer<64x128xf32, shared>
    %mx = tile.alloc {name = "mx"} : !tile.buffer<64xf32, fragment>
    %sm = tile.alloc {name = "sm"} : !tile.buffer<64xf32, fragment>
    %tot = tile.alloc {name = "tot"} : !tile.buffer<f32, local>
    %one = tile.alloc {name = "one"} : !tile.buffer<1xf32, local>
    %X_t = tile.view %X[%r0, %c0] sizes [64, 128]
        : !tile.buffer<?x128xf32, global> -> !tile.buffer<64x128xf32, global>
    tile.copy %X_t, %X_f : !tile.buffer<64x128xf32, global>, !tile.buffer<64x128xf32, fragment>
    // CHECK: tile.reduce max %[[XF:.*]], %[[MX:.*]] {dim = 1 : i64} : !tile.buffer<64x128xf32, fragment>, !tile.buffer<64xf32, fragment>
    tile.reduce max %X_f, %mx {dim = 1 : i64}
        : !tile.buffer<64x128xf32, fragment>, !tile.buffer<64xf32, fragment>
    // CHECK: tile.parallel [64, 128] {
    // CHECK-NEXT: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
    // CHECK-NEXT: %[[V:.*]] = tile.load %[[XF]][%[[I]], %[[J]]] : !tile.buffer<64x128xf32, fragment>
    // CHECK-NEXT: %[[MV:.*]] = tile.load %[[MX]][%[[I]]] : !tile.buffer<64xf32, fragment>
    // CHECK: math.exp
    // CHECK: tile.store %{{.*}}, %[[XF]][%[[I]], %[[J]]] : !tile.buffer<64x128xf32, fragment>
    tile.parallel [64, 128] {
    ^bb0(%i: index, %j: index):
      %v = tile.load %X_f[%i, %j] : !tile.buffer<64x128xf32, fragment>
      %mv = tile.load %mx[%i] : !tile.buffer<64xf32, fragment>
      %d = arith.subf %v, %mv : f32
      %s = arith.mulf %d, %scale : f32
      %e = math.exp %s : f32
      tile.store %e, %X_f[%i, %j] : !tile.buffer<64x128xf32, fragment>
    }
    // CHECK: tile.reduce sum %[[XF]], %{{.*}} {clear = false, dim = 1 : i64}
    tile.reduce sum %X_f, %sm {dim = 1 : i64, clear = false}
        : !tile.buffer<64x128xf32, fragment>, !tile.buffer<64xf32, fragment>
    // CHECK: tile.reduce min %{{.*}}, %{{.*}} {dim = 0 : i64} : !tile.buffer<64xf32, fragment>, !tile.buffer<f32, local>
    tile.reduce min %sm, %tot {dim = 0 : i64, clear = true}
        : !tile.buffer<64xf32, fragment>, !tile.buffer<f32, local>
    // CHECK: tile.reduce sum %{{.*}}, %{{.*}} {dim = 0 : i64} : !tile.buffer<64xf32, fragment>, !tile.buffer<1xf32, local>
    tile.reduce sum %sm, %one {dim = 0 : i64}
        : !tile.buffer<64xf32, fragment>, !tile.buffer<1xf32, local>
    // CHECK: tile.cumsum %[[XF]] {dim = 1 : i64} : !tile.buffer<64x128xf32, fragment>
    // CHECK: tile.cumsum %[[XF]] {dim = 0 : i64, reverse = true} : !tile.buffer<64x128xf32, fragment>
    tile.cumsum %X_f {dim = 1 : i64} : !tile.buffer<64x128xf32, fragment>
    tile.cumsum %X_f {dim = 0 : i64, reverse = true} : !tile.buffer<64x128xf32, fragment>
    // CHECK: tile.parallel [1] {
    // CHECK: tile.load %{{.*}}[] : !tile.buffer<f32, local>
    // CHECK: tile.store %{{.*}}, %{{.*}}[] : !tile.buffer<f32, local>
    tile.parallel [1] {
    ^bb0(%z: index):
      %t = tile.load %tot[] : !tile.buffer<f32, local>
      %t2 = arith.addf %t, %t : f32
      tile.store %t2, %tot[] : !tile.buffer<f32, local>
    }
    %seed_t = arith.trunci %seed : i64 to i32
    %ints = tile.alloc : !tile.buffer<64xi32, local>
    // CHECK: tile.fill %{{.*}}, %{{.*}} : !tile.buffer<64xi32, local>, i32
    tile.fill %ints, %seed_t : !tile.buffer<64xi32, local>, i32
    // CHECK: %[[ROW:.*]] = tile.view %[[XF]][%{{.*}}, %{{.*}}] sizes [1, 128] {dropped_dims = array<i64: 0>} : !tile.buffer<64x128xf32, fragment> -> !tile.buffer<128xf32, fragment>
    %row = tile.view %X_f[%c0, %c0] sizes [1, 128] {dropped_dims = array<i64: 0>}
        : !tile.buffer<64x128xf32, fragment> -> !tile.buffer<128xf32, fragment>
    tile.copy %X_f, %X_s : !tile.buffer<64x128xf32, fragment>, !tile.buffer<64x128xf32, shared>
    %S_t = tile.view %Sum[%r0] sizes [64]
        : !tile.buffer<?xf32, global> -> !tile.buffer<64xf32, global>
    // CHECK: tile.atomic_add %{{.*}}, %{{.*}} : !tile.buffer<64xf32, fragment>, !tile.buffer<64xf32, global>
    tile.atomic_add %sm, %S_t : !tile.buffer<64xf32, fragment>, !tile.buffer<64xf32, global>
  }
  return
}

// Warp specialization: a loader role feeds a consumer role through a channel
// (warpgroup roles first, fragments inside the role that holds them).
// CHECK-LABEL: func.func @specialized(
func.func @specialized(%A: !tile.buffer<?x128xbf16, global> {tile.dims = ["M", "128"]},
                       %steps: i32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %n = arith.index_cast %steps : i32 to index
  tile.launch grid(%c1) threads(256) {
  ^bb0(%bx: index):
    // CHECK: %[[CH:.*]] = tile.channel {name = "ring"} : !tile.channel<64x128xbf16, stages = 2>
    %ch = tile.channel {name = "ring"} : !tile.channel<64x128xbf16, stages = 2>
    %W_s = tile.alloc {name = "W_s"} : !tile.buffer<64x128xbf16, shared>
    // CHECK: tile.role "mma" attributes {warps = 4 : i64} {
    tile.role "mma" attributes {warps = 4 : i64} {
      %acc = tile.alloc {name = "acc"} : !tile.buffer<128x128xf32, fragment>
      scf.for %s = %c0 to %n step %c1 {
        // CHECK: tile.get %[[CH]] : !tile.channel<64x128xbf16, stages = 2> {
        // CHECK-NEXT: ^bb0(%[[SLOT:.*]]: !tile.buffer<64x128xbf16, shared>):
        // CHECK-NEXT: tile.gemm %[[SLOT]], %{{.*}}, %{{.*}} {clear_accum, transpose_a} :
        tile.get %ch : !tile.channel<64x128xbf16, stages = 2> {
        ^bb0(%slot: !tile.buffer<64x128xbf16, shared>):
          tile.gemm %slot, %W_s, %acc {transpose_a, clear_accum}
              : !tile.buffer<64x128xbf16, shared>, !tile.buffer<64x128xbf16, shared>,
                !tile.buffer<128x128xf32, fragment>
        }
      }
    }
    // CHECK: tile.role "loader" attributes {regs = 24 : i64, warps = 1 : i64} {
    tile.role "loader" attributes {warps = 1 : i64, regs = 24 : i64} {
      scf.for %s = %c0 to %n step %c1 {
        %row = arith.muli %s, %c64 : index
        %A_t = tile.view %A[%row, %c0] sizes [64, 128]
            : !tile.buffer<?x128xbf16, global> -> !tile.buffer<64x128xbf16, global>
        // CHECK: tile.put %[[CH]], %{{.*}} : !tile.channel<64x128xbf16, stages = 2>, !tile.buffer<64x128xbf16, global>
        tile.put %ch, %A_t : !tile.channel<64x128xbf16, stages = 2>, !tile.buffer<64x128xbf16, global>
      }
    }
    // CHECK: tile.role "idle" attributes {regs = 24 : i64, warps = 3 : i64} {
    // CHECK-NEXT: }
    tile.role "idle" attributes {warps = 3 : i64, regs = 24 : i64} {
    }
  }
  return
}

// A launch in thread-block clusters of 2 x 1 blocks, and the block's rank in
// its cluster.
// CHECK-LABEL: func.func @clusters(
// CHECK: tile.launch grid(%{{.*}}, %{{.*}}) threads(128) cluster [2, 1] {
// CHECK: %{{.*}} = tile.cluster_rank
func.func @clusters(%Y: !tile.buffer<?xi32, global>) attributes {tile.kernel} {
  %c4 = arith.constant 4 : index
  tile.launch grid(%c4, %c4) threads(128) cluster [2, 1] {
  ^bb0(%bx: index, %by: index):
    %rank = tile.cluster_rank
  }
  return
}

// Two blocks a multiprocessor (the launch bound and the register and
// shared-memory budgets follow from it).
// CHECK-LABEL: func.func @two_blocks_per_sm(
// CHECK: tile.launch grid(%{{.*}}) threads(128) blocks_per_sm(2) {
func.func @two_blocks_per_sm(%Y: !tile.buffer<?xi32, global>) attributes {tile.kernel} {
  %c4 = arith.constant 4 : index
  tile.launch grid(%c4) threads(128) blocks_per_sm(2) {
  ^bb0(%bx: index):
  }
  return
}

// Types: all memory scopes, dynamic global dims, rank 0, layouts, and every
// element type.
// CHECK-LABEL: func.func private @types(
// CHECK-SAME: !tile.buffer<?x?xbf16, global>, !tile.buffer<16x?x4xf16, global>, !tile.buffer<8xf64, shared>,
// CHECK-SAME: !tile.buffer<2x2xi1, fragment>, !tile.buffer<4xi8, local>, !tile.buffer<i64, local>,
// CHECK-SAME: !tile.buffer<64x64xbf16, shared, #tile<reduce_kind min>>,
// CHECK-SAME: !tile.channel<128xf32, stages = 4>)
func.func private @types(!tile.buffer<?x?xbf16, global>, !tile.buffer<16x?x4xf16, global>,
                         !tile.buffer<8xf64, shared>, !tile.buffer<2x2xi1, fragment>,
                         !tile.buffer<4xi8, local>, !tile.buffer<i64, local>,
                         !tile.buffer<64x64xbf16, shared, #tile<reduce_kind min>>,
                         !tile.channel<128xf32, stages = 4>)
