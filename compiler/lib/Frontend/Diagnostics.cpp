//===- Diagnostics.cpp ----------------------------------------------------===//

#include "tlc/Frontend/Diagnostics.h"

using namespace tlc;

void Diagnostics::error(llvm::SMLoc loc, const llvm::Twine &message) {
  ++numErrors;
  sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Error, message);
}

void Diagnostics::note(llvm::SMLoc loc, const llvm::Twine &message) {
  sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Note, message);
}
