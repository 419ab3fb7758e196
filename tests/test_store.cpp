// Tests of the SQLite store: schema, WAL, the `running` → `done` contract,
// replacement of old results, recovery after a killed run, errors.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "test_util.h"
#include "vidsift/store.h"
#include "vidsift/utf8.h"

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

// A plain SQLite connection, as another process (an older vidsift, a second
// writer) would have it.
class RawDb {
 public:
  explicit RawDb(const std::string& path, int busy_timeout_ms = 0) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) throw std::runtime_error("cannot open " + path);
    sqlite3_busy_timeout(raw, busy_timeout_ms);
  }
  // SQLite's result code of running `sql`.
  int exec(const std::string& sql) { return sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr); }
  std::string one(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return "error";
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(raw, &sqlite3_finalize);
    if (sqlite3_step(st.get()) != SQLITE_ROW) return "";
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
    return t ? t : "";
  }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Closer> db_;
};

// The schema exactly as vidsift 0.1.0 created it (src/store.cpp at ffb4897 and
// d964654): no runs.execution, no user_version.
constexpr const char* kSchema010 = R"SQL(
CREATE TABLE IF NOT EXISTS runs (
  id              INTEGER PRIMARY KEY,
  started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  finished_at     TEXT,
  status          TEXT NOT NULL DEFAULT 'running',
  pid             INTEGER,
  host            TEXT,
  tool_version    TEXT,
  opencv_version  TEXT,
  model_path      TEXT,
  model_sha256    TEXT,
  model_family    TEXT,
  input_size      TEXT,
  settings        TEXT,
  settings_key    TEXT,
  command         TEXT,
  wall_seconds    REAL,
  videos_done     INTEGER,
  videos_partial  INTEGER,
  videos_failed   INTEGER,
  videos_skipped  INTEGER,
  frames_analysed INTEGER,
  detections      INTEGER
);
CREATE TABLE IF NOT EXISTS videos (
  id              INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(id),
  path            TEXT NOT NULL,
  size            INTEGER,
  mtime           INTEGER,
  fingerprint     TEXT,
  settings_key    TEXT,
  codec           TEXT,
  width           INTEGER,
  height          INTEGER,
  fps             REAL,
  duration        REAL,
  frame_count     INTEGER,
  frames_analysed INTEGER,
  status          TEXT NOT NULL CHECK (status IN ('running','done','partial','failed')),
  error           TEXT,
  started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  finished_at     TEXT
);
CREATE INDEX IF NOT EXISTS videos_by_path ON videos(path, settings_key);
CREATE INDEX IF NOT EXISTS videos_by_status ON videos(status);
CREATE TABLE IF NOT EXISTS frames (
  video_id    INTEGER NOT NULL REFERENCES videos(id),
  frame_index INTEGER NOT NULL,
  ts          REAL NOT NULL,
  detections  INTEGER NOT NULL,
  PRIMARY KEY (video_id, frame_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS detections (
  id          INTEGER PRIMARY KEY,
  video_id    INTEGER NOT NULL REFERENCES videos(id),
  frame_index INTEGER NOT NULL,
  ts          REAL NOT NULL,
  class_id    INTEGER NOT NULL,
  label       TEXT NOT NULL,
  confidence  REAL NOT NULL,
  x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS detections_by_video ON detections(video_id, frame_index);
CREATE INDEX IF NOT EXISTS detections_by_label ON detections(label);
CREATE TABLE IF NOT EXISTS timings (
  run_id    INTEGER NOT NULL REFERENCES runs(id),
  video_id  INTEGER REFERENCES videos(id),
  stage     TEXT NOT NULL,
  frames    INTEGER NOT NULL,
  total_s   REAL NOT NULL,
  mean_ms   REAL NOT NULL,
  p50_ms    REAL NOT NULL,
  p95_ms    REAL NOT NULL,
  max_ms    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS timings_by_run ON timings(run_id, video_id);
CREATE VIEW IF NOT EXISTS finished_videos AS
  SELECT * FROM videos WHERE status IN ('done','partial');
CREATE VIEW IF NOT EXISTS per_video_label_counts AS
  SELECT v.id AS video_id, v.path AS path, d.label AS label,
         COUNT(*) AS detections,
         COUNT(DISTINCT d.frame_index) AS frames_with_label,
         v.frames_analysed AS frames_analysed,
         ROUND(CAST(COUNT(*) AS REAL) / MAX(v.frames_analysed, 1), 3) AS mean_per_frame,
         ROUND(MAX(d.confidence), 3) AS max_confidence
  FROM detections d JOIN videos v ON v.id = d.video_id
  WHERE v.status IN ('done','partial')
  GROUP BY v.id, d.label;
CREATE VIEW IF NOT EXISTS per_minute_label_counts AS
  SELECT v.id AS video_id, v.path AS path, CAST(d.ts / 60 AS INTEGER) AS minute, d.label AS label,
         COUNT(*) AS detections,
         COUNT(DISTINCT d.frame_index) AS frames_with_label,
         (SELECT COUNT(*) FROM frames f WHERE f.video_id = v.id
            AND CAST(f.ts / 60 AS INTEGER) = CAST(d.ts / 60 AS INTEGER)) AS frames_analysed,
         ROUND(CAST(COUNT(*) AS REAL) / MAX((SELECT COUNT(*) FROM frames f WHERE f.video_id = v.id
            AND CAST(f.ts / 60 AS INTEGER) = CAST(d.ts / 60 AS INTEGER)), 1), 3) AS mean_per_frame
  FROM detections d JOIN videos v ON v.id = d.video_id
  WHERE v.status IN ('done','partial')
  GROUP BY v.id, minute, d.label;
)SQL";

// A database as vidsift 0.1.0 left it: one finished run with one done video
// (two frames, three detections) and one failed video.
void make_010_database(const std::string& path) {
  RawDb db(path);
  ASSERT_EQ(db.exec("PRAGMA journal_mode=WAL"), SQLITE_OK);
  ASSERT_EQ(db.exec(std::string("BEGIN;") + kSchema010 + "COMMIT;"), SQLITE_OK);
  ASSERT_EQ(db.exec("INSERT INTO runs(id, status, pid, host, tool_version, settings_key) "
                    "VALUES(1, 'finished', 0, 'old-host', '0.1.0', 'key1');"
                    "INSERT INTO videos(id, run_id, path, fingerprint, settings_key, frames_analysed, status) "
                    "VALUES(1, 1, '/v/old.mp4', 'fp1', 'key1', 2, 'done');"
                    "INSERT INTO videos(id, run_id, path, fingerprint, settings_key, frames_analysed, status, error) "
                    "VALUES(2, 1, '/v/bad.mp4', 'fp1', 'key1', 0, 'failed', 'cannot open');"
                    "INSERT INTO frames VALUES(1, 0, 0.0, 2), (1, 25, 1.0, 1);"
                    "INSERT INTO detections(video_id, frame_index, ts, class_id, label, confidence, x, y, w, h) "
                    "VALUES(1, 0, 0.0, 0, 'person', 0.9, 1, 2, 3, 4), (1, 0, 0.0, 2, 'car', 0.8, 1, 2, 3, 4), "
                    "(1, 25, 1.0, 0, 'person', 0.7, 1, 2, 3, 4);"),
            SQLITE_OK);
  ASSERT_EQ(db.one("PRAGMA user_version"), "0");
}

// Every table and view with its columns (name, type, notnull, default, pk).
std::string schema_shape(Store& s) {
  std::string out;
  for (const auto& t : s.query("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")) {
    out += t[0] + " " + t[1] + ":";
    for (const auto& c :
         s.query("SELECT name, type, \"notnull\", COALESCE(dflt_value,''), pk FROM pragma_table_info(?)", {t[1]}))
      out += " " + c[0] + "/" + c[1] + "/" + c[2] + "/" + c[3] + "/" + c[4];
    out += "\n";
  }
  return out;
}

bool exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

}  // namespace

TEST(Store, CreatesSchemaInWalModeIdempotently) {
  TempDir d("store-schema");
  const auto db = (d / "a.db").string();
  { Store s(db); }
  Store s(db);  // reopening keeps the schema
  EXPECT_EQ(one(s, "PRAGMA journal_mode"), "wal");
  for (const char* t : {"runs", "videos", "frames", "detections", "timings", "per_video_label_counts",
                        "per_minute_label_counts", "finished_videos", "label_events"}) {
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

// One file with one settings key has one current row: a failure replaces an
// older failure (retries do not pile up), never a result; a done result
// replaces everything older. The latest final row decides the lookups.
TEST(Store, FailureReplacesOlderFailuresButNeverResults) {
  TempDir d("store-fail-replace");
  Store s((d / "a.db").string());
  const auto run = s.begin_run(run_record());
  for (int i = 0; i < 3; ++i) s.record_failed(run, video("/v/bad.mp4"), "key1", "cannot open video");
  const auto started = s.start_video(run, video("/v/bad.mp4"), "key1");
  s.finish_video(started, VideoResult{VideoStatus::Failed, "no frame could be decoded", 0, 0});
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos WHERE path='/v/bad.mp4'"), "1");
  EXPECT_EQ(one(s, "SELECT error FROM videos WHERE path='/v/bad.mp4'"), "no frame could be decoded");
  s.record_failed(run, video("/v/bad.mp4"), "key2", "cannot open video");  // other settings: kept apart
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos WHERE path='/v/bad.mp4'"), "2");

  const auto ok = s.start_video(run, video("/v/a.mp4"), "key1");
  s.add_frame(ok, 0, 0, dets(2));
  s.finish_video(ok, VideoResult{VideoStatus::Done, "", 1, 1});
  s.record_failed(run, video("/v/a.mp4"), "key1", "no such file or directory");
  EXPECT_EQ(one(s, "SELECT group_concat(status) FROM (SELECT status FROM videos WHERE path='/v/a.mp4' ORDER BY id)"),
            "done,failed");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections"), "2");
  // The latest attempt failed: not skipped as done, skipped as failed.
  EXPECT_FALSE(s.find_final("/v/a.mp4", "fp1", "key1", false));
  EXPECT_EQ(s.find_final("/v/a.mp4", "fp1", "key1", true), VideoStatus::Failed);
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

TEST(Store, RecoverStaleKeepsTheCommittedFramesOfDeadRunsAsInterrupted) {
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
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos"), "2");
  EXPECT_EQ(one(s, "SELECT status || ' ' || frames_analysed FROM videos WHERE path='/v/half.mp4'"), "interrupted 1");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections"), "3");
  EXPECT_EQ(one(s, "SELECT status FROM runs"), "interrupted");
  EXPECT_EQ(s.recover_stale(), 0);
  // Not a final result to skip, but a point to resume from.
  EXPECT_FALSE(s.find_final("/v/half.mp4", "fp1", "key1", true));
  const auto r = s.find_resume("/v/half.mp4", "fp1", "key1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->frames, 1);
  EXPECT_EQ(r->last_index, 0);
  EXPECT_FALSE(s.find_resume("/v/done.mp4", "fp1", "key1"));
}

TEST(Store, AnInterruptedVideoIsResumedInItsOwnRowOnce) {
  TempDir d("store-resume");
  Store s((d / "a.db").string());
  const auto run1 = s.begin_run(run_record());
  const auto vid = s.start_video(run1, video("/v/a.mp4"), "key1");
  s.add_frame(vid, 0, 0.0, dets(1));
  s.add_frame(vid, 3, 0.3, dets(2));
  s.finish_video(vid, VideoResult{VideoStatus::Interrupted, "the run was interrupted", 5, 2});
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM per_video_label_counts"), "0");  // the views show final results only
  const auto r = s.find_resume("/v/a.mp4", "fp1", "key1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->video_id, vid);
  EXPECT_EQ(r->frames, 2);
  EXPECT_EQ(r->frames_decoded, 5);
  EXPECT_EQ(r->last_index, 3);
  EXPECT_DOUBLE_EQ(r->last_ts, 0.3);
  EXPECT_FALSE(s.find_resume("/v/a.mp4", "other-fp", "key1"));
  EXPECT_FALSE(s.find_resume("/v/a.mp4", "fp1", "other-key"));
  const auto run2 = s.begin_run(run_record());
  EXPECT_TRUE(s.resume_video(run2, vid));
  EXPECT_FALSE(s.resume_video(run2, vid));  // already claimed
  EXPECT_EQ(one(s, "SELECT status || ' ' || run_id FROM videos"), "running " + std::to_string(run2));
  s.add_frame(vid, 6, 0.6, dets(1));
  s.finish_video(vid, VideoResult{VideoStatus::Done, "", 9, 3});
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos"), "1");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM frames"), "3");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections"), "4");
  EXPECT_FALSE(s.find_resume("/v/a.mp4", "fp1", "key1"));
  EXPECT_EQ(s.find_final("/v/a.mp4", "fp1", "key1", false), VideoStatus::Done);
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

// --- statuses ---------------------------------------------------------------

TEST(Store, StatusesAreStoredByNameAndReadBackAsTheEnum) {
  TempDir d("store-status");
  Store s((d / "a.db").string());
  const auto run = s.begin_run(run_record());
  const auto partial = s.start_video(run, video("/v/p.mp4"), "key1");
  s.add_frame(partial, 0, 0, dets(1));
  s.finish_video(partial, VideoResult{VideoStatus::Partial, "decode error", 10, 1});
  const auto failed = s.start_video(run, video("/v/f.mp4"), "key1");
  s.finish_video(failed, VideoResult{VideoStatus::Failed, "no frames", 0, 0});
  EXPECT_EQ(one(s, "SELECT group_concat(status, ',') FROM (SELECT status FROM videos ORDER BY id)"), "partial,failed");
  EXPECT_EQ(s.find_final("/v/p.mp4", "fp1", "key1", true), VideoStatus::Partial);
  EXPECT_FALSE(s.find_final("/v/p.mp4", "fp1", "key1", false));
  EXPECT_EQ(s.find_final("/v/f.mp4", "fp1", "key1", true), VideoStatus::Failed);
}

TEST(Store, FinishingWithANonFinalStatusIsRefused) {
  TempDir d("store-nonfinal");
  Store s((d / "a.db").string());
  const auto run = s.begin_run(run_record());
  const auto vid = s.start_video(run, video("/v/a.mp4"), "key1");
  s.add_frame(vid, 0, 0, dets(1));
  EXPECT_THROW(s.finish_video(vid, VideoResult{VideoStatus::Running, "", 1, 1}), std::invalid_argument);
  EXPECT_THROW(s.finish_video(vid, VideoResult{VideoStatus::Cancelled, "", 1, 1}), std::invalid_argument);
  s.commit();
  EXPECT_EQ(one(s, "SELECT status FROM videos"), "running");
  EXPECT_FALSE(s.find_final("/v/a.mp4", "fp1", "key1", true));
}

TEST(Store, StatusCheckAcceptsExactlyTheStoredNames) {
  TempDir d("store-check");
  Store s((d / "a.db").string());
  const auto run = s.begin_run(run_record());
  const auto vid = std::to_string(s.start_video(run, video("/v/a.mp4"), "key1"));
  for (VideoStatus v : {VideoStatus::Running, VideoStatus::Done, VideoStatus::Partial, VideoStatus::Failed,
                        VideoStatus::Interrupted, VideoStatus::Cancelled}) {
    const std::string name = status_name(v);
    const bool stored = parse_status(name).has_value();
    EXPECT_EQ(stored, v != VideoStatus::Cancelled) << name;
    if (stored) {
      EXPECT_NO_THROW(s.query("UPDATE videos SET status=? WHERE id=?", {name, vid})) << name;
      EXPECT_EQ(one(s, "SELECT status FROM videos"), name);
    } else {
      EXPECT_THROW(s.query("UPDATE videos SET status=? WHERE id=?", {name, vid}), StoreError) << name;
    }
  }
  EXPECT_THROW(s.query("UPDATE videos SET status='DONE'"), StoreError);
}

// --- schema versions ----------------------------------------------------------

TEST(Store, NewFileGetsTheLatestSchemaVersion) {
  TempDir d("store-new");
  Store s((d / "a.db").string());
  EXPECT_EQ(Store::schema_version(), 9);
  EXPECT_EQ(one(s, "PRAGMA application_id"), std::to_string(Store::application_id_value()));
  EXPECT_EQ(one(s, "PRAGMA user_version"), std::to_string(Store::schema_version()));
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name='execution'"), "1");
}

TEST(Store, UpgradesARelease010DatabaseInPlace) {
  TempDir d("store-migrate");
  const auto db = (d / "old.db").string();
  make_010_database(db);
  std::string fresh_shape;
  {
    Store fresh((d / "fresh.db").string());
    fresh_shape = schema_shape(fresh);
  }
  for (int open = 0; open < 2; ++open) {  // the second open finds nothing to do
    Store s(db);
    EXPECT_EQ(one(s, "PRAGMA user_version"), std::to_string(Store::schema_version())) << open;
    EXPECT_EQ(one(s, "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name='execution'"), "1") << open;
    EXPECT_EQ(schema_shape(s), fresh_shape) << open;
    // The old data is all there and the views read it.
    EXPECT_EQ(one(s, "SELECT COUNT(*) FROM runs"), std::to_string(1 + open));
    EXPECT_EQ(one(s, "SELECT tool_version FROM runs WHERE id=1"), "0.1.0");
    EXPECT_EQ(one(s, "SELECT COUNT(*) FROM frames"), "2");
    EXPECT_EQ(one(s, "SELECT detections FROM per_video_label_counts WHERE label='person'"), "2");
    EXPECT_EQ(one(s, "SELECT error FROM videos WHERE id=2"), "cannot open");
    EXPECT_EQ(s.find_final("/v/old.mp4", "fp1", "key1", false), VideoStatus::Done);
    EXPECT_EQ(s.find_final("/v/bad.mp4", "fp1", "key1", true), VideoStatus::Failed);
    EXPECT_EQ(one(s, "PRAGMA integrity_check"), "ok");
    // Schema 5: the rebuilt videos table takes the new status.
    EXPECT_NO_THROW(s.query("UPDATE videos SET status='interrupted' WHERE id=2; "));
    EXPECT_NO_THROW(s.query("UPDATE videos SET status='failed' WHERE id=2"));
    if (open == 0) {
      RunRecord r = run_record();
      r.execution = R"({"workers":2})";
      const auto id = s.begin_run(r);
      EXPECT_EQ(one(s, "SELECT json_extract(execution, '$.workers') FROM runs WHERE id=" + std::to_string(id)), "2");
    }
  }
}

TEST(Store, RecognisesAnUnversionedDatabaseThatAlreadyHasTheExecutionColumn) {
  // What the releases between 0.1.0 and schema versioning left: runs.execution
  // present (added by them), user_version 0.
  TempDir d("store-unversioned");
  const auto db = (d / "a.db").string();
  make_010_database(db);
  {
    RawDb raw(db);
    ASSERT_EQ(raw.exec("ALTER TABLE runs ADD COLUMN execution TEXT"), SQLITE_OK);
    ASSERT_EQ(raw.exec("UPDATE runs SET execution='{\"workers\":3}'"), SQLITE_OK);
  }
  Store s(db);
  EXPECT_EQ(one(s, "PRAGMA user_version"), std::to_string(Store::schema_version()));
  EXPECT_EQ(one(s, "SELECT json_extract(execution, '$.workers') FROM runs"), "3");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name='execution'"), "1");
}

// Schema 3 adds videos.rotation, mirrored, stream_index and warning: a
// version-2 file gains them (NULL in its old rows), and new rows fill them.
TEST(Store, UpgradesVersion2WithTheOrientationColumns) {
  TempDir d("store-v2");
  const auto db = (d / "a.db").string();
  make_010_database(db);
  {
    RawDb raw(db);
    ASSERT_EQ(raw.exec("ALTER TABLE runs ADD COLUMN execution TEXT"), SQLITE_OK);
    ASSERT_EQ(raw.exec("PRAGMA user_version=2"), SQLITE_OK);
  }
  Store s(db);
  EXPECT_EQ(one(s, "PRAGMA user_version"), std::to_string(Store::schema_version()));
  EXPECT_EQ(one(s,
                "SELECT COUNT(*) FROM pragma_table_info('videos') WHERE name IN "
                "('rotation','mirrored','stream_index','warning')"),
            "4");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos WHERE rotation IS NULL AND warning IS NULL"),
            one(s, "SELECT COUNT(*) FROM videos"));
  const auto run = s.begin_run(run_record());
  VideoRecord v;
  v.path = "/v/phone.mp4";
  v.codec = "h264";
  v.width = 1080;
  v.height = 1920;
  v.rotation = 90;
  v.mirrored = true;
  v.stream_index = 2;
  const auto id = s.start_video(run, v, "key1");
  s.finish_video(id, VideoResult{VideoStatus::Done, "", 1, 1}, "resolution changes mid-stream");
  const auto where = " FROM videos WHERE id=" + std::to_string(id);
  EXPECT_EQ(
      one(s, "SELECT width || 'x' || height || ' ' || rotation || ' ' || mirrored || ' ' || stream_index" + where),
      "1080x1920 90 1 2");
  EXPECT_EQ(one(s, "SELECT warning" + where), "resolution changes mid-stream");
  VideoRecord failed;
  failed.path = "/v/none.mp4";
  const auto fid = s.record_failed(run, failed, "key1", "cannot open");
  EXPECT_EQ(one(s, "SELECT COALESCE(rotation, 'null') || COALESCE(stream_index, 'null') FROM videos WHERE id=" +
                       std::to_string(fid)),
            "nullnull");
}

TEST(Store, RefusesADatabaseMadeByANewerVidsift) {
  TempDir d("store-newer");
  const auto db = (d / "a.db").string();
  { Store s(db); }
  {
    RawDb raw(db);
    ASSERT_EQ(raw.exec("PRAGMA user_version=" + std::to_string(Store::schema_version() + 1)), SQLITE_OK);
  }
  for (OpenMode mode : {OpenMode::ReadWrite, OpenMode::ReadOnly}) {
    try {
      Store s(db, 10000, mode);
      ADD_FAILURE() << "expected StoreError";
    } catch (const StoreError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("made by a newer vidsift"), std::string::npos) << msg;
      EXPECT_NE(msg.find("upgrade"), std::string::npos) << msg;
      EXPECT_NE(msg.find("a.db"), std::string::npos) << msg;
    }
  }
  RawDb raw(db);
  EXPECT_EQ(raw.one("PRAGMA user_version"), std::to_string(Store::schema_version() + 1));
}

TEST(Store, RefusesAnotherApplicationsDatabase) {
  TempDir d("store-foreign");
  const auto db = (d / "other.db").string();
  {
    RawDb raw(db);
    ASSERT_EQ(raw.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT)"), SQLITE_OK);
  }
  try {
    Store s(db);
    ADD_FAILURE() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("not a vidsift database"), std::string::npos) << e.what();
  }
  RawDb raw(db);
  EXPECT_EQ(raw.one("SELECT COUNT(*) FROM sqlite_master"), "1");  // nothing added
  EXPECT_EQ(raw.one("PRAGMA journal_mode"), "delete");            // nor switched to WAL
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Another application's SQLite file is recognised before anything is written:
// read-write and read-only opens refuse it and leave it byte-identical (no
// WAL switch, no tables, no view), whatever its user_version says.
TEST(Store, AnotherApplicationsFileIsRefusedAndLeftByteIdentical) {
  TempDir d("store-foreign-bytes");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"frames table", "CREATE TABLE frames(id INTEGER, data BLOB); INSERT INTO frames VALUES(1, x'00ff');"},
      {"frames table, user_version 1",
       "PRAGMA user_version=1; CREATE TABLE frames(id INTEGER); INSERT INTO frames VALUES(7);"},
      {"all of vidsift's table names, other columns",
       "PRAGMA user_version=2; CREATE TABLE runs(a); CREATE TABLE videos(a); CREATE TABLE frames(a); "
       "CREATE TABLE detections(a); CREATE TABLE timings(a);"},
      {"no tables, application_id", "PRAGMA application_id=1234;"},
      {"no tables, user_version", "PRAGMA user_version=5;"},
  };
  int n = 0;
  for (const auto& [what, sql] : cases) {
    const auto db = (d / ("other" + std::to_string(n++) + ".db")).string();
    {
      RawDb raw(db);
      ASSERT_EQ(raw.exec(sql), SQLITE_OK) << what;
    }
    const std::string before = file_bytes(db);
    ASSERT_FALSE(before.empty()) << what;
    for (OpenMode mode : {OpenMode::ReadWrite, OpenMode::ReadOnly}) {
      try {
        Store s(db, 10000, mode);
        ADD_FAILURE() << what << ": expected StoreError";
      } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("not a vidsift database"), std::string::npos) << what << ": " << e.what();
      }
      EXPECT_EQ(file_bytes(db), before) << what << " was changed";
      EXPECT_FALSE(fs::exists(db + "-wal")) << what;
    }
  }
}

// vidsift's own files carry its application_id; files from before it (0,
// with vidsift's tables) are still opened, upgraded and then carry it.
TEST(Store, OlderVidsiftFileWithoutApplicationIdIsUpgradedAndMarked) {
  TempDir d("store-appid");
  const auto db = (d / "a.db").string();
  {
    Store s(db);
    s.begin_run(run_record());
  }
  {
    RawDb raw(db);
    ASSERT_EQ(raw.one("PRAGMA application_id"), std::to_string(Store::application_id_value()));
    // As schema 3 left it: no application_id, no path_bytes.
    ASSERT_EQ(
        raw.exec(
            "PRAGMA application_id=0; PRAGMA user_version=3; DROP VIEW per_hour_track_counts; DROP VIEW tracks_at; "
            "DROP VIEW per_hour_label_counts; DROP VIEW detections_at; ALTER TABLE videos DROP COLUMN recorded_at; "
            "ALTER TABLE videos DROP COLUMN recorded_at_source; ALTER TABLE videos DROP COLUMN path_bytes; "
            "ALTER TABLE runs DROP COLUMN videos_interrupted; ALTER TABLE runs DROP COLUMN labels; "

            "DROP VIEW video_provenance; DROP INDEX runs_by_origin; ALTER TABLE runs DROP COLUMN shard; "
            "ALTER TABLE runs DROP COLUMN origin; ALTER TABLE runs DROP COLUMN merged_from; "
            "DROP VIEW per_video_track_counts; DROP VIEW track_dwell; DROP TABLE tracks; "
            "ALTER TABLE detections DROP COLUMN track_id"),
        SQLITE_OK);
  }
  Store s(db);
  EXPECT_EQ(one(s, "PRAGMA application_id"), std::to_string(Store::application_id_value()));
  EXPECT_EQ(one(s, "PRAGMA user_version"), std::to_string(Store::schema_version()));
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM runs"), "1");
}

// "", ":memory:" and mode=memory URIs would keep every result in memory only.
TEST(Store, InMemoryNamesAreRefused) {
  TempDir d("store-memory");
  for (const std::string& name : {std::string(), std::string(":memory:"), std::string("file::memory:"),
                                  "file:" + (d / "m.db").string() + "?mode=memory&cache=shared"}) {
    try {
      Store s(name);
      ADD_FAILURE() << "'" << name << "' was accepted";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("memory"), std::string::npos) << e.what();
    }
  }
}

// --- UTF-8 --------------------------------------------------------------------

// A file name with bytes that are not UTF-8 (Latin-1 here): `path` is valid
// UTF-8 text, path_bytes the exact bytes, and two names that differ only in
// those bytes stay apart (lookups and the replacement of older results).
TEST(Store, NonUtf8PathIsStoredAsTextAndExactBytes) {
  TempDir d("store-utf8");
  Store s((d / "a.db").string());
  const auto run = s.begin_run(run_record());
  const std::string e_acute = "/v/caf\xe9.mp4";
  const std::string e_grave = "/v/caf\xe8.mp4";
  for (const auto& p : {e_acute, e_grave}) {
    const auto id = s.start_video(run, video(p), "key1");
    s.add_frame(id, 0, 0.0, dets(1));
    s.finish_video(id, VideoResult{VideoStatus::Done, "", 1, 1});
  }
  s.record_failed(run, video("/v/bad\xff.mp4"), "key1", "cannot open /v/bad\xff.mp4");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos"), "3");  // the second did not replace the first
  EXPECT_EQ(one(s, "SELECT COUNT(DISTINCT path) FROM videos WHERE path LIKE '/v/caf%'"), "2");
  for (const auto& row : s.query("SELECT path, error FROM videos"))
    for (const auto& text : row) EXPECT_TRUE(vidsift::is_utf8(text)) << text;
  EXPECT_EQ(one(s, "SELECT path FROM videos WHERE id=1"), "/v/caf\\xe9.mp4");
  EXPECT_EQ(one(s, "SELECT error FROM videos WHERE id=3"), "cannot open /v/bad\\xff.mp4");
  EXPECT_EQ(one(s, "SELECT hex(path_bytes) FROM videos WHERE id=1"), "2F762F636166E92E6D7034");
  EXPECT_EQ(one(s, "SELECT hex(path_bytes) FROM videos WHERE id=2"), "2F762F636166E82E6D7034");
  EXPECT_EQ(s.find_final(e_acute, "fp1", "key1", false), VideoStatus::Done);
  EXPECT_EQ(s.find_final("/v/caf\xe0.mp4", "fp1", "key1", false), std::nullopt);
  // A rerun of one replaces only its own results.
  const auto again = s.start_video(run, video(e_acute), "key1");
  s.finish_video(again, VideoResult{VideoStatus::Done, "", 1, 1});
  EXPECT_EQ(one(s, "SELECT group_concat(id) FROM videos WHERE path LIKE '/v/caf%' ORDER BY id"), "2,4");
}

// Labels that are not UTF-8 (from model metadata) reach detections.label as
// valid UTF-8.
TEST(Store, NonUtf8LabelIsStoredAsValidUtf8) {
  TempDir d("store-utf8-label");
  Store s((d / "a.db").string());
  s.set_labels({"caf\xe9"});
  const auto run = s.begin_run(run_record());
  const auto id = s.start_video(run, video("/v/a.mp4"), "key1");
  s.add_frame(id, 0, 0.0, dets(1));
  s.finish_video(id, VideoResult{VideoStatus::Done, "", 1, 1});
  EXPECT_EQ(one(s, "SELECT label FROM detections"), "caf\\xe9");
}

// A database whose TEXT columns got raw bytes from an older vidsift is
// repaired by the migration to path_bytes, and its videos are still found.
TEST(Store, MigrationRepairsNonUtf8TextAndKeepsTheBytes) {
  TempDir d("store-utf8-migrate");
  const auto db = (d / "a.db").string();
  make_010_database(db);
  {
    RawDb raw(db);
    ASSERT_EQ(raw.exec("UPDATE videos SET path=CAST(x'2F762F636166E92E6D7034' AS TEXT), "
                       "error=CAST(x'626164E9' AS TEXT) WHERE id=1;"
                       "UPDATE detections SET label=CAST(x'636166E9' AS TEXT) WHERE label='car';"),
              SQLITE_OK);
  }
  Store s(db);
  EXPECT_EQ(one(s, "SELECT path FROM videos WHERE id=1"), "/v/caf\\xe9.mp4");
  EXPECT_EQ(one(s, "SELECT error FROM videos WHERE id=1"), "bad\\xe9");
  EXPECT_EQ(one(s, "SELECT hex(path_bytes) FROM videos WHERE id=1"), "2F762F636166E92E6D7034");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections WHERE label='caf\\xe9'"), "1");
  EXPECT_EQ(s.find_final("/v/caf\xe9.mp4", "fp1", "key1", false), VideoStatus::Done);
  EXPECT_EQ(s.find_final("/v/bad.mp4", "fp1", "key1", true), VideoStatus::Failed);
}

// Schemas 4-8 stored U+FFFD for the bad bytes of a name; the migration to
// schema 9 renders `path` again from path_bytes, reversibly, and adds the
// wall-clock columns (NULL) and views.
TEST(Store, MigrationRendersOldReplacementCharactersFromPathBytes) {
  TempDir d("store-utf8-escape");
  const auto db = (d / "a.db").string();
  {
    Store s(db);
    const auto run = s.begin_run(run_record());
    const auto id = s.start_video(run, video("/v/caf\xe9 \\.mp4"), "key1");
    s.add_frame(id, 0, 0.0, dets(1));
    s.finish_video(id, VideoResult{VideoStatus::Done, "", 1, 1});
  }
  {
    // Back to what schema 7 wrote.
    RawDb raw(db);
    ASSERT_EQ(raw.exec("DROP VIEW per_hour_track_counts; DROP VIEW tracks_at; DROP VIEW per_hour_label_counts; DROP "
                       "VIEW detections_at;"
                       "DROP VIEW per_video_track_counts; DROP VIEW track_dwell; DROP TABLE tracks; "
                       "ALTER TABLE detections DROP COLUMN track_id;"
                       "ALTER TABLE videos DROP COLUMN recorded_at; ALTER TABLE videos DROP COLUMN recorded_at_source;"
                       "UPDATE videos SET path='/v/caf\xEF\xBF\xBD \\.mp4'; PRAGMA user_version=7;"),
              SQLITE_OK);
  }
  Store s(db);
  EXPECT_EQ(one(s, "PRAGMA user_version"), std::to_string(Store::schema_version()));
  EXPECT_EQ(one(s, "SELECT path FROM videos"), "/v/caf\\xe9 \\\\.mp4");
  EXPECT_EQ(vidsift::from_escaped_utf8(one(s, "SELECT path FROM videos")), "/v/caf\xe9 \\.mp4");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos WHERE recorded_at IS NULL AND recorded_at_source IS NULL"), "1");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections_at WHERE at IS NULL"), "1");
  EXPECT_EQ(s.find_final("/v/caf\xe9 \\.mp4", "fp1", "key1", false), VideoStatus::Done);
}

// --- WAL ----------------------------------------------------------------------

// SQLite keeps the rollback journal when the VFS offers no shared memory:
// `PRAGMA journal_mode=WAL` then answers "delete" instead of failing. The
// unix-dotfile VFS and nolock=1 (unix-none locking), which are what one uses
// on file systems without POSIX locks, are such VFSes; a `file:` URI selects
// them, so this is the real failing path, not a test hook.
TEST(Store, RefusesAFileSystemWithoutWal) {
  TempDir d("store-nowal");
  for (const char* option : {"nolock=1", "vfs=unix-dotfile"}) {
    const auto db = d / (std::string(option).substr(0, 3) + ".db");
    try {
      Store s("file:" + db.string() + "?" + option);
      ADD_FAILURE() << option << ": expected StoreError";
    } catch (const StoreError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("WAL mode is not available on this file system"), std::string::npos) << msg;
      EXPECT_NE(msg.find("readers would block the writer"), std::string::npos) << msg;
      EXPECT_NE(msg.find("local disk"), std::string::npos) << msg;
    }
    // The same file on an ordinary VFS is fine.
    Store s(db.string());
    EXPECT_EQ(one(s, "PRAGMA journal_mode"), "wal");
  }
}

// --- the write lock is not held while idle --------------------------------------

TEST(Store, StartedVideoDoesNotHoldTheWriteLock) {
  TempDir d("store-idle-start");
  const auto db = (d / "a.db").string();
  Store s(db);
  const auto run = s.begin_run(run_record());
  s.start_video(run, video("/v/a.mp4"), "key1");
  // Another process writes while this store waits for its first frame.
  RawDb other(db, 50);
  EXPECT_EQ(other.exec("INSERT INTO runs(tool_version) VALUES('other')"), SQLITE_OK);
  EXPECT_EQ(other.one("SELECT status FROM videos"), "running");  // committed at once
}

TEST(Store, IdleBatchIsCommittedByCommitOrOnceDue) {
  TempDir d("store-idle-batch");
  const auto db = (d / "a.db").string();
  Store s(db);
  s.set_batching(1000, 0.3);
  const auto run = s.begin_run(run_record());
  const auto vid = s.start_video(run, video("/v/a.mp4"), "key1");
  RawDb other(db, 50);
  auto other_writes = [&] { return other.exec("INSERT INTO runs(tool_version) VALUES('other')"); };

  // A frame opens a batch: the lock is held until it is committed...
  s.add_frame(vid, 0, 0, dets(1));
  EXPECT_EQ(other_writes() & 0xff, SQLITE_BUSY);
  EXPECT_FALSE(s.commit_if_due());  // 1 row, just opened: not due yet
  EXPECT_EQ(other_writes() & 0xff, SQLITE_BUSY);
  // ... by commit_if_due() once the batch is old enough ...
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  EXPECT_TRUE(s.commit_if_due());
  EXPECT_EQ(other_writes(), SQLITE_OK);
  EXPECT_FALSE(s.commit_if_due());  // nothing open
  // ... or by commit() when the caller becomes idle.
  s.add_frame(vid, 1, 0.04, dets(1));
  EXPECT_EQ(other_writes() & 0xff, SQLITE_BUSY);
  s.commit();
  EXPECT_EQ(other_writes(), SQLITE_OK);
  EXPECT_EQ(other.one("SELECT COUNT(*) FROM frames"), "2");
  // A full batch commits by itself.
  s.set_batching(3, 100);
  s.add_frame(vid, 2, 0.08, dets(1));
  EXPECT_EQ(other_writes() & 0xff, SQLITE_BUSY);
  s.add_frame(vid, 3, 0.12, dets(0));  // 2 + 1 rows
  EXPECT_EQ(other_writes(), SQLITE_OK);
}

// --- read-only mode -------------------------------------------------------------

TEST(Store, ReadOnlyOpenOfAMissingFileThrowsAndCreatesNothing) {
  TempDir d("store-ro-missing");
  const auto db = d / "missing.db";
  try {
    Store s(db.string(), 10000, OpenMode::ReadOnly);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), "database " + db.string() + " does not exist");
  }
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) EXPECT_FALSE(exists(db.string() + suffix)) << suffix;
  EXPECT_TRUE(fs::is_empty(d.path()));
  // Through a URI too (SQLite's own check).
  EXPECT_THROW(Store("file:" + db.string(), 10000, OpenMode::ReadOnly), StoreError);
  EXPECT_TRUE(fs::is_empty(d.path()));
}

TEST(Store, ReadOnlyStoreReadsAReadOnlyFileAndRefusesEveryWrite) {
  TempDir d("store-ro");
  const auto db = (d / "a.db").string();
  std::int64_t run = 0;
  std::int64_t vid = 0;
  {
    Store w(db);
    w.set_labels({"person"});
    run = w.begin_run(run_record());
    vid = w.start_video(run, video("/v/a.mp4"), "key1");
    w.add_frame(vid, 0, 0, dets(2));
    w.finish_video(vid, VideoResult{VideoStatus::Done, "", 1, 1});
    w.finish_run(run, RunSummary{});
  }
  ASSERT_EQ(::chmod(db.c_str(), 0444), 0);
  struct stat before {};
  ASSERT_EQ(::stat(db.c_str(), &before), 0);

  Store s(db, 10000, OpenMode::ReadOnly);
  EXPECT_EQ(s.mode(), OpenMode::ReadOnly);
  EXPECT_EQ(one(s, "SELECT detections FROM per_video_label_counts WHERE label='person'"), "2");
  EXPECT_EQ(s.find_final("/v/a.mp4", "fp1", "key1", false), VideoStatus::Done);

  EXPECT_THROW(s.begin_run(run_record()), StoreError);
  EXPECT_THROW(s.finish_run(run, RunSummary{}), StoreError);
  EXPECT_THROW(s.recover_stale(), StoreError);
  EXPECT_THROW(s.start_video(run, video("/v/b.mp4"), "key1"), StoreError);
  EXPECT_THROW(s.add_frame(vid, 1, 0.1, dets(1)), StoreError);
  EXPECT_THROW(s.finish_video(vid, VideoResult{VideoStatus::Done, "", 1, 1}), StoreError);
  EXPECT_THROW(s.discard_video(vid), StoreError);
  EXPECT_THROW(s.record_failed(run, video("/v/c.mp4"), "key1", "x"), StoreError);
  EXPECT_THROW(s.write_timings(run, std::nullopt, StageTimings{}), StoreError);
  try {
    s.query("DELETE FROM detections");  // SQLite itself refuses (even for root)
    ADD_FAILURE() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("readonly"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(s.commit());  // nothing to commit
  EXPECT_FALSE(s.commit_if_due());
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM detections"), "2");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos"), "1");
  struct stat after {};
  ASSERT_EQ(::stat(db.c_str(), &after), 0);
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST(Store, ReadOnlyStoreLeavesAnOldSchemaAlone) {
  TempDir d("store-ro-old");
  const auto db = (d / "old.db").string();
  make_010_database(db);
  Store s(db, 10000, OpenMode::ReadOnly);
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM videos"), "2");
  EXPECT_EQ(one(s, "PRAGMA user_version"), "0");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name='execution'"), "0");
}

// --- messages -----------------------------------------------------------------

TEST(Store, LockMessageShowsTheTimeoutAsPeopleWriteIt) {
  TempDir d("store-msg");
  const auto db = (d / "a.db").string();
  { Store s(db); }
  RawDb holder(db);
  ASSERT_EQ(holder.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  for (const auto& [ms, text] : {std::pair{250, "waited 0.25 s:"}, std::pair{1000, "waited 1 s:"}}) {
    try {
      Store s(db, ms);
      s.begin_run(run_record());
      ADD_FAILURE() << "expected StoreError";
    } catch (const StoreError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(text), std::string::npos) << msg;
      EXPECT_EQ(msg.find("0.250000"), std::string::npos) << msg;
      EXPECT_EQ(msg.find("1.000000"), std::string::npos) << msg;
      EXPECT_NE(msg.find("--db-timeout"), std::string::npos) << msg;
    }
  }
  holder.exec("ROLLBACK");
}

// --- views (schema 6) ------------------------------------------------------------

namespace {

// One file analysed under two settings keys (two runs, two models); in key1
// persons in minutes 0 and 2 only, minute 1 analysed with nothing in it.
void fill_two_settings(Store& s) {
  s.set_labels({"person", "car"});
  RunRecord r1 = run_record();
  r1.model_path = "yolox_nano.onnx";
  const auto run1 = s.begin_run(r1);
  const auto v1 = s.start_video(run1, video("/v/a.mp4"), "key1");
  s.add_frame(v1, 0, 0.0, dets(2));       // minute 0: 2 persons
  s.add_frame(v1, 750, 30.0, {});         // minute 0: nothing
  s.add_frame(v1, 1500, 60.0, {});        // minute 1: nothing
  s.add_frame(v1, 2250, 90.0, {});        // minute 1: nothing
  s.add_frame(v1, 3000, 120.0, dets(1));  // minute 2: 1 person
  s.finish_video(v1, VideoResult{VideoStatus::Done, "", 3001, 5});
  RunRecord r2 = run_record();
  r2.model_path = "yolov8n.onnx";
  r2.settings_key = "key2";
  const auto run2 = s.begin_run(r2);
  const auto v2 = s.start_video(run2, video("/v/a.mp4"), "key2");
  s.add_frame(v2, 0, 0.0, dets(1));
  s.finish_video(v2, VideoResult{VideoStatus::Done, "", 3001, 1});
}

}  // namespace

TEST(Store, PerVideoViewTellsTwoSettingsOfOneFileApart) {
  TempDir d("store-views-key");
  Store s((d / "a.db").string());
  fill_two_settings(s);
  auto rows = s.query(
      "SELECT path, settings_key, model, detections FROM per_video_label_counts WHERE label='person' "
      "ORDER BY settings_key");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"/v/a.mp4", "key1", "yolox_nano.onnx", "3"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"/v/a.mp4", "key2", "yolov8n.onnx", "1"}));
  EXPECT_EQ(one(s, "SELECT COUNT(DISTINCT run_id) FROM per_video_label_counts"), "2");
  EXPECT_EQ(one(s, "SELECT COUNT(DISTINCT settings_key) FROM per_minute_label_counts"), "2");
}

TEST(Store, PerMinuteViewHasAnalysedMinutesWithoutDetectionsAsZero) {
  TempDir d("store-views-minute");
  Store s((d / "a.db").string());
  fill_two_settings(s);
  auto rows = s.query(
      "SELECT minute, detections, frames_with_label, frames_analysed, mean_per_frame FROM per_minute_label_counts "
      "WHERE settings_key='key1' AND label='person' ORDER BY minute");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"0", "2", "1", "2", "1.0"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "0", "0", "2", "0.0"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "1", "1", "1", "1.0"}));
  // Only labels seen in the video get rows: no car anywhere, so no car rows.
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM per_minute_label_counts WHERE label='car'"), "0");
  // Minutes that were not analysed (none of key2's after minute 0) do not appear.
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM per_minute_label_counts WHERE settings_key='key2'"), "1");
}

TEST(Store, RunRecordsTheModelsLabelList) {
  TempDir d("store-labels");
  Store s((d / "a.db").string());
  fill_two_settings(s);
  EXPECT_EQ(one(s, "SELECT labels FROM runs ORDER BY id LIMIT 1"), "[\"person\",\"car\"]");
}

TEST(Store, UpgradedDatabaseGetsTheNewViews) {
  TempDir d("store-views-upgrade");
  const auto db = (d / "old.db").string();
  make_010_database(db);
  {
    RawDb raw(db);
    // Minute 1 analysed, nothing found.
    ASSERT_EQ(raw.exec("INSERT INTO frames VALUES(1, 1500, 61.0, 0)"), SQLITE_OK);
    ASSERT_EQ(raw.exec("UPDATE videos SET frames_analysed=3 WHERE id=1"), SQLITE_OK);
  }
  Store s(db);
  EXPECT_EQ(one(s, "SELECT settings_key FROM per_video_label_counts WHERE label='person'"), "key1");
  EXPECT_EQ(one(s,
                "SELECT detections || '/' || frames_analysed FROM per_minute_label_counts WHERE label='person' "
                "AND minute=1"),
            "0/1");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM per_minute_label_counts"), "4");  // 2 minutes x {person, car}
  EXPECT_EQ(one(s, "SELECT frames || ':' || max_count FROM label_events WHERE label='person'"), "2:1");
  EXPECT_EQ(one(s, "SELECT COUNT(*) FROM runs WHERE labels IS NULL"), "1");  // older runs: unknown
}
