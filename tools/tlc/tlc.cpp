//===- tlc.cpp - The tlc compiler driver ----------------------------------===//
//
//   tlc FILE.tl [--kernel NAME] [-D NAME=VALUE]...
//       --emit ast|tile|lowered|cuda|ptx|cubin|meta [--arch sm_90a|sm_80]
//       [-o OUT] [--print-ir-after PASS|all] [--timing]
//
// Exit status: 0 on success, 1 on any error (bad input, bad flags, missing
// files), with every error printed as `file:line:col: error: ...`.
//
//===----------------------------------------------------------------------===//

#include "tlc/Codegen/CudaEmitter.h"
#include "tlc/Driver/Compiler.h"
#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Frontend/Parser.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/xxhash.h"

namespace cl = llvm::cl;

namespace {
enum class EmitKind { Ast, Tile, Lowered, Cuda, Ptx, Cubin, Meta };

cl::OptionCategory tlcCategory("tlc options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .tl file>"),
                               cl::Required, cl::cat(tlcCategory));
cl::opt<std::string>
    outputPath("o",
               cl::desc("Output file; for ptx, cubin and meta an output "
                        "directory receiving NAME.ptx/.cubin and NAME.json"),
               cl::value_desc("path"), cl::cat(tlcCategory));
cl::opt<std::string> kernelName("kernel",
                                cl::desc("Compile only the named kernel"),
                                cl::value_desc("name"), cl::cat(tlcCategory));
cl::list<std::string>
    defines("D", cl::Prefix,
            cl::desc("Override a compile-time parameter: -D NAME=VALUE"),
            cl::value_desc("NAME=VALUE"), cl::cat(tlcCategory));
cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to produce"), cl::init(EmitKind::Tile),
    cl::values(
        clEnumValN(EmitKind::Ast, "ast", "the parsed syntax tree"),
        clEnumValN(EmitKind::Tile, "tile", "the tile dialect (MLIR)"),
        clEnumValN(EmitKind::Lowered, "lowered",
                   "the tile dialect after the compiler's passes"),
        clEnumValN(EmitKind::Cuda, "cuda", "generated CUDA C++"),
        clEnumValN(EmitKind::Ptx, "ptx", "PTX (with NAME.json beside it)"),
        clEnumValN(EmitKind::Cubin, "cubin",
                   "cubin (with NAME.json beside it)"),
        clEnumValN(EmitKind::Meta, "meta", "kernel metadata (JSON)")),
    cl::cat(tlcCategory));
cl::opt<std::string> arch("arch", cl::desc("GPU target: sm_90a or sm_80"),
                          cl::init("sm_90a"), cl::cat(tlcCategory));
cl::opt<std::string> printIrAfter(
    "print-ir-after",
    cl::desc("Print the IR after the named pass (or 'all') to stderr"),
    cl::value_desc("pass"), cl::cat(tlcCategory));
cl::opt<bool> timing("timing", cl::desc("Report the time of each stage"),
                     cl::cat(tlcCategory));
cl::opt<std::string> jitCache(
    "jit-cache",
    cl::desc("Compile --kernel through the run-time JIT and its on-disk "
             "cache in this directory; write NAME.ptx/.json to -o DIR"),
    cl::value_desc("dir"), cl::cat(tlcCategory));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tlc") << message << "\n";
  return 1;
}

bool writeFile(llvm::StringRef path, llvm::StringRef contents) {
  std::string error;
  auto file = mlir::openOutputFile(path, &error);
  if (!file) {
    fail(error);
    return false;
  }
  file->os() << contents;
  file->keep();
  return true;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "tlc " << TLC_VERSION << " (LLVM/MLIR " << LLVM_VERSION_STRING
       << ", NVRTC " << tlc::nvrtcVersion() << ")\n";
  });
  // libLLVM registers many options of its own; tlc accepts only its own
  // (and --help/--version), so that typos get a suggestion from this list.
  llvm::SmallVector<cl::Option *> foreign;
  for (auto &entry : cl::getRegisteredOptions()) {
    cl::Option *option = entry.second;
    if (!llvm::is_contained(option->Categories, &tlcCategory) &&
        entry.first != "help" && entry.first != "version")
      foreign.push_back(option);
  }
  for (cl::Option *option : foreign)
    option->removeArgument();
  cl::HideUnrelatedOptions(tlcCategory);
  cl::ParseCommandLineOptions(argc, argv,
                              "tlc: the tile-language kernel compiler\n");
  if (arch != "sm_90a" && arch != "sm_80")
    return fail("--arch must be sm_90a or sm_80, not '" + arch + "'");

  mlir::DefaultTimingManager timingManager;
  timingManager.setEnabled(timing);
  mlir::TimingScope rootTimer = timingManager.getRootScope();

  auto fileOrErr = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (std::error_code ec = fileOrErr.getError())
    return fail("cannot read '" + inputFile + "': " + ec.message());
  if (!jitCache.empty()) {
    if (kernelName.empty() || outputPath.empty())
      return fail("--jit-cache needs --kernel NAME and -o DIR");
    tlc::JitRequest request;
    request.source = (*fileOrErr)->getBuffer().str();
    request.filename = inputFile;
    request.kernel = kernelName;
    request.defines.assign(defines.begin(), defines.end());
    request.codegen.arch = arch;
    llvm::Expected<tlc::JitResult> result =
        tlc::jitCompile(request, jitCache);
    if (!result) {
      llvm::errs() << llvm::toString(result.takeError()) << "\n";
      return 1;
    }
    llvm::outs() << "cache " << (result->cacheHit ? "hit" : "miss") << ": "
                 << result->cachePath << "\n";
    llvm::sys::fs::create_directories(outputPath);
    llvm::SmallString<256> base(outputPath);
    llvm::sys::path::append(base, kernelName.getValue());
    return writeFile((base + ".ptx").str(), result->ptx) &&
                   writeFile((base + ".json").str(), result->metadata)
               ? 0
               : 1;
  }

  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(std::move(*fileOrErr),
                                             llvm::SMLoc());
  tlc::Diagnostics diags(sourceMgr, llvm::errs());

  mlir::TimingScope parseTimer = rootTimer.nest("parse");
  std::optional<tlc::ast::Module> module =
      tlc::parseModule(sourceMgr.getMemoryBuffer(id)->getBuffer(), diags);
  parseTimer.stop();
  if (!module)
    return 1;

  if (emitKind == EmitKind::Ast) {
    std::string text;
    llvm::raw_string_ostream os(text);
    tlc::ast::print(*module, os);
    return writeFile(outputPath.empty() ? std::string("-") : outputPath.getValue(), text) ? 0 : 1;
  }

  mlir::MLIRContext context;
  tlc::FrontendOptions options;
  options.kernelName = kernelName;
  options.defines.assign(defines.begin(), defines.end());
  mlir::TimingScope genTimer = rootTimer.nest("build tile IR");
  mlir::OwningOpRef<mlir::ModuleOp> tileModule =
      tlc::buildTileModule(context, *module, options, diags);
  genTimer.stop();
  if (!tileModule)
    return 1;
  auto printModule = [&]() {
    std::string text;
    llvm::raw_string_ostream os(text);
    tileModule->print(os);
    return writeFile(outputPath.empty() ? std::string("-") : outputPath.getValue(), text) ? 0 : 1;
  };
  if (emitKind == EmitKind::Tile)
    return printModule();

  // Compiler passes. Diagnostics are printed at the .tl source location.
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::errs());
  mlir::PassManager pm(&context);
  mlir::TimingScope passTimer = rootTimer.nest("passes");
  pm.enableTiming(passTimer);
  tlc::addLoweringPasses(pm);
  if (!printIrAfter.empty()) {
    std::string wanted = printIrAfter;
    context.disableMultithreading();
    pm.enableIRPrinting(
        [](mlir::Pass *, mlir::Operation *) { return false; },
        [wanted](mlir::Pass *pass, mlir::Operation *) {
          return wanted == "all" || pass->getArgument() == wanted;
        },
        /*printModuleScope=*/false, /*printAfterOnlyOnChange=*/false);
  }
  if (mlir::failed(pm.run(*tileModule)))
    return 1;
  if (emitKind == EmitKind::Lowered)
    return printModule();

  tlc::CodegenOptions codegen;
  codegen.arch = arch;
  codegen.cubin = emitKind == EmitKind::Cubin;
  mlir::TimingScope emitTimer = rootTimer.nest("emit CUDA C++");
  mlir::FailureOr<std::vector<tlc::KernelArtifact>> artifacts =
      tlc::emitCuda(*tileModule, codegen);
  emitTimer.stop();
  if (mlir::failed(artifacts))
    return 1;

  if (emitKind == EmitKind::Cuda) {
    std::string text;
    for (const tlc::KernelArtifact &artifact : *artifacts)
      text += artifact.cuda + "\n";
    return writeFile(outputPath.empty() ? std::string("-") : outputPath.getValue(), text) ? 0 : 1;
  }

  for (tlc::KernelArtifact &artifact : *artifacts) {
    tlc::stampMetadata(artifact, sourceMgr.getMemoryBuffer(id)->getBuffer(),
                       options.defines, codegen);
    if (emitKind == EmitKind::Meta && outputPath.empty())
      continue;
    mlir::TimingScope nvrtcTimer = rootTimer.nest("NVRTC " + artifact.name);
    std::string log;
    if (mlir::failed(tlc::compileWithNvrtc(artifact, codegen, log)))
      return fail("NVRTC failed to compile kernel '" + artifact.name +
                  "' (locations refer to the .tl source; --emit cuda shows "
                  "the generated code):\n" + log);
  }

  if (outputPath.empty()) {
    if (emitKind == EmitKind::Cubin)
      return fail("--emit cubin needs -o DIR");
    std::string text;
    for (tlc::KernelArtifact &artifact : *artifacts) {
      if (emitKind == EmitKind::Ptx) {
        text += artifact.ptx;
      } else {
        llvm::raw_string_ostream os(text);
        os << llvm::formatv("{0:2}", llvm::json::Value(std::move(artifact.metadata)))
           << "\n";
      }
    }
    return writeFile("-", text) ? 0 : 1;
  }

  if (std::error_code ec = llvm::sys::fs::create_directories(outputPath))
    return fail("cannot create directory '" + outputPath + "': " +
                ec.message());
  for (tlc::KernelArtifact &artifact : *artifacts) {
    llvm::SmallString<256> base(outputPath);
    llvm::sys::path::append(base, artifact.name);
    if (emitKind == EmitKind::Ptx && !writeFile((base + ".ptx").str(), artifact.ptx))
      return 1;
    if (emitKind == EmitKind::Cubin &&
        !writeFile((base + ".cubin").str(), artifact.cubin))
      return 1;
    std::string json;
    llvm::raw_string_ostream os(json);
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(artifact.metadata)))
       << "\n";
    if (!writeFile((base + ".json").str(), json))
      return 1;
  }
  return 0;
}
