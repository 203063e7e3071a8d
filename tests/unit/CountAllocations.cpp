//===- CountAllocations.cpp - Count heap allocations in the runtime tests -===//
//
// Replaces the global operator new so that tests can show that the launch
// path allocates nothing. (In its own file so that no call site sees both the
// replacement and a matching delete inlined.)
//
//===----------------------------------------------------------------------===//

#include <atomic>
#include <cstdlib>
#include <new>

static std::atomic<size_t> count{0};

size_t numAllocations() { return count; }

void *operator new(size_t size) {
  ++count;
  if (void *p = std::malloc(size ? size : 1))
    return p;
  throw std::bad_alloc();
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, size_t) noexcept { std::free(p); }
