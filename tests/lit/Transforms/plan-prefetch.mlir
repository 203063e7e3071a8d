// tile-plan-prefetch marks the copies of a Pipelined loop that become
// prefetch rings (tile.prefetch = stages), so the decision is visible in the
// IR before code generation; a copy whose buffer is used before it in the
// loop body, or after the loop, keeps its buffer, with a remark. Writes after
// the copy (masking the landed tile in place) keep the ring.
// RUN: tlc-opt %s -tile-plan-prefetch | FileCheck %s
// RUN: tlc-opt %s -tile-plan-prefetch=remarks=true -verify-diagnostics -o /dev/null

// CHECK-LABEL: func.func @pipelined(
func.func @pipelined(%A: !tile.buffer<?x64xbf16, global>, %steps: i32) attributes {tile.kernel} {
  %n = arith.index_cast %steps : i32 to index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %m_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %acc = tile.alloc : !tile.buffer<64x64xf32, fragment>
    scf.for %k = %c0 to %n step %c1 {
      %row = arith.muli %k, %c64 : index
      %a_t = tile.view %A[%row, %c0] sizes [64, 64]
          : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      // The only writer of %a_s: a ring of 3.
      // CHECK: tile.copy %{{.*}}, %{{.*}} {tile.prefetch = 3 : i64}
      tile.copy %a_t, %a_s : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      // %m_s is masked in place after it lands: still a ring.
      // CHECK: tile.copy %{{.*}}, %{{.*}} {tile.prefetch = 3 : i64}
      tile.copy %a_t, %m_s : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      tile.parallel [64, 64] {
      ^bb0(%i: index, %j: index):
        %zero = arith.constant 0.0 : bf16
        tile.store %zero, %m_s[%i, %j] : !tile.buffer<64x64xbf16, shared>
      }
      tile.gemm %a_s, %m_s, %acc : !tile.buffer<64x64xbf16, shared>,
          !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
    } {tile.num_stages = 3 : i64}
  }
  return
}

// A loop without stages is left alone; a Pipelined loop with no eligible
// copy says so.
// CHECK-LABEL: func.func @none(
func.func @none(%A: !tile.buffer<?x64xbf16, global>, %steps: i32) attributes {tile.kernel} {
  %n = arith.index_cast %steps : i32 to index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %f_s = tile.alloc : !tile.buffer<64x64xf32, shared>
    // CHECK-NOT: tile.prefetch
    scf.for %k = %c0 to %n step %c1 {
      %a_t = tile.view %A[%k, %c0] sizes [64, 64]
          : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.copy %a_t, %a_s : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
    }
    // expected-remark@+1 {{Pipelined loop not pipelined: no copy from global memory in its body can be prefetched}}
    scf.for %k = %c0 to %n step %c1 {
      %a_t = tile.view %A[%k, %c0] sizes [64, 64]
          : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      // expected-remark@+1 {{copy not prefetched into a ring of 2 stages: it converts bf16 to f32; a ring holds the tensor's type}}
      tile.copy %a_t, %f_s : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xf32, shared>
    } {tile.num_stages = 2 : i64}
  }
  return
}

// A tile read before its copy in the body is the previous iteration's: no
// ring. The same for a tile read after the loop.
// CHECK-LABEL: func.func @read_before(
func.func @read_before(%A: !tile.buffer<?x64xbf16, global>, %steps: i32) attributes {tile.kernel} {
  %n = arith.index_cast %steps : i32 to index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %b_s = tile.alloc : !tile.buffer<64x64xbf16, shared>
    %acc = tile.alloc : !tile.buffer<64x64xf32, fragment>
    // CHECK-NOT: tile.prefetch
    // expected-remark@+1 {{Pipelined loop not pipelined: no copy from global memory in its body can be prefetched}}
    scf.for %k = %c0 to %n step %c1 {
      %a_t = tile.view %A[%k, %c0] sizes [64, 64]
          : !tile.buffer<?x64xbf16, global> -> !tile.buffer<64x64xbf16, global>
      tile.gemm %a_s, %a_s, %acc : !tile.buffer<64x64xbf16, shared>,
          !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
      // expected-remark@+1 {{copy not prefetched into a ring of 2 stages: its destination is used before the copy in the loop body, by the gemm at 87:7, which sees the previous iteration's tile; in a ring it would see this one's}}
      tile.copy %a_t, %a_s : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
      // expected-remark@+1 {{copy not prefetched into a ring of 2 stages: its destination is used outside the loop, by the copy at 94:5; a ring lives only in the loop}}
      tile.copy %a_t, %b_s : !tile.buffer<64x64xbf16, global>, !tile.buffer<64x64xbf16, shared>
    } {tile.num_stages = 2 : i64}
    tile.copy %b_s, %acc : !tile.buffer<64x64xbf16, shared>, !tile.buffer<64x64xf32, fragment>
  }
  return
}
