// store.h — the SQLite database: schema, runs, videos, frames, detections,
// timings. The only unit that talks to SQLite.
//
// Contract:
//  * Store(path, busy_timeout_ms) opens or creates the database in WAL mode,
//    waiting up to the timeout whenever another writer holds the lock, and creates the schema and views if missing (idempotent). Throws
//    StoreError with SQLite's message, the path and what to do when the file
//    cannot be opened, is not a database, is read-only, stays locked, or the
//    disk is full. Every method that writes throws the same way.
//  * Single writer: one thread at a time calls the mutating methods. Readers
//    in other processes are never blocked (WAL) and never see half a video:
//    a video row is `running` until finish_video() writes its final status in
//    the same transaction as its last frames and detections; the views only
//    show `done` and `partial` videos.
//  * add_frame() appends to an open write transaction that is committed every
//    `batch_rows` rows or `batch_seconds` seconds (and always by
//    finish_video/finish_run), so a kill loses at most the uncommitted tail of
//    videos that were not finished anyway.
//  * finish_video(done|partial) also deletes, in the same transaction, older
//    rows for the same path and settings key (a changed file or a rerun
//    replaces its results atomically).
//  * recover_stale() deletes `running` videos (and their rows) left by runs
//    whose process is gone, and marks those runs `interrupted`.
//  * find_done() answers "is this exact file already analysed with these
//    settings?" for skipping.
#pragma once

#include <cstdint>
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

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunRecord {
  std::string tool_version;
  std::string opencv_version;
  std::string model_path;
  std::string model_sha256;
  std::string model_family;
  std::string input_size;      // "416x416"
  std::string settings;        // JSON text of the result-changing settings
  std::string settings_key;    // sha256 of `settings`
  std::string command;         // the command line
  std::string execution;       // JSON: workers, threads, decoders... (not part of the key)
};

struct RunSummary {
  std::string status = "finished";  // finished | interrupted | failed
  double wall_seconds = 0;
  std::int64_t videos_done = 0;
  std::int64_t videos_failed = 0;
  std::int64_t videos_partial = 0;
  std::int64_t videos_skipped = 0;
  std::int64_t frames_analysed = 0;
  std::int64_t detections = 0;
};

struct VideoRecord {
  std::string path;
  std::int64_t size = 0;
  std::int64_t mtime = 0;
  std::string fingerprint;
  std::string codec;
  int width = 0;
  int height = 0;
  double fps = 0;
  double duration = 0;
};

struct VideoResult {
  VideoStatus status = VideoStatus::Done;  // a final status
  std::string error;             // empty when done
  std::int64_t frames_decoded = 0;
  std::int64_t frames_analysed = 0;
};

class Store {
 public:
  explicit Store(const std::string& path, int busy_timeout_ms = 10000);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  void set_labels(std::vector<std::string> labels) { labels_ = std::move(labels); }
  void set_batching(int rows, double seconds) {
    batch_rows_ = rows;
    batch_seconds_ = seconds;
  }

  std::int64_t begin_run(const RunRecord& run);
  void finish_run(std::int64_t run_id, const RunSummary& summary);

  int recover_stale();

  // Latest final row (done, or also failed/partial when include_failed) for
  // this path, fingerprint and settings key; returns its status.
  std::optional<VideoStatus> find_final(const std::string& path, const std::string& fingerprint,
                                        const std::string& settings_key, bool include_failed);

  std::int64_t start_video(std::int64_t run_id, const VideoRecord& video, const std::string& settings_key);
  void add_frame(std::int64_t video_id, std::int64_t frame_index, double ts, const std::vector<Detection>& dets);
  void finish_video(std::int64_t video_id, const VideoResult& result);
  // Rolls back a video that will not finish (cancelled run): deletes its rows.
  void discard_video(std::int64_t video_id);
  // A video that never started (cannot open, vanished, ...): one final row.
  std::int64_t record_failed(std::int64_t run_id, const VideoRecord& video, const std::string& settings_key,
                             const std::string& error);

  void write_timings(std::int64_t run_id, std::optional<std::int64_t> video_id, const StageTimings& t);

  // Read-only helper for reports: runs `sql` with text parameters and
  // returns every row as text (NULL becomes ""). Throws StoreError.
  std::vector<std::vector<std::string>> query(const std::string& sql,
                                              const std::vector<std::string>& params = {});

  // Commits the open write transaction, if any.
  void commit();
  // Abandons the open write transaction (after an error); never throws.
  void rollback() noexcept;

  const std::string& path() const { return path_; }

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  void migrate();  // adds columns missing from databases of older versions
  void exec(const char* sql);
  StmtPtr prepare(const char* sql);
  void begin_if_needed();
  void maybe_commit();
  [[noreturn]] void fail(const std::string& what) const;
  std::string explain(int rc, const std::string& msg) const;
  void delete_video_rows(std::int64_t video_id);

  std::string path_;
  int busy_timeout_ms_;
  std::unique_ptr<sqlite3, DbCloser> db_;
  StmtPtr insert_detection_;
  StmtPtr insert_frame_;
  std::vector<std::string> labels_;
  bool in_txn_ = false;
  int pending_rows_ = 0;
  int batch_rows_ = 5000;
  double batch_seconds_ = 1.0;
  StageTimer txn_timer_;
};

}  // namespace vidsift
