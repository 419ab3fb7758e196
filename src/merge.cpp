#include "vidsift/merge.h"

#include <signal.h>
#include <unistd.h>
#include <cerrno>
#include <filesystem>
#include <optional>

#include "vidsift/stage_stats.h"

namespace fs = std::filesystem;

namespace vidsift {
namespace {

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return {};
  return buf;
}

long long to_int(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty() || rows[0].empty() || rows[0][0].empty()) return 0;
  return std::stoll(rows[0][0]);
}

// Column names of a table of `dest`'s main schema, minus `skip`.
std::vector<std::string> columns(Store& dest, const std::string& table, const std::vector<std::string>& skip) {
  std::vector<std::string> out;
  for (const auto& row : dest.query("SELECT name FROM pragma_table_info(?1)", {table})) {
    bool skipped = false;
    for (const auto& s : skip) skipped = skipped || s == row[0];
    if (!skipped) out.push_back(row[0]);
  }
  return out;
}

std::string join(const std::vector<std::string>& cols, const std::string& prefix) {
  std::string out;
  for (const auto& c : cols) {
    if (!out.empty()) out += ", ";
    out += prefix + "\"" + c + "\"";
  }
  return out;
}

// Why `input` cannot be merged (empty when it can). Opens it read-only.
std::string check_input(Store& dest, const std::string& input, int busy_timeout_ms, MergeResult& r) {
  std::error_code ec;
  if (fs::equivalent(input, dest.path(), ec)) return "it is the destination database itself";
  if (!fs::is_regular_file(input, ec)) return "no such file";
  try {
    Store src(input, busy_timeout_ms, OpenMode::ReadOnly);
    const long long version = to_int(src.query("PRAGMA user_version"));
    if (version != Store::schema_version())
      return "it has schema version " + std::to_string(version) + ", this vidsift writes " +
             std::to_string(Store::schema_version()) +
             ": merge it with the vidsift that wrote it, or analyse that shard again with this one";
    const std::string host = host_name();
    for (const auto& run : src.query("SELECT id, pid, host FROM runs WHERE status='running'")) {
      const auto pid = static_cast<pid_t>(run[1].empty() ? 0 : std::stoll(run[1]));
      if (run[2] == host && pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM))
        return "run " + run[0] + " is still running (pid " + run[1] +
               " on this host): a shard still being written; merge it when that run has ended";
      r.notes.push_back("run " + run[0] + " (pid " + run[1] + " on " + (run[2].empty() ? "?" : run[2]) +
                        ") never finished: merged as interrupted, without its unfinished videos");
    }
  } catch (const StoreError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

MergeResult merge_database(Store& dest, const std::string& input, int busy_timeout_ms) {
  MergeResult r;
  r.input = input;
  StageTimer timer;
  r.reason = check_input(dest, input, busy_timeout_ms, r);
  if (!r.reason.empty()) {
    r.refused = true;
    return r;
  }
  dest.commit();
  dest.query("ATTACH DATABASE ?1 AS src", {input});
  bool in_txn = false;
  try {
    // The ATTACHed file is not checked by Store: read its schema again (a
    // file replaced between the check and here must not be trusted).
    if (to_int(dest.query("PRAGMA src.user_version")) != Store::schema_version())
      throw StoreError("database " + input + " changed while being merged");
    dest.query("BEGIN IMMEDIATE");
    in_txn = true;
    dest.query("CREATE TEMP TABLE IF NOT EXISTS merge_runs(src_id INTEGER PRIMARY KEY, origin TEXT, fresh INTEGER)");
    dest.query("CREATE TEMP TABLE IF NOT EXISTS merge_videos(src_id INTEGER PRIMARY KEY)");
    dest.query("CREATE TEMP TABLE IF NOT EXISTS merge_obsolete(id INTEGER PRIMARY KEY)");
    dest.query("DELETE FROM temp.merge_runs");
    dest.query("DELETE FROM temp.merge_videos");
    dest.query("DELETE FROM temp.merge_obsolete");

    // Runs: known by their origin; new ones are copied.
    dest.query(
        "INSERT INTO temp.merge_runs(src_id, origin) SELECT id, COALESCE(origin, COALESCE(host,'') || '|' || "
        "COALESCE(pid,'') || '|' || started_at) FROM src.runs");
    dest.query(
        "UPDATE temp.merge_runs SET fresh = NOT EXISTS (SELECT 1 FROM main.runs m WHERE m.origin = "
        "temp.merge_runs.origin)");
    const auto run_cols = columns(dest, "runs", {"id", "status", "origin", "merged_from"});
    dest.query("INSERT INTO main.runs(" + join(run_cols, "") + ", status, origin, merged_from) SELECT " +
                   join(run_cols, "r.") +
                   ", CASE r.status WHEN 'running' THEN 'interrupted' ELSE r.status END, m.origin, "
                   "COALESCE(r.merged_from, ?1) FROM src.runs r JOIN temp.merge_runs m ON m.src_id = r.id "
                   "WHERE m.fresh ORDER BY r.id",
               {input});
    r.runs = to_int(dest.query("SELECT changes()"));

    // Videos that win over what dest holds (see the contract).
    dest.query(
        "INSERT INTO temp.merge_videos(src_id) SELECT v.id FROM src.videos v "
        "WHERE v.status IN ('done','partial','failed') AND NOT EXISTS (SELECT 1 FROM main.videos w "
        "WHERE w.path = v.path AND w.settings_key IS v.settings_key AND w.path_bytes IS v.path_bytes "
        "AND w.status <> 'running' "
        "AND COALESCE(w.finished_at, w.started_at) >= COALESCE(v.finished_at, v.started_at) "
        "AND (w.status IN ('done','partial') OR v.status = 'failed'))");
    // Older rows of dest that a newer done/partial input video replaces.
    dest.query(
        "INSERT OR IGNORE INTO temp.merge_obsolete(id) SELECT w.id FROM src.videos v "
        "JOIN temp.merge_videos p ON p.src_id = v.id "
        "JOIN main.videos w ON w.path = v.path AND w.settings_key IS v.settings_key AND w.path_bytes IS v.path_bytes "
        "WHERE v.status IN ('done','partial') AND w.status <> 'running' "
        "AND COALESCE(w.finished_at, w.started_at) < COALESCE(v.finished_at, v.started_at)");
    r.replaced = to_int(dest.query("SELECT COUNT(*) FROM temp.merge_obsolete"));
    for (const char* sql : {"DELETE FROM main.detections WHERE video_id IN (SELECT id FROM temp.merge_obsolete)",
                            "DELETE FROM main.frames WHERE video_id IN (SELECT id FROM temp.merge_obsolete)",
                            "DELETE FROM main.timings WHERE video_id IN (SELECT id FROM temp.merge_obsolete)",
                            "DELETE FROM main.tracks WHERE video_id IN (SELECT id FROM temp.merge_obsolete)",
                            "DELETE FROM main.videos WHERE id IN (SELECT id FROM temp.merge_obsolete)"})
      dest.query(sql);

    // New ids: the input's id plus an offset above every id dest has.
    const std::string off = std::to_string(to_int(dest.query("SELECT COALESCE(MAX(id), 0) FROM main.videos")));
    const std::string run_map =
        "(SELECT n.id FROM temp.merge_runs m JOIN main.runs n ON n.origin = m.origin "
        "WHERE m.src_id = ";
    const auto video_cols = columns(dest, "videos", {"id", "run_id"});
    dest.query("INSERT INTO main.videos(id, run_id, " + join(video_cols, "") + ") SELECT v.id + " + off + ", " +
               run_map + "v.run_id), " + join(video_cols, "v.") +
               " FROM src.videos v JOIN temp.merge_videos p ON p.src_id = v.id ORDER BY v.id");
    r.videos = to_int(dest.query("SELECT changes()"));
    const auto frame_cols = columns(dest, "frames", {"video_id"});
    dest.query("INSERT INTO main.frames(video_id, " + join(frame_cols, "") + ") SELECT f.video_id + " + off + ", " +
               join(frame_cols, "f.") + " FROM src.frames f JOIN temp.merge_videos p ON p.src_id = f.video_id");
    const auto det_cols = columns(dest, "detections", {"id", "video_id"});
    dest.query("INSERT INTO main.detections(video_id, " + join(det_cols, "") + ") SELECT d.video_id + " + off + ", " +
               join(det_cols, "d.") +
               " FROM src.detections d JOIN temp.merge_videos p ON p.src_id = d.video_id ORDER BY d.id");
    r.detections = to_int(dest.query("SELECT changes()"));
    // Tracks follow their video (track ids are per video and stay).
    const auto track_cols = columns(dest, "tracks", {"video_id"});
    dest.query("INSERT INTO main.tracks(video_id, " + join(track_cols, "") + ") SELECT t.video_id + " + off + ", " +
               join(track_cols, "t.") + " FROM src.tracks t JOIN temp.merge_videos p ON p.src_id = t.video_id");
    const auto timing_cols = columns(dest, "timings", {"run_id", "video_id"});
    // Per-video timings of the copied videos, and per-run timings of new runs.
    dest.query("INSERT INTO main.timings(run_id, video_id, " + join(timing_cols, "") + ") SELECT " + run_map +
               "t.run_id), t.video_id + " + off + ", " + join(timing_cols, "t.") +
               " FROM src.timings t JOIN temp.merge_videos p ON p.src_id = t.video_id");
    dest.query("INSERT INTO main.timings(run_id, video_id, " + join(timing_cols, "") + ") SELECT " + run_map +
               "t.run_id), NULL, " + join(timing_cols, "t.") +
               " FROM src.timings t JOIN temp.merge_runs m ON m.src_id = t.run_id WHERE t.video_id IS NULL "
               "AND m.fresh");
    dest.query("COMMIT");
    in_txn = false;
  } catch (...) {
    if (in_txn) {
      try {
        dest.query("ROLLBACK");
      } catch (const StoreError&) {
      }
    }
    try {
      dest.query("DETACH DATABASE src");
    } catch (const StoreError&) {
    }
    throw;
  }
  dest.query("DETACH DATABASE src");
  r.seconds = timer.seconds();
  return r;
}

}  // namespace vidsift
