#include "test_util.h"

#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace fs = std::filesystem;

namespace vidsift::test {

fs::path shared_dir() {
  if (const char* env = std::getenv("VIDSIFT_SHARED_DIR"); env && *env) return env;
  return VIDSIFT_SHARED_DIR;
}
fs::path model_path(const std::string& file) { return shared_dir() / "models" / file; }
fs::path video_path(const std::string& file) { return shared_dir() / "videos" / file; }
std::string vidsift_binary() {
  // VIDSIFT_TEST_BINARY runs the CLI tests against another build (e.g. the
  // previous release, to see a new test fail there).
  if (const char* env = std::getenv("VIDSIFT_TEST_BINARY"); env && *env) return env;
  return VIDSIFT_BINARY;
}

std::string sh_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'') {
      o += "'\\''";
    } else {
      o += c;
    }
  }
  return o + "'";
}

CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int st = pclose(p);
  if (WIFEXITED(st)) {
    r.status = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    r.status = 128 + WTERMSIG(st);
  }
  return r;
}

TempDir::TempDir(const std::string& name) {
  std::random_device rd;
  const fs::path base = fs::path(VIDSIFT_TEST_TMP);
  fs::create_directories(base);
  path_ = base / (name + "-" + std::to_string(getpid()) + "-" + std::to_string(rd() % 100000));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  // Restore permissions a test may have removed, then delete.
  for (auto it = fs::recursive_directory_iterator(path_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, e2);
  }
  fs::remove_all(path_, ec);
}

fs::path clip_cache_dir() {
  fs::path d = fs::path(VIDSIFT_TEST_TMP) / "clips";
  fs::create_directories(d);
  return d;
}

bool make_clip(const fs::path& out, const std::string& ffmpeg_args) {
  std::error_code ec;
  if (fs::exists(out, ec) && fs::file_size(out, ec) > 0) return true;
  fs::create_directories(out.parent_path(), ec);
  const fs::path tmp = out.string() + ".tmp" + std::to_string(getpid()) + out.extension().string();
  const auto r = run_command("ffmpeg -nostdin -y -loglevel error " + ffmpeg_args + " " + sh_quote(tmp.string()));
  if (r.status != 0) {
    std::fprintf(stderr, "ffmpeg failed (%d): %s\n", r.status, r.output.c_str());
    fs::remove(tmp, ec);
    return false;
  }
  fs::rename(tmp, out, ec);
  return !ec;
}

std::vector<std::vector<std::string>> query_db(const fs::path& db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db << ": " << (raw ? sqlite3_errmsg(raw) : "?");
    sqlite3_close(raw);
    return rows;
  }
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "bad query " << sql << ": " << sqlite3_errmsg(raw);
    sqlite3_close(raw);
    return rows;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
      row.emplace_back(t ? t : "");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) ADD_FAILURE() << "query failed: " << sql << ": " << sqlite3_errmsg(raw);
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return rows;
}

long long query_int(const fs::path& db, const std::string& sql) {
  auto rows = query_db(db, sql);
  if (rows.empty() || rows[0].empty() || rows[0][0].empty()) return -1;
  return std::stoll(rows[0][0]);
}

}  // namespace vidsift::test
