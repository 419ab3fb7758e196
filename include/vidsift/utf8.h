// utf8.h — checking and repairing UTF-8 text before it reaches a TEXT column
// or JSON.
//
// Contract:
//  * invalid_utf8_at(s) is the offset of the first byte of `s` that does not
//    start or continue a well-formed UTF-8 sequence (RFC 3629: no overlong
//    forms, no surrogates, nothing above U+10FFFF), or std::string::npos when
//    `s` is valid UTF-8. is_utf8(s) says whether it is npos.
//  * to_utf8(s) returns `s` unchanged when it is valid UTF-8; otherwise every
//    byte of an ill-formed sequence becomes U+FFFD (so the result is always
//    valid UTF-8, and valid parts are kept as they are).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace vidsift {

std::size_t invalid_utf8_at(std::string_view s);
inline bool is_utf8(std::string_view s) { return invalid_utf8_at(s) == std::string_view::npos; }
std::string to_utf8(std::string_view s);

}  // namespace vidsift
