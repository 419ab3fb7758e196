// format.h — numbers for people: messages and summaries.
//
// Contract:
//  * human_number(v) prints a double the way a person would write it: no
//    exponent for ordinary magnitudes, at most `decimals` decimals, trailing
//    zeros and a trailing point removed ("1800", "2.5", "0.25", "-3"); NaN and
//    infinities print as "nan", "inf", "-inf".
//  * exact_number(v) prints a double so that reading it back gives the same
//    double (shortest round-trip form, "100000.2"), for keys and machine
//    output.
// Pure functions; thread-safe.
#pragma once

#include <string>

namespace vidsift {

std::string human_number(double v, int decimals = 3);

std::string exact_number(double v);

}  // namespace vidsift
