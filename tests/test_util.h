// test_util.h — helpers shared by the test files (not a unit under test).
//
//  * shared_dir(): the read-only models/videos directory (compile definition
//    VIDSIFT_SHARED_DIR, overridable with the environment variable of the same
//    name). model_path()/video_path() build paths inside it.
//  * TempDir: a fresh directory under the build tree, removed on destruction.
//  * run_command(cmd): runs a shell command, returns exit status and captured
//    stdout+stderr.
//  * make_clip(path, args): makes a synthetic clip with the ffmpeg CLI
//    (e.g. "-f lavfi -i testsrc2=size=320x240:rate=30 -frames:v 300 -g 30
//    -c:v libx264"); cached by path, so repeated calls are cheap.
//  * vidsift_binary(): path of the built CLI ($VIDSIFT_TEST_BINARY overrides it).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vidsift::test {

std::filesystem::path shared_dir();
std::filesystem::path model_path(const std::string& file);
std::filesystem::path video_path(const std::string& file);
std::string vidsift_binary();

struct CommandResult {
  int status = -1;     // exit status, or 128+signal
  std::string output;  // stdout and stderr interleaved
};
CommandResult run_command(const std::string& cmd);

// Quotes a string for /bin/sh.
std::string sh_quote(const std::string& s);

class TempDir {
 public:
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& p) const { return path_ / p; }

 private:
  std::filesystem::path path_;
};

// Generates `out` with `ffmpeg -y -loglevel error <args> out` unless it exists.
// Returns false (and the test should fail) when ffmpeg fails.
bool make_clip(const std::filesystem::path& out, const std::string& ffmpeg_args);

// Runs `sql` on the SQLite file `db` (read-only connection) and returns every
// row as text; NULL becomes "". Adds a test failure when the query fails.
std::vector<std::vector<std::string>> query_db(const std::filesystem::path& db, const std::string& sql);
// First column of the first row as a number, or -1 when there is none.
long long query_int(const std::filesystem::path& db, const std::string& sql);

// Directory for cached generated clips shared by tests (under the build tree).
std::filesystem::path clip_cache_dir();

}  // namespace vidsift::test
