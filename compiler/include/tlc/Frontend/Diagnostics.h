//===- Diagnostics.h - Source-located front-end diagnostics ----*- C++ -*-===//
//
// Every front-end error is printed as `file.tl:LINE:COL: error: message`
// followed by the source line and a caret, through llvm::SourceMgr, which is
// also what MLIR's SourceMgrDiagnosticHandler uses for verifier errors; both
// paths therefore look the same to the user.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_FRONTEND_DIAGNOSTICS_H
#define TLC_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace tlc {

class Diagnostics {
public:
  Diagnostics(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os)
      : sourceMgr(sourceMgr), os(os) {}

  void error(llvm::SMLoc loc, const llvm::Twine &message);
  void note(llvm::SMLoc loc, const llvm::Twine &message);

  unsigned getNumErrors() const { return numErrors; }
  llvm::SourceMgr &getSourceMgr() { return sourceMgr; }
  llvm::raw_ostream &getStream() { return os; }

private:
  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned numErrors = 0;
};

} // namespace tlc

#endif // TLC_FRONTEND_DIAGNOSTICS_H
