// Tests of the SQLite store: schema, WAL, the `running` → `done` contract,
// replacement of old results, recovery after a killed run, errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "test_util.h"
#include "vidsift/store.h"

namespace fs = std::filesystem;
using namespace vidsift;
using vidsift::test::TempDir;

namespace {

RunRecord run_record() {
  RunRecord r;
  r.tool_version = "test";
  r.model_path = "m.onnx";
  r.settings = "{}";
  r.settings_key = "key1";
  return r;
}

VideoRecord video(const std::string& path, const std::string& fp = "fp1") {
  VideoRecord v;
  v.path = path;
  v.size = 100;
  v.mtime = 5;
  v.fingerprint = fp;
  v.codec = "h264";
  v.width = 640;
  v.height = 480;
  v.fps = 25;
  v.duration = 10;
  return v;
}

std::vector<Detection> dets(int n) {
  std::vector<Detection> d;
  for (int i = 0; i < n; ++i) d.push_back(Detection{0, 0.5f + 0.01f * static_cast<float>(i), Box{1, 2, 3, 4}});
  return d;
}

std::string one(Store& s, const std::string& sql) {
  auto rows = s.query(sql);
  return rows.empty() || rows[0].empty() ? "" : rows[0][0];
}

}  // namespace

TEST(Store, CreatesSchemaInWalModeIdempotently) {
  TempDir d("store-schema");
  const auto db = (d / "a.db").string();
  { Store s(db); }
  Store s(db);  // reopening keeps the schema
  EXPECT_EQ(one(s, "PRAGMA journal_mode"), "wal");
  for (const char* t : {"runs", "videos", "frames", "detections", "timings", "per_video_label_counts",
                        "per_minute_label_counts", "finished_videos"}) {
    EXPECT_EQ(one(s, std::string("SELECT COUNT(*) FROM sqlite_master WHERE name='") + t + "'"), "1") << t;
  }
}

TEST(Store, VideoIsInvisibleUntilDoneAndDoneWithItsLastRows) {
  TempDir d("store-done");
  const auto db = (d / "a.db").string();
  Store s(db);
  s.set_labels({"person"});
  const auto run = s.begin_run(run_record());
  const auto vid = s.start_video(run, video("/v/a.mp4"), "key1");
  s.add_frame(vid, 0, 0.0, dets(2));
  s.add_frame(vid, 10, 0.4, dets(1));
  s.commit();
  Store reader(db);  // a second connection sees committed data only
  EXPECT_EQ(one(reader, "SELECT status FROM videos"), "running");
  EXPECT_EQ(one(reader, "SELECT COUNT(*) FROM per_video_label_counts"), "0");
  s.add_frame(vid, 20, 0.8, dets(3));
  s.finish_video(vid, VideoResult{VideoStatus::Done, "", 30, 3});
  EXPECT_EQ(one(reader, "SELECT status FROM videos"), "done");
  EXPECT_EQ(one(reader, "SELECT detections FROM per_video_label_counts WHERE label='person'"), "6");
  EXPECT_EQ(one(reader, "SELECT COUNT(*) FROM frames"), "3");
  EXPECT_EQ(one(reader, "SELECT frames_analysed FROM per_minute_label_counts"), "3");
  EXPECT_EQ(s.find_final("/v/a.mp4", "fp1", "key1", false), VideoStatus::Done);
  EXPECT_FALSE(s.find_final("/v/a.mp4", "fp2", "key1", false));
  EXPECT_FALSE(s.find_final("/v/a.mp4", "fp1", "key2", false));
}

TEST(Store, FinishingReplacesOlderResultsForSamePathAndSettings) {
  TempDir d("store-replace");
  Store s((d / "a.db").string());
  const auto run = s.begin_run(run_record());
  const auto v1 = s.start_video(run, video("/v/a.mp4", "old"), "key1");
  s.add_frame(v1, 0, 0, dets(4));
  s.finish_video(v1, VideoResult{VideoStatus::Done, "", 1, 1});
  const auto other = s.start_video(run, video("/v/a.mp4", "old"), "key2");  // other settings: kept
  s.finish_video(other, VideoResult{VideoStatus::Done, "", 1, 0});
  const auto v2 = s.start_video(run, video("/v/a.mp4", "new"), "key1");
  s.add_frame(v2, 0, 0, dets(1));
  // Until v2 finishes, the old result is what readers see.
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections WHERE video_id=" + std::to_string(v1)), "4");
  s.finish_video(v2, VideoResult{VideoStatus::Done, "", 1, 1});
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos WHERE settings_key='key1'"), "1");
  EXPECT_EQ(one(s, "SELECT fingerprint FROM videos WHERE settings_key='key1'"), "new");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections"), "1");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos WHERE settings_key='key2'"), "1");
}

TEST(Store, FailedRowsAndFailedLookups) {
  TempDir d("store-failed");
  Store s((d / "a.db").string());
  const auto run = s.begin_run(run_record());
  s.record_failed(run, video("/v/bad.mp4"), "key1", "cannot open video: Invalid data");
  EXPECT_EQ(one(s, "SELECT status || ':' || error FROM videos"), "failed:cannot open video: Invalid data");
  EXPECT_FALSE(s.find_final("/v/bad.mp4", "fp1", "key1", false));
  EXPECT_EQ(s.find_final("/v/bad.mp4", "fp1", "key1", true), VideoStatus::Failed);
}

TEST(Store, RecoverStaleRollsBackVideosOfDeadRuns) {
  TempDir d("store-stale");
  const auto db = (d / "a.db").string();
  {
    Store s(db);
    const auto run = s.begin_run(run_record());
    const auto done = s.start_video(run, video("/v/done.mp4"), "key1");
    s.add_frame(done, 0, 0, dets(1));
    s.finish_video(done, VideoResult{VideoStatus::Done, "", 1, 1});
    const auto vid = s.start_video(run, video("/v/half.mp4"), "key1");
    s.add_frame(vid, 0, 0, dets(2));
    s.commit();
    // Pretend the process that wrote it died (pid 0 is never a live process).
    s.query("UPDATE runs SET pid=0");
  }
  Store s(db);
  EXPECT_EQ(s.recover_stale(), 1);
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos"), "1");
  EXPECT_EQ(one(s, "SELECT path FROM videos"), "/v/done.mp4");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections"), "1");
  EXPECT_EQ(one(s, "SELECT status FROM runs"), "interrupted");
  EXPECT_EQ(s.recover_stale(), 0);
}

TEST(Store, LiveRunIsNotRecovered) {
  TempDir d("store-live");
  const auto db = (d / "a.db").string();
  Store writer(db);
  const auto run = writer.begin_run(run_record());  // our own pid: alive
  writer.start_video(run, video("/v/a.mp4"), "key1");
  writer.commit();
  Store other(db);
  EXPECT_EQ(other.recover_stale(), 0);
  EXPECT_EQ(one(other, "SELECT status FROM videos"), "running");
}

TEST(Store, TimingsRows) {
  TempDir d("store-timings");
  Store s((d / "a.db").string());
  const auto run = s.begin_run(run_record());
  StageTimings t;
  for (int i = 1; i <= 100; ++i) t[Stage::Infer].add(i * 1e-3);
  s.write_timings(run, std::nullopt, t);
  s.commit();
  auto rows = s.query("SELECT frames, total_s, max_ms FROM timings WHERE stage='infer'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "100");
  EXPECT_NEAR(std::stod(rows[0][1]), 5.05, 1e-9);
  EXPECT_NEAR(std::stod(rows[0][2]), 100.0, 1e-6);
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM timings"), "5");
}

TEST(Store, UnopenableDatabasesThrowWithThePath) {
  TempDir d("store-errors");
  fs::create_directories(d / "dir.db");
  try {
    Store s((d / "dir.db").string());
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("dir.db"), std::string::npos) << e.what();
  }
  {
    std::ofstream junk(d / "junk.db");
    junk << std::string(8192, 'x');
  }
  EXPECT_THROW(Store((d / "junk.db").string()), StoreError);
  EXPECT_THROW(Store((d / "no" / "such" / "dir" / "a.db").string()), StoreError);
}

TEST(Store, RecordsTheExecutionPlanAndUpgradesOlderDatabases) {
  TempDir d("store-migrate");
  const auto db = (d / "old.db").string();
  {
    // A runs table as vidsift 0.1 made it: no `execution` column.
    Store s(db);
    s.query("ALTER TABLE runs DROP COLUMN execution");
    EXPECT_EQ(one(s, "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name='execution'"), "0");
  }
  Store s(db);
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name='execution'"), "1");
  RunRecord r = run_record();
  r.execution = R"({"workers":2})";
  const auto id = s.begin_run(r);
  EXPECT_EQ(one(s, "SELECT json_extract(execution, '$.workers') FROM runs WHERE id=" + std::to_string(id)), "2");
}
