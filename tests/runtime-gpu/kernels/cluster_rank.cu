// out[b] = the rank of block b in its thread-block cluster.
#include "TensorArg.cuh"

#include <cooperative_groups.h>

extern "C" __global__ void cluster_rank(TensorArg<1> out) {
  if (threadIdx.x == 0)
    static_cast<int32_t *>(out.data)[blockIdx.x * out.stride[0]] =
        cooperative_groups::this_cluster().block_rank();
}
