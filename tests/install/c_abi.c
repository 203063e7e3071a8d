/* A C program on tlc's C ABI, built against an installed tlc (through its
 * CMake package and through pkg-config): it parses the kernel metadata in
 * argv[1], checks that a call with no arguments is refused with a message
 * naming the parameters, and prints the kernel's parameter count. */
#include "tlc/runtime/tlc_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s METADATA.json\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  static char json[1 << 20];
  size_t n = fread(json, 1, sizeof json - 1, f);
  fclose(f);
  json[n] = '\0';
  tlc_kernel_info *info = NULL;
  if (tlc_kernel_info_parse(json, &info) != TLC_OK) {
    fprintf(stderr, "parse failed: %s\n", tlc_last_error());
    return 1;
  }
  uint32_t grid[3];
  tlc_status status = tlc_check_args(info, NULL, 0, grid);
  tlc_kernel_info_free(info);
  if (status != TLC_ERROR_INVALID_ARGUMENT ||
      !strstr(tlc_last_error(), "arguments (")) {
    fprintf(stderr, "a call without arguments was not refused\n");
    return 1;
  }
  printf("refused as expected: %s\n", tlc_last_error());
  return 0;
}
