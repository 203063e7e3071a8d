//===- TestUtil.h - Helpers shared by the unit tests -----------*- C++ -*-===//

#ifndef TLC_TESTS_UNIT_TESTUTIL_H
#define TLC_TESTS_UNIT_TESTUTIL_H

#include "tlc/Frontend/Diagnostics.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <string>

namespace tlc::test {

/// A source buffer named `test.tl` plus diagnostics captured into a string.
struct Source {
  explicit Source(const std::string &text) : os(output), diags(sourceMgr, os) {
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "test.tl"), llvm::SMLoc());
  }
  llvm::StringRef text() const {
    return sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();
  }
  const std::string &errors() {
    os.flush();
    return output;
  }

  llvm::SourceMgr sourceMgr;
  std::string output;
  llvm::raw_string_ostream os;
  Diagnostics diags;
};

} // namespace tlc::test

#endif // TLC_TESTS_UNIT_TESTUTIL_H
