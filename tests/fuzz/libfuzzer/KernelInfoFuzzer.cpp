//===- KernelInfoFuzzer.cpp - libFuzzer harness: kernel metadata ----------===//
//
// Part of tlc. The input is a kernel metadata document (what tlc writes
// beside its PTX, schema tlc.kernel/1), possibly hostile: parsing it through
// the C ABI and the C++ API either fails with an error or yields metadata
// whose grid expressions print; nothing crashes, leaks or reads out of
// bounds (ASan, UBSan). Seeded with the metadata of the built kernels.
//
//===----------------------------------------------------------------------===//

#include "tlc/runtime/Runtime.h"
#include "tlc/runtime/tlc_runtime.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  tlc_kernel_info *info = nullptr;
  tlc_status status = tlc_kernel_info_parse(text.c_str(), &info);
  if ((status == TLC_OK) != (info != nullptr))
    std::abort(); // a handle exactly when the parse succeeded
  if (status != TLC_OK && !*tlc_last_error())
    std::abort(); // every failure says why
  uint32_t grid[3];
  if (info)
    (void)tlc_check_args(info, nullptr, 0, grid);
  tlc_kernel_info_free(info);

  tlc::rt::Expected<tlc::rt::KernelInfo> parsed =
      tlc::rt::parseKernelInfo(text);
  if (parsed)
    for (int axis = 0; axis < 3; ++axis)
      (void)tlc::rt::printGridExpr(*parsed, parsed->grid[axis]);
  return 0;
}
