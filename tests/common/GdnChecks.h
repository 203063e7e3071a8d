//===- GdnChecks.h - The GDN backward's accuracy bar, as Catch checks -*- C++
//-*-===//
//
// gdn.md section 6 for gradients, shared by the interpreter (CI) and GPU
// tests: relative RMS against the float64 adjoint of at most 8e-3 for dq,
// dk, dv, dh0 and 2e-2 for dg, dbeta with 16-bit inputs; f32 inputs meet
// the tighter `f32Bar` on all of them but dg, which meets `f32DgBar`
// (default: the same).
//
//===----------------------------------------------------------------------===//

#ifndef TLC_TESTS_COMMON_GDNCHECKS_H
#define TLC_TESTS_COMMON_GDNCHECKS_H

#include "common/GdnReference.h"

#include <catch2/catch.hpp>

#include <cstdio>

namespace tlc::test {

inline void checkGradErrors(const std::string &what, const GdnGradErrors &e,
                            bool f32, double f32Bar, double f32DgBar = 0) {
  std::printf("GDN backward %-62s dq %.1e dk %.1e dv %.1e dg %.1e dbeta %.1e "
              "dh0 %.1e\n",
              what.c_str(), e.dq, e.dk, e.dv, e.dg, e.dbeta, e.dh0);
  INFO(what);
  double bar = f32 ? f32Bar : 8e-3, gateBar = f32 ? f32Bar : 2e-2;
  double dgBar = f32 ? (f32DgBar > 0 ? f32DgBar : f32Bar) : 2e-2;
  CHECK(e.dq < bar);
  CHECK(e.dk < bar);
  CHECK(e.dv < bar);
  CHECK(e.dh0 < bar);
  CHECK(e.dg < dgBar);
  CHECK(e.dbeta < gateBar);
}

} // namespace tlc::test

#endif // TLC_TESTS_COMMON_GDNCHECKS_H
