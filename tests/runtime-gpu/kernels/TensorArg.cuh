// The kernel ABI of a tensor parameter (docs/runtime.md): passed by value.
#pragma once
#include <cstdint>

template <int R> struct TensorArg {
  void *data;
  int64_t shape[R];
  int64_t stride[R]; // in elements
};
