//===- InterpreterBackend.cpp - Operators' kernels on the CPU -------------===//

#include "tlc/Interpreter/InterpreterBackend.h"
#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Frontend/Parser.h"
#include "tlc/Interpreter/Interpreter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cstring>

using namespace tlc;
using namespace tlc::interp;

struct InterpreterBackend::Compiled {
  llvm::SourceMgr sourceMgr;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

InterpreterBackend::InterpreterBackend(std::string sourcePath)
    : sourcePath(std::move(sourcePath)) {}

InterpreterBackend::~InterpreterBackend() = default;

static rt::Status failure(std::string message) {
  return rt::Status::error(rt::ErrorCode::InvalidArgument, std::move(message));
}

void InterpreterBackend::store(rt::DType dtype, void *data, int64_t index,
                               double value) {
  auto *bytes = static_cast<unsigned char *>(data);
  switch (dtype) {
  case rt::DType::BF16:
  case rt::DType::F16: {
    uint16_t bits;
    if (dtype == rt::DType::BF16) {
      float f = float(roundTo(DType::BF16, value));
      uint32_t word;
      std::memcpy(&word, &f, 4);
      bits = uint16_t(word >> 16); // Already rounded: truncation is exact.
    } else {
      _Float16 h = _Float16(value);
      std::memcpy(&bits, &h, 2);
    }
    std::memcpy(bytes + index * 2, &bits, 2);
    return;
  }
  case rt::DType::F32: {
    float f = float(value);
    std::memcpy(bytes + index * 4, &f, 4);
    return;
  }
  case rt::DType::F64:
    std::memcpy(bytes + index * 8, &value, 8);
    return;
  case rt::DType::I8:
  case rt::DType::Bool: {
    int8_t v = int8_t(value);
    std::memcpy(bytes + index, &v, 1);
    return;
  }
  case rt::DType::I32: {
    int32_t v = int32_t(value);
    std::memcpy(bytes + index * 4, &v, 4);
    return;
  }
  case rt::DType::I64: {
    int64_t v = int64_t(value);
    std::memcpy(bytes + index * 8, &v, 8);
    return;
  }
  }
}

double InterpreterBackend::load(rt::DType dtype, const void *data,
                                int64_t index) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  switch (dtype) {
  case rt::DType::BF16: {
    uint16_t bits;
    std::memcpy(&bits, bytes + index * 2, 2);
    uint32_t word = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &word, 4);
    return f;
  }
  case rt::DType::F16: {
    _Float16 h;
    std::memcpy(&h, bytes + index * 2, 2);
    return double(h);
  }
  case rt::DType::F32: {
    float f;
    std::memcpy(&f, bytes + index * 4, 4);
    return f;
  }
  case rt::DType::F64: {
    double d;
    std::memcpy(&d, bytes + index * 8, 8);
    return d;
  }
  case rt::DType::I8:
  case rt::DType::Bool:
    return double(int8_t(bytes[index]));
  case rt::DType::I32: {
    int32_t v;
    std::memcpy(&v, bytes + index * 4, 4);
    return v;
  }
  case rt::DType::I64: {
    int64_t v;
    std::memcpy(&v, bytes + index * 8, 8);
    return double(v);
  }
  }
  return 0;
}

rt::Expected<rt::TensorRef>
InterpreterBackend::allocate(rt::DType dtype, std::vector<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  size_t bytes = std::max<int64_t>(count, 1) * rt::dtypeSize(dtype);
  auto storage = std::make_unique<unsigned char[]>(bytes);
  rt::TensorRef t = rt::TensorRef::make(storage.get(), dtype, shape);
  memory[t.data] = std::move(storage);
  return t;
}

void InterpreterBackend::release(const rt::TensorRef &tensor) {
  memory.erase(tensor.data);
}

rt::Status InterpreterBackend::upload(const rt::TensorRef &dst,
                                      const int32_t *values, size_t count) {
  std::memcpy(dst.data, values, count * sizeof(int32_t));
  return rt::Status();
}

rt::Status InterpreterBackend::launch(std::string_view kernel,
                                      const std::vector<std::string> &constants,
                                      std::vector<rt::Arg> args) {
  std::string key = std::string(kernel);
  for (const std::string &c : constants)
    key += " " + c;
  auto &entry = compiled[key];
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (!entry) {
    entry = std::make_unique<Compiled>();
    auto file = llvm::MemoryBuffer::getFile(sourcePath);
    if (!file)
      return failure("interpreter backend: cannot read " + sourcePath);
    entry->sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
    Diagnostics diags(entry->sourceMgr, errorStream);
    std::optional<ast::Module> ast =
        parseModule(entry->sourceMgr.getMemoryBuffer(1)->getBuffer(), diags);
    FrontendOptions options;
    options.kernelName = std::string(kernel);
    options.defines = constants;
    if (ast)
      entry->module = buildTileModule(entry->context, *ast, options, diags);
    if (!entry->module) {
      compiled.erase(key);
      return failure("interpreter backend: compiling " + key + ":\n" + errors);
    }
  }

  // Arguments: host bytes -> interpreter tensors, and back after the run:
  // only the elements the kernel changed, so that arguments aliasing one
  // another (a stand-in for an unused tensor, say) behave as on the GPU
  // instead of the last one's stale copy overwriting what another wrote.
  std::vector<HostTensor> tensors(args.size());
  std::vector<std::vector<double>> loaded(args.size());
  std::vector<KernelArg> kernelArgs;
  for (size_t i = 0; i < args.size(); ++i) {
    const rt::Arg &arg = args[i];
    if (arg.kind == rt::ArgKind::Scalar) {
      double value = arg.scalarType == rt::DType::F32   ? arg.value.f32
                     : arg.scalarType == rt::DType::I32 ? arg.value.i32
                                                        : double(arg.value.i64);
      kernelArgs.push_back(Scalar{DType(int(arg.scalarType)), value});
      continue;
    }
    const rt::TensorRef &ref = arg.ref;
    HostTensor &t = tensors[i];
    t.dtype = DType(int(ref.dtype));
    t.shape.assign(ref.shape, ref.shape + ref.rank);
    t.data.resize(t.numElements());
    std::vector<int64_t> idx(ref.rank, 0);
    for (int64_t lin = 0; lin < int64_t(t.data.size()); ++lin) {
      int64_t offset = 0;
      for (int d = 0; d < ref.rank; ++d)
        offset += idx[d] * ref.strides[d];
      t.data[lin] = load(ref.dtype, ref.data, offset);
      for (int d = ref.rank - 1; d >= 0 && ++idx[d] == ref.shape[d]; --d)
        idx[d] = 0;
    }
    loaded[i] = t.data;
    kernelArgs.push_back(&t);
  }
  mlir::SourceMgrDiagnosticHandler handler(entry->sourceMgr, &entry->context,
                                           errorStream);
  if (mlir::failed(runKernel(*entry->module, kernel, kernelArgs)))
    return failure("interpreter: " + key + ":\n" + errors);
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].kind != rt::ArgKind::Tensor)
      continue;
    const rt::TensorRef &ref = args[i].ref;
    const HostTensor &t = tensors[i];
    std::vector<int64_t> idx(ref.rank, 0);
    for (int64_t lin = 0; lin < int64_t(t.data.size()); ++lin) {
      int64_t offset = 0;
      for (int d = 0; d < ref.rank; ++d)
        offset += idx[d] * ref.strides[d];
      if (std::memcmp(&t.data[lin], &loaded[i][lin], sizeof(double)))
        store(ref.dtype, ref.data, offset, t.data[lin]);
      for (int d = ref.rank - 1; d >= 0 && ++idx[d] == ref.shape[d]; --d)
        idx[d] = 0;
    }
  }
  return rt::Status();
}
