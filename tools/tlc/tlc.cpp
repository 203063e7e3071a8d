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
#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Driver/Compiler.h"
#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Frontend/Parser.h"
#include "tlc/Interpreter/Interpreter.h"
#include "tlc/Interpreter/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/xxhash.h"

#include <map>
#include <random>

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
    cl::values(clEnumValN(EmitKind::Ast, "ast", "the parsed syntax tree"),
               clEnumValN(EmitKind::Tile, "tile", "the tile dialect (MLIR)"),
               clEnumValN(EmitKind::Lowered, "lowered",
                          "the tile dialect after the compiler's passes"),
               clEnumValN(EmitKind::Cuda, "cuda", "generated CUDA C++"),
               clEnumValN(EmitKind::Ptx, "ptx",
                          "PTX (with NAME.json beside it)"),
               clEnumValN(EmitKind::Cubin, "cubin",
                          "cubin (with NAME.json beside it)"),
               clEnumValN(EmitKind::Meta, "meta", "kernel metadata (JSON)")),
    cl::cat(tlcCategory));
cl::opt<std::string> arch("arch", cl::desc("GPU target: sm_90a or sm_80"),
                          cl::init("sm_90a"), cl::cat(tlcCategory));
cl::opt<bool> noWarpSpecialize(
    "no-ws",
    cl::desc("sm_90a: keep TMA pipelines in one role (no producer "
             "warpgroup, no setmaxnreg)"),
    cl::cat(tlcCategory));
cl::opt<bool> noTma("no-tma",
                    cl::desc("sm_90a: lower pipelined copies with cp.async "
                             "and gemms with mma.sync, as for sm_80"),
                    cl::cat(tlcCategory));
cl::opt<bool> remarks(
    "remarks",
    cl::desc("Report, at the .tl line, every place where code generation "
             "did not use a faster form (prefetch ring, TMA + wgmma, gemms "
             "in flight), and why"),
    cl::cat(tlcCategory));
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

// `tlc run --interpret FILE.tl ...`: run a kernel on the CPU interpreter.
cl::SubCommand runCommand("run", "Run a kernel in the CPU interpreter");
cl::opt<std::string> runFile(cl::Positional, cl::desc("<input .tl file>"),
                             cl::Required, cl::sub(runCommand));
cl::opt<bool> runInterpret("interpret",
                           cl::desc("Run on the CPU interpreter (required: "
                                    "the only executor of `tlc run` today)"),
                           cl::sub(runCommand));
cl::opt<std::string> runKernel("kernel", cl::desc("The kernel to run"),
                               cl::value_desc("name"), cl::sub(runCommand));
cl::list<std::string> runDefines("D", cl::Prefix,
                                 cl::desc("Compile-time parameter override"),
                                 cl::value_desc("NAME=VALUE"),
                                 cl::sub(runCommand));
cl::list<std::string> runInputs("input",
                                cl::desc("A tensor argument from a .npy file"),
                                cl::value_desc("NAME=FILE.npy"),
                                cl::sub(runCommand));
cl::list<std::string>
    runDims("dim",
            cl::desc("A symbolic dimension, for tensors generated from --seed"),
            cl::value_desc("NAME=N"), cl::sub(runCommand));
cl::list<std::string> runScalars("scalar", cl::desc("A scalar argument"),
                                 cl::value_desc("NAME=VALUE"),
                                 cl::sub(runCommand));
cl::opt<uint64_t> runSeed("seed",
                          cl::desc("Seed of generated inputs (uniform in "
                                   "[-1, 1); integers in [0, 8))"),
                          cl::init(0), cl::sub(runCommand));
cl::opt<std::string> runOut("o",
                            cl::desc("Directory receiving every tensor "
                                     "argument as NAME.npy after the run"),
                            cl::value_desc("dir"), cl::sub(runCommand));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tlc") << message << "\n";
  return 1;
}

std::optional<std::pair<std::string, std::string>>
splitAssignment(llvm::StringRef text) {
  auto [name, value] = text.split('=');
  if (name.empty() || value.empty() || !text.contains('='))
    return std::nullopt;
  return std::make_pair(name.str(), value.str());
}

int runInterpreter() {
  namespace interp = tlc::interp;
  if (!runInterpret)
    return fail("tlc run needs --interpret (the CPU interpreter is the only "
                "executor of tlc run; GPU programs use the runtime)");
  auto fileOrErr = llvm::MemoryBuffer::getFile(runFile);
  if (std::error_code ec = fileOrErr.getError())
    return fail("cannot read '" + runFile + "': " + ec.message());
  llvm::SourceMgr sourceMgr;
  unsigned id =
      sourceMgr.AddNewSourceBuffer(std::move(*fileOrErr), llvm::SMLoc());
  tlc::Diagnostics diags(sourceMgr, llvm::errs());
  std::optional<tlc::ast::Module> ast =
      tlc::parseModule(sourceMgr.getMemoryBuffer(id)->getBuffer(), diags);
  if (!ast)
    return 1;
  std::string kernel = runKernel;
  if (kernel.empty()) {
    if (ast->kernels.size() != 1)
      return fail("this file defines several kernels; choose one with "
                  "--kernel");
    kernel = ast->kernels.front()->name;
  }
  mlir::MLIRContext context;
  tlc::FrontendOptions options;
  options.kernelName = kernel;
  options.defines.assign(runDefines.begin(), runDefines.end());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      tlc::buildTileModule(context, *ast, options, diags);
  if (!module)
    return 1;
  auto func = module->lookupSymbol<mlir::func::FuncOp>(kernel);

  std::map<std::string, std::string> inputs, scalars;
  std::map<std::string, int64_t> dims;
  for (auto [list, what] : {std::pair{&runInputs, "--input"},
                            {&runScalars, "--scalar"},
                            {&runDims, "--dim"}}) {
    for (const std::string &entry : *list) {
      auto kv = splitAssignment(entry);
      if (!kv)
        return fail(std::string(what) + " expects NAME=VALUE, got '" + entry +
                    "'");
      if (list == &runDims) {
        int64_t n;
        if (llvm::StringRef(kv->second).getAsInteger(10, n) || n < 0)
          return fail("--dim " + kv->first + ": '" + kv->second +
                      "' is not a size");
        dims[kv->first] = n;
      } else {
        (list == &runInputs ? inputs : scalars)[kv->first] = kv->second;
      }
    }
  }

  // Tensors from files first: they bind symbolic dimensions.
  unsigned numArgs = func.getNumArguments();
  std::vector<std::string> names(numArgs);
  std::vector<interp::HostTensor> tensors(numArgs);
  auto dtypeOf = [](mlir::Type t) {
    if (t.isBF16())
      return interp::DType::BF16;
    if (t.isF16())
      return interp::DType::F16;
    if (t.isF64())
      return interp::DType::F64;
    if (t.isInteger(8))
      return interp::DType::I8;
    if (t.isInteger(32))
      return interp::DType::I32;
    if (t.isInteger(64))
      return interp::DType::I64;
    if (t.isInteger(1))
      return interp::DType::Bool;
    return interp::DType::F32;
  };
  for (unsigned i = 0; i < numArgs; ++i) {
    names[i] = func.getArgAttrOfType<mlir::StringAttr>(
                       i, tlc::tile::TileDialect::getParamNameAttrName())
                   .getValue()
                   .str();
    auto type =
        llvm::dyn_cast<tlc::tile::BufferType>(func.getArgumentTypes()[i]);
    if (!type || !inputs.count(names[i]))
      continue;
    tensors[i].dtype = dtypeOf(type.getElementType());
    if (llvm::Error e = interp::readNpy(inputs[names[i]], tensors[i]))
      return fail(llvm::toString(std::move(e)));
    auto dimNames = func.getArgAttrOfType<mlir::ArrayAttr>(
        i, tlc::tile::TileDialect::getDimsAttrName());
    if (int64_t(tensors[i].shape.size()) != type.getRank())
      return fail("--input " + names[i] + ": the kernel expects rank " +
                  std::to_string(type.getRank()) + ", the file has rank " +
                  std::to_string(tensors[i].shape.size()));
    for (int64_t d = 0; d < type.getRank(); ++d)
      dims.try_emplace(
          llvm::cast<mlir::StringAttr>(dimNames[d]).getValue().str(),
          tensors[i].shape[d]);
    inputs.erase(names[i]);
  }
  if (!inputs.empty())
    return fail("--input " + inputs.begin()->first +
                ": the kernel has no tensor parameter of that name");

  std::mt19937_64 rng(runSeed);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<interp::KernelArg> args;
  for (unsigned i = 0; i < numArgs; ++i) {
    mlir::Type t = func.getArgumentTypes()[i];
    if (auto type = llvm::dyn_cast<tlc::tile::BufferType>(t)) {
      interp::HostTensor &tensor = tensors[i];
      if (tensor.shape.empty() && type.getRank() > 0) {
        auto dimNames = func.getArgAttrOfType<mlir::ArrayAttr>(
            i, tlc::tile::TileDialect::getDimsAttrName());
        tensor.dtype = dtypeOf(type.getElementType());
        for (int64_t d = 0; d < type.getRank(); ++d) {
          std::string dim =
              llvm::cast<mlir::StringAttr>(dimNames[d]).getValue().str();
          int64_t extent = type.getShape()[d];
          if (mlir::ShapedType::isDynamic(extent)) {
            if (!dims.count(dim))
              return fail("tensor '" + names[i] + "': dimension '" + dim +
                          "' is unknown; give --dim " + dim + "=N or --input " +
                          names[i] + "=FILE.npy");
            extent = dims[dim];
          }
          tensor.shape.push_back(extent);
        }
        tensor.data.resize(tensor.numElements());
        bool integer = tensor.dtype == interp::DType::I32 ||
                       tensor.dtype == interp::DType::I64 ||
                       tensor.dtype == interp::DType::I8;
        for (double &v : tensor.data)
          v = integer ? double(rng() % 8) : uniform(rng);
      }
      args.push_back(&tensor);
      continue;
    }
    double value = uniform(rng);
    if (scalars.count(names[i]) &&
        llvm::StringRef(scalars[names[i]]).getAsDouble(value))
      return fail("--scalar " + names[i] + ": '" + scalars[names[i]] +
                  "' is not a number");
    scalars.erase(names[i]);
    args.push_back(interp::Scalar{dtypeOf(t), value});
  }
  if (!scalars.empty())
    return fail("--scalar " + scalars.begin()->first +
                ": the kernel has no scalar parameter of that name");

  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::errs());
  if (mlir::failed(interp::runKernel(*module, kernel, args)))
    return 1;
  if (!runOut.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(runOut))
      return fail("cannot create '" + runOut + "': " + ec.message());
    for (unsigned i = 0; i < numArgs; ++i) {
      if (tensors[i].shape.empty() && tensors[i].data.empty())
        continue;
      llvm::SmallString<256> path(runOut);
      llvm::sys::path::append(path, names[i] + ".npy");
      if (llvm::Error e = interp::writeNpy(path, tensors[i]))
        return fail(llvm::toString(std::move(e)));
      llvm::outs() << names[i] << " -> " << path << "\n";
    }
  }
  llvm::outs() << "ran " << kernel << " in the interpreter\n";
  return 0;
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
  cl::SetVersionPrinter(
      [](llvm::raw_ostream &os) { os << tlc::versionString() << "\n"; });
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
  if (runCommand)
    return runInterpreter();
  if (!tlc::isSupportedArch(arch))
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
    request.codegen.warpSpecialize = !noWarpSpecialize;
    request.codegen.tma = !noTma;
    llvm::Expected<tlc::JitResult> result = tlc::jitCompile(request, jitCache);
    if (!result) {
      llvm::errs() << llvm::toString(result.takeError()) << "\n";
      return 1;
    }
    if (remarks)
      llvm::errs() << result->remarks;
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
  unsigned id =
      sourceMgr.AddNewSourceBuffer(std::move(*fileOrErr), llvm::SMLoc());
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
    return writeFile(outputPath.empty() ? std::string("-")
                                        : outputPath.getValue(),
                     text)
               ? 0
               : 1;
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
    return writeFile(outputPath.empty() ? std::string("-")
                                        : outputPath.getValue(),
                     text)
               ? 0
               : 1;
  };
  if (emitKind == EmitKind::Tile)
    return printModule();

  // Compiler passes. Diagnostics are printed at the .tl source location.
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::errs());
  mlir::PassManager pm(&context);
  mlir::TimingScope passTimer = rootTimer.nest("passes");
  pm.enableTiming(passTimer);
  tlc::CodegenOptions codegen;
  codegen.arch = arch;
  codegen.cubin = emitKind == EmitKind::Cubin;
  codegen.warpSpecialize = !noWarpSpecialize;
  codegen.tma = !noTma;
  codegen.remarks = remarks;
  tlc::addLoweringPasses(pm, codegen);
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
    return writeFile(outputPath.empty() ? std::string("-")
                                        : outputPath.getValue(),
                     text)
               ? 0
               : 1;
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
                  "the generated code):\n" +
                  log);
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
        os << llvm::formatv("{0:2}",
                            llvm::json::Value(std::move(artifact.metadata)))
           << "\n";
      }
    }
    return writeFile("-", text) ? 0 : 1;
  }

  if (std::error_code ec = llvm::sys::fs::create_directories(outputPath))
    return fail("cannot create directory '" + outputPath +
                "': " + ec.message());
  for (tlc::KernelArtifact &artifact : *artifacts) {
    llvm::SmallString<256> base(outputPath);
    llvm::sys::path::append(base, artifact.name);
    if (emitKind == EmitKind::Ptx &&
        !writeFile((base + ".ptx").str(), artifact.ptx))
      return 1;
    if (emitKind == EmitKind::Cubin &&
        !writeFile((base + ".cubin").str(), artifact.cubin))
      return 1;
    std::string json;
    llvm::raw_string_ostream os(json);
    os << llvm::formatv("{0:2}",
                        llvm::json::Value(std::move(artifact.metadata)))
       << "\n";
    if (!writeFile((base + ".json").str(), json))
      return 1;
  }
  return 0;
}
