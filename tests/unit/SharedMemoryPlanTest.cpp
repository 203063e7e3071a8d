//===- SharedMemoryPlanTest.cpp - The shared-memory packer ----------------===//

#include "tlc/Codegen/SharedMemoryPlan.h"

#include <catch2/catch.hpp>

#include <vector>

using tlc::packSharedBuffers;
using tlc::SharedBufferRequest;

namespace {

bool overlapInMemory(const SharedBufferRequest &a,
                     const SharedBufferRequest &b) {
  return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

bool overlapInTime(const SharedBufferRequest &a, const SharedBufferRequest &b) {
  return a.first <= b.last && b.first <= a.last;
}

} // namespace

TEST_CASE("buffers live at once get disjoint, aligned bytes",
          "[shared-memory]") {
  std::vector<SharedBufferRequest> requests = {
      {100, 128, 0, 10}, {1000, 1024, 0, 10}, {8, 8, 0, 10}};
  int64_t total = packSharedBuffers(requests);
  CHECK(requests[0].offset == 0);
  CHECK(requests[1].offset == 1024);
  // The barrier fits in the alignment gap after the first buffer.
  CHECK(requests[2].offset == 104);
  CHECK(total == 2024);
}

TEST_CASE("a buffer dead before another is born gives it its bytes",
          "[shared-memory]") {
  std::vector<SharedBufferRequest> requests = {
      {4096, 128, 0, 4}, {2048, 128, 2, 9}, {4096, 1024, 5, 9}};
  int64_t total = packSharedBuffers(requests);
  CHECK(requests[1].offset == 4096);
  CHECK(requests[2].offset == 0);
  CHECK(total == 6144);
  // Touching intervals (one ends where the other starts) share a point.
  std::vector<SharedBufferRequest> touching = {{64, 64, 0, 3}, {64, 64, 3, 5}};
  CHECK(packSharedBuffers(touching) == 128);
}

TEST_CASE("random plans never overlap live buffers", "[shared-memory]") {
  unsigned seed = 12345;
  auto next = [&](unsigned bound) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % bound;
  };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<SharedBufferRequest> requests(1 + next(12));
    int64_t sum = 0;
    for (SharedBufferRequest &r : requests) {
      r.bytes = 1 + next(5000);
      r.align = int64_t(1) << next(11);
      r.first = next(20);
      r.last = r.first + next(10);
      sum += r.bytes + r.align;
    }
    int64_t total = packSharedBuffers(requests);
    CHECK(total <= sum);
    for (size_t i = 0; i < requests.size(); ++i) {
      CHECK(requests[i].offset % requests[i].align == 0);
      CHECK(requests[i].offset + requests[i].bytes <= total);
      for (size_t j = i + 1; j < requests.size(); ++j)
        if (overlapInTime(requests[i], requests[j]))
          CHECK_FALSE(overlapInMemory(requests[i], requests[j]));
    }
  }
}
