// Tests of the UTF-8 check and repair used before TEXT columns and JSON.
#include <gtest/gtest.h>

#include <string>

#include "vidsift/utf8.h"

using namespace vidsift;

TEST(Utf8, ValidTextIsKeptAsItIs) {
  for (const std::string s : {"", "plain.mp4", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\xa5 clip", "\x7f"}) {
    EXPECT_TRUE(is_utf8(s)) << s;
    EXPECT_EQ(to_utf8(s), s);
  }
}

TEST(Utf8, IllFormedBytesAreEscapedReversibly) {
  EXPECT_EQ(invalid_utf8_at("caf\xe9.mp4"), 3u);
  EXPECT_EQ(to_utf8("caf\xe9.mp4"), "caf\\xe9.mp4");
  EXPECT_EQ(to_utf8("\xff\xfe"), "\\xff\\xfe");
  // A backslash is doubled in escaped text only (valid text is kept as is).
  EXPECT_EQ(to_utf8("a\\b\xff"), "a\\\\b\\xff");
  EXPECT_EQ(to_utf8("a\\b"), "a\\b");
  // Overlong forms, surrogates, code points above U+10FFFF, truncated and
  // stray continuation bytes are all ill-formed; the escaping gives the
  // exact bytes back, valid sequences next to them included.
  for (const std::string s : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80",
                              "\xf8\x88\x80\x80\x80", "caf\xc3\xa9 \\x41\\\\ \xe9", "\\xff\xff"}) {
    EXPECT_FALSE(is_utf8(s)) << s;
    const std::string t = to_utf8(s);
    EXPECT_TRUE(is_utf8(t)) << s;
    EXPECT_EQ(from_escaped_utf8(t), s) << t;
  }
  EXPECT_EQ(to_utf8("a\xe2\x82"), "a\\xe2\\x82");
}
