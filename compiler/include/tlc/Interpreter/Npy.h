//===- Npy.h - NumPy .npy files for interpreter inputs/outputs -*- C++ -*-===//
//
// Reads and writes the NumPy .npy format (version 1.0, little-endian,
// C order) for `tlc run --interpret`. bf16 has no NumPy dtype: bf16 tensors
// are written as float32 (exactly representable).
//
//===----------------------------------------------------------------------===//

#ifndef TLC_INTERPRETER_NPY_H
#define TLC_INTERPRETER_NPY_H

#include "tlc/Interpreter/Interpreter.h"

#include "llvm/Support/Error.h"

namespace tlc::interp {

/// Reads `path` into `out.shape`/`out.data` (values converted to double);
/// `out.dtype` is left to the caller (the kernel parameter's dtype).
llvm::Error readNpy(llvm::StringRef path, HostTensor &out);

llvm::Error writeNpy(llvm::StringRef path, const HostTensor &tensor);

} // namespace tlc::interp

#endif // TLC_INTERPRETER_NPY_H
