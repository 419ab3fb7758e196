// Database faults with real `vidsift run` processes: a database locked by
// another writer, a read-only file system, a full disk, and readers that query
// throughout a run (they never block the writer and never see half a video).
// `vidsift report` only reads: it never creates a database and works on one it
// cannot write.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sys/stat.h>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "test_util.h"
#include "vidsift/store.h"

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
  EXPECT_EQ(query_int(db,
                      "SELECT COUNT(*) FROM videos v WHERE status='done' AND frames_analysed <> "
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

TEST(DbFaults, ReportOnAMissingDatabaseFailsAndCreatesNothing) {
  TempDir d("db-report-missing");
  const fs::path db = d / "missing.db";
  auto r = run_vidsift("report --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("database " + db.string() + " does not exist"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_empty(d.path())) << "report created " << fs::directory_iterator(d.path())->path();
}

// The report of a database the user may read but not write (mode 0444). As
// root every file is writable, so the CLI then runs as `nobody` (setpriv) on
// a copy of itself in a world-writable directory, as in test_hostile.
TEST(DbFaults, ReportReadsADatabaseItCannotWrite) {
  std::string prefix;
  if (geteuid() == 0) {
    ASSERT_EQ(run_command("command -v setpriv").status, 0) << "setpriv (util-linux) is needed";
    prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  std::string tmpl = (fs::temp_directory_path() / "vidsift-report-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  const fs::path db = dir / "r.db";
  {
    vidsift::Store s(db.string());
    s.set_labels({"person"});
    const auto run = s.begin_run({});
    vidsift::VideoRecord v;
    v.path = "/v/a.mp4";
    const auto vid = s.start_video(run, v, "k");
    s.add_frame(
        vid, 0, 0,
        {vidsift::Detection{0, 0.9f, vidsift::Box{1, 2, 3, 4}}, vidsift::Detection{0, 0.8f, vidsift::Box{1, 2, 3, 4}}});
    s.finish_video(vid, vidsift::VideoResult{vidsift::VideoStatus::Done, "", 1, 1});
    s.finish_run(run, {});
  }
  fs::copy_file(vidsift_binary(), dir / "vidsift");
  fs::permissions(dir, fs::perms::all);
  fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  struct stat before {};
  ASSERT_EQ(::stat(db.c_str(), &before), 0);

  const auto r = run_command(prefix + sh_quote((dir / "vidsift").string()) + " report --db " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("top labels: person 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 video(s): 1 done"), std::string::npos) << r.output;
  struct stat after {};
  ASSERT_EQ(::stat(db.c_str(), &after), 0);
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM detections"), 2);
}
