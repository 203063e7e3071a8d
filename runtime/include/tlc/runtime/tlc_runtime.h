/*===- tlc_runtime.h - Load and launch tlc kernels (C ABI) --------*- C -*-===*
 *
 * C99 interface of libtlc_runtime.so, for C programs and Python (ctypes).
 * Every function returns a tlc_status; on failure, tlc_last_error() holds the
 * message (per thread). See docs/runtime.md.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TLC_RUNTIME_TLC_RUNTIME_H
#define TLC_RUNTIME_TLC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define TLC_API __attribute__((visibility("default")))
#else
#define TLC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tlc_status {
  TLC_OK = 0,
  TLC_ERROR_INVALID_ARGUMENT = 1, /* bad arguments or unusable metadata */
  TLC_ERROR_DRIVER = 2,    /* no driver/device, or a driver call failed */
  TLC_ERROR_NOT_FOUND = 3, /* a file, or the kernel in the module */
  TLC_ERROR_PARSE = 4      /* malformed metadata */
} tlc_status;

typedef enum tlc_dtype {
  TLC_DTYPE_BF16 = 0,
  TLC_DTYPE_F16 = 1,
  TLC_DTYPE_F32 = 2,
  TLC_DTYPE_F64 = 3,
  TLC_DTYPE_I8 = 4,
  TLC_DTYPE_I32 = 5,
  TLC_DTYPE_I64 = 6,
  TLC_DTYPE_BOOL = 7
} tlc_dtype;

typedef enum tlc_arg_kind {
  TLC_ARG_TENSOR = 0,
  TLC_ARG_SCALAR = 1
} tlc_arg_kind;

#define TLC_MAX_RANK 8

/* One kernel argument (160 bytes). A tensor sets data, dtype, rank, shape and
 * strides (in elements); a scalar sets dtype (I32, I64 or F32) and scalar. */
typedef struct tlc_arg {
  int32_t kind;  /* tlc_arg_kind */
  int32_t dtype; /* tlc_dtype */
  int32_t rank;
  int32_t reserved;
  void *data;
  int64_t shape[TLC_MAX_RANK];
  int64_t strides[TLC_MAX_RANK];
  union {
    int32_t i32;
    int64_t i64;
    float f32;
  } scalar;
} tlc_arg;

typedef struct tlc_module tlc_module;           /* a loaded module */
typedef struct tlc_kernel tlc_kernel;           /* its kernel, owned by it */
typedef struct tlc_kernel_info tlc_kernel_info; /* parsed metadata */

/* cuInit, then makes the primary context of `device` current. */
TLC_API tlc_status tlc_init(int device);

/* Loads a module into the current context. `ptx_path`/`image` is PTX or a
 * cubin; `json`/`json_path` the kernel's metadata. */
TLC_API tlc_status tlc_module_load_files(const char *ptx_path,
                                         const char *json_path,
                                         tlc_module **out);
TLC_API tlc_status tlc_module_load_data(const void *image, size_t size,
                                        const char *json, tlc_module **out);
TLC_API void tlc_module_free(tlc_module *module); /* NULL is fine */
TLC_API tlc_status tlc_module_kernel(tlc_module *module, tlc_kernel **out);

/* Validates the arguments, then launches on `stream` (a CUstream; NULL is the
 * default stream). Never synchronises. */
TLC_API tlc_status tlc_kernel_launch(tlc_kernel *kernel, void *stream,
                                     const tlc_arg *args, int nargs);
/* The kernel's metadata; owned by the kernel's module. */
TLC_API const tlc_kernel_info *tlc_kernel_get_info(const tlc_kernel *kernel);

/* Metadata without a GPU: parse; validate arguments exactly as a launch
 * does and, if `grid` is not NULL, store the launch grid (x, y, z) there. */
TLC_API tlc_status tlc_kernel_info_parse(const char *json,
                                         tlc_kernel_info **out);
TLC_API tlc_status tlc_check_args(const tlc_kernel_info *info,
                                  const tlc_arg *args, int nargs,
                                  uint32_t grid[3]);
TLC_API void tlc_kernel_info_free(tlc_kernel_info *info); /* NULL is fine */

/* Gated DeltaNet forward (docs/kernels/gdn.md) with caller-provided memory:
 * nothing is allocated or copied from the host, so the call can be captured
 * in a CUDA graph. Tensors use FLA's conventions; index tensors are int32 on
 * the device: cu_seqlens [N+1] (a dense batch passes [0, T, 2T, ...] with q
 * etc. of batch B: the kernels view them as packed), chunk_indices [NT, 2]
 * and chunk_offsets [N] as tlc::ops::planChunks makes them. Context
 * parallelism (optional): segment_offsets [S+1], the token offsets of
 * chunk-aligned segments, and sequence_segments [N+1] (sequence n owns
 * segments sequence_segments[n] .. [n+1]-1); then chunk_indices and
 * chunk_offsets [S] index segments. data NULL: sequences are not split. */
typedef struct tlc_gdn_forward_args {
  tlc_arg q, k, v, g, beta;
  tlc_arg initial_state; /* [N, H_v, K, V] f32; data NULL: none */
  tlc_arg cu_seqlens, chunk_indices, chunk_offsets;
  tlc_arg o;           /* [B, T, H_v, V], dtype of v */
  tlc_arg final_state; /* [N, H_v, K, V] f32; data NULL: not computed */
  void *workspace;     /* device memory of tlc_gdn_workspace_bytes() */
  size_t workspace_bytes;
  float scale;
  tlc_arg segment_offsets, sequence_segments; /* data NULL: no split */
} tlc_gdn_forward_args;

/* Workspace the call needs (from the shapes of q, v, chunk_indices and
 * segment_offsets). */
TLC_API tlc_status tlc_gdn_workspace_bytes(const tlc_gdn_forward_args *args,
                                           size_t *bytes);
/* Launches the GDN kernels compiled into `kernel_dir` (one folder per
 * instantiation) on `stream` (a CUstream). */
TLC_API tlc_status tlc_gdn_forward(const char *kernel_dir, void *stream,
                                   const tlc_gdn_forward_args *args);

/* Whether every kernel that tlc_gdn_forward would launch with these
 * arguments is compiled in `kernel_dir`: TLC_OK, or TLC_ERROR_NOT_FOUND
 * naming the first missing file (and the usual argument errors). Needs no
 * GPU and no workspace. */
TLC_API tlc_status tlc_gdn_forward_check_kernels(
    const char *kernel_dir, const tlc_gdn_forward_args *args);

/* Gated DeltaNet backward with caller-provided memory (no allocation, no
 * host copy: graph-capturable). The inputs and index tensors are the
 * forward's, with an unsplit plan (no segments); d_o [B, T, H_v, V] in v's
 * dtype; d_final_state [N, H_v, K, V] f32 (data NULL: zero). It writes dq,
 * dk [B, T, H_qk, K] (dtype of q, summed over each GVA group), dv (dtype of
 * v), dg and dbeta [B, T, H_v] f32, and dh0 [N, H_v, K, V] f32 when
 * initial_state is given. */
typedef struct tlc_gdn_backward_args {
  tlc_arg q, k, v, g, beta;
  tlc_arg initial_state; /* data NULL: none (and no dh0) */
  tlc_arg cu_seqlens, chunk_indices, chunk_offsets;
  tlc_arg d_o;
  tlc_arg d_final_state; /* data NULL: zero */
  tlc_arg dq, dk, dv, dg, dbeta, dh0;
  void *workspace; /* device memory of tlc_gdn_backward_workspace_bytes() */
  size_t workspace_bytes;
  float scale;
} tlc_gdn_backward_args;

TLC_API tlc_status tlc_gdn_backward_workspace_bytes(
    const tlc_gdn_backward_args *args, size_t *bytes);
TLC_API tlc_status tlc_gdn_backward(const char *kernel_dir, void *stream,
                                    const tlc_gdn_backward_args *args);
/* As tlc_gdn_forward_check_kernels, for tlc_gdn_backward. */
TLC_API tlc_status tlc_gdn_backward_check_kernels(
    const char *kernel_dir, const tlc_gdn_backward_args *args);

/* The chunk lists of packed sequences with offsets cu_seqlens[0..num_seqs]
 * (host memory), as tlc::ops::planChunks makes them for `chunk`-token
 * chunks: chunk_indices receives a (sequence, chunk in sequence) pair a
 * chunk (capacity ints; 2 * (cu_seqlens[num_seqs] / chunk + num_seqs)
 * always suffices), chunk_offsets each sequence's first chunk (num_seqs
 * ints), *num_chunks their count. */
TLC_API tlc_status tlc_gdn_plan_chunks(const int32_t *cu_seqlens,
                                       int64_t num_seqs, int64_t chunk,
                                       int32_t *chunk_indices, int64_t capacity,
                                       int32_t *chunk_offsets,
                                       int64_t *num_chunks);

/* Context parallelism's split for packed sequences with offsets
 * cu_seqlens[0..num_seqs] (host memory), as tlc::ops::chooseSegmentChunks
 * and planChunks make it: segment_chunks 0 decides from the cost model
 * (heads value heads of head dimension head_k, multiprocessors and
 * the TLC_DTYPE_* of q, k and v), < 0 never splits, > 0 cuts into
 * segments of that many chunks. On a split, segment_offsets receives the
 * S+1 token offsets (capacity >= num_seqs + tokens/64 + 2 always
 * suffices), sequence_segments the num_seqs+1 first segments, and *count
 * is S+1; without one, *count is 0. */
TLC_API tlc_status tlc_gdn_plan_segments(
    const int32_t *cu_seqlens, int64_t num_seqs, int64_t heads, int64_t head_k,
    int multiprocessors, int dtype, int64_t segment_chunks,
    int32_t *segment_offsets, int64_t capacity, int32_t *sequence_segments,
    int64_t *count);

/* The message of the last failed call on this thread ("" if none). */
TLC_API const char *tlc_last_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TLC_RUNTIME_TLC_RUNTIME_H */
