#include "vidsift/format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <system_error>

namespace vidsift {

std::string human_number(double v, int decimals) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (decimals < 0) decimals = 0;
  if (decimals > 12) decimals = 12;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s(buf);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string exact_number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  if (r.ec != std::errc()) return human_number(v, 12);
  return std::string(buf, r.ptr);
}

}  // namespace vidsift
