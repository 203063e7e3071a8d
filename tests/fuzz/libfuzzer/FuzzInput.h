//===- FuzzInput.h - Hostile values from a libFuzzer input ------*- C++ -*-===//
//
// Part of tlc. Reads a fuzzer's bytes as the values a hostile caller passes
// the runtime: edge integers (0, -1, powers of two, the int64 extremes) as
// often as raw ones, tensor descriptors that are almost right (the expected
// kind, dtype and rank with bad shapes, strides or pointers) as often as
// random ones. Past the input's end every read is 0.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_TESTS_FUZZ_LIBFUZZER_FUZZINPUT_H
#define TLC_TESTS_FUZZ_LIBFUZZER_FUZZINPUT_H

#include "tlc/runtime/tlc_runtime.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace tlc::fuzz {

class FuzzInput {
public:
  FuzzInput(const uint8_t *data, size_t size) : data(data), size(size) {}

  bool empty() const { return pos >= size; }

  uint8_t byte() { return pos < size ? data[pos++] : 0; }

  int64_t raw64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= uint64_t(byte()) << (8 * i);
    int64_t s;
    std::memcpy(&s, &v, sizeof s);
    return s;
  }

  /// An edge value half the time, a small one or a raw one otherwise.
  int64_t integer() {
    static constexpr int64_t kEdges[] = {0,
                                         1,
                                         -1,
                                         2,
                                         3,
                                         63,
                                         64,
                                         65,
                                         127,
                                         128,
                                         4096,
                                         int64_t(1) << 31,
                                         (int64_t(1) << 31) - 1,
                                         int64_t(1) << 32,
                                         int64_t(1) << 62,
                                         std::numeric_limits<int64_t>::max(),
                                         std::numeric_limits<int64_t>::min()};
    uint8_t how = byte();
    if (how < 128)
      return kEdges[how % (sizeof(kEdges) / sizeof(kEdges[0]))];
    if (how < 224)
      return int64_t(byte()) - 16;
    return raw64();
  }

  /// A device pointer: null, aligned, misaligned or raw (never
  /// dereferenced on the host).
  void *pointer() {
    switch (byte() % 4) {
    case 0:
      return nullptr;
    case 1:
      return reinterpret_cast<void *>(uintptr_t(0x7f0000000000));
    case 2:
      return reinterpret_cast<void *>(uintptr_t(0x7f0000000000) + 1 +
                                      byte() % 15);
    default:
      return reinterpret_cast<void *>(uintptr_t(raw64()));
    }
  }

  /// A tensor or scalar argument. With `kind`, `dtype` and `rank` >= 0 it
  /// is usually what the callee expects with hostile extents and strides
  /// (contiguous, zero, negative or huge); otherwise every field is
  /// arbitrary, including the reserved one.
  tlc_arg argument(int kind = -1, int dtype = -1, int rank = -1) {
    tlc_arg a;
    std::memset(&a, 0, sizeof a);
    uint8_t mode = byte() % 4;
    if (mode == 0 || kind < 0) {
      unsigned char bytes[sizeof(tlc_arg)];
      for (unsigned char &b : bytes)
        b = byte();
      std::memcpy(&a, bytes, sizeof a);
      return a;
    }
    a.kind = byte() < 16 ? int32_t(integer()) : kind;
    a.dtype = byte() < 16 ? int32_t(integer()) : dtype;
    a.rank = byte() < 16 ? int32_t(integer()) : rank;
    a.data = mode == 1 ? reinterpret_cast<void *>(uintptr_t(0x7f0000000000))
                       : pointer();
    int r = a.rank < 0 || a.rank > TLC_MAX_RANK ? TLC_MAX_RANK : a.rank;
    for (int i = 0; i < r; ++i)
      a.shape[i] = mode == 1 ? int64_t(byte() % 130) : integer();
    int64_t stride = 1;
    for (int i = r - 1; i >= 0; --i) {
      // Contiguous strides (which may overflow int64 for huge extents: the
      // callee must notice) or hostile ones.
      a.strides[i] = mode == 3 ? integer() : stride;
      stride = int64_t(uint64_t(stride) * uint64_t(a.shape[i]));
    }
    a.scalar.i64 = raw64();
    return a;
  }

private:
  const uint8_t *data;
  size_t size;
  size_t pos = 0;
};

} // namespace tlc::fuzz

#endif // TLC_TESTS_FUZZ_LIBFUZZER_FUZZINPUT_H
