//===- InterpreterBackend.h - Operators' kernels on the CPU ----*- C++ -*-===//
//
// An ops::Backend that compiles a `.tl` file's kernels with the front end and
// runs them in the interpreter over host memory, so host operators (GDN)
// are tested end to end without a GPU. Tensors are real host memory in the
// dtype's byte format (bf16 as 16-bit words), like device memory would be.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_INTERPRETER_INTERPRETERBACKEND_H
#define TLC_INTERPRETER_INTERPRETERBACKEND_H

#include "tlc/ops/Gdn.h"

#include <map>
#include <memory>
#include <string>

namespace tlc::interp {

class InterpreterBackend : public ops::Backend {
public:
  /// `sourcePath`: the .tl file holding the kernels (e.g. gdn.tl).
  explicit InterpreterBackend(std::string sourcePath);
  ~InterpreterBackend() override;

  rt::Expected<rt::TensorRef> allocate(rt::DType dtype,
                                       std::vector<int64_t> shape) override;
  void release(const rt::TensorRef &tensor) override;
  rt::Status upload(const rt::TensorRef &dst, const int32_t *values,
                    size_t count) override;
  rt::Status launch(std::string_view kernel,
                    const std::vector<std::string> &constants,
                    std::vector<rt::Arg> args) override;

  /// Host memory in `dtype`'s byte format, converted from/to doubles.
  static void store(rt::DType dtype, void *data, int64_t index, double value);
  static double load(rt::DType dtype, const void *data, int64_t index);

private:
  struct Compiled;
  std::string sourcePath;
  std::map<std::string, std::unique_ptr<Compiled>> compiled;
  std::map<void *, std::unique_ptr<unsigned char[]>> memory;
};

} // namespace tlc::interp

#endif // TLC_INTERPRETER_INTERPRETERBACKEND_H
