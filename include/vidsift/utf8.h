// utf8.h — checking and repairing UTF-8 text before it reaches a TEXT column
// or JSON.
//
// Contract:
//  * invalid_utf8_at(s) is the offset of the first byte of `s` that does not
//    start or continue a well-formed UTF-8 sequence (RFC 3629: no overlong
//    forms, no surrogates, nothing above U+10FFFF), or std::string::npos when
//    `s` is valid UTF-8. is_utf8(s) says whether it is npos.
//  * to_utf8(s) returns `s` unchanged when it is valid UTF-8. Otherwise it
//    returns `s` escaped, reversibly: each backslash becomes two ("\\"),
//    each byte of an ill-formed sequence becomes "\xHH" (two lower-case hex
//    digits), and everything else is kept. The result is always valid UTF-8
//    (pure ASCII escapes), and an escaped text always holds at least one
//    "\xHH" with HH >= 80.
//  * from_escaped_utf8(t) undoes that escaping: "\\" -> "\", "\xHH" -> the
//    byte HH, anything else kept. from_escaped_utf8(to_utf8(s)) == s for every
//    `s` that is not valid UTF-8 (for valid `s`, to_utf8 did not escape, so
//    only call it on text known to be escaped, e.g. a videos.path whose
//    path_bytes is not valid UTF-8).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace vidsift {

std::size_t invalid_utf8_at(std::string_view s);
inline bool is_utf8(std::string_view s) { return invalid_utf8_at(s) == std::string_view::npos; }
std::string to_utf8(std::string_view s);
std::string from_escaped_utf8(std::string_view t);

}  // namespace vidsift
