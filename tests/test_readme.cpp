// The README's example queries run: every ```sql block of README.md is run,
// statement by statement, against a database made by a real `vidsift run`
// (vtest.avi), and any SQL error fails the test.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

// The text of every ```sql ... ``` block of `markdown`.
std::vector<std::string> sql_blocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  std::istringstream in(markdown);
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line.rfind("```sql", 0) == 0) {
      inside = true;
      block.clear();
    } else if (inside && line.rfind("```", 0) == 0) {
      inside = false;
      blocks.push_back(block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  return blocks;
}

}  // namespace

TEST(Readme, ExampleQueriesRunWithoutError) {
  std::ifstream f(fs::path(VIDSIFT_SOURCE_DIR) / "README.md");
  ASSERT_TRUE(f) << "cannot read README.md";
  const std::string readme((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto blocks = sql_blocks(readme);
  ASSERT_GE(blocks.size(), 1u) << "README.md has no ```sql block";

  TempDir d("readme");
  const fs::path db = d / "r.db";
  const auto r = run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(video_path("vtest.avi").string()) +
                             " --db " + sh_quote(db.string()) + " --model " +
                             sh_quote(model_path("yolox_nano.onnx").string()) + " --every 5 --track --progress=false");
  ASSERT_EQ(r.status, 0) << r.output;
  // The wall-clock examples need the recording's start (vtest.avi has no
  // creation_time tag): as a camera's tag would give it.
  const auto u = run_command("sqlite3 " + sh_quote(db.string()) +
                             " \"UPDATE videos SET recorded_at='2026-11-25T22:14:03Z', "
                             "recorded_at_source='container'\"");
  ASSERT_EQ(u.status, 0) << u.output;

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> conn(raw, sqlite3_close);
  int statements = 0;
  int with_rows = 0;
  for (const auto& block : blocks) {
    const char* sql = block.c_str();
    while (sql && *sql) {
      sqlite3_stmt* st = nullptr;
      const char* tail = nullptr;
      const int rc = sqlite3_prepare_v2(raw, sql, -1, &st, &tail);
      std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(st, sqlite3_finalize);
      const std::string text(sql, tail ? static_cast<std::size_t>(tail - sql) : std::string(sql).size());
      ASSERT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(raw) << "\nin README query:\n" << text;
      sql = tail;
      if (!st) continue;  // only comments or spaces
      ++statements;
      int step, rows = 0;
      while ((step = sqlite3_step(st)) == SQLITE_ROW) ++rows;
      EXPECT_EQ(step, SQLITE_DONE) << sqlite3_errmsg(raw) << "\nin README query:\n" << text;
      with_rows += rows > 0 ? 1 : 0;
    }
  }
  EXPECT_GE(statements, 6);
  // Most examples find something in vtest.avi (the "what failed" one cannot).
  EXPECT_GE(with_rows, statements - 2);
}
