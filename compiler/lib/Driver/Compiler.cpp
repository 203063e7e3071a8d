//===- Compiler.cpp - The whole compilation, as a library -----------------===//

#include "tlc/Driver/Compiler.h"
#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Frontend/Parser.h"
#include "tlc/Transforms/Passes.h"

#include "GitCommit.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/xxhash.h"

using namespace tlc;

std::string tlc::versionString() {
  return std::string("tlc ") + TLC_VERSION + " (commit " + TLC_GIT_COMMIT +
         ", LLVM/MLIR " + LLVM_VERSION_STRING + ", NVRTC " + nvrtcVersion() +
         ")";
}

bool tlc::isSupportedArch(llvm::StringRef arch) {
  return arch == "sm_90a" || arch == "sm_80";
}

void tlc::addLoweringPasses(mlir::PassManager &pm,
                            const CodegenOptions &options) {
  mlir::OpPassManager &kernels = pm.nest<mlir::func::FuncOp>();
  kernels.addPass(createCheckGpuSupportPass());
  kernels.addPass(createCheckChannelsPass());
  kernels.addPass(createInferLayoutsPass(options.arch == "sm_90a"));
  kernels.addPass(createPlanPrefetchPass(options.remarks));
  if (options.arch == "sm_90a" && options.tma) {
    kernels.addPass(createPlanTmaPass(options.warpSpecialize, options.remarks));
    kernels.addPass(createPlaceGemmWaitsPass());
  }
}

void tlc::stampMetadata(KernelArtifact &artifact, llvm::StringRef source,
                        llvm::ArrayRef<std::string> defines,
                        const CodegenOptions &options) {
  llvm::json::Object &meta = artifact.metadata;
  meta["source_hash"] = llvm::utohexstr(llvm::xxh3_64bits(source));
  meta["compiler_version"] = TLC_VERSION;
  meta["nvrtc_version"] = nvrtcVersion();
  llvm::json::Array defineList;
  for (const std::string &d : defines)
    defineList.push_back(d);
  meta["compile_options"] =
      llvm::json::Object{{"defines", std::move(defineList)},
                         {"arch", options.arch},
                         {"tma", options.tma},
                         {"warp_specialize", options.warpSpecialize}};
}

std::string tlc::defaultCacheDir() {
  if (auto dir = llvm::sys::Process::GetEnv("TLC_CACHE_DIR"))
    return *dir;
  llvm::SmallString<256> path;
  if (auto xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME")) {
    path = *xdg;
  } else if (!llvm::sys::path::home_directory(path)) {
    return "/tmp/tlc-cache";
  } else {
    llvm::sys::path::append(path, ".cache");
  }
  llvm::sys::path::append(path, "tlc");
  return std::string(path);
}

namespace {

/// Prints diagnostics to a stream, for a router that picks the stream.
struct StreamDiagnostics : mlir::SourceMgrDiagnosticHandler {
  using mlir::SourceMgrDiagnosticHandler::emitDiagnostic;
  using mlir::SourceMgrDiagnosticHandler::SourceMgrDiagnosticHandler;
};

std::string cacheKey(const JitRequest &request) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << versionString() << "\narch " << request.codegen.arch << "\ntma "
     << request.codegen.tma << "\nws " << request.codegen.warpSpecialize
     << "\nkernel " << request.kernel << "\n";
  for (const std::string &d : request.defines)
    os << "-D " << d << "\n";
  os << "device library " << llvm::xxh3_64bits(deviceLibrarySource()) << " "
     << llvm::xxh3_64bits(deviceWgmmaSource()) << "\n";
  os << request.source;
  return llvm::utohexstr(llvm::xxh3_64bits(key)) +
         llvm::utohexstr(llvm::xxh3_64bits(key + "/2"));
}

/// Writes `contents` to `path` atomically: readers see the old file or the
/// whole new one, never a partial write.
llvm::Error writeAtomically(llvm::StringRef path, llvm::StringRef contents) {
  int fd;
  llvm::SmallString<256> temp;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, temp))
    return llvm::createStringError(ec, "cannot write to the cache: %s",
                                   path.str().c_str());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << contents;
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return llvm::createStringError(ec, "cannot write to the cache: %s",
                                   path.str().c_str());
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<JitResult> tlc::jitCompile(const JitRequest &request,
                                          llvm::StringRef cacheDir) {
  if (request.kernel.empty())
    return llvm::createStringError("jitCompile: name the kernel to compile");
  if (!isSupportedArch(request.codegen.arch))
    return llvm::createStringError("jitCompile: arch must be sm_90a or sm_80, "
                                   "not '" +
                                   request.codegen.arch + "'");
  std::string dir = cacheDir.empty() ? defaultCacheDir() : cacheDir.str();
  llvm::SmallString<256> base(dir);
  llvm::sys::path::append(base, request.kernel + "-" + cacheKey(request));
  std::string ptxPath = (base + ".ptx").str();
  std::string jsonPath = (base + ".json").str();
  std::string remarksPath = (base + ".remarks").str();

  JitResult result;
  result.cachePath = ptxPath;
  // The metadata is written last, so its presence means a complete entry
  // (with its PTX and its remarks).
  auto json = llvm::MemoryBuffer::getFile(jsonPath);
  auto ptx = llvm::MemoryBuffer::getFile(ptxPath);
  auto cachedRemarks = llvm::MemoryBuffer::getFile(remarksPath);
  if (json && ptx && cachedRemarks) {
    result.ptx = (*ptx)->getBuffer().str();
    result.metadata = (*json)->getBuffer().str();
    result.remarks = (*cachedRemarks)->getBuffer().str();
    result.cacheHit = true;
    return result;
  }

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(request.source, request.filename),
      llvm::SMLoc());
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  Diagnostics diags(sourceMgr, errorStream);
  std::optional<ast::Module> module = parseModule(
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer(), diags);
  if (!module)
    return llvm::createStringError(errors);
  mlir::MLIRContext context;
  FrontendOptions frontend;
  frontend.kernelName = request.kernel;
  frontend.defines = request.defines;
  mlir::OwningOpRef<mlir::ModuleOp> tile =
      buildTileModule(context, *module, frontend, diags);
  if (!tile)
    return llvm::createStringError(errors);
  // Remarks go to their own text (kept with the cached kernel), everything
  // else to the error message.
  llvm::raw_string_ostream remarkStream(result.remarks);
  StreamDiagnostics errorHandler(sourceMgr, &context, errorStream);
  StreamDiagnostics remarkHandler(sourceMgr, &context, remarkStream);
  mlir::ScopedDiagnosticHandler router(&context, [&](mlir::Diagnostic &d) {
    (d.getSeverity() == mlir::DiagnosticSeverity::Remark ? remarkHandler
                                                         : errorHandler)
        .emitDiagnostic(d);
    return mlir::success();
  });
  CodegenOptions codegen = request.codegen;
  codegen.remarks = true;
  mlir::PassManager pm(&context);
  addLoweringPasses(pm, codegen);
  if (mlir::failed(pm.run(*tile)))
    return llvm::createStringError(errors);
  mlir::FailureOr<std::vector<KernelArtifact>> artifacts =
      emitCuda(*tile, codegen);
  if (mlir::failed(artifacts) || artifacts->size() != 1)
    return llvm::createStringError(errors);
  KernelArtifact &artifact = artifacts->front();
  stampMetadata(artifact, request.source, request.defines, request.codegen);
  std::string log;
  if (mlir::failed(compileWithNvrtc(artifact, request.codegen, log)))
    return llvm::createStringError("NVRTC failed to compile kernel '" +
                                   artifact.name + "':\n" + log);
  result.ptx = artifact.ptx;
  result.metadata =
      llvm::formatv("{0:2}", llvm::json::Value(std::move(artifact.metadata)));

  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createStringError(ec, "cannot create the cache directory %s",
                                   dir.c_str());
  if (llvm::Error e = writeAtomically(ptxPath, result.ptx))
    return std::move(e);
  if (llvm::Error e = writeAtomically(remarksPath, result.remarks))
    return std::move(e);
  if (llvm::Error e = writeAtomically(jsonPath, result.metadata))
    return std::move(e);
  return result;
}
