//===- Metadata.cpp - Data types, arguments and kernel metadata -----------===//
//
// Parses `tlc.kernel/1` metadata into KernelInfo. Every error names the field
// by its JSON path (`params[1].dtype`). The layout of the packed kernel
// parameters (offset and size of each) is fixed here, once per kernel.
//
//===----------------------------------------------------------------------===//

#include "tlc/runtime/Runtime.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

using namespace tlc::rt;
using json = nlohmann::json;

//===----------------------------------------------------------------------===//
// Data types and arguments
//===----------------------------------------------------------------------===//

namespace {
struct DTypeEntry {
  const char *name;
  size_t size;
};
// Indexed by DType.
constexpr DTypeEntry kDTypes[] = {{"bf16", 2}, {"f16", 2}, {"f32", 4},
                                  {"f64", 8},  {"i8", 1},  {"i32", 4},
                                  {"i64", 8},  {"bool", 1}};
constexpr size_t kNumDTypes = sizeof(kDTypes) / sizeof(kDTypes[0]);
} // namespace

size_t tlc::rt::dtypeSize(DType dtype) {
  return size_t(dtype) < kNumDTypes ? kDTypes[size_t(dtype)].size : 0;
}

const char *tlc::rt::dtypeName(DType dtype) {
  return size_t(dtype) < kNumDTypes ? kDTypes[size_t(dtype)].name : "?";
}

std::optional<DType> tlc::rt::parseDType(std::string_view name) {
  for (size_t i = 0; i < kNumDTypes; ++i)
    if (name == kDTypes[i].name)
      return DType(i);
  return std::nullopt;
}

TensorRef TensorRef::make(void *data, DType dtype,
                          const std::vector<int64_t> &shape) {
  TensorRef t;
  t.data = data;
  t.dtype = dtype;
  t.rank = int(shape.size()); // planLaunch rejects a rank above kMaxRank
  int64_t stride = 1;
  for (int d = std::min(t.rank, kMaxRank) - 1; d >= 0; --d) {
    t.shape[d] = shape[d];
    t.strides[d] = stride;
    stride *= shape[d];
  }
  return t;
}

TensorRef TensorRef::make(void *data, DType dtype,
                          std::initializer_list<int64_t> shape,
                          std::initializer_list<int64_t> strides) {
  TensorRef t = make(data, dtype, std::vector<int64_t>(shape));
  if (strides.size() == 0)
    return t;
  assert(strides.size() == shape.size() &&
         "strides must be empty or have one entry per dimension");
  std::copy_n(strides.begin(), std::min(t.rank, kMaxRank), t.strides);
  return t;
}

Arg Arg::tensor(const TensorRef &ref) {
  Arg a;
  a.kind = ArgKind::Tensor;
  a.ref = ref;
  return a;
}

template <typename T> static Arg scalarArg(DType type, T v) {
  Arg a;
  a.scalarType = type;
  std::memcpy(&a.value, &v, sizeof(T)); // the union's members share its start
  return a;
}

Arg Arg::i32(int32_t v) { return scalarArg(DType::I32, v); }
Arg Arg::i64(int64_t v) { return scalarArg(DType::I64, v); }
Arg Arg::f32(float v) { return scalarArg(DType::F32, v); }

//===----------------------------------------------------------------------===//
// Grid expressions
//===----------------------------------------------------------------------===//

namespace {
// Indexed by GridNode::Op; the leaves have no operator name.
constexpr const char *kOpNames[] = {nullptr, nullptr, nullptr,    "add",
                                    "sub",   "mul",   "floordiv", "ceildiv",
                                    "max",   "min"};
constexpr size_t kNumOps = sizeof(kOpNames) / sizeof(kOpNames[0]);
constexpr int kMaxGridDepth = 64;
} // namespace

std::string tlc::rt::printGridExpr(const KernelInfo &info, int node) {
  const GridNode &n = info.gridNodes[node];
  switch (n.op) {
  case GridNode::Op::Const:
    return std::to_string(n.value);
  case GridNode::Op::Dim:
    return info.symbols[n.ref].name;
  case GridNode::Op::Scalar:
    return info.params[n.ref].name;
  default:
    return fmt::format("{}({}, {})", kOpNames[size_t(n.op)],
                       printGridExpr(info, n.lhs), printGridExpr(info, n.rhs));
  }
}

//===----------------------------------------------------------------------===//
// Metadata parser
//===----------------------------------------------------------------------===//

namespace {

struct ParseError {
  std::string message;
};

template <typename... Ts>
[[noreturn]] void fail(fmt::format_string<Ts...> format, Ts &&...args) {
  throw ParseError{fmt::format(format, std::forward<Ts>(args)...)};
}

/// A JSON value for messages, cut short if long.
std::string shown(const json &v) {
  std::string s = v.dump();
  return s.size() <= 40 ? s : s.substr(0, 37) + "...";
}

std::string join(const std::string &path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

const json &get(const json &obj, const std::string &path, const char *key) {
  auto it = obj.find(key);
  if (it == obj.end())
    fail("missing field '{}'", join(path, key));
  return *it;
}

int64_t getInt(const json &v, const std::string &path, int64_t lo, int64_t hi) {
  bool fits = v.is_number_integer() &&
              !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(hi));
  int64_t x = fits ? v.get<int64_t>() : 0;
  if (!fits || x < lo || x > hi)
    fail("field '{}' must be an integer in [{}, {}], got {}", path, lo, hi,
         shown(v));
  return x;
}

int64_t getInt(const json &obj, const std::string &path, const char *key,
               int64_t lo, int64_t hi) {
  return getInt(get(obj, path, key), join(path, key), lo, hi);
}

std::string getString(const json &v, const std::string &path) {
  if (!v.is_string() || v.get_ref<const std::string &>().empty())
    fail("field '{}' must be a non-empty string, got {}", path, shown(v));
  return v.get<std::string>();
}

std::string getString(const json &obj, const std::string &path,
                      const char *key) {
  return getString(get(obj, path, key), join(path, key));
}

const json &getArray(const json &obj, const std::string &path, const char *key,
                     size_t minSize, size_t maxSize) {
  const json &v = get(obj, path, key);
  if (!v.is_array() || v.size() < minSize || v.size() > maxSize)
    fail("field '{}' must be an array of {} entries, got {}", join(path, key),
         minSize == maxSize ? fmt::format("{}", minSize)
                            : fmt::format("{} to {}", minSize, maxSize),
         shown(v));
  return v;
}

class MetadataParser {
public:
  KernelInfo info;

  void parse(const json &j);

private:
  void parseParam(const json &p, const std::string &path);
  void parseTensorMap(const json &m, const std::string &path);
  DimInfo parseDim(const json &v, const std::string &path, int param, int dim);
  int parseExpr(const json &e, const std::string &path, int depth);
};

void MetadataParser::parse(const json &j) {
  if (!j.is_object())
    fail("expected a JSON object, got {}", shown(j));
  std::string schema = getString(j, "", "schema");
  if (schema != "tlc.kernel/1")
    fail("unsupported schema '{}' (this runtime reads 'tlc.kernel/1')", schema);
  info.name = getString(j, "", "name");
  info.arch = getString(j, "", "arch");
  info.threads = int(getInt(j, "", "threads", 1, 1024));
  info.dynamicSharedBytes =
      int(getInt(j, "", "dynamic_shared_bytes", 0, INT32_MAX));
  if (j.contains("cluster")) {
    const json &cluster = getArray(j, "", "cluster", 3, 3);
    for (int i = 0; i < 3; ++i)
      info.cluster[i] =
          unsigned(getInt(cluster[i], fmt::format("cluster[{}]", i), 1, 16));
  }

  const json &params = getArray(j, "", "params", 0, kMaxParams);
  for (size_t i = 0; i < params.size(); ++i)
    parseParam(params[i], fmt::format("params[{}]", i));

  const json &grid = getArray(j, "", "grid", 3, 3);
  for (int i = 0; i < 3; ++i)
    info.grid[i] = parseExpr(grid[i], fmt::format("grid[{}]", i), 0);

  if (j.contains("tensor_maps")) {
    const json &maps = getArray(j, "", "tensor_maps", 1, 16);
    for (size_t i = 0; i < maps.size(); ++i)
      parseTensorMap(maps[i], fmt::format("tensor_maps[{}]", i));
    if (!j.contains("fallback"))
      fail("field 'fallback' is required with 'tensor_maps'");
    const json &f = j["fallback"];
    if (!f.is_object())
      fail("field 'fallback' must be an object, got {}", shown(f));
    FallbackInfo fallback;
    fallback.name = getString(f, "fallback", "name");
    fallback.threads = int(getInt(f, "fallback", "threads", 1, 1024));
    fallback.dynamicSharedBytes =
        int(getInt(f, "fallback", "dynamic_shared_bytes", 0, INT32_MAX));
    info.fallback = std::move(fallback);
  }

  if (j.contains("constants")) {
    const json &constants = j["constants"];
    if (!constants.is_object())
      fail("field 'constants' must be an object, got {}", shown(constants));
    for (const auto &[key, value] : constants.items())
      info.constants[key] = value.dump();
  }
  if (j.contains("compile_options"))
    info.compileOptions = j["compile_options"].dump();
  auto optionalString = [&](const char *key, std::string &field) {
    if (j.contains(key))
      field = getString(j, "", key);
  };
  optionalString("source_hash", info.sourceHash);
  optionalString("compiler_version", info.compilerVersion);
  optionalString("nvrtc_version", info.nvrtcVersion);
}

void MetadataParser::parseParam(const json &p, const std::string &path) {
  if (!p.is_object())
    fail("field '{}' must be an object, got {}", path, shown(p));
  ParamInfo param;
  param.name = getString(p, path, "name");
  for (const ParamInfo &other : info.params)
    if (other.name == param.name)
      fail("field '{}': duplicate parameter name '{}'", join(path, "name"),
           param.name);
  std::string kind = getString(p, path, "kind");
  if (kind != "tensor" && kind != "scalar")
    fail("field '{}' must be \"tensor\" or \"scalar\", got \"{}\"",
         join(path, "kind"), kind);
  std::string dtype = getString(p, path, "dtype");
  std::optional<DType> parsed = parseDType(dtype);
  uint32_t align;
  if (kind == "tensor") {
    if (!parsed)
      fail("field '{}': unknown dtype '{}' (expected bf16, f16, f32, f64, "
           "i8, i32, i64 or bool)",
           join(path, "dtype"), dtype);
    param.kind = ArgKind::Tensor;
    param.dtype = *parsed;
    param.rank = int(getInt(p, path, "rank", 0, kMaxRank));
    const json &dims = getArray(p, path, "dims", param.rank, param.rank);
    int index = int(info.params.size());
    for (int d = 0; d < param.rank; ++d)
      param.dims.push_back(
          parseDim(dims[d], fmt::format("{}.dims[{}]", path, d), index, d));
    param.alignment = getInt(p, path, "alignment", 1, 1 << 20);
    if (param.alignment & (param.alignment - 1))
      fail("field '{}' must be a power of two, got {}", join(path, "alignment"),
           param.alignment);
    param.size = 8 + 16 * param.rank; // TensorArg<rank>
    align = 8;
  } else {
    if (!parsed || (*parsed != DType::I32 && *parsed != DType::I64 &&
                    *parsed != DType::F32))
      fail("field '{}': scalar dtype must be i32, i64 or f32, got '{}'",
           join(path, "dtype"), dtype);
    param.kind = ArgKind::Scalar;
    param.dtype = *parsed;
    param.size = align = uint32_t(dtypeSize(param.dtype));
  }
  param.offset = (info.paramBytes + align - 1) / align * align;
  info.paramBytes = param.offset + param.size;
  if (info.paramBytes > uint32_t(kMaxParamBytes))
    fail("parameters take more than {} bytes (at '{}')", kMaxParamBytes, path);
  info.params.push_back(std::move(param));
}

void MetadataParser::parseTensorMap(const json &m, const std::string &path) {
  if (!m.is_object())
    fail("field '{}' must be an object, got {}", path, shown(m));
  TensorMapInfo map;
  map.name = getString(m, path, "name");
  std::string param = getString(m, path, "param");
  auto it = std::find_if(info.params.begin(), info.params.end(),
                         [&](const ParamInfo &p) { return p.name == param; });
  if (it == info.params.end() || it->kind != ArgKind::Tensor)
    fail("field '{}': '{}' is not a tensor parameter", join(path, "param"),
         param);
  map.param = int(it - info.params.begin());
  if (it->rank < 1 || it->rank > 5)
    fail("field '{}': TMA needs a tensor of rank 1 to 5, '{}' has rank {}",
         join(path, "param"), param, it->rank);
  const json &box = getArray(m, path, "box", it->rank, it->rank);
  for (int d = 0; d < it->rank; ++d)
    map.box.push_back(
        uint32_t(getInt(box[d], fmt::format("{}.box[{}]", path, d), 1, 256)));
  map.swizzle = int(getInt(m, path, "swizzle", 0, 128));
  if (map.swizzle != 0 && map.swizzle != 32 && map.swizzle != 64 &&
      map.swizzle != 128)
    fail("field '{}' must be 0, 32, 64 or 128, got {}", join(path, "swizzle"),
         map.swizzle);
  map.offset = (info.paramBytes + 63) / 64 * 64;
  info.paramBytes = map.offset + 128;
  if (info.paramBytes > uint32_t(kMaxParamBytes))
    fail("parameters take more than {} bytes (at '{}')", kMaxParamBytes, path);
  info.tensorMaps.push_back(std::move(map));
}

DimInfo MetadataParser::parseDim(const json &v, const std::string &path,
                                 int param, int dim) {
  DimInfo d;
  d.name = v.is_string() ? v.get<std::string>() : "";
  const char *first = d.name.data(), *last = first + d.name.size();
  if (!d.name.empty() && std::isdigit((unsigned char)d.name[0])) {
    auto [end, ec] = std::from_chars(first, last, d.size);
    if (ec != std::errc() || end != last)
      fail("field '{}' must be a dimension name or a non-negative integer, "
           "got {}",
           path, shown(v));
    return d;
  }
  bool isName = !d.name.empty() && std::all_of(first, last, [](char c) {
    return std::isalnum((unsigned char)c) || c == '_';
  });
  if (!isName)
    fail("field '{}' must be a dimension name or a non-negative integer, got "
         "{}",
         path, shown(v));
  auto it = std::find_if(info.symbols.begin(), info.symbols.end(),
                         [&](const SymbolInfo &s) { return s.name == d.name; });
  d.symbol = int(it - info.symbols.begin());
  if (it == info.symbols.end()) {
    if (info.symbols.size() == size_t(kMaxSymbols))
      fail("field '{}': more than {} symbolic dimensions", path, kMaxSymbols);
    info.symbols.push_back({d.name, param, dim});
  }
  return d;
}

int MetadataParser::parseExpr(const json &e, const std::string &path,
                              int depth) {
  if (depth > kMaxGridDepth)
    fail("field '{}': grid expression nested more than {} deep", path,
         kMaxGridDepth);
  bool known = e.is_object() &&
               (e.contains("const") || e.contains("dim") ||
                e.contains("scalar") || e.contains("op")) &&
               e.size() == (e.contains("op") ? 2u : 1u);
  if (!known)
    fail("field '{}' must be one of {{\"const\": N}}, {{\"dim\": NAME}}, "
         "{{\"scalar\": NAME}}, {{\"op\": OP, \"args\": [A, B]}}; got {}",
         path, shown(e));
  GridNode n;
  if (e.contains("const")) {
    n.value = getInt(e, path, "const", INT64_MIN, INT64_MAX);
  } else if (e.contains("dim")) {
    std::string name = getString(e, path, "dim");
    auto it = std::find_if(info.symbols.begin(), info.symbols.end(),
                           [&](const SymbolInfo &s) { return s.name == name; });
    if (it == info.symbols.end())
      fail("field '{}': '{}' is not a dimension of any tensor parameter",
           join(path, "dim"), name);
    n.op = GridNode::Op::Dim;
    n.ref = int(it - info.symbols.begin());
  } else if (e.contains("scalar")) {
    std::string name = getString(e, path, "scalar");
    auto it = std::find_if(
        info.params.begin(), info.params.end(), [&](const ParamInfo &p) {
          return p.name == name && p.kind == ArgKind::Scalar &&
                 p.dtype != DType::F32;
        });
    if (it == info.params.end())
      fail("field '{}': '{}' is not an integer scalar parameter",
           join(path, "scalar"), name);
    n.op = GridNode::Op::Scalar;
    n.ref = int(it - info.params.begin());
  } else {
    std::string op = getString(e, path, "op");
    const char *const *it =
        std::find_if(kOpNames, kOpNames + kNumOps,
                     [&](const char *name) { return name && op == name; });
    if (it == kOpNames + kNumOps)
      fail("field '{}': unknown operator '{}' (expected add, sub, mul, "
           "floordiv, ceildiv, max or min)",
           join(path, "op"), op);
    n.op = GridNode::Op(it - kOpNames);
    const json &args = getArray(e, path, "args", 2, 2);
    n.lhs = parseExpr(args[0], join(path, "args[0]"), depth + 1);
    n.rhs = parseExpr(args[1], join(path, "args[1]"), depth + 1);
  }
  info.gridNodes.push_back(n);
  return int(info.gridNodes.size()) - 1;
}

} // namespace

Expected<KernelInfo> tlc::rt::parseKernelInfo(std::string_view text) {
  MetadataParser parser;
  try {
    parser.parse(json::parse(text));
    return std::move(parser.info);
  } catch (const ParseError &e) {
    std::string who =
        parser.info.name.empty()
            ? "kernel metadata"
            : fmt::format("metadata of kernel '{}'", parser.info.name);
    return Status::error(ErrorCode::Parse,
                         fmt::format("tlc: {}: {}", who, e.message));
  } catch (const json::exception &e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    std::string_view what = e.what();
    if (size_t at = what.find("] "); at != std::string_view::npos)
      what.remove_prefix(at + 2);
    return Status::error(
        ErrorCode::Parse,
        fmt::format("tlc: kernel metadata: invalid JSON: {}", what));
  }
}
