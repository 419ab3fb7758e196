// Tests of read_small_file: bounded, regular files only.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <fstream>
#include <string>

#include "test_util.h"
#include "vidsift/small_file.h"

using namespace vidsift;
using vidsift::test::TempDir;

TEST(SmallFile, ReadsARegularFile) {
  TempDir d("small-file");
  std::ofstream(d / "a.txt") << "person\ncar\n";
  EXPECT_EQ(read_small_file(d / "a.txt", 100, "labels file"), "person\ncar\n");
}

// /dev/zero never ends: it must be refused at once, not read up to the bound.
TEST(SmallFile, RefusesDevicesFifosAndDirectories) {
  TempDir d("small-file-kinds");
  ASSERT_EQ(mkfifo((d / "fifo").c_str(), 0600), 0);
  for (const auto& p : {std::filesystem::path("/dev/zero"), d / "fifo", d.path()}) {
    try {
      read_small_file(p, 100, "config file");
      ADD_FAILURE() << p << " was read";
    } catch (const SmallFileError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("config file " + p.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find("not a regular file"), std::string::npos) << msg;
    }
  }
}

TEST(SmallFile, RefusesAFileOverTheBound) {
  TempDir d("small-file-big");
  std::ofstream(d / "big.txt") << std::string(101, 'x');
  try {
    read_small_file(d / "big.txt", 100, "labels file");
    ADD_FAILURE() << "a 101-byte file was read with a bound of 100";
  } catch (const SmallFileError& e) {
    EXPECT_NE(std::string(e.what()).find("too large"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_small_file(d / "missing.txt", 100, "labels file"), SmallFileError);
}
