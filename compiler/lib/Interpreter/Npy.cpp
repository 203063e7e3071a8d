//===- Npy.cpp - NumPy .npy files -----------------------------------------===//

#include "tlc/Interpreter/Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace tlc::interp;

static llvm::Error npyError(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (path + ": " + message).str());
}

/// The value of `key` in the header dict: `'key': VALUE,`.
static llvm::StringRef headerField(llvm::StringRef header,
                                   llvm::StringRef key) {
  size_t at = header.find(("'" + key + "'").str());
  if (at == llvm::StringRef::npos)
    return {};
  llvm::StringRef rest = header.drop_front(at + key.size() + 2).ltrim(" :");
  if (rest.starts_with("(")) // A shape tuple.
    return rest.take_until([](char c) { return c == ')'; }).drop_front();
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}

llvm::Error tlc::interp::readNpy(llvm::StringRef path, HostTensor &out) {
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file)
    return npyError(path, "cannot read: " + file.getError().message());
  llvm::StringRef data = (*file)->getBuffer();
  if (data.size() < 10 || !data.starts_with("\x93NUMPY"))
    return npyError(path, "not a .npy file");
  unsigned major = static_cast<unsigned char>(data[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(data[8]) |
                   (static_cast<unsigned char>(data[9]) << 8);
    headerStart = 10;
  } else {
    if (data.size() < 12)
      return npyError(path, "truncated header");
    uint32_t length;
    std::memcpy(&length, data.data() + 8, 4);
    headerLength = length;
    headerStart = 12;
  }
  if (data.size() < headerStart + headerLength)
    return npyError(path, "truncated header");
  llvm::StringRef header = data.substr(headerStart, headerLength);
  llvm::StringRef descr = headerField(header, "descr").trim("'\"");
  if (headerField(header, "fortran_order") == "True")
    return npyError(path, "Fortran-ordered arrays are not supported");
  out.shape.clear();
  llvm::SmallVector<llvm::StringRef> dims;
  headerField(header, "shape").split(dims, ',', -1, false);
  for (llvm::StringRef dim : dims) {
    int64_t extent;
    if (dim.trim().getAsInteger(10, extent) || extent < 0)
      return npyError(path, "malformed shape in the header");
    out.shape.push_back(extent);
  }
  int64_t count = 1;
  for (int64_t d : out.shape)
    count *= d;
  size_t width = descr.size() >= 3 ? descr.back() - '0' : 0;
  char kind = descr.size() >= 3 ? descr[1] : '?';
  if (descr.empty() || descr[0] == '>' || !llvm::is_contained("fiub", kind) ||
      !llvm::is_contained({1u, 2u, 4u, 8u}, unsigned(width)))
    return npyError(path, "unsupported dtype '" + descr +
                              "' (little-endian float, int or bool)");
  const char *payload = data.data() + headerStart + headerLength;
  if (size_t(data.end() - payload) < count * width)
    return npyError(path, "holds fewer elements than its shape says");
  out.data.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    const char *p = payload + i * width;
    double v = 0;
    if (kind == 'f' && width == 2) {
      _Float16 h;
      std::memcpy(&h, p, 2);
      v = double(h);
    } else if (kind == 'f' && width == 4) {
      float f;
      std::memcpy(&f, p, 4);
      v = f;
    } else if (kind == 'f') {
      std::memcpy(&v, p, 8);
    } else if (width == 1) {
      v = kind == 'i' ? double(int8_t(*p)) : double(uint8_t(*p));
    } else if (width == 4) {
      int32_t x;
      std::memcpy(&x, p, 4);
      v = x;
    } else if (width == 8) {
      int64_t x;
      std::memcpy(&x, p, 8);
      v = double(x);
    } else {
      int16_t x;
      std::memcpy(&x, p, 2);
      v = x;
    }
    out.data[i] = v;
  }
  return llvm::Error::success();
}

llvm::Error tlc::interp::writeNpy(llvm::StringRef path,
                                  const HostTensor &tensor) {
  const char *descr;
  switch (tensor.dtype) {
  case DType::F16:
    descr = "<f2";
    break;
  case DType::F64:
    descr = "<f8";
    break;
  case DType::I8:
    descr = "|i1";
    break;
  case DType::I32:
    descr = "<i4";
    break;
  case DType::I64:
    descr = "<i8";
    break;
  case DType::Bool:
    descr = "|b1";
    break;
  default: // f32, and bf16 widened to f32.
    descr = "<f4";
    break;
  }
  std::string shape;
  for (int64_t d : tensor.shape)
    shape += std::to_string(d) + ",";
  if (tensor.shape.size() > 1)
    shape.pop_back();
  std::string header = "{'descr': '" + std::string(descr) +
                       "', 'fortran_order': False, 'shape': (" + shape + "), }";
  while ((10 + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return npyError(path, "cannot write: " + ec.message());
  os << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  for (double v : tensor.data) {
    switch (tensor.dtype) {
    case DType::F16: {
      _Float16 h = _Float16(v);
      os.write(reinterpret_cast<const char *>(&h), 2);
      break;
    }
    case DType::F64:
      os.write(reinterpret_cast<const char *>(&v), 8);
      break;
    case DType::I8:
    case DType::Bool:
      os << char(int8_t(v));
      break;
    case DType::I32: {
      int32_t x = int32_t(v);
      os.write(reinterpret_cast<const char *>(&x), 4);
      break;
    }
    case DType::I64: {
      int64_t x = int64_t(v);
      os.write(reinterpret_cast<const char *>(&x), 8);
      break;
    }
    default: {
      float f = float(v);
      os.write(reinterpret_cast<const char *>(&f), 4);
      break;
    }
    }
  }
  return llvm::Error::success();
}
