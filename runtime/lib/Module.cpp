//===- Module.cpp - Devices, modules, kernels and the module cache --------===//

#include "Driver.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

using namespace tlc::rt;
using namespace tlc::rt::detail;

namespace fs = std::filesystem;

//===----------------------------------------------------------------------===//
// Device
//===----------------------------------------------------------------------===//

Status tlc::rt::initDevice(int ordinal) {
  Expected<const Driver *> drv = driver();
  if (!drv)
    return drv.status();
  const Driver &d = **drv;
  int count = 0;
  CUresult r = d.cuInit(0);
  if (r == CUDA_SUCCESS)
    r = d.cuDeviceGetCount(&count);
  if (r == CUDA_ERROR_NO_DEVICE || (r == CUDA_SUCCESS && count == 0))
    return Status::error(ErrorCode::Driver, "tlc: no CUDA device");
  if (r != CUDA_SUCCESS)
    return driverError(d, r, "initialising the CUDA driver");
  if (ordinal < 0 || ordinal >= count)
    return Status::error(
        ErrorCode::InvalidArgument,
        fmt::format("tlc: CUDA device {} does not exist ({} device{})", ordinal,
                    count, count == 1 ? "" : "s"));
  CUdevice device;
  CUcontext context;
  if ((r = d.cuDeviceGet(&device, ordinal)) ||
      (r = d.cuDevicePrimaryCtxRetain(&context, device)) ||
      (r = d.cuCtxSetCurrent(context)))
    return driverError(d, r, fmt::format("setting up CUDA device {}", ordinal));
  return {};
}

/// The calling thread's current context; an error if there is none.
static Expected<CUcontext> currentContext(const Driver &d) {
  CUcontext context = nullptr;
  if (d.cuCtxGetCurrent(&context) != CUDA_SUCCESS || !context)
    return Status::error(ErrorCode::Driver,
                         "tlc: no current CUDA context (call "
                         "tlc::rt::initDevice / tlc_init first, or make a "
                         "context current on this thread)");
  return context;
}

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

/// Checks the metadata's parameter layout against the PTX entry's, where the
/// driver can tell (cuFuncGetParamInfo, CUDA 12.4+).
static Status checkParamLayout(const Driver &d, CUfunction fn,
                               const KernelInfo &info, bool withMaps) {
  if (!d.cuFuncGetParamInfo)
    return {};
  // A 64-byte aligned parameter (a tensor map) is placed by the driver
  // relative to where the parameter block lands in constant memory, so only
  // its size is comparable.
  struct Slot {
    const std::string *name;
    uint32_t offset, size;
    bool checkOffset = true;
  };
  std::vector<Slot> slots;
  for (const ParamInfo &p : info.params)
    slots.push_back({&p.name, p.offset, p.size});
  if (withMaps)
    for (const TensorMapInfo &m : info.tensorMaps)
      slots.push_back({&m.name, m.offset, 128, false});
  size_t n = slots.size();
  for (size_t i = 0; i <= n; ++i) {
    size_t offset = 0, size = 0;
    CUresult r = d.cuFuncGetParamInfo(fn, i, &offset, &size);
    if (r != CUDA_SUCCESS && r != CUDA_ERROR_INVALID_VALUE)
      return {}; // the driver cannot tell for this function
    std::string problem;
    if (i == n && r == CUDA_SUCCESS)
      problem = fmt::format("the PTX entry has more than the {} parameters "
                            "listed in the metadata",
                            n);
    else if (i < n && r != CUDA_SUCCESS)
      problem = fmt::format("the PTX entry has {} parameters, the metadata "
                            "lists {}",
                            i, n);
    else if (i < n && ((slots[i].checkOffset && offset != slots[i].offset) ||
                       size != slots[i].size))
      problem = fmt::format("parameter {} ('{}') is {} bytes at offset {} in "
                            "the PTX entry, but the metadata implies {} bytes "
                            "at offset {}",
                            i, *slots[i].name, size, offset, slots[i].size,
                            slots[i].offset);
    if (!problem.empty())
      return Status::error(
          ErrorCode::InvalidArgument,
          fmt::format("tlc: kernel '{}': metadata does not match the PTX: {}",
                      info.name, problem));
  }
  return {};
}

/// Finds entry `name` and allows it `sharedBytes` of dynamic shared memory.
static Status prepareFunction(const Driver &d, CUmodule mod,
                              const std::string &name, int sharedBytes,
                              CUfunction &fn) {
  CUresult r = d.cuModuleGetFunction(&fn, mod, name.c_str());
  if (r == CUDA_ERROR_NOT_FOUND)
    return Status::error(ErrorCode::NotFound,
                         fmt::format("tlc: kernel '{}' not found in the module "
                                     "(no entry of that name)",
                                     name));
  if (r != CUDA_SUCCESS)
    return driverError(d, r, fmt::format("finding kernel '{}'", name));
  if ((r = d.cuFuncSetAttribute(
           fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes)))
    return driverError(d, r,
                       fmt::format("kernel '{}': allowing {} bytes of dynamic "
                                   "shared memory",
                                   name, sharedBytes));
  return {};
}

Expected<Module> Module::load(std::string_view ptxOrCubin,
                              std::string_view metadataJson) {
  Expected<KernelInfo> info = parseKernelInfo(metadataJson);
  if (!info)
    return info.status();
  Expected<const Driver *> drv = driver();
  if (!drv)
    return drv.status();
  const Driver &d = **drv;
  if (Expected<CUcontext> context = currentContext(d); !context)
    return context.status();

  // PTX must be NUL-terminated; copying is cheap next to the JIT.
  std::string image(ptxOrCubin);
  char log[8192] = "";
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log))};
  Module m;
  if (CUresult r =
          d.cuModuleLoadDataEx(&m.mod, image.c_str(), 2, options, values)) {
    Status s = driverError(
        d, r, fmt::format("loading kernel '{}' ({})", info->name, info->arch));
    return log[0] ? Status::error(s.code(), s.message() + "\n" + log) : s;
  }
  if (Status s = prepareFunction(d, m.mod, info->name, info->dynamicSharedBytes,
                                 m.k.fn);
      !s.ok())
    return s;
  if (Status s = checkParamLayout(d, m.k.fn, *info, true); !s.ok())
    return s;
  if (info->fallback) {
    if (Status s =
            prepareFunction(d, m.mod, info->fallback->name,
                            info->fallback->dynamicSharedBytes, m.k.fallbackFn);
        !s.ok())
      return s;
    if (Status s = checkParamLayout(d, m.k.fallbackFn, *info, false); !s.ok())
      return s;
    m.k.tensorMapCache = std::make_shared<TensorMapCache>();
  }
  CUresult r = CUDA_SUCCESS;
  const unsigned *c = info->cluster;
  if (c[0] * c[1] * c[2] > 8 &&
      (r = d.cuFuncSetAttribute(
           m.k.fn, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1)))
    return driverError(d, r,
                       fmt::format("kernel '{}': allowing clusters of {} "
                                   "blocks",
                                   info->name, c[0] * c[1] * c[2]));
  m.k.kernelInfo = std::move(*info);
  return m;
}

static Expected<std::string> readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(ErrorCode::NotFound,
                         fmt::format("tlc: cannot read '{}': {}", path.string(),
                                     std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Expected<Module> Module::loadFiles(const fs::path &ptx, const fs::path &json) {
  Expected<std::string> image = readFile(ptx);
  if (!image)
    return image.status();
  Expected<std::string> metadata = readFile(json);
  if (!metadata)
    return metadata.status();
  return load(*image, *metadata);
}

Module::Module(Module &&other) noexcept
    : mod(std::exchange(other.mod, nullptr)), k(std::move(other.k)) {}

Module &Module::operator=(Module &&other) noexcept {
  std::swap(mod, other.mod);
  std::swap(k, other.k);
  return *this;
}

Module::~Module() {
  if (!mod)
    return;
  if (Expected<const Driver *> drv = driver())
    (*drv)->cuModuleUnload(mod);
}

//===----------------------------------------------------------------------===//
// Kernel
//===----------------------------------------------------------------------===//

namespace tlc::rt {
/// Recently encoded tensor maps of one kernel, keyed by the tensor map and
/// the argument's address, shape and strides.
struct TensorMapCache {
  struct Entry {
    int map = -1;
    TensorRef ref;
    CUtensorMap value; // aligned by its type (128 bytes)
  };
  std::mutex mutex;
  Entry entries[16];
  int next = 0;
};
} // namespace tlc::rt

static bool sameTensor(const TensorRef &a, const TensorRef &b) {
  return a.data == b.data && a.dtype == b.dtype && a.rank == b.rank &&
         std::equal(a.shape, a.shape + a.rank, b.shape) &&
         std::equal(a.strides, a.strides + a.rank, b.strides);
}

Status Kernel::encodeTensorMaps(LaunchPlan &plan, Span<const Arg> args) const {
  const Driver &d = **driver();
  TensorMapCache &cache = *tensorMapCache;
  std::lock_guard<std::mutex> lock(cache.mutex);
  for (size_t i = 0; i < kernelInfo.tensorMaps.size(); ++i) {
    const TensorMapInfo &map = kernelInfo.tensorMaps[i];
    const TensorRef &t = args[map.param].ref;
    TensorMapCache::Entry *hit = nullptr;
    for (TensorMapCache::Entry &e : cache.entries)
      if (e.map == int(i) && sameTensor(e.ref, t))
        hit = &e;
    if (!hit) {
      hit = &cache.entries[cache.next];
      cache.next = (cache.next + 1) % int(std::size(cache.entries));
      // Innermost dimension first, as the driver wants.
      cuuint64_t dims[5], strides[4];
      cuuint32_t box[5], elementStrides[5] = {1, 1, 1, 1, 1};
      size_t size = dtypeSize(t.dtype);
      for (int d0 = 0; d0 < t.rank; ++d0) {
        int d1 = t.rank - 1 - d0;
        dims[d0] = cuuint64_t(t.shape[d1]);
        box[d0] = map.box[d1];
        if (d0)
          strides[d0 - 1] = cuuint64_t(t.strides[d1]) * size;
      }
      CUtensorMapDataType type =
          t.dtype == DType::BF16  ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
          : t.dtype == DType::F16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                  : CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
      CUtensorMapSwizzle swizzle =
          map.swizzle == 128  ? CU_TENSOR_MAP_SWIZZLE_128B
          : map.swizzle == 64 ? CU_TENSOR_MAP_SWIZZLE_64B
          : map.swizzle == 32 ? CU_TENSOR_MAP_SWIZZLE_32B
                              : CU_TENSOR_MAP_SWIZZLE_NONE;
      hit->map = -1;
      if (CUresult r = d.cuTensorMapEncodeTiled(
              &hit->value, type, cuuint32_t(t.rank), t.data, dims, strides, box,
              elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
              CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
              CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE))
        return driverError(
            d, r,
            fmt::format("kernel '{}': building tensor map '{}' for argument "
                        "'{}'",
                        kernelInfo.name, map.name,
                        kernelInfo.params[map.param].name));
      hit->map = int(i);
      hit->ref = t;
    }
    std::memcpy(plan.storage + map.offset, &hit->value, sizeof(CUtensorMap));
  }
  return {};
}

Status Kernel::launch(CUstream stream, Span<const Arg> args) const {
  Expected<LaunchPlan> plan = planLaunch(kernelInfo, args);
  if (!plan)
    return plan.status();
  if (plan->empty())
    return {};
  bool fallback = plan->useFallback && kernelInfo.fallback;
  bool maps = !kernelInfo.tensorMaps.empty() && !fallback;
  if (maps)
    if (Status s = encodeTensorMaps(*plan, args); !s.ok())
      return s;
  void *params[kMaxParams + 16];
  int numParams = plan->numParams;
  for (int i = 0; i < numParams; ++i)
    params[i] = plan->storage + plan->offsets[i];
  if (maps)
    for (const TensorMapInfo &map : kernelInfo.tensorMaps)
      params[numParams++] = plan->storage + map.offset;

  const unsigned *c = kernelInfo.cluster;
  CUlaunchAttribute cluster = {};
  cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  cluster.value.clusterDim.x = c[0];
  cluster.value.clusterDim.y = c[1];
  cluster.value.clusterDim.z = c[2];
  CUlaunchConfig config = {};
  config.gridDimX = plan->grid[0];
  config.gridDimY = plan->grid[1];
  config.gridDimZ = plan->grid[2];
  config.blockDimX =
      unsigned(fallback ? kernelInfo.fallback->threads : kernelInfo.threads);
  config.blockDimY = config.blockDimZ = 1;
  config.sharedMemBytes =
      unsigned(fallback ? kernelInfo.fallback->dynamicSharedBytes
                        : kernelInfo.dynamicSharedBytes);
  config.hStream = stream;
  config.attrs = &cluster;
  config.numAttrs = c[0] * c[1] * c[2] > 1 ? 1 : 0;

  const Driver &d = **driver(); // loaded: this kernel was loaded with it
  if (CUresult r = d.cuLaunchKernelEx(&config, fallback ? fallbackFn : fn,
                                      params, nullptr))
    return driverError(d, r,
                       fmt::format("launching kernel '{}'", kernelInfo.name));
  return {};
}

//===----------------------------------------------------------------------===//
// Module cache
//===----------------------------------------------------------------------===//

namespace {
struct Cache {
  std::mutex mutex;
  std::map<std::pair<std::string, CUcontext>, std::unique_ptr<Module>> modules;
};

// Never destroyed: unloading modules at exit could run after the driver has
// shut down.
Cache &cache() {
  static Cache *c = new Cache;
  return *c;
}
} // namespace

Expected<Module *> ModuleCache::get(const fs::path &ptx) {
  Expected<const Driver *> drv = driver();
  if (!drv)
    return drv.status();
  Expected<CUcontext> context = currentContext(**drv);
  if (!context)
    return context.status();
  std::error_code ec;
  fs::path path = fs::absolute(ptx, ec).lexically_normal();
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  std::unique_ptr<Module> &slot = c.modules[{path.string(), *context}];
  if (!slot) {
    Expected<Module> m =
        Module::loadFiles(path, fs::path(path).replace_extension(".json"));
    if (!m) {
      c.modules.erase({path.string(), *context});
      return m.status();
    }
    slot = std::make_unique<Module>(std::move(*m));
  }
  return slot.get();
}

void ModuleCache::clear() {
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.modules.clear();
}
