//===- tlc.cpp - The tlc compiler driver ----------------------------------===//
//
//   tlc FILE.tl [--kernel NAME] [-D NAME=VALUE]... --emit ast|tile [-o OUT]
//
// Exit status: 0 on success, 1 on any error (bad input, bad flags, missing
// files), with every error printed as `file:line:col: error: ...`.
//
//===----------------------------------------------------------------------===//

#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Frontend/Parser.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;

namespace {
enum class EmitKind { Ast, Tile };

cl::OptionCategory tlcCategory("tlc options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .tl file>"),
                               cl::Required, cl::cat(tlcCategory));
cl::opt<std::string> outputFile("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(tlcCategory));
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
               clEnumValN(EmitKind::Tile, "tile", "the tile dialect (MLIR)")),
    cl::cat(tlcCategory));
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "tlc " << TLC_VERSION << " (LLVM/MLIR " << LLVM_VERSION_STRING
       << ")\n";
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

  auto fileOrErr = llvm::MemoryBuffer::getFileOrSTDIN(inputFile, false,
                                                      /*RequiresNullTerminator=*/true);
  if (std::error_code ec = fileOrErr.getError()) {
    llvm::WithColor::error(llvm::errs(), "tlc")
        << "cannot read '" << inputFile << "': " << ec.message() << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(std::move(*fileOrErr),
                                             llvm::SMLoc());
  tlc::Diagnostics diags(sourceMgr, llvm::errs());
  std::optional<tlc::ast::Module> module =
      tlc::parseModule(sourceMgr.getMemoryBuffer(id)->getBuffer(), diags);
  if (!module)
    return 1;

  std::string errorMessage;
  auto output = mlir::openOutputFile(outputFile, &errorMessage);
  if (!output) {
    llvm::WithColor::error(llvm::errs(), "tlc") << errorMessage << "\n";
    return 1;
  }

  if (emitKind == EmitKind::Ast) {
    tlc::ast::print(*module, output->os());
    output->keep();
    return 0;
  }

  mlir::MLIRContext context;
  tlc::FrontendOptions options;
  options.kernelName = kernelName;
  options.defines.assign(defines.begin(), defines.end());
  mlir::OwningOpRef<mlir::ModuleOp> tileModule =
      tlc::buildTileModule(context, *module, options, diags);
  if (!tileModule)
    return 1;
  tileModule->print(output->os());
  output->keep();
  return 0;
}
