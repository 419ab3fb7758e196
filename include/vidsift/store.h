// store.h — the SQLite database: schema, runs, videos, frames, detections,
// timings. The only unit that talks to SQLite.
//
// Contract:
//  * Store(path, busy_timeout_ms, ReadWrite) opens or creates the database in
//    WAL mode, waiting up to the timeout whenever another writer holds the
//    lock. It refuses a file system where SQLite cannot use WAL (readers would
//    block the writer). A new file gets the latest schema and views; a file
//    made by an older vidsift is upgraded in place by numbered migrations
//    (PRAGMA user_version; files made before user_version was kept are
//    recognised by their columns); a file made by a newer vidsift is refused.
//    A vidsift file carries PRAGMA application_id 0x76736674 ("vsft"); files
//    from before schema 3 say 0 and are recognised by their tables. Another
//    application's file (another application_id, other tables, or an empty
//    file with a user_version) is refused before anything is written to it:
//    it stays byte-identical (no WAL switch, no tables). So is a name SQLite
//    would keep in memory only ("", ":memory:", a mode=memory URI).
//    Throws StoreError with SQLite's message, the path and what to do when the
//    file cannot be opened, is not a vidsift database, is read-only, stays
//    locked, or the disk is full. Every method that writes throws the same way.
//  * TEXT columns always hold valid UTF-8: any text that is not (a file name,
//    an FFmpeg message, a label, a warning, a command line) is stored
//    escaped by to_utf8() (utf8.h: each bad byte as \xHH, a backslash as
//    \\; reversible). videos.path_bytes holds the exact bytes of the path;
//    lookups and the replacement of older results compare it, so two names
//    that differ only in invalid bytes stay apart.
//  * videos.recorded_at / recorded_at_source come from VideoRecord (NULL when
//    empty); set_recorded_at() changes them for the rows of one file without
//    touching its results (a rerun with another --time-from-name).
//  * Store(path, busy_timeout_ms, ReadOnly) opens an existing database for
//    reading only: it never creates the file, never changes the schema, and
//    every mutating method throws StoreError.
//  * Single writer: one thread at a time calls the mutating methods. Readers
//    in other processes are never blocked (WAL) and never see half a video:
//    a video row is `running` until finish_video() writes its final status in
//    the same transaction as its last frames and detections; the views only
//    show `done` and `partial` videos.
//  * The write lock is held only while a batch is open: start_video() commits
//    its row at once; add_frame() appends to an open write transaction that is
//    committed every `batch_rows` rows or `batch_seconds` seconds after it
//    began (and always by finish_video/finish_run). A transaction is only
//    checked when the store is called, so the caller (the pipeline's serial
//    store node) calls commit() whenever it becomes idle, or commit_if_due()
//    periodically; otherwise other writers wait for the lock. A kill loses at
//    most the uncommitted tail of videos that were not finished anyway.
//  * finish_video(Done|Partial) also deletes, in the same transaction, older
//    rows for the same path and settings key (a changed file or a rerun
//    replaces its results atomically). A failure (finish_video(Failed),
//    record_failed) deletes older *failed* rows for the same path and key, and
//    never results: one file with one settings key has at most one failed row,
//    and its current row is the latest final one.
//  * recover_stale() turns the `running` videos left by runs whose process is
//    gone into `interrupted` ones, keeping their committed frames (a prefix
//    in sampling order: frames are added in order and committed whole), and
//    marks those runs `interrupted`.
//  * find_resume() / resume_video(): an `interrupted` video is continued by a
//    later run in the same row, after its last stored frame.
//  * begin_run() records the set_labels() list in runs.labels (JSON array,
//    index = class id).
//  * Views (see src/store.cpp): finished_videos, per_video_label_counts,
//    per_minute_label_counts (every analysed minute, 0 where a label seen in
//    the video was absent), label_events (events.h), video_provenance,
//    per_video_track_counts and track_dwell (--track), detections_at (each
//    detection with its wall-clock time and camera folder) and
//    per_hour_label_counts (per folder, UTC hour and label), tracks_at (each
//    track's wall-clock span) and per_hour_track_counts (tracks per folder,
//    UTC hour of their first sighting and label).
//  * detections.track_id / tracks (--track): add_frame() stores each box's
//    track_id (NULL when < 1); write_tracks() derives the tracks rows from
//    the stored detections, so they always agree with detections.track_id.
//  * find_final() answers "is this exact file already analysed with these
//    settings?" for skipping.
//  * A Store is not thread-safe: use one object from one thread at a time.
//    Several Store objects (in one process or several) may use the same file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vidsift/postprocess.h"
#include "vidsift/stage_stats.h"
#include "vidsift/video_status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vidsift {

// Every database failure: the message names the file, SQLite's reason and
// what the user can do about it.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What begin_run() records about a run before it starts.
struct RunRecord {
  std::string tool_version;
  std::string opencv_version;
  std::string model_path;
  std::string model_sha256;
  std::string model_family;
  std::string input_size;    // "416x416"
  std::string settings;      // JSON text of the result-changing settings
  std::string settings_key;  // sha256 of `settings`
  std::string command;       // the command line
  std::string execution;     // JSON: workers, threads, decoders... (not part of the key)
  std::string shard;         // "I/N" when the run analysed one shard (empty: NULL)
};

// What finish_run() records when a run ends.
struct RunSummary {
  std::string status = "finished";  // finished | interrupted | failed
  double wall_seconds = 0;
  std::int64_t videos_done = 0;
  std::int64_t videos_failed = 0;
  std::int64_t videos_partial = 0;
  std::int64_t videos_skipped = 0;
  std::int64_t frames_analysed = 0;
  std::int64_t detections = 0;
  std::int64_t videos_interrupted = 0;
};

// Where an `interrupted` video resumes (find_resume).
struct ResumePoint {
  std::int64_t video_id = 0;
  std::int64_t frames = 0;          // frames stored so far
  std::int64_t frames_decoded = 0;  // videos.frame_count so far (0 after a crash)
  std::int64_t last_index = -1;     // the last stored frame (-1: none)
  double last_ts = 0;
};

// The file and stream facts of one video (codec empty: never opened, the
// stream columns stay NULL).
struct VideoRecord {
  std::string path;
  std::int64_t size = 0;
  std::int64_t mtime = 0;
  std::string fingerprint;
  std::string codec;
  int width = 0;  // as displayed (upright)
  int height = 0;
  double fps = 0;
  double duration = 0;
  int rotation = 0;                // clockwise degrees the stored picture is turned for display
  bool mirrored = false;           // then flipped left to right
  int stream_index = -1;           // the container's stream analysed (-1: unknown)
  std::string recorded_at;         // UTC ISO-8601 start of the recording ("" = unknown: NULL)
  std::string recorded_at_source;  // "container" or "name" ("" = NULL)
};

// How a started video ended; `status` must be final (Done, Partial, Failed).
struct VideoResult {
  VideoStatus status = VideoStatus::Failed;
  std::string error;  // empty when done
  std::int64_t frames_decoded = 0;
  std::int64_t frames_analysed = 0;
};

// One analysed frame as stored (a resumed video's prefix, for the tracker).
struct StoredFrame {
  std::int64_t index = 0;
  double ts = 0;
  std::vector<Detection> dets;  // in insertion order, with track_id (-1 when NULL)
};

// How Store opens its file.
enum class OpenMode {
  ReadWrite,  // create if missing, upgrade the schema, allow writes
  ReadOnly,   // existing file only, no schema change, no writes (reports)
};

class Store {
 public:
  // Opens `path` (a file name, or an SQLite "file:" URI) in `mode`, waiting
  // up to `busy_timeout_ms` for locks held by other connections.
  // ReadWrite: creates the file if missing, switches it to WAL mode and
  // creates or upgrades the schema. ReadOnly: the file must exist ("database X
  // does not exist" otherwise, and nothing is created); nothing is written.
  // Throws StoreError when the file cannot be opened, is not a vidsift
  // database, was made by a newer vidsift, is read-only (ReadWrite), stays
  // locked, or lies on a file system without WAL support (ReadWrite).
  explicit Store(const std::string& path, int busy_timeout_ms = 10000, OpenMode mode = OpenMode::ReadWrite);
  // Commits an open batch (best effort, never throws): its rows belong to
  // videos that are still `running`, so they are invisible to readers either
  // way and recover_stale() removes them.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Class names used for the `label` column of detections (index = class id;
  // unknown ids get a generated name). Never throws.
  // Labels that are not valid UTF-8 are stored with U+FFFD for bad bytes.
  void set_labels(std::vector<std::string> labels);
  // Commit an add_frame() batch once it holds `rows` rows or has been open for
  // `seconds` seconds, whichever comes first. Never throws.
  void set_batching(int rows, double seconds) {
    batch_rows_ = rows;
    batch_seconds_ = seconds;
  }

  // Commits any open batch, then records a new run (status `running`, this
  // process's pid and host) and returns its id. Throws StoreError.
  std::int64_t begin_run(const RunRecord& run);
  // Records the end of a run and commits everything pending. Throws StoreError.
  void finish_run(std::int64_t run_id, const RunSummary& summary);

  // Marks the `running` videos of runs still marked running whose process is
  // gone (same host, or no host recorded) `interrupted`, keeping their
  // committed frames and detections (see contract), marks those runs
  // `interrupted` and returns how many videos it kept so. Commits. Throws
  // StoreError.
  int recover_stale();

  // Status of the latest final row for this path, fingerprint and settings
  // key; without include_failed only when that row is Done (a later failure
  // hides an older done row). std::nullopt when there is none. Reads only (allowed in ReadOnly mode).
  // Throws StoreError.
  // Interrupted rows are never returned (see find_resume).
  std::optional<VideoStatus> find_final(const std::string& path, const std::string& fingerprint,
                                        const std::string& settings_key, bool include_failed);
  // When the latest row (not `running`) for this path, fingerprint and
  // settings key is `interrupted`: where it resumes. Reads only. Throws
  // StoreError.
  std::optional<ResumePoint> find_resume(const std::string& path, const std::string& fingerprint,
                                         const std::string& settings_key);
  // Claims an `interrupted` video for `run_id`: it becomes `running` again
  // (its frames stay) and is finished by finish_video(). Commits. Returns
  // false when the row is no longer `interrupted` (another process claimed
  // it). Throws StoreError.
  bool resume_video(std::int64_t run_id, std::int64_t video_id);

  // Records a video as `running` and commits that row at once (the write lock
  // is not kept; a running row is invisible to the views). Any batch that was
  // open is committed with it. Returns the video id. Throws StoreError.
  std::int64_t start_video(std::int64_t run_id, const VideoRecord& video, const std::string& settings_key);
  // Appends one analysed frame and its detections to the open batch (opening
  // one, and so taking the write lock, if needed) and commits the batch when
  // it is due (see set_batching). The caller calls commit() when it becomes
  // idle. Box coordinates are stored rounded to 0.01 px. Throws StoreError.
  void add_frame(std::int64_t video_id, std::int64_t frame_index, double ts, const std::vector<Detection>& dets);
  // Writes the final status of a started video in the same transaction as its
  // pending rows (Interrupted: what is stored so far is kept for a rerun to
  // resume), and on Done/Partial deletes older results for the same path
  // and settings key; commits. Throws std::invalid_argument when
  // result.status is not final (Running, Cancelled: use discard_video() for a
  // cancelled video), StoreError on database errors.
  // `warning` (may be empty) goes to videos.warning: worth knowing even when
  // the video is done, e.g. a mid-stream resolution change.
  void finish_video(std::int64_t video_id, const VideoResult& result, const std::string& warning = {});
  // Sets recorded_at (UTC ISO-8601) and recorded_at_source of every final
  // row of this path (exact bytes) and fingerprint, and commits; returns how
  // many rows changed. Throws StoreError.
  int set_recorded_at(const std::string& path, const std::string& fingerprint, const std::string& recorded_at,
                      const std::string& source);
  // Rolls back a video that will not finish (cancelled run): deletes its rows
  // and commits. Throws StoreError.
  void discard_video(std::int64_t video_id);
  // A video that never started (cannot open, vanished, ...): one final
  // `failed` row carrying `error`, committed at once. Returns its id. Throws
  // StoreError.
  std::int64_t record_failed(std::int64_t run_id, const VideoRecord& video, const std::string& settings_key,
                             const std::string& error);

  // Replaces the video's rows in `tracks` with one row per track id found in
  // its detections (majority label, first/last frame and time, frames, mean
  // and max confidence, best detection), in the open batch (committed with
  // finish_video). A video without track ids gets no rows. Throws StoreError.
  void write_tracks(std::int64_t video_id);
  // The video's stored frames in frame order with their detections (a
  // resumed video's prefix, replayed into the tracker). Throws StoreError.
  std::vector<StoredFrame> stored_frames(std::int64_t video_id);

  // Adds one timings row per stage for a run (video_id empty) or a video to
  // the open batch; they are committed with the next commit (finish_video,
  // finish_run, commit...). Throws StoreError.
  void write_timings(std::int64_t run_id, std::optional<std::int64_t> video_id, const StageTimings& t);

  // Runs `sql` with text parameters and returns every row as text (NULL
  // becomes ""). Meant for reports; in ReadOnly mode SQLite refuses any write.
  // Throws StoreError.
  std::vector<std::vector<std::string>> query(const std::string& sql, const std::vector<std::string>& params = {});
  // Like query(), but hands each row to `fn` as it is read (constant memory,
  // for exports). Refuses text holding more than one statement. An exception
  // thrown by `fn` ends the query and propagates. Throws StoreError.
  void each_row(const std::string& sql, const std::vector<std::string>& params,
                const std::function<void(const std::vector<std::string>&)>& fn);
  // Whether `table` has `column` (older schemas lack newer columns).
  bool has_column(const std::string& table, const std::string& column);

  // Commits the open batch, if any, releasing the write lock. The caller (the
  // pipeline's serial store node) calls this whenever it becomes idle, so
  // that a sparse stream of frames does not keep other writers waiting.
  // Throws StoreError (the batch is then still open: call rollback()).
  void commit();
  // Commits the open batch if it is due: it holds `batch_rows` rows or has
  // been open `batch_seconds` seconds (see set_batching). Returns whether it
  // committed. Cheap when nothing is due; the caller may call it whenever it
  // wakes up, and calls commit() when it becomes idle. Throws StoreError.
  bool commit_if_due();
  // Abandons the open batch (after an error); never throws.
  void rollback() noexcept;
  // Commits made so far by this Store and the seconds spent in them.
  std::int64_t commits() const { return commits_; }
  double commit_seconds() const { return commit_seconds_; }

  // The path (or URI) the store was opened with.
  const std::string& path() const { return path_; }
  // The mode the store was opened with.
  OpenMode mode() const { return mode_; }
  // Schema version this vidsift writes (PRAGMA user_version of its files).
  static int schema_version();
  // PRAGMA application_id of vidsift's files (0x76736674, "vsft").
  static int application_id_value();

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  void enable_wal();
  int user_version();
  int application_id();
  // The schema version of a file with this application_id and user_version
  // (0 = new, empty file); throws StoreError for another application's file
  // or a newer vidsift's, having written nothing.
  int recognise(int app, int version);
  int probe_version();  // version of an application_id 0 file from its tables; 0 = empty file
  void check_version(int version) const;
  [[noreturn]] void refuse_foreign(const std::string& why) const;
  void repair_text();   // makes old TEXT columns valid UTF-8 (migration to path_bytes)
  void escape_paths();  // re-renders videos.path from path_bytes (U+FFFD -> reversible escapes)
  void migrate();       // creates or upgrades the schema (ReadWrite only)
  void require_writable(const char* what) const;
  void exec(const char* sql);
  StmtPtr prepare(const char* sql);
  void begin_if_needed();
  bool batch_due() const;
  [[noreturn]] void fail(const std::string& what) const;
  std::string explain(int rc, const std::string& msg) const;
  void delete_video_rows(std::int64_t video_id);
  void replace_older(std::int64_t video_id, bool failed_only);

  std::string path_;
  int busy_timeout_ms_;
  OpenMode mode_;
  std::unique_ptr<sqlite3, DbCloser> db_;
  StmtPtr insert_detection_;
  StmtPtr insert_frame_;
  std::vector<std::string> labels_;
  bool in_txn_ = false;
  int pending_rows_ = 0;
  int batch_rows_ = 5000;
  double batch_seconds_ = 1.0;
  StageTimer txn_timer_;
  std::int64_t commits_ = 0;
  double commit_seconds_ = 0;
};

// A Store::query() cell as a number: the integer or the double its text
// spells (the text of quote(REAL) keeps every bit; a plain REAL column's text
// keeps 15 digits). 0 for NULL ("") or text that is not a number.
std::int64_t cell_int(const std::string& cell);
double cell_real(const std::string& cell);

}  // namespace vidsift
