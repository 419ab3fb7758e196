// Database faults with real `vidsift run` processes: a database locked by
// another writer, a read-only file system, a full disk, and readers that query
// throughout a run (they never block the writer and never see half a video).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

std::string vtest() { return sh_quote(video_path("vtest.avi").string()); }

CommandResult run_vidsift(const std::string& args) {
  return run_command(sh_quote(vidsift_binary()) + " " + args + " --progress=false");
}

// A small tmpfs mounted for the test's lifetime (needs root; skipped otherwise).
class SmallFs {
 public:
  SmallFs(const fs::path& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir_);
    ok_ = run_command("mount -t tmpfs -o size=" + size + " tmpfs " + sh_quote(dir_.string())).status == 0;
  }
  ~SmallFs() {
    if (ok_) run_command("umount -l " + sh_quote(dir_.string()));
  }
  SmallFs(const SmallFs&) = delete;
  SmallFs& operator=(const SmallFs&) = delete;
  bool ok() const { return ok_; }

 private:
  fs::path dir_;
  bool ok_ = false;
};

}  // namespace

TEST(DbFaults, LockedByAnotherWriterWaitsThenFailsClearly) {
  TempDir d("db-locked");
  const fs::path db = d / "locked.db";
  ASSERT_EQ(run_vidsift("run " + sh_quote((d / "none.mp4").string()) + " --db " + sh_quote(db.string())).status, 1);

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_vidsift("run " + vtest() + " --every 50 --db " + sh_quote(db.string()) + " --db-timeout 1.5");
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("locked"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--db-timeout"), std::string::npos) << r.output;
  EXPECT_GE(waited, 1.4);

  // Once the lock is gone the same command works.
  r = run_vidsift("run " + vtest() + " --every 50 --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(DbFaults, ReadOnlyFileSystemExitsThreeAndKeepsTheDatabase) {
  TempDir d("db-ro");
  SmallFs small(d / "mnt", "4m");
  if (!small.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const fs::path db = d / "mnt" / "ro.db";
  ASSERT_EQ(run_vidsift("run " + vtest() + " --every 100 --db " + sh_quote(db.string())).status, 0);
  const long long before = query_int(db, "SELECT COUNT(*) FROM detections");
  ASSERT_EQ(run_command("mount -o remount,ro " + sh_quote((d / "mnt").string())).status, 0);
  auto r = run_vidsift("run " + vtest() + " --every 50 --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("read-only"), std::string::npos) << r.output;
  EXPECT_EQ(query_db(db, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM detections"), before);
}

TEST(DbFaults, FullDiskExitsThreeWithoutCorruption) {
  TempDir d("db-full");
  SmallFs small(d / "mnt", "400k");
  if (!small.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const fs::path db = d / "mnt" / "full.db";
  auto r = run_vidsift("run " + vtest() + " --every 2 --conf 0.05 --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("full"), std::string::npos) << r.output;
  EXPECT_EQ(query_db(db, "PRAGMA integrity_check")[0][0], "ok");
  // Nothing claims to be done unless it is complete.
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos v WHERE status='done' AND frames_analysed <> "
                          "(SELECT COUNT(*) FROM frames WHERE video_id=v.id)"),
            0);
}

TEST(DbFaults, ReadersDuringARunNeverSeeHalfAVideo) {
  TempDir d("db-readers");
  const fs::path dir = d / "in";
  fs::create_directories(dir);
  for (int i = 0; i < 3; ++i) {
    const fs::path p = clip_cache_dir() / ("readers_" + std::to_string(i) + ".avi");
    ASSERT_TRUE(make_clip(p, "-ss " + std::to_string(i * 20) + " -t 6 -i " + vtest() + " -c:v mpeg4 -q:v 4"));
    fs::copy_file(p, dir / p.filename());
  }
  const fs::path db = d / "r.db";
  ASSERT_EQ(run_vidsift("run " + vtest() + " --every 100 --db " + sh_quote(db.string())).status, 0);  // schema exists

  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    sqlite3* c = nullptr;
    sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr);
    while (!stop) {
      sqlite3_stmt* st = nullptr;
      // A finished video's frame count must always match what it claims.
      if (sqlite3_prepare_v2(c,
                             "SELECT COUNT(*) FROM finished_videos v WHERE frames_analysed <> (SELECT COUNT(*) FROM "
                             "frames WHERE video_id=v.id) OR (SELECT COUNT(*) FROM per_video_label_counts p WHERE "
                             "p.video_id=v.id) = 0",
                             -1, &st, nullptr) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
          if (sqlite3_column_int(st, 0) != 0) ++bad;
          ++reads;
        }
      }
      sqlite3_finalize(st);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    sqlite3_close(c);
  });
  auto r = run_vidsift("run " + sh_quote(dir.string()) + " --db " + sh_quote(db.string()) + " --every 2");
  stop = true;
  reader.join();
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_GT(reads.load(), 20);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos WHERE status='done'"), 4);
}
