#include "vidsift/store.h"

#include <sqlite3.h>
#include <unistd.h>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vidsift/events.h"
#include "vidsift/format.h"
#include "vidsift/labels.h"
#include "vidsift/utf8.h"

namespace vidsift {

namespace {

// The latest schema, given as is to a new file. Databases made by older
// versions reach it through kMigrations; tests/test_store.cpp checks that a
// migrated 0.1.0 database ends up with exactly these tables and columns.
constexpr const char* kSchema = R"SQL(
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
  detections      INTEGER,
  execution       TEXT,
  videos_interrupted INTEGER,
  labels          TEXT,
  shard           TEXT,
  origin          TEXT,
  merged_from     TEXT
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
  frame_count     INTEGER,  -- frames decoded, not frames in the video (fewer with --keyframes, --start, --end)
  frames_analysed INTEGER,
  status          TEXT NOT NULL CHECK (status IN ('running','done','partial','failed','interrupted')),
  error           TEXT,
  started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  finished_at     TEXT,
  rotation        INTEGER,
  mirrored        INTEGER,
  stream_index    INTEGER,
  warning         TEXT,
  path_bytes      BLOB,
  recorded_at     TEXT,   -- UTC ISO-8601 start of the recording, NULL if unknown
  recorded_at_source TEXT -- 'container' (creation_time tag), 'name' (--time-from-name) or NULL
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
  x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
  track_id    INTEGER
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
CREATE INDEX IF NOT EXISTS runs_by_origin ON runs(origin);
CREATE TABLE IF NOT EXISTS tracks (
  video_id    INTEGER NOT NULL REFERENCES videos(id),
  track_id    INTEGER NOT NULL,
  label       TEXT NOT NULL,
  class_id    INTEGER NOT NULL,
  first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
  first_ts    REAL NOT NULL,    last_ts    REAL NOT NULL,
  frames      INTEGER NOT NULL,
  mean_conf   REAL NOT NULL, max_conf REAL NOT NULL,
  best_frame  INTEGER NOT NULL, best_ts REAL NOT NULL,
  best_x REAL NOT NULL, best_y REAL NOT NULL, best_w REAL NOT NULL, best_h REAL NOT NULL,
  PRIMARY KEY (video_id, track_id)
);
CREATE VIEW IF NOT EXISTS video_provenance AS
  SELECT v.id AS video_id, v.path AS path, v.status AS status, r.id AS run_id, r.shard AS shard,
         r.host AS host, r.merged_from AS merged_from
  FROM videos v JOIN runs r ON r.id = v.run_id;
CREATE VIEW IF NOT EXISTS finished_videos AS
  SELECT * FROM videos WHERE status IN ('done','partial');
)SQL";

// The views that summarise current results, dropped and recreated whole by
// every migration that changes one of them (and created for a new file).
// They read `finished_videos`, the one place that says which rows are
// current. Each row names its video row (video_id, path, settings_key,
// run_id): one file analysed under two settings gives rows that differ there.
constexpr const char* kLabelCountViews = R"SQL(
DROP VIEW IF EXISTS per_video_label_counts;
DROP VIEW IF EXISTS per_minute_label_counts;
CREATE VIEW per_video_label_counts AS
  SELECT v.id AS video_id, v.path AS path, v.settings_key AS settings_key, v.run_id AS run_id,
         r.model_path AS model, d.label AS label,
         COUNT(*) AS detections,
         COUNT(DISTINCT d.frame_index) AS frames_with_label,
         v.frames_analysed AS frames_analysed,
         ROUND(CAST(COUNT(*) AS REAL) / MAX(v.frames_analysed, 1), 3) AS mean_per_frame,
         ROUND(MAX(d.confidence), 3) AS max_confidence
  FROM detections d JOIN finished_videos v ON v.id = d.video_id LEFT JOIN runs r ON r.id = v.run_id
  GROUP BY v.id, d.label;
-- Every analysed minute (a minute with at least one row in `frames`) of a
-- video, for every label detected anywhere in that video: a minute without
-- that label has detections 0.
CREATE VIEW per_minute_label_counts AS
  WITH minutes AS (
    SELECT f.video_id AS video_id, CAST(f.ts / 60 AS INTEGER) AS minute, COUNT(*) AS frames_analysed
    FROM frames f JOIN finished_videos v ON v.id = f.video_id
    GROUP BY f.video_id, minute),
  counts AS (
    SELECT d.video_id AS video_id, CAST(d.ts / 60 AS INTEGER) AS minute, d.label AS label,
           COUNT(*) AS detections, COUNT(DISTINCT d.frame_index) AS frames_with_label
    FROM detections d JOIN finished_videos v ON v.id = d.video_id
    GROUP BY d.video_id, minute, d.label),
  labels AS (SELECT DISTINCT video_id, label FROM counts)
  SELECT v.id AS video_id, v.path AS path, v.settings_key AS settings_key, v.run_id AS run_id,
         m.minute AS minute, l.label AS label,
         COALESCE(c.detections, 0) AS detections,
         COALESCE(c.frames_with_label, 0) AS frames_with_label,
         m.frames_analysed AS frames_analysed,
         ROUND(CAST(COALESCE(c.detections, 0) AS REAL) / m.frames_analysed, 3) AS mean_per_frame
  FROM minutes m JOIN labels l ON l.video_id = m.video_id JOIN videos v ON v.id = m.video_id
  LEFT JOIN counts c ON c.video_id = m.video_id AND c.minute = m.minute AND c.label = l.label;
)SQL";

// The track views (--track): unique objects per label per video (all
// tracks, and those seen in at least three analysed frames: a track of one
// or two frames is most often a false or duplicate detection) and the dwell
// time of every track.
constexpr const char* kTrackViews = R"SQL(
DROP VIEW IF EXISTS per_video_track_counts;
DROP VIEW IF EXISTS track_dwell;
CREATE VIEW per_video_track_counts AS
  SELECT v.id AS video_id, v.path AS path, v.settings_key AS settings_key, v.run_id AS run_id,
         t.label AS label,
         COUNT(*) AS tracks,
         SUM(t.frames >= 3) AS unique_objects,
         ROUND(AVG(CASE WHEN t.frames >= 3 THEN t.last_ts - t.first_ts END), 3) AS mean_dwell_s,
         ROUND(MAX(t.last_ts - t.first_ts), 3) AS max_dwell_s
  FROM tracks t JOIN finished_videos v ON v.id = t.video_id
  GROUP BY v.id, t.label;
CREATE VIEW track_dwell AS
  SELECT v.id AS video_id, v.path AS path, v.settings_key AS settings_key, v.run_id AS run_id,
         t.track_id AS track_id, t.label AS label, t.first_ts AS first_ts, t.last_ts AS last_ts,
         ROUND(t.last_ts - t.first_ts, 3) AS dwell_s, t.frames AS frames,
         ROUND(t.mean_conf, 3) AS mean_conf, t.best_frame AS best_frame
  FROM tracks t JOIN finished_videos v ON v.id = t.video_id;
)SQL";

// The directory part of the path column `p` (a camera's folder): "/a/b" for
// "/a/b/c.mp4", "/" for "/c.mp4", "." for "c.mp4".
std::string folder_sql(const std::string& p) {
  const std::string dir = "rtrim(rtrim(" + p + ", replace(" + p + ", '/', '')), '/')";
  return "(CASE WHEN instr(" + p + ", '/') = 0 THEN '.' WHEN " + dir + " = '' THEN '/' ELSE " + dir + " END)";
}

// The wall-clock time `seconds` (an SQL expression, seconds into the video)
// after the video's start `recorded_at`: ISO-8601 UTC with milliseconds
// ("2026-11-25T22:14:04.485Z", so the text sorts in time order); NULL when
// recorded_at is NULL.
std::string wall_clock_sql(const std::string& recorded_at, const std::string& seconds) {
  return "strftime('%Y-%m-%dT%H:%M:%fZ', " + recorded_at + ", printf('%+.3f seconds', " + seconds + "))";
}

// Wall-clock views. A tracks view follows the same pattern (tracks_at from
// tracks JOIN finished_videos with wall_clock_sql("v.recorded_at",
// "t.first_ts") etc., then a per-hour count over tracks_at).
std::string wall_clock_views_sql() {
  return "DROP VIEW IF EXISTS per_hour_label_counts;\n"
         "DROP VIEW IF EXISTS detections_at;\n"
         // Every current detection with its wall-clock time `at` (NULL when
         // the video's start is unknown) and its camera folder.
         "CREATE VIEW detections_at AS\n"
         "  SELECT d.id AS detection_id, v.id AS video_id, v.path AS path, " +
         folder_sql("v.path") +
         " AS folder, v.settings_key AS settings_key, v.run_id AS run_id, v.recorded_at AS recorded_at, "
         "d.frame_index AS frame_index, d.ts AS ts, " +
         wall_clock_sql("v.recorded_at", "d.ts") +
         " AS at, d.class_id AS class_id, d.label AS label, d.confidence AS confidence, "
         "d.x AS x, d.y AS y, d.w AS w, d.h AS h\n"
         "  FROM detections d JOIN finished_videos v ON v.id = d.video_id;\n"
         // Per camera folder, settings key, wall-clock hour (UTC, its start
         // as "2026-11-25T22:00:00Z") and label: detections, the frames
         // with that label and the videos they are in. Only videos whose
         // start is known.
         "CREATE VIEW per_hour_label_counts AS\n"
         "  SELECT folder, settings_key, substr(at, 1, 13) || ':00:00Z' AS hour, label, COUNT(*) AS detections,\n"
         "         COUNT(DISTINCT video_id || '/' || frame_index) AS frames_with_label,\n"
         "         COUNT(DISTINCT video_id) AS videos\n"
         "  FROM detections_at WHERE at IS NOT NULL GROUP BY folder, settings_key, hour, label;\n"
         // Every track (--track) with its wall-clock span: first_at, last_at
         // (NULL when the video's start is unknown) and dwell time.
         "DROP VIEW IF EXISTS per_hour_track_counts;\n"
         "DROP VIEW IF EXISTS tracks_at;\n"
         "CREATE VIEW tracks_at AS\n"
         "  SELECT v.id AS video_id, v.path AS path, " +
         folder_sql("v.path") +
         " AS folder, v.settings_key AS settings_key, v.run_id AS run_id, v.recorded_at AS recorded_at, "
         "t.track_id AS track_id, t.label AS label, t.first_ts AS first_ts, t.last_ts AS last_ts, " +
         wall_clock_sql("v.recorded_at", "t.first_ts") + " AS first_at, " +
         wall_clock_sql("v.recorded_at", "t.last_ts") +
         " AS last_at, ROUND(t.last_ts - t.first_ts, 3) AS dwell_s, t.frames AS frames, "
         "t.mean_conf AS mean_conf, t.best_frame AS best_frame\n"
         "  FROM tracks t JOIN finished_videos v ON v.id = t.video_id;\n"
         // Unique objects per camera folder, wall-clock hour (UTC, of the
         // track's first sighting) and label: tracks, and those seen in at
         // least 3 analysed frames (as per_video_track_counts).
         "CREATE VIEW per_hour_track_counts AS\n"
         "  SELECT folder, settings_key, substr(first_at, 1, 13) || ':00:00Z' AS hour, label, COUNT(*) AS tracks,\n"
         "         SUM(frames >= 3) AS unique_objects, COUNT(DISTINCT video_id) AS videos\n"
         "  FROM tracks_at WHERE first_at IS NOT NULL GROUP BY folder, settings_key, hour, label;\n";
}

// Every view but finished_videos (see kLabelCountViews), as one script.
std::string views_sql() {
  return std::string(kLabelCountViews) + label_events_view_sql() + kTrackViews + wall_clock_views_sql();
}

// Schema versions (PRAGMA user_version):
//  1  vidsift 0.1.0 (its files say user_version 0; probe_version() knows them);
//  2  runs.execution;
//  3  videos.rotation, mirrored, stream_index, warning (display matrix,
//     chosen stream, mid-stream resolution change).
//  4  videos.path_bytes (the exact bytes of the path; `path` is made valid
//     UTF-8, see repair_text()). Also the first version to set
//     PRAGMA application_id.
//  5  videos.status may be 'interrupted' (a resumable prefix; the table is
//     rebuilt, since SQLite cannot change a CHECK in place);
//     runs.videos_interrupted.
//  6  runs.labels (the model's label list, JSON); the views name their
//     video row (settings_key, run_id, model), per_minute_label_counts has
//     the analysed minutes without detections, new view label_events.
//     Views are recreated from views_sql() after a migration to
//     kViewsVersion or earlier.
//  7  runs.shard ("I/N" of a --shard run), runs.origin (host|pid|started_at
//     of the run a merged run came from), runs.merged_from (the shard
//     database it was merged from), the runs_by_origin index and the
//     video_provenance view (vidsift merge).
//  8  detections.track_id and the tracks table (--track), the views
//     per_video_track_counts and track_dwell.
//  9  videos.recorded_at, recorded_at_source (wall-clock start of the
//     recording); views detections_at and per_hour_label_counts; videos.path
//     of a name that is not UTF-8 is re-rendered from path_bytes with
//     reversible escapes (to_utf8) instead of U+FFFD.
// Each migration upgrades `version - 1` to `version`; append, never edit.
struct Migration {
  int version;
  const char* sql;
};
constexpr int kPathBytesVersion = 4;
constexpr int kViewsVersion = 9;  // the last migration that changed the views
constexpr int kEscapedPathsVersion = 9;
constexpr Migration kMigrations[] = {
    {2, "ALTER TABLE runs ADD COLUMN execution TEXT;"},
    {3,
     "ALTER TABLE videos ADD COLUMN rotation INTEGER; ALTER TABLE videos ADD COLUMN mirrored INTEGER; "
     "ALTER TABLE videos ADD COLUMN stream_index INTEGER; ALTER TABLE videos ADD COLUMN warning TEXT;"},
    {kPathBytesVersion,
     "ALTER TABLE videos ADD COLUMN path_bytes BLOB; UPDATE videos SET path_bytes = CAST(path AS BLOB);"},
    // legacy_alter_table: the views name `videos`; renaming the new table
    // onto that name must not make SQLite re-check them mid-way.
    {5, R"SQL(
PRAGMA legacy_alter_table=ON;
CREATE TABLE videos_v5 (
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
  status          TEXT NOT NULL CHECK (status IN ('running','done','partial','failed','interrupted')),
  error           TEXT,
  started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  finished_at     TEXT,
  rotation        INTEGER,
  mirrored        INTEGER,
  stream_index    INTEGER,
  warning         TEXT,
  path_bytes      BLOB
);
INSERT INTO videos_v5(id, run_id, path, size, mtime, fingerprint, settings_key, codec, width, height, fps,
  duration, frame_count, frames_analysed, status, error, started_at, finished_at, rotation, mirrored,
  stream_index, warning, path_bytes)
  SELECT id, run_id, path, size, mtime, fingerprint, settings_key, codec, width, height, fps,
  duration, frame_count, frames_analysed, status, error, started_at, finished_at, rotation, mirrored,
  stream_index, warning, path_bytes FROM videos;
DROP TABLE videos;
ALTER TABLE videos_v5 RENAME TO videos;
CREATE INDEX IF NOT EXISTS videos_by_path ON videos(path, settings_key);
CREATE INDEX IF NOT EXISTS videos_by_status ON videos(status);
ALTER TABLE runs ADD COLUMN videos_interrupted INTEGER;
PRAGMA legacy_alter_table=OFF;
)SQL"},
    {6, "ALTER TABLE runs ADD COLUMN labels TEXT;"},
    {7,
     "ALTER TABLE runs ADD COLUMN shard TEXT; ALTER TABLE runs ADD COLUMN origin TEXT; "
     "ALTER TABLE runs ADD COLUMN merged_from TEXT; CREATE INDEX runs_by_origin ON runs(origin); "
     "CREATE VIEW video_provenance AS SELECT v.id AS video_id, v.path AS path, v.status AS status, "
     "r.id AS run_id, r.shard AS shard, r.host AS host, r.merged_from AS merged_from "
     "FROM videos v JOIN runs r ON r.id = v.run_id;"},
    {8, R"SQL(
ALTER TABLE detections ADD COLUMN track_id INTEGER;
CREATE TABLE tracks (
  video_id    INTEGER NOT NULL REFERENCES videos(id),
  track_id    INTEGER NOT NULL,
  label       TEXT NOT NULL,
  class_id    INTEGER NOT NULL,
  first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
  first_ts    REAL NOT NULL,    last_ts    REAL NOT NULL,
  frames      INTEGER NOT NULL,
  mean_conf   REAL NOT NULL, max_conf REAL NOT NULL,
  best_frame  INTEGER NOT NULL, best_ts REAL NOT NULL,
  best_x REAL NOT NULL, best_y REAL NOT NULL, best_w REAL NOT NULL, best_h REAL NOT NULL,
  PRIMARY KEY (video_id, track_id)
);
)SQL"},
    {kEscapedPathsVersion,
     "ALTER TABLE videos ADD COLUMN recorded_at TEXT; ALTER TABLE videos ADD COLUMN recorded_at_source TEXT;"},
};
constexpr int kSchemaVersion = 9;
// PRAGMA application_id of a vidsift database: "vsft" in ASCII. Files made
// before schema version 4 say 0 and are recognised by their tables.
constexpr int kApplicationId = 0x76736674;
static_assert(kMigrations[std::size(kMigrations) - 1].version == kSchemaVersion,
              "kSchemaVersion must be the version of the last migration");

// True when `schema` has a status CHECK listing exactly the stored status
// names (those parse_status() accepts), in enum order.
constexpr bool check_lists_stored_statuses(std::string_view schema) {
  constexpr std::string_view head = "CHECK (status IN (";
  const auto at = schema.find(head);
  if (at == std::string_view::npos) return false;
  std::string_view list = schema.substr(at + head.size());
  const auto end = list.find("))");
  if (end == std::string_view::npos) return false;
  list = list.substr(0, end);
  bool first = true;
  for (VideoStatus s : {VideoStatus::Running, VideoStatus::Done, VideoStatus::Partial, VideoStatus::Failed,
                        VideoStatus::Interrupted, VideoStatus::Cancelled}) {
    const std::string_view name = status_name(s);
    if (!parse_status(name)) continue;  // not a stored status
    if (!first) {
      if (list.empty() || list.front() != ',') return false;
      list.remove_prefix(1);
    }
    first = false;
    if (list.size() < name.size() + 2 || list.front() != '\'' || list.substr(1, name.size()) != name ||
        list[name.size() + 1] != '\'')
      return false;
    list.remove_prefix(name.size() + 2);
  }
  return list.empty();
}
static_assert(check_lists_stored_statuses(kSchema), "the videos.status CHECK must list exactly the stored statuses");

// Binds `s` as TEXT, made valid UTF-8 first (to_utf8: bad bytes escaped as
// \xHH, reversibly): every TEXT column stays readable by strict readers
// (Python's sqlite3, JSON).
void bind_text(sqlite3_stmt* st, int i, std::string_view s) {
  if (is_utf8(s)) {
    sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  } else {
    const std::string fixed = to_utf8(s);
    sqlite3_bind_text(st, i, fixed.data(), static_cast<int>(fixed.size()), SQLITE_TRANSIENT);
  }
}

void bind_blob(sqlite3_stmt* st, int i, std::string_view s) {
  sqlite3_bind_blob(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

// True for the names SQLite takes as a database that lives only in memory
// (or, for "", in a temporary file deleted on close): results written there
// would be thrown away.
bool in_memory_name(const std::string& path) {
  if (path.empty() || path == ":memory:") return true;
  if (path.rfind("file:", 0) != 0) return false;
  const auto q = path.find('?');
  const std::string file = path.substr(5, q == std::string::npos ? std::string::npos : q - 5);
  if (file.empty() || file == ":memory:") return true;
  return q != std::string::npos && path.find("mode=memory", q) != std::string::npos;
}

const char* text_column(sqlite3_stmt* st, int col) {
  const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  return t ? t : "";
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return {};
  return buf;
}

}  // namespace

void Store::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void Store::StmtFinalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

std::string Store::explain(int rc, const std::string& msg) const {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return msg + " (another process holds the write lock; waited " + human_number(busy_timeout_ms_ / 1000.0, 2) +
             " s: try again later, or raise --db-timeout)";
    case SQLITE_FULL: return msg + " (free disk space, or write the database elsewhere with --db)";
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      if (mode_ == OpenMode::ReadOnly) return msg + " (check that the file exists and is readable)";
      return msg + " (check that the file and its directory are writable)";
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return msg + " (this file is not a vidsift database; use another --db)";
    default: return msg;
  }
}

void Store::fail(const std::string& what) const {
  if (!db_) throw StoreError("database " + path_ + ": " + what + ": out of memory");
  throw StoreError("database " + path_ + ": " + what + ": " +
                   explain(sqlite3_extended_errcode(db_.get()), sqlite3_errmsg(db_.get())));
}

void Store::require_writable(const char* what) const {
  if (mode_ == OpenMode::ReadOnly) throw StoreError("database " + path_ + " is open read-only: cannot " + what);
}

void Store::rollback() noexcept {
  if (in_txn_ && db_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  in_txn_ = false;
  pending_rows_ = 0;
}

int Store::schema_version() { return kSchemaVersion; }

int Store::application_id_value() { return kApplicationId; }

void Store::set_labels(std::vector<std::string> labels) {
  for (auto& l : labels) l = to_utf8(l);
  labels_ = std::move(labels);
}

Store::Store(const std::string& path, int busy_timeout_ms, OpenMode mode)
    : path_(path), busy_timeout_ms_(busy_timeout_ms), mode_(mode) {
  if (in_memory_name(path))
    throw StoreError("database '" + path +
                     "' would live in memory only, and every result would be lost; give a file path");
  const bool read_only = mode == OpenMode::ReadOnly;
  const bool uri = path.rfind("file:", 0) == 0;
  if (read_only && !uri) {
    // SQLITE_OPEN_READONLY never creates the file either; this only makes the
    // message plain.
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec) throw StoreError("database " + path + " does not exist");
  }
  const int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
                    (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK) fail("cannot open");
  sqlite3_busy_timeout(db_.get(), busy_timeout_ms);
  sqlite3_extended_result_codes(db_.get(), 1);
  if (!read_only && sqlite3_db_readonly(db_.get(), "main") == 1)
    throw StoreError("database " + path +
                     " is read-only (check that the file, its directory and the file system are "
                     "writable)");

  // Recognise the file before changing anything in it: another
  // application's file is refused untouched (no WAL switch, no tables).
  const int app = application_id();
  const int found = user_version();
  const int version = recognise(app, found);
  if (read_only) {
    if (version == 0) throw StoreError("database " + path + " is empty, not a vidsift database (use another --db)");
    return;  // older versions are read as they are
  }
  enable_wal();
  exec("PRAGMA synchronous=NORMAL");
  if (found != kSchemaVersion || app != kApplicationId) migrate();
  insert_detection_ = prepare(
      "INSERT INTO detections(video_id, frame_index, ts, class_id, label, confidence, x, y, w, h, track_id) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  insert_frame_ = prepare("INSERT OR REPLACE INTO frames(video_id, frame_index, ts, detections) VALUES(?,?,?,?)");
}

void Store::enable_wal() {
  // SQLite answers with the journal mode now in force, and keeps the old one
  // when the VFS offers no shared memory (the unix-dotfile VFS and nolock=1,
  // used on file systems without POSIX locks). Without WAL, readers would
  // block the writer and the pipeline's batching would stall reports.
  auto st = prepare("PRAGMA journal_mode=WAL");
  if (sqlite3_step(st.get()) != SQLITE_ROW) fail("cannot switch to WAL mode");
  std::string got = text_column(st.get(), 0);
  st.reset();
  for (auto& c : got) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (got != "wal")
    throw StoreError("database " + path_ + ": WAL mode is not available on this file system (journal mode stays '" +
                     got + "'), so readers would block the writer; put --db on a local disk");
}

int Store::user_version() {
  auto st = prepare("PRAGMA user_version");
  if (sqlite3_step(st.get()) != SQLITE_ROW) fail("cannot read the schema version");
  return sqlite3_column_int(st.get(), 0);
}

int Store::application_id() {
  auto st = prepare("PRAGMA application_id");
  if (sqlite3_step(st.get()) != SQLITE_ROW) fail("cannot read the application id");
  return sqlite3_column_int(st.get(), 0);
}

void Store::check_version(int version) const {
  if (version > kSchemaVersion)
    throw StoreError("database " + path_ + " was made by a newer vidsift (schema version " + std::to_string(version) +
                     ", this vidsift knows up to " + std::to_string(kSchemaVersion) +
                     "); upgrade vidsift or use another --db");
}

void Store::refuse_foreign(const std::string& why) const {
  throw StoreError("database " + path_ + " is not a vidsift database (" + why +
                   "); vidsift leaves it untouched: use another --db");
}

int Store::recognise(int app, int version) {
  if (app != 0 && app != kApplicationId) {
    char id[16];
    std::snprintf(id, sizeof id, "0x%08x", static_cast<unsigned>(app));
    refuse_foreign(std::string("another application's file: application_id ") + id);
  }
  if (app == kApplicationId) {
    check_version(version);
    if (version > 0) return version;
  }
  // application_id 0: a new, empty file, or one made before vidsift set it
  // (recognised by its tables), or another application's.
  const int probed = probe_version();
  if (probed == 0) {
    if (version != 0) refuse_foreign("it is empty but has user_version " + std::to_string(version));
    return 0;
  }
  if (version == 0) return probed;
  check_version(version);
  return version;
}

int Store::probe_version() {
  // Files made before application_id was set say 0; their tables tell
  // whether they are vidsift's and, for those made before user_version was
  // kept (vidsift 0.1.0 and the releases that added runs.execution), which
  // schema they have.
  auto count = [this](const char* sql) {
    auto st = prepare(sql);
    if (sqlite3_step(st.get()) != SQLITE_ROW) fail("cannot read the schema");
    return sqlite3_column_int(st.get(), 0);
  };
  if (count("SELECT COUNT(*) FROM sqlite_master") == 0) return 0;  // a new, empty file
  if (count("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name IN "
            "('runs','videos','frames','detections','timings')") != 5 ||
      count("SELECT COUNT(*) FROM pragma_table_info('videos') WHERE name IN "
            "('run_id','path','fingerprint','settings_key','status')") != 5)
    refuse_foreign("it holds other tables");
  if (count("SELECT COUNT(*) FROM pragma_table_info('videos') WHERE name='path_bytes'") > 0) return kPathBytesVersion;
  if (count("SELECT COUNT(*) FROM pragma_table_info('videos') WHERE name='rotation'") > 0) return 3;
  return count("SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name='execution'") > 0 ? 2 : 1;
}

void Store::repair_text() {
  // Before schema 4, non-UTF-8 bytes of a file name (and of a Latin-1 label
  // list) went into TEXT columns as they were. Their exact bytes are kept in
  // path_bytes; the text becomes valid UTF-8.
  struct Fix {
    const char* select;  // key, text
    const char* update;  // ?1 new text, ?2 key
    bool by_id;          // the key is an integer id (else the text itself)
  };
  static constexpr Fix kFixes[] = {
      {"SELECT id, path FROM videos", "UPDATE videos SET path=? WHERE id=?", true},
      {"SELECT id, error FROM videos WHERE error IS NOT NULL", "UPDATE videos SET error=? WHERE id=?", true},
      {"SELECT DISTINCT label, label FROM detections", "UPDATE detections SET label=? WHERE label=?", false},
  };
  for (const Fix& f : kFixes) {
    std::vector<std::pair<std::string, std::string>> bad;  // key, text
    auto sel = prepare(f.select);
    while (sqlite3_step(sel.get()) == SQLITE_ROW) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_blob(sel.get(), 1));
      const std::string text(t ? t : "", static_cast<std::size_t>(sqlite3_column_bytes(sel.get(), 1)));
      if (is_utf8(text)) continue;
      const auto* k = reinterpret_cast<const char*>(sqlite3_column_blob(sel.get(), 0));
      bad.emplace_back(std::string(k ? k : "", static_cast<std::size_t>(sqlite3_column_bytes(sel.get(), 0))), text);
    }
    sel.reset();
    for (const auto& [key, text] : bad) {
      auto upd = prepare(f.update);
      bind_text(upd.get(), 1, text);
      if (f.by_id) {
        sqlite3_bind_int64(upd.get(), 2, std::stoll(key));
      } else {
        sqlite3_bind_text(upd.get(), 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      }
      if (sqlite3_step(upd.get()) != SQLITE_DONE) fail("cannot repair text");
    }
  }
}

void Store::escape_paths() {
  // Schemas 4-8 stored U+FFFD for each bad byte of a name; path_bytes has
  // the exact bytes, so the reversible rendering can be made from it.
  std::vector<std::pair<std::int64_t, std::string>> bad;
  auto sel = prepare("SELECT id, path_bytes FROM videos WHERE path_bytes IS NOT NULL");
  while (sqlite3_step(sel.get()) == SQLITE_ROW) {
    const auto* b = static_cast<const char*>(sqlite3_column_blob(sel.get(), 1));
    std::string bytes(b ? b : "", static_cast<std::size_t>(sqlite3_column_bytes(sel.get(), 1)));
    if (!is_utf8(bytes)) bad.emplace_back(sqlite3_column_int64(sel.get(), 0), std::move(bytes));
  }
  sel.reset();
  for (const auto& [id, bytes] : bad) {
    auto upd = prepare("UPDATE videos SET path=? WHERE id=?");
    bind_text(upd.get(), 1, bytes);
    sqlite3_bind_int64(upd.get(), 2, id);
    if (sqlite3_step(upd.get()) != SQLITE_DONE) fail("cannot re-render a path");
  }
}

void Store::migrate() {
  exec("BEGIN IMMEDIATE");
  try {
    // Read again under the write lock: another process may have done it.
    int version = recognise(application_id(), user_version());
    const int from = version;
    if (version == 0) {
      exec(kSchema);
      version = kSchemaVersion;
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= version) continue;  // in order; a number may be skipped (merged branches)
      exec(m.sql);
      version = m.version;
    }
    if (from > 0 && from < kPathBytesVersion) repair_text();
    if (from > 0 && from < kEscapedPathsVersion) escape_paths();
    if (from < kViewsVersion) exec(views_sql().c_str());
    exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
    exec(("PRAGMA user_version=" + std::to_string(version)).c_str());
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

Store::~Store() {
  if (in_txn_ && db_) {
    // Best effort: committed data is always consistent; an open transaction
    // holds only rows of videos that are still `running`.
    sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr);
  }
}

void Store::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = explain(rc, err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    std::string head(sql);
    if (head.size() > 40) head = head.substr(0, 40) + "...";
    while (!head.empty() && (head.front() == '\n' || head.front() == ' ')) head.erase(head.begin());
    throw StoreError("database " + path_ + ": " + msg + " (while running: " + head + ")");
  }
}

Store::StmtPtr Store::prepare(const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    fail(std::string("cannot prepare statement"));
  return StmtPtr(s);
}

void Store::begin_if_needed() {
  if (in_txn_) return;
  exec("BEGIN IMMEDIATE");
  in_txn_ = true;
  pending_rows_ = 0;
  txn_timer_.lap();
}

void Store::commit() {
  if (!in_txn_) return;
  StageTimer t;
  exec("COMMIT");
  ++commits_;
  commit_seconds_ += t.seconds();
  in_txn_ = false;
  pending_rows_ = 0;
}

bool Store::batch_due() const {
  return in_txn_ && (pending_rows_ >= batch_rows_ || txn_timer_.seconds() >= batch_seconds_);
}

bool Store::commit_if_due() {
  if (!batch_due()) return false;
  commit();
  return true;
}

std::int64_t Store::begin_run(const RunRecord& run) {
  require_writable("record a run");
  commit();
  auto st = prepare(
      "INSERT INTO runs(pid, host, tool_version, opencv_version, model_path, model_sha256, model_family, "
      "input_size, settings, settings_key, command, execution, labels, shard) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  const std::string host = host_name();
  sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(getpid()));
  bind_text(st.get(), 2, host);
  const std::string* fields[] = {&run.tool_version, &run.opencv_version, &run.model_path, &run.model_sha256,
                                 &run.model_family, &run.input_size,     &run.settings,   &run.settings_key,
                                 &run.command,      &run.execution};
  int i = 3;
  for (const auto* f : fields) bind_text(st.get(), i++, *f);
  // The model's label list (index = class id), so that exports can name
  // every class, not only those detected. NULL when set_labels() was not
  // called.
  if (labels_.empty()) {
    sqlite3_bind_null(st.get(), i);
  } else {
    bind_text(st.get(), i, nlohmann::json(labels_).dump());
  }
  ++i;
  if (!run.shard.empty()) bind_text(st.get(), i, run.shard);  // else NULL
  if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot record the run");
  return sqlite3_last_insert_rowid(db_.get());
}

void Store::finish_run(std::int64_t run_id, const RunSummary& s) {
  require_writable("record the end of a run");
  begin_if_needed();
  auto st = prepare(
      "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), status=?, wall_seconds=?, "
      "videos_done=?, videos_partial=?, videos_failed=?, videos_skipped=?, frames_analysed=?, detections=?, "
      "videos_interrupted=?10 WHERE id=?9");
  bind_text(st.get(), 1, s.status);
  sqlite3_bind_double(st.get(), 2, s.wall_seconds);
  sqlite3_bind_int64(st.get(), 3, s.videos_done);
  sqlite3_bind_int64(st.get(), 4, s.videos_partial);
  sqlite3_bind_int64(st.get(), 5, s.videos_failed);
  sqlite3_bind_int64(st.get(), 6, s.videos_skipped);
  sqlite3_bind_int64(st.get(), 7, s.frames_analysed);
  sqlite3_bind_int64(st.get(), 8, s.detections);
  sqlite3_bind_int64(st.get(), 9, run_id);
  sqlite3_bind_int64(st.get(), 10, s.videos_interrupted);
  if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot record the end of the run");
  commit();
}

void Store::delete_video_rows(std::int64_t video_id) {
  static constexpr const char* kDeletes[] = {
      "DELETE FROM detections WHERE video_id=?", "DELETE FROM tracks WHERE video_id=?",
      "DELETE FROM frames WHERE video_id=?", "DELETE FROM timings WHERE video_id=?", "DELETE FROM videos WHERE id=?"};
  for (const char* sql : kDeletes) {
    auto st = prepare(sql);
    sqlite3_bind_int64(st.get(), 1, video_id);
    if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot delete old rows");
  }
}

int Store::recover_stale() {
  require_writable("recover stale runs");
  commit();
  // Runs still marked running whose process is gone (same host) are dead.
  auto runs = prepare("SELECT id, pid, host FROM runs WHERE status='running'");
  const std::string host = host_name();
  std::vector<std::int64_t> dead;
  while (sqlite3_step(runs.get()) == SQLITE_ROW) {
    const std::int64_t id = sqlite3_column_int64(runs.get(), 0);
    const auto pid = static_cast<pid_t>(sqlite3_column_int64(runs.get(), 1));
    const auto* h = reinterpret_cast<const char*>(sqlite3_column_text(runs.get(), 2));
    const bool same_host = h && host == h;
    const bool alive = same_host && pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
    if (!alive && (same_host || !h)) dead.push_back(id);
  }
  runs.reset();
  int removed = 0;
  begin_if_needed();
  for (std::int64_t run_id : dead) {
    auto vids = prepare("SELECT id FROM videos WHERE run_id=? AND status=?");
    sqlite3_bind_int64(vids.get(), 1, run_id);
    sqlite3_bind_text(vids.get(), 2, status_name(VideoStatus::Running), -1, SQLITE_STATIC);
    std::vector<std::int64_t> ids;
    while (sqlite3_step(vids.get()) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(vids.get(), 0));
    vids.reset();
    for (auto id : ids) {
      // What was committed is a prefix of the video's frames in sampling
      // order (the assembler writes them in order, whole transactions at a
      // time): keep it, and let a rerun resume after its last frame.
      auto keep = prepare(
          "UPDATE videos SET status=?2, frames_analysed=(SELECT COUNT(*) FROM frames WHERE video_id=?1), "
          "error='the run stopped without finishing this video (process killed or crashed); a rerun resumes "
          "after the last stored frame', finished_at=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id=?1");
      sqlite3_bind_int64(keep.get(), 1, id);
      sqlite3_bind_text(keep.get(), 2, status_name(VideoStatus::Interrupted), -1, SQLITE_STATIC);
      if (sqlite3_step(keep.get()) != SQLITE_DONE) fail("cannot keep an interrupted video");
      ++removed;
    }
    auto upd = prepare(
        "UPDATE runs SET status='interrupted', finished_at=COALESCE(finished_at, "
        "strftime('%Y-%m-%dT%H:%M:%fZ','now')) WHERE id=?");
    sqlite3_bind_int64(upd.get(), 1, run_id);
    if (sqlite3_step(upd.get()) != SQLITE_DONE) fail("cannot mark an interrupted run");
  }
  commit();
  return removed;
}

std::optional<VideoStatus> Store::find_final(const std::string& path, const std::string& fingerprint,
                                             const std::string& settings_key, bool include_failed) {
  // The latest final row decides: a file whose latest attempt failed is not
  // "done" because an older attempt was (a failure keeps older results).
  auto st = prepare(
      "SELECT status FROM videos WHERE path=? AND fingerprint=? AND settings_key=? AND status<>?4 "
      "AND status<>'interrupted' AND path_bytes=?5 ORDER BY id DESC LIMIT 1");
  // `path` is the text form (valid UTF-8, for the index); path_bytes tells
  // apart names whose invalid bytes give the same text.
  bind_text(st.get(), 1, path);
  bind_text(st.get(), 2, fingerprint);
  bind_text(st.get(), 3, settings_key);
  bind_blob(st.get(), 5, path);
  sqlite3_bind_text(st.get(), 4, status_name(VideoStatus::Running), -1, SQLITE_STATIC);
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail("cannot look up " + path);
  const std::string stored = text_column(st.get(), 0);
  const auto status = parse_status(stored);
  if (!status) throw StoreError("database " + path_ + ": video " + path + " has an unknown status '" + stored + "'");
  // Without include_failed only a done result counts.
  if (!include_failed && *status != VideoStatus::Done) return std::nullopt;
  return status;
}

std::optional<ResumePoint> Store::find_resume(const std::string& path, const std::string& fingerprint,
                                              const std::string& settings_key) {
  auto st = prepare(
      "SELECT id, status, COALESCE(frame_count, 0) FROM videos WHERE path=? AND fingerprint=? AND settings_key=? "
      "AND path_bytes=?4 AND status<>'running' ORDER BY id DESC LIMIT 1");
  bind_text(st.get(), 1, path);
  bind_text(st.get(), 2, fingerprint);
  bind_text(st.get(), 3, settings_key);
  bind_blob(st.get(), 4, path);
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail("cannot look up " + path);
  if (std::string_view(text_column(st.get(), 1)) != status_name(VideoStatus::Interrupted)) return std::nullopt;
  ResumePoint r;
  r.video_id = sqlite3_column_int64(st.get(), 0);
  r.frames_decoded = sqlite3_column_int64(st.get(), 2);
  st.reset();
  auto last = prepare(
      "SELECT frame_index, ts, (SELECT COUNT(*) FROM frames WHERE video_id=?1) FROM frames WHERE video_id=?1 "
      "ORDER BY frame_index DESC LIMIT 1");
  sqlite3_bind_int64(last.get(), 1, r.video_id);
  const int rc2 = sqlite3_step(last.get());
  if (rc2 == SQLITE_ROW) {
    r.last_index = sqlite3_column_int64(last.get(), 0);
    r.last_ts = sqlite3_column_double(last.get(), 1);
    r.frames = sqlite3_column_int64(last.get(), 2);
  } else if (rc2 != SQLITE_DONE) {
    fail("cannot look up the frames of " + path);
  }
  return r;
}

bool Store::resume_video(std::int64_t run_id, std::int64_t video_id) {
  require_writable("resume a video");
  begin_if_needed();
  auto st = prepare("UPDATE videos SET status=?1, run_id=?2, error=NULL, finished_at=NULL WHERE id=?3 AND status=?4");
  sqlite3_bind_text(st.get(), 1, status_name(VideoStatus::Running), -1, SQLITE_STATIC);
  sqlite3_bind_int64(st.get(), 2, run_id);
  sqlite3_bind_int64(st.get(), 3, video_id);
  sqlite3_bind_text(st.get(), 4, status_name(VideoStatus::Interrupted), -1, SQLITE_STATIC);
  if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot resume video " + std::to_string(video_id));
  const bool claimed = sqlite3_changes(db_.get()) == 1;
  commit();
  return claimed;
}

namespace {
void bind_video(sqlite3_stmt* st, std::int64_t run_id, const VideoRecord& v, const std::string& key) {
  sqlite3_bind_int64(st, 1, run_id);
  bind_text(st, 2, v.path);
  sqlite3_bind_int64(st, 3, v.size);
  sqlite3_bind_int64(st, 4, v.mtime);
  bind_text(st, 5, v.fingerprint);
  bind_text(st, 6, key);
  if (v.codec.empty()) {
    for (int i = 7; i <= 11; ++i) sqlite3_bind_null(st, i);
  } else {
    bind_text(st, 7, v.codec);
    sqlite3_bind_int(st, 8, v.width);
    sqlite3_bind_int(st, 9, v.height);
    sqlite3_bind_double(st, 10, v.fps);
    sqlite3_bind_double(st, 11, v.duration);
  }
  // Named, after the numbered ones: the orientation and the stream used.
  const int rot = sqlite3_bind_parameter_index(st, ":rotation");
  const int mir = sqlite3_bind_parameter_index(st, ":mirrored");
  const int idx = sqlite3_bind_parameter_index(st, ":stream_index");
  if (v.codec.empty()) {
    sqlite3_bind_null(st, rot);
    sqlite3_bind_null(st, mir);
  } else {
    sqlite3_bind_int(st, rot, v.rotation);
    sqlite3_bind_int(st, mir, v.mirrored ? 1 : 0);
  }
  if (v.stream_index < 0) {
    sqlite3_bind_null(st, idx);
  } else {
    sqlite3_bind_int(st, idx, v.stream_index);
  }
  const int at = sqlite3_bind_parameter_index(st, ":recorded_at");
  const int source = sqlite3_bind_parameter_index(st, ":recorded_at_source");
  if (v.recorded_at.empty()) {
    sqlite3_bind_null(st, at);
    sqlite3_bind_null(st, source);
  } else {
    bind_text(st, at, v.recorded_at);
    bind_text(st, source, v.recorded_at_source);
  }
}
}  // namespace

std::int64_t Store::start_video(std::int64_t run_id, const VideoRecord& video, const std::string& settings_key) {
  require_writable("record a video");
  begin_if_needed();
  auto st = prepare(
      "INSERT INTO videos(run_id, path, size, mtime, fingerprint, settings_key, codec, width, height, fps, "
      "duration, status, path_bytes, rotation, mirrored, stream_index, recorded_at, recorded_at_source) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?13,:rotation,:mirrored,:stream_index,:recorded_at,:recorded_at_source)");
  bind_video(st.get(), run_id, video, settings_key);
  sqlite3_bind_text(st.get(), 12, status_name(VideoStatus::Running), -1, SQLITE_STATIC);
  bind_blob(st.get(), 13, video.path);
  if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot record video " + video.path);
  const std::int64_t id = sqlite3_last_insert_rowid(db_.get());
  // Commit at once: a running row is invisible to the views, and keeping the
  // transaction open would hold the write lock until the first batch is due.
  commit();
  return id;
}

std::int64_t Store::record_failed(std::int64_t run_id, const VideoRecord& video, const std::string& settings_key,
                                  const std::string& error) {
  require_writable("record a failed video");
  begin_if_needed();
  auto st = prepare(
      "INSERT INTO videos(run_id, path, size, mtime, fingerprint, settings_key, codec, width, height, fps, "
      "duration, status, error, frame_count, frames_analysed, finished_at, path_bytes, rotation, mirrored, "
      "stream_index, recorded_at, recorded_at_source) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,strftime('%Y-%m-%dT%H:%M:%fZ','now'),?14,:rotation,:mirrored,:stream_"
      "index,:recorded_at,:recorded_at_source)");
  bind_video(st.get(), run_id, video, settings_key);
  sqlite3_bind_text(st.get(), 12, status_name(VideoStatus::Failed), -1, SQLITE_STATIC);
  bind_text(st.get(), 13, error);
  bind_blob(st.get(), 14, video.path);
  if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot record video " + video.path);
  const std::int64_t id = sqlite3_last_insert_rowid(db_.get());
  st.reset();
  replace_older(id, true);
  commit();
  return id;
}

namespace {
// A box coordinate rounded to 0.01 px: the model's float output has no
// finer meaning, and the database stays small and readable.
double centi_pixels(float v) { return std::round(static_cast<double>(v) * 100.0) / 100.0; }
}  // namespace

void Store::add_frame(std::int64_t video_id, std::int64_t frame_index, double ts, const std::vector<Detection>& dets) {
  require_writable("store a frame");
  begin_if_needed();
  sqlite3_stmt* f = insert_frame_.get();
  sqlite3_reset(f);
  sqlite3_bind_int64(f, 1, video_id);
  sqlite3_bind_int64(f, 2, frame_index);
  sqlite3_bind_double(f, 3, ts);
  sqlite3_bind_int(f, 4, static_cast<int>(dets.size()));
  if (sqlite3_step(f) != SQLITE_DONE) fail("cannot store frame");
  sqlite3_stmt* d = insert_detection_.get();
  for (const auto& det : dets) {
    sqlite3_reset(d);
    // Valid UTF-8 already: set_labels() converted the names, and the
    // fallback "classN" is ASCII (no per-detection check). `label` outlives
    // the step below, so SQLite reads it in place (SQLITE_STATIC, no copy).
    const std::string label = label_name(labels_, det.class_id);
    sqlite3_bind_int64(d, 1, video_id);
    sqlite3_bind_int64(d, 2, frame_index);
    sqlite3_bind_double(d, 3, ts);
    sqlite3_bind_int(d, 4, det.class_id);
    sqlite3_bind_text(d, 5, label.data(), static_cast<int>(label.size()), SQLITE_STATIC);
    sqlite3_bind_double(d, 6, det.confidence);
    sqlite3_bind_double(d, 7, centi_pixels(det.box.x));
    sqlite3_bind_double(d, 8, centi_pixels(det.box.y));
    sqlite3_bind_double(d, 9, centi_pixels(det.box.w));
    sqlite3_bind_double(d, 10, centi_pixels(det.box.h));
    if (det.track_id > 0) {
      sqlite3_bind_int64(d, 11, det.track_id);
    } else {
      sqlite3_bind_null(d, 11);
    }
    if (sqlite3_step(d) != SQLITE_DONE) fail("cannot store detection");
  }
  pending_rows_ += 1 + static_cast<int>(dets.size());
  commit_if_due();
}

void Store::finish_video(std::int64_t video_id, const VideoResult& r, const std::string& warning) {
  if (!is_final(r.status))
    throw std::invalid_argument(std::string("finish_video: status '") + status_name(r.status) +
                                "' is not final (done, partial, failed or interrupted)");
  require_writable("finish a video");
  begin_if_needed();
  auto st = prepare(
      "UPDATE videos SET status=?, error=?, frame_count=?, frames_analysed=?, "
      "finished_at=strftime('%Y-%m-%dT%H:%M:%fZ','now'), warning=?6 WHERE id=?5");
  sqlite3_bind_text(st.get(), 1, status_name(r.status), -1, SQLITE_STATIC);
  if (r.error.empty()) {
    sqlite3_bind_null(st.get(), 2);
  } else {
    bind_text(st.get(), 2, r.error);
  }
  sqlite3_bind_int64(st.get(), 3, r.frames_decoded);
  sqlite3_bind_int64(st.get(), 4, r.frames_analysed);
  sqlite3_bind_int64(st.get(), 5, video_id);
  if (warning.empty()) {
    sqlite3_bind_null(st.get(), 6);
  } else {
    bind_text(st.get(), 6, warning);
  }
  if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot finish video");
  replace_older(video_id, r.status == VideoStatus::Failed);
  commit();
}

int Store::set_recorded_at(const std::string& path, const std::string& fingerprint, const std::string& recorded_at,
                           const std::string& source) {
  require_writable("set recorded_at");
  begin_if_needed();
  auto st = prepare(
      "UPDATE videos SET recorded_at=?1, recorded_at_source=?2 WHERE path=?3 AND path_bytes=?4 AND fingerprint=?5 "
      "AND status NOT IN ('running') AND (recorded_at IS NOT ?1 OR recorded_at_source IS NOT ?2)");
  bind_text(st.get(), 1, recorded_at);
  bind_text(st.get(), 2, source);
  bind_text(st.get(), 3, path);
  bind_blob(st.get(), 4, path);
  bind_text(st.get(), 5, fingerprint);
  if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot set recorded_at of " + path);
  const int changed = sqlite3_changes(db_.get());
  commit();
  return changed;
}

void Store::replace_older(std::int64_t video_id, bool failed_only) {
  // Done/partial results replace every older row for the same file and
  // settings; a failure replaces only older failures (it never deletes
  // results: a file on a share that is down tonight keeps last night's).
  auto old = prepare(
      "SELECT o.id FROM videos o JOIN videos n ON n.id=?1 WHERE o.path=n.path AND o.settings_key=n.settings_key "
      "AND o.path_bytes IS n.path_bytes AND o.id<>n.id AND o.status<>?2 AND (?3 IS NULL OR o.status=?3)");
  sqlite3_bind_int64(old.get(), 1, video_id);
  sqlite3_bind_text(old.get(), 2, status_name(VideoStatus::Running), -1, SQLITE_STATIC);
  if (failed_only) {
    sqlite3_bind_text(old.get(), 3, status_name(VideoStatus::Failed), -1, SQLITE_STATIC);
  } else {
    sqlite3_bind_null(old.get(), 3);
  }
  std::vector<std::int64_t> ids;
  while (sqlite3_step(old.get()) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(old.get(), 0));
  old.reset();
  for (auto id : ids) delete_video_rows(id);
}

std::vector<std::vector<std::string>> Store::query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<std::vector<std::string>> rows;
  each_row(sql, params, [&rows](const std::vector<std::string>& row) { rows.push_back(row); });
  return rows;
}

void Store::each_row(const std::string& sql, const std::vector<std::string>& params,
                     const std::function<void(const std::vector<std::string>&)>& fn) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, &tail) != SQLITE_OK) fail("cannot run query");
  StmtPtr st(raw);
  if (!st) throw StoreError("database " + path_ + ": the query is empty");
  if (tail && *tail) {
    // Whatever follows must be only spaces, comments and semicolons.
    sqlite3_stmt* next = nullptr;
    const int rc = sqlite3_prepare_v2(db_.get(), tail, -1, &next, nullptr);
    StmtPtr more(next);
    if (rc != SQLITE_OK || more)
      throw StoreError("database " + path_ + ": give one SQL statement, not several (found more after the first)");
  }
  for (std::size_t i = 0; i < params.size(); ++i) bind_text(st.get(), static_cast<int>(i + 1), params[i]);
  const int cols = sqlite3_column_count(st.get());
  std::vector<std::string> row(static_cast<std::size_t>(cols));
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    for (int c = 0; c < cols; ++c) row[static_cast<std::size_t>(c)] = text_column(st.get(), c);
    fn(row);
  }
  if (rc != SQLITE_DONE) fail("query failed");
}

bool Store::has_column(const std::string& table, const std::string& column) {
  return !query("SELECT 1 FROM pragma_table_info(?) WHERE name=?", {table, column}).empty();
}

void Store::discard_video(std::int64_t video_id) {
  require_writable("discard a video");
  begin_if_needed();
  delete_video_rows(video_id);
  commit();
}

void Store::write_tracks(std::int64_t video_id) {
  require_writable("store tracks");
  begin_if_needed();
  auto del = prepare("DELETE FROM tracks WHERE video_id=?");
  sqlite3_bind_int64(del.get(), 1, video_id);
  if (sqlite3_step(del.get()) != SQLITE_DONE) fail("cannot store tracks");
  // One row per track id: the majority label (ties: the lower class id), the
  // span, and the highest-confidence detection (ties: the earliest).
  auto st = prepare(R"SQL(
INSERT INTO tracks(video_id, track_id, label, class_id, first_frame, last_frame, first_ts, last_ts, frames,
                   mean_conf, max_conf, best_frame, best_ts, best_x, best_y, best_w, best_h)
WITH d AS (SELECT * FROM detections WHERE video_id = ?1 AND track_id IS NOT NULL),
agg AS (SELECT track_id, MIN(frame_index) AS ff, MAX(frame_index) AS lf, MIN(ts) AS fts, MAX(ts) AS lts,
               COUNT(DISTINCT frame_index) AS n, AVG(confidence) AS mc, MAX(confidence) AS xc
        FROM d GROUP BY track_id),
lab AS (SELECT track_id, class_id, label,
               ROW_NUMBER() OVER (PARTITION BY track_id ORDER BY COUNT(*) DESC, class_id) AS rk
        FROM d GROUP BY track_id, class_id, label),
best AS (SELECT track_id, frame_index, ts, x, y, w, h,
                ROW_NUMBER() OVER (PARTITION BY track_id ORDER BY confidence DESC, frame_index, id) AS rk
         FROM d)
SELECT ?1, a.track_id, l.label, l.class_id, a.ff, a.lf, a.fts, a.lts, a.n, a.mc, a.xc,
       b.frame_index, b.ts, b.x, b.y, b.w, b.h
FROM agg a JOIN lab l ON l.track_id = a.track_id AND l.rk = 1 JOIN best b ON b.track_id = a.track_id AND b.rk = 1
ORDER BY a.track_id
)SQL");
  sqlite3_bind_int64(st.get(), 1, video_id);
  if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot store tracks");
  ++pending_rows_;
}

std::vector<StoredFrame> Store::stored_frames(std::int64_t video_id) {
  auto st = prepare(
      "SELECT f.frame_index, f.ts, d.class_id, d.confidence, d.x, d.y, d.w, d.h, d.track_id FROM frames f "
      "LEFT JOIN detections d ON d.video_id = f.video_id AND d.frame_index = f.frame_index "
      "WHERE f.video_id = ? ORDER BY f.frame_index, d.id");
  sqlite3_bind_int64(st.get(), 1, video_id);
  std::vector<StoredFrame> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    const std::int64_t index = sqlite3_column_int64(st.get(), 0);
    if (out.empty() || out.back().index != index) {
      out.emplace_back();
      out.back().index = index;
      out.back().ts = sqlite3_column_double(st.get(), 1);
    }
    if (sqlite3_column_type(st.get(), 2) == SQLITE_NULL) continue;  // a frame without detections
    Detection d;
    d.class_id = sqlite3_column_int(st.get(), 2);
    d.confidence = static_cast<float>(sqlite3_column_double(st.get(), 3));
    d.box = Box{
        static_cast<float>(sqlite3_column_double(st.get(), 4)), static_cast<float>(sqlite3_column_double(st.get(), 5)),
        static_cast<float>(sqlite3_column_double(st.get(), 6)), static_cast<float>(sqlite3_column_double(st.get(), 7))};
    d.track_id = sqlite3_column_type(st.get(), 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(st.get(), 8);
    out.back().dets.push_back(d);
  }
  if (rc != SQLITE_DONE) fail("cannot read stored frames");
  return out;
}

void Store::write_timings(std::int64_t run_id, std::optional<std::int64_t> video_id, const StageTimings& t) {
  require_writable("store timings");
  begin_if_needed();
  auto st = prepare(
      "INSERT INTO timings(run_id, video_id, stage, frames, total_s, mean_ms, p50_ms, p95_ms, max_ms) "
      "VALUES(?,?,?,?,?,?,?,?,?)");
  for (int i = 0; i < kStageCount; ++i) {
    const auto stage = static_cast<Stage>(i);
    const StageStats& s = t[stage];
    if (stage == Stage::Track && s.count() == 0) continue;  // the run did not track
    sqlite3_reset(st.get());
    sqlite3_bind_int64(st.get(), 1, run_id);
    if (video_id) {
      sqlite3_bind_int64(st.get(), 2, *video_id);
    } else {
      sqlite3_bind_null(st.get(), 2);
    }
    sqlite3_bind_text(st.get(), 3, stage_name(stage), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st.get(), 4, s.count());
    sqlite3_bind_double(st.get(), 5, s.total());
    sqlite3_bind_double(st.get(), 6, s.mean() * 1e3);
    sqlite3_bind_double(st.get(), 7, s.quantile(0.5) * 1e3);
    sqlite3_bind_double(st.get(), 8, s.quantile(0.95) * 1e3);
    sqlite3_bind_double(st.get(), 9, s.max() * 1e3);
    if (sqlite3_step(st.get()) != SQLITE_DONE) fail("cannot store timings");
  }
  ++pending_rows_;
}

std::int64_t cell_int(const std::string& cell) {
  std::int64_t v = 0;
  std::from_chars(cell.data(), cell.data() + cell.size(), v);
  return v;
}

double cell_real(const std::string& cell) {
  double v = 0;
  std::from_chars(cell.data(), cell.data() + cell.size(), v);
  return v;
}

}  // namespace vidsift
