#include "vidsift/sha256.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

namespace vidsift {
namespace {

namespace fs = std::filesystem;

// A file in the temp directory that is removed when the object goes away.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ =
        fs::temp_directory_path() / ("vidsift_sha256_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (!out) throw std::runtime_error("cannot write " + path_.string());
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

constexpr const char* kEmptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Sha256, NistEmpty) { EXPECT_EQ(sha256_hex(""), kEmptyDigest); }

TEST(Sha256, NistAbc) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Nist448Bit) {
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, NistMillionAInUnevenChunks) {
  const std::string a(1000000, 'a');
  Sha256 h;
  std::size_t pos = 0;
  // Chunk sizes cycle through values that straddle the 64-byte block size.
  const std::size_t sizes[] = {1, 63, 64, 65, 7, 128, 1000, 3, 4096, 55};
  for (std::size_t i = 0; pos < a.size(); ++i) {
    const std::size_t n = std::min(sizes[i % std::size(sizes)], a.size() - pos);
    h.update(a.data() + pos, n);
    pos += n;
  }
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, SplitDoesNotMatter) {
  const std::string data = random_bytes(1000, 7);
  const std::string whole = sha256_hex(data);
  for (std::size_t cut = 0; cut <= data.size(); cut += 37) {
    Sha256 h;
    h.update(data.data(), cut);
    h.update(nullptr, 0);
    h.update(data.data() + cut, data.size() - cut);
    EXPECT_EQ(h.hex_digest(), whole) << "cut at " << cut;
  }
}

TEST(Sha256, DigestIsLowercaseHexAndIdempotent) {
  Sha256 h;
  h.update("abc", 3);
  const std::string first = h.hex_digest();
  ASSERT_EQ(first.size(), 64u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(h.hex_digest(), first);
}

TEST(Sha256, UpdateAfterDigestThrows) {
  Sha256 h;
  h.update("abc", 3);
  (void)h.hex_digest();
  EXPECT_THROW(h.update("d", 1), std::logic_error);
}

TEST(Sha256, CopyDigestsPrefix) {
  Sha256 h;
  h.update("ab", 2);
  Sha256 prefix = h;
  Sha256 assigned;
  assigned.update("unrelated", 9);
  assigned = h;
  h.update("c", 1);
  EXPECT_EQ(prefix.hex_digest(), sha256_hex("ab"));
  EXPECT_EQ(assigned.hex_digest(), sha256_hex("ab"));
  EXPECT_EQ(h.hex_digest(), sha256_hex("abc"));
  // A copy of a finalised object is finalised too.
  Sha256 done_copy = h;
  EXPECT_EQ(done_copy.hex_digest(), sha256_hex("abc"));
  EXPECT_THROW(done_copy.update("d", 1), std::logic_error);
}

TEST(Sha256File, MatchesInMemoryAcrossChunks) {
  // 2.5 MiB + 17 bytes: two full 1 MiB reads and a partial one.
  const std::string data = random_bytes((5u << 19) + 17, 42);
  TempFile file(data);
  EXPECT_EQ(sha256_file(file.path()), sha256_hex(data));
}

TEST(Sha256File, EmptyFile) {
  TempFile file("");
  EXPECT_EQ(sha256_file(file.path()), kEmptyDigest);
}

TEST(Sha256File, MissingFileThrowsWithPath) {
  const fs::path missing = fs::temp_directory_path() / "vidsift_sha256_definitely_missing.bin";
  try {
    (void)sha256_file(missing);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg, "cannot read " + missing.string() + ": No such file or directory");
  }
}

TEST(Sha256File, DirectoryThrows) {
  try {
    (void)sha256_file(fs::temp_directory_path());
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(fs::temp_directory_path().string()), std::string::npos);
  }
}

}  // namespace
}  // namespace vidsift
