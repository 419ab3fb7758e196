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

TEST(Utf8, IllFormedBytesAreFoundAndReplacedOneByOne) {
  EXPECT_EQ(invalid_utf8_at("caf\xe9.mp4"), 3u);
  EXPECT_EQ(to_utf8("caf\xe9.mp4"), "caf\xef\xbf\xbd.mp4");
  EXPECT_EQ(to_utf8("\xff\xfe"), "\xef\xbf\xbd\xef\xbf\xbd");
  // Overlong forms, surrogates, code points above U+10FFFF, truncated and
  // stray continuation bytes are all ill-formed.
  for (const std::string s :
       {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80", "\xf8\x88\x80\x80\x80"}) {
    EXPECT_FALSE(is_utf8(s)) << s;
    EXPECT_TRUE(is_utf8(to_utf8(s))) << s;
  }
  EXPECT_EQ(to_utf8("a\xe2\x82"), "a\xef\xbf\xbd\xef\xbf\xbd");
}
