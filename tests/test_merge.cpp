// Tests for merge.h through `vidsift merge`, on real shard databases made by
// real sharded runs (yolox_nano, short clips cut from vtest.avi).
#include "vidsift/merge.h"

#include <unistd.h>
#include <fstream>

#include <gtest/gtest.h>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift;
using namespace vidsift::test;

namespace {

CommandResult cli(const std::string& args) { return run_command(sh_quote(vidsift_binary()) + " " + args + " 2>&1"); }

CommandResult sql(const fs::path& db, const std::string& statements) {
  return run_command("sqlite3 " + sh_quote(db.string()) + " " + sh_quote(statements) + " 2>&1");
}

std::string q(const fs::path& p) { return sh_quote(p.string()); }

// What a database holds, independent of ids: videos and their detections.
constexpr const char* kVideos =
    "SELECT path, status, frames_analysed, fingerprint, settings_key FROM videos ORDER BY path, status";
constexpr const char* kDetections =
    "SELECT v.path, d.frame_index, d.class_id, d.label, ROUND(d.confidence, 3), ROUND(d.x, 1), ROUND(d.y, 1), "
    "ROUND(d.w, 1), ROUND(d.h, 1) FROM detections d JOIN videos v ON v.id = d.video_id "
    "ORDER BY 1, 2, 3, 5, 6, 7";

// Shard databases made once for the whole suite.
class Merge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("merge");
    const fs::path clips = *dir_ / "archive";
    fs::create_directories(clips / "cam1");
    fs::create_directories(clips / "cam2");
    for (int i = 0; i < 6; ++i) {
      const fs::path clip = clips / (i % 2 ? "cam1" : "cam2") / ("clip" + std::to_string(i) + ".mp4");
      ASSERT_TRUE(make_clip(clip, "-ss " + std::to_string(i * 4) + " -i " + sh_quote(video_path("vtest.avi").string()) +
                                      " -frames:v 50 -c:v libx264 -pix_fmt yuv420p"));
    }
    const std::string common = " --every 25 --workers 1 --model " + q(model_path("yolox_nano.onnx"));
    auto r = cli("run " + q(clips) + " --db " + q(*dir_ / "single.db") + common);
    ASSERT_EQ(r.status, 0) << r.output;
    for (int i = 0; i < 2; ++i) {
      r = cli("run " + q(clips) + " --shard " + std::to_string(i) + "/2 --db " + q(*dir_ / "shard-{shard}.db") +
              common);
      ASSERT_EQ(r.status, 0) << r.output;
    }
    // The same two clips analysed again, later: their newest results.
    r = cli("run " + q(clips / "cam1") + " --db " + q(*dir_ / "later.db") + common);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path at(const std::string& name) { return *dir_ / name; }
  static fs::path fresh(const std::string& name) {
    const fs::path p = *dir_ / name;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p.string() + suffix);
    return p;
  }
  static fs::path copy_of(const std::string& from, const std::string& name) {
    const fs::path p = fresh(name);
    fs::copy_file(at(from), p);
    return p;
  }
  static TempDir* dir_;
};
TempDir* Merge::dir_ = nullptr;

TEST_F(Merge, ShardsMergeIntoWhatOneMachineWouldHaveWritten) {
  const fs::path all = fresh("all.db");
  ASSERT_GT(query_int(at("shard-0.db"), "SELECT COUNT(*) FROM videos"), 0);
  ASSERT_GT(query_int(at("shard-1.db"), "SELECT COUNT(*) FROM videos"), 0);
  ASSERT_GT(query_int(at("single.db"), "SELECT COUNT(*) FROM detections"), 0) << "the clips should show people";
  const auto r = cli("merge --db " + q(all) + " " + q(at("shard-0.db")) + " " + q(at("shard-1.db")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(query_db(all, kVideos), query_db(at("single.db"), kVideos));
  EXPECT_EQ(query_db(all, kDetections), query_db(at("single.db"), kDetections));
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM frames"), query_int(at("single.db"), "SELECT COUNT(*) FROM frames"));
  // Remapped ids: every detection and frame points at a video of its run.
  EXPECT_EQ(
      query_int(all, "SELECT COUNT(*) FROM detections d LEFT JOIN videos v ON v.id=d.video_id WHERE v.id IS NULL"), 0);
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM videos v LEFT JOIN runs r ON r.id=v.run_id WHERE r.id IS NULL"), 0);
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM timings t LEFT JOIN runs r ON r.id=t.run_id WHERE r.id IS NULL"), 0);
  // Provenance: shard, host and source file per video.
  EXPECT_EQ(query_int(all,
                      "SELECT COUNT(*) FROM video_provenance WHERE shard IN ('0/2','1/2') AND host <> '' AND "
                      "(merged_from LIKE '%shard-0.db' OR merged_from LIKE '%shard-1.db')"),
            6);
  EXPECT_EQ(query_int(all, "SELECT COUNT(DISTINCT shard) FROM video_provenance"), 2);
}

TEST_F(Merge, MergingTheSameShardAgainAddsNothing) {
  const fs::path all = fresh("twice.db");
  const std::string args = "merge --db " + q(all) + " " + q(at("shard-0.db")) + " " + q(at("shard-1.db"));
  ASSERT_EQ(cli(args).status, 0);
  const auto videos = query_db(all, "SELECT * FROM videos ORDER BY id");
  const auto runs = query_db(all, "SELECT * FROM runs ORDER BY id");
  const long long dets = query_int(all, "SELECT COUNT(*) FROM detections");
  const long long timings = query_int(all, "SELECT COUNT(*) FROM timings");
  const auto r = cli(args + " " + q(at("shard-0.db")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("0 run(s), 0 video(s), 0 detection(s)"), std::string::npos) << r.output;
  EXPECT_EQ(query_db(all, "SELECT * FROM videos ORDER BY id"), videos);
  EXPECT_EQ(query_db(all, "SELECT * FROM runs ORDER BY id"), runs);
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM detections"), dets);
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM timings"), timings);
  // A merged database merged into another one keeps its provenance.
  const fs::path again = fresh("again.db");
  ASSERT_EQ(cli("merge --db " + q(again) + " " + q(all) + " " + q(at("shard-1.db"))).status, 0);
  EXPECT_EQ(query_db(again, kDetections), query_db(all, kDetections));
  EXPECT_EQ(query_int(again, "SELECT COUNT(*) FROM video_provenance WHERE merged_from LIKE '%shard-_.db'"), 6);
}

TEST_F(Merge, TheNewestDoneResultWinsWhateverTheOrder) {
  const std::string shards = q(at("shard-0.db")) + " " + q(at("shard-1.db"));
  const fs::path a = fresh("newest-last.db");
  auto r = cli("merge --db " + q(a) + " " + shards + " " + q(at("later.db")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("replaced 3 older result(s)"), std::string::npos) << r.output;
  const fs::path b = fresh("newest-first.db");
  r = cli("merge --db " + q(b) + " " + q(at("later.db")) + " " + shards);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const fs::path& db : {a, b}) {
    EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos"), 6) << db;
    EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM (SELECT path FROM videos GROUP BY path HAVING COUNT(*) > 1)"), 0);
    EXPECT_EQ(query_int(db,
                        "SELECT COUNT(*) FROM video_provenance WHERE path LIKE '%/cam1/%' AND merged_from LIKE "
                        "'%later.db'"),
              3)
        << db;
    EXPECT_EQ(query_db(db, kDetections), query_db(at("single.db"), kDetections)) << db;
  }
}

TEST_F(Merge, BadInputsAreRefusedAndTheRestMerged) {
  const fs::path all = fresh("refuse.db");
  const fs::path foreign = fresh("foreign.db");
  ASSERT_EQ(sql(foreign, "CREATE TABLE notes(t TEXT); INSERT INTO notes VALUES('mine');").status, 0);
  const fs::path newer = copy_of("shard-1.db", "newer.db");
  ASSERT_EQ(sql(newer, "PRAGMA user_version=99").status, 0);
  const fs::path older = copy_of("shard-1.db", "older.db");
  ASSERT_EQ(sql(older, "PRAGMA user_version=4").status, 0);
  // A shard still being written: a running run of a live process here.
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const fs::path live = copy_of("shard-1.db", "live.db");
  ASSERT_EQ(sql(live, "UPDATE runs SET status='running', finished_at=NULL, pid=" + std::to_string(getpid()) +
                          ", host='" + host + "'")
                .status,
            0);
  const auto r = cli("merge --db " + q(all) + " " + q(foreign) + " " + q(at("shard-0.db")) + " " + q(live) + " " +
                     q(newer) + " " + q(older) + " " + q(at("nonexistent.db")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(
      r.output.find("refused " + foreign.string() + ": database " + foreign.string() + " is not a vidsift database"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("refused " + live.string() + ": run 1 is still running"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("refused " + newer.string() + ": database " + newer.string() + " was made by a newer"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("refused " + older.string() + ": it has schema version 4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nonexistent.db: no such file"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("5 input(s) NOT merged"), std::string::npos) << r.output;
  EXPECT_EQ(query_db(all, kVideos), query_db(at("shard-0.db"), kVideos));
  EXPECT_EQ(query_db(all, kDetections), query_db(at("shard-0.db"), kDetections));
  // Inputs are opened read-only: the foreign file is untouched.
  EXPECT_EQ(query_int(foreign, "SELECT COUNT(*) FROM sqlite_master"), 1);
  // Destination listed among its inputs (a glob like out/*.db).
  const auto self = cli("merge --db " + q(all) + " " + q(all));
  EXPECT_EQ(self.status, 1);
  EXPECT_NE(self.output.find("the destination database itself"), std::string::npos) << self.output;
  // The dead-process running run of a killed shard merges as interrupted.
  ASSERT_EQ(sql(live, "UPDATE runs SET pid=999999999").status, 0);
  const auto dead = cli("merge --db " + q(all) + " " + q(live));
  EXPECT_EQ(dead.status, 0) << dead.output;
  EXPECT_NE(dead.output.find("never finished"), std::string::npos) << dead.output;
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM runs WHERE status='running'"), 0);
  EXPECT_EQ(query_db(all, kVideos), query_db(at("single.db"), kVideos));
}

TEST_F(Merge, EachInputIsOneTransaction) {
  const fs::path all = fresh("txn.db");
  ASSERT_EQ(cli("merge --db " + q(all) + " " + q(at("shard-0.db"))).status, 0);
  const auto before_videos = query_db(all, "SELECT * FROM videos ORDER BY id");
  const long long before_runs = query_int(all, "SELECT COUNT(*) FROM runs");
  const long long before_dets = query_int(all, "SELECT COUNT(*) FROM detections");
  // An error after the runs and videos of shard-1 are in: nothing of it stays.
  ASSERT_EQ(
      sql(all, "CREATE TRIGGER boom BEFORE INSERT ON frames BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;").status,
      0);
  auto r = cli("merge --db " + q(all) + " " + q(at("shard-1.db")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("disk on fire"), std::string::npos) << r.output;
  EXPECT_EQ(query_db(all, "SELECT * FROM videos ORDER BY id"), before_videos);
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM runs"), before_runs);
  // A kill in the middle (a trigger that never ends holds the merge inside
  // its transaction): the database is as before.
  ASSERT_EQ(sql(all,
                "DROP TRIGGER boom; CREATE TRIGGER slow BEFORE INSERT ON detections BEGIN SELECT COUNT(*) FROM "
                "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000000) "
                "SELECT x FROM c); END;")
                .status,
            0);
  r = run_command("timeout -s KILL 3 " + sh_quote(vidsift_binary()) + " merge --db " + q(all) + " " +
                  q(at("shard-1.db")) + " 2>&1");
  EXPECT_EQ(r.status, 128 + 9) << r.output;
  EXPECT_EQ(query_db(all, "PRAGMA integrity_check"), (std::vector<std::vector<std::string>>{{"ok"}}));
  EXPECT_EQ(query_db(all, "SELECT * FROM videos ORDER BY id"), before_videos);
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM runs"), before_runs);
  EXPECT_EQ(query_int(all, "SELECT COUNT(*) FROM detections"), before_dets);
  // Without the trigger the same merge completes.
  ASSERT_EQ(sql(all, "DROP TRIGGER slow").status, 0);
  r = cli("merge --db " + q(all) + " " + q(at("shard-1.db")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(query_db(all, kDetections), query_db(at("single.db"), kDetections));
}

}  // namespace
